"""ledger: an index on the publisher a transaction names (refs ->> 'publisher')

A publisher's pending earnings are the hold postings of transactions whose refs name them. The
query read every conversion hold in the network: about 120 ms per currency at 300,000 holds on
the benchmark machine, growing with the network. The expression index makes it read only that
publisher's transactions. Built CONCURRENTLY, so a large ledger keeps taking postings meanwhile.

Revision ID: 0017_ledger_publisher_ref
Revises: 0016_ledger_post_one_statement
Create Date: 2026-11-22 19:50:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0017_ledger_publisher_ref'
down_revision = '0016_ledger_post_one_statement'
branch_labels = None
depends_on = None

INDEX = "ix_ledger_transactions_publisher_ref"


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':
        with op.get_context().autocommit_block():
            op.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {INDEX} "
                       "ON ledger_transactions ((refs ->> 'publisher'))")


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        with op.get_context().autocommit_block():
            op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX}")
