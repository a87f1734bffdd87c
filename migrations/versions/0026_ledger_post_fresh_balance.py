"""ledger: ledger_post computes new balances from the rows it locked, not from its snapshot

`ledger_post` locks its accounts (`locked`, FOR UPDATE: after waiting for a concurrent post it
returns the newest committed balance) and checks the balances on those, but wrote
`balance = a.balance + delta`, the balance of its statement's snapshot. PostgreSQL builds the
new row from that older version and checks its CHECK constraints before it finds the
concurrent update and recomputes the row on the newest one. So a debit that waited for a credit
(a withdrawal while a top-up was being credited, a hold while a deposit was) could fail on
`ck_ledger_accounts_balance_not_negative` with money enough: 50.00 available, 100.00 credited
meanwhile, 60.00 withdrawn was refused as -10.00. No balance was ever written wrong (the
recomputation is right); a legitimate post failed. Now the new balance is `locked.balance +
delta`: the balance the checks used, which the lock keeps current until the commit.

Revision ID: 0026_ledger_post_fresh_balance
Revises: 0025_deposit_disputes
Create Date: 2026-11-24 02:00:00

"""
import importlib.util
from pathlib import Path

from alembic import op

# revision identifiers, used by Alembic.
revision = '0026_ledger_post_fresh_balance'
down_revision = '0025_deposit_disputes'
branch_labels = None
depends_on = None

STALE = """    UPDATE ledger_accounts a SET balance = a.balance + d.delta
    FROM deltas d, txn WHERE a.id = d.a"""
FRESH = """    UPDATE ledger_accounts a SET balance = k.balance + d.delta
    FROM deltas d JOIN locked k ON k.id = d.a, txn WHERE a.id = d.a"""


def _function_of_0016() -> str:
    """0016's text of the function (migration files are not a package)."""
    path = Path(__file__).with_name("0016_ledger_post_one_statement.py")
    spec = importlib.util.spec_from_file_location("ledger_post_0016", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert STALE in module.POSTGRES_FUNCTION
    return module.POSTGRES_FUNCTION


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(_function_of_0016().replace(STALE, FRESH))


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(_function_of_0016())
