"""ledger: ledger_post as one statement (data-modifying CTEs) instead of nine

Same signature, same outcomes and the same order of work as 0015_ledger_post: lock the accounts
in id order, look the key up, refuse unknown accounts, unbalanced postings and a balance going
where it may not, then write the transaction ON CONFLICT DO NOTHING, its postings and the new
balances. Run as one query, PostgreSQL starts one executor instead of nine, which took the call
from about 0.73 ms to 0.55 ms on the benchmark machine.

Revision ID: 0016_ledger_post_one_statement
Revises: 0015_ledger_post
Create Date: 2026-11-22 19:10:00

"""
import importlib.util
from pathlib import Path

from alembic import op


# revision identifiers, used by Alembic.
revision = '0016_ledger_post_one_statement'
down_revision = '0015_ledger_post'
branch_labels = None
depends_on = None

# Why it is still safe in one snapshot (READ COMMITTED):
# - `locked` takes the row locks in id order (LockRows above the sort) and, like any FOR UPDATE,
#   returns the newest committed version of each row, so the balance checks see what a
#   concurrent post just committed; the UPDATE re-reads the same newest version.
# - `existing` sees keys committed before the statement began. A post of the same key that
#   committed while we waited for the locks is caught by ON CONFLICT DO NOTHING -> 'taken', and
#   the caller reads it in a new statement (as 0015 did for a post on other accounts).
# - The writes depend on `txn`, which inserts only when `verdict` is 'ok': a refusal writes
#   nothing and leaves the caller's transaction usable.
# The deferred trigger of 0003_ledger still checks the balance of every transaction at commit.
POSTGRES_FUNCTION = """
CREATE OR REPLACE FUNCTION ledger_post(txn_key varchar, txn_reason varchar, txn_description varchar,
                            txn_refs json, txn_fingerprint varchar, txn_created_at timestamptz,
                            leg_accounts integer[], leg_amounts bigint[],
                            may_go_negative varchar[])
RETURNS TABLE (outcome varchar, transaction_id bigint, account_id integer, kind varchar,
               currency varchar, balance bigint, delta bigint)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
RETURN QUERY
WITH locked AS MATERIALIZED (
    SELECT a.id, a.kind, a.currency, a.balance FROM ledger_accounts a
    WHERE a.id = ANY(leg_accounts) ORDER BY a.id FOR UPDATE),
existing AS MATERIALIZED (
    SELECT t.id FROM ledger_transactions t WHERE t.idempotency_key = txn_key),
deltas AS MATERIALIZED (
    SELECT l.a, sum(l.m)::bigint AS delta FROM unnest(leg_accounts, leg_amounts) AS l(a, m)
    GROUP BY l.a),
unbalanced AS MATERIALIZED (
    SELECT k.currency, sum(d.delta)::bigint AS total FROM deltas d JOIN locked k ON k.id = d.a
    GROUP BY k.currency HAVING sum(d.delta) <> 0),
short AS MATERIALIZED (
    SELECT k.id, k.kind, k.currency, k.balance, d.delta FROM locked k JOIN deltas d ON d.a = k.id
    WHERE d.delta < 0 AND k.balance + d.delta < 0 AND NOT (k.kind = ANY(may_go_negative))
    ORDER BY k.id LIMIT 1),
verdict AS MATERIALIZED (
    SELECT CASE WHEN EXISTS (SELECT 1 FROM existing) THEN 'replay'
                WHEN (SELECT count(*) FROM locked) <> (SELECT count(*) FROM deltas)
                    THEN 'unknown_account'
                WHEN EXISTS (SELECT 1 FROM unbalanced) THEN 'unbalanced'
                WHEN EXISTS (SELECT 1 FROM short) THEN 'insufficient'
                ELSE 'ok' END AS v),
txn AS (
    INSERT INTO ledger_transactions (idempotency_key, reason, description, refs, fingerprint,
                                     created_at)
    SELECT txn_key, txn_reason, txn_description, txn_refs, txn_fingerprint, txn_created_at
    FROM verdict WHERE v = 'ok'
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING id),
posted AS (
    INSERT INTO ledger_postings (transaction_id, account_id, currency, amount)
    SELECT txn.id, l.a, k.currency, l.m
    FROM txn, unnest(leg_accounts, leg_amounts) WITH ORDINALITY AS l(a, m, n)
    JOIN locked k ON k.id = l.a
    ORDER BY l.n),
updated AS (
    UPDATE ledger_accounts a SET balance = a.balance + d.delta
    FROM deltas d, txn WHERE a.id = d.a
    RETURNING txn.id AS txn_id, a.id, a.kind, a.currency, a.balance, d.delta)
SELECT 'posted'::varchar, u.txn_id, u.id, u.kind, u.currency, u.balance, u.delta FROM updated u
UNION ALL
SELECT 'taken'::varchar, NULL, NULL, NULL, NULL, NULL, NULL FROM verdict
    WHERE v = 'ok' AND NOT EXISTS (SELECT 1 FROM txn)
UNION ALL
SELECT 'replay'::varchar, e.id, NULL, NULL, NULL, NULL, NULL FROM verdict, existing e
    WHERE v = 'replay'
UNION ALL
SELECT 'unknown_account'::varchar, NULL, NULL, NULL, NULL, NULL, NULL FROM verdict
    WHERE v = 'unknown_account'
UNION ALL
SELECT 'unbalanced'::varchar, NULL, NULL, NULL, b.currency, NULL, b.total FROM verdict, unbalanced b
    WHERE v = 'unbalanced'
UNION ALL
SELECT 'insufficient'::varchar, NULL, s.id, s.kind, s.currency, s.balance, s.delta FROM verdict, short s
    WHERE v = 'insufficient';
END;
$$;
"""


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(POSTGRES_FUNCTION)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(_previous().POSTGRES_FUNCTION.replace("CREATE FUNCTION ledger_post(",
                                                          "CREATE OR REPLACE FUNCTION ledger_post(")
                   .split("DROP FUNCTION IF EXISTS ledger_lock_accounts")[0])


def _previous():
    """0015's text of the function (migration files are not a package)."""
    path = Path(__file__).with_name("0015_ledger_post.py")
    spec = importlib.util.spec_from_file_location("ledger_post_0015", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
