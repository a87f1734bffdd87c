"""ledger: post a transaction in one round trip on PostgreSQL (ledger_post)

Replaces ledger_lock_accounts (lock, then a second statement to write) with one function that
locks, checks and writes, so `post_transaction` costs one statement before the commit.

Revision ID: 0015_ledger_post
Revises: 0011_background_jobs
Create Date: 2026-11-22 16:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0015_ledger_post'
down_revision = '0011_background_jobs'
branch_labels = None
depends_on = None

# One call does what post_transaction's PostgreSQL path needs, in this order:
# 1. lock the accounts in id order (concurrent posts on overlapping accounts queue instead of
#    deadlocking);
# 2. look the key up in a new statement - under READ COMMITTED a fresh snapshot, which sees a
#    post of the same key committed while we waited for the locks -> 'replay';
# 3. refuse unknown accounts, postings that do not sum to zero per currency, and a balance that
#    would go below zero on a kind not in may_go_negative -> 'unknown_account', 'unbalanced',
#    'insufficient' (nothing written; the caller's transaction stays usable);
# 4. insert the transaction ON CONFLICT (idempotency_key) DO NOTHING: a concurrent post of the
#    key on other accounts that won the unique index -> 'taken', nothing written;
# 5. insert the postings and update the cached balances -> 'posted', one row per account with
#    its new balance.
# The deferred trigger of 0003_ledger still checks the balance of every transaction at commit.
POSTGRES_FUNCTION = """
CREATE FUNCTION ledger_post(txn_key varchar, txn_reason varchar, txn_description varchar,
                            txn_refs json, txn_fingerprint varchar, txn_created_at timestamptz,
                            leg_accounts integer[], leg_amounts bigint[],
                            may_go_negative varchar[])
RETURNS TABLE (outcome varchar, transaction_id bigint, account_id integer, kind varchar,
               currency varchar, balance bigint, delta bigint)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    ids integer[];
    found_id bigint;
    acct record;
BEGIN
    SELECT array_agg(DISTINCT l.a ORDER BY l.a) INTO ids FROM unnest(leg_accounts) AS l(a);
    PERFORM 1 FROM ledger_accounts a WHERE a.id = ANY(ids) ORDER BY a.id FOR UPDATE;

    SELECT t.id INTO found_id FROM ledger_transactions t WHERE t.idempotency_key = txn_key;
    IF found_id IS NOT NULL THEN
        RETURN QUERY SELECT 'replay'::varchar, found_id, NULL::integer, NULL::varchar,
                            NULL::varchar, NULL::bigint, NULL::bigint;
        RETURN;
    END IF;

    IF (SELECT count(*) FROM ledger_accounts a WHERE a.id = ANY(ids)) <> cardinality(ids) THEN
        RETURN QUERY SELECT 'unknown_account'::varchar, NULL::bigint, NULL::integer,
                            NULL::varchar, NULL::varchar, NULL::bigint, NULL::bigint;
        RETURN;
    END IF;

    RETURN QUERY
        SELECT 'unbalanced'::varchar, NULL::bigint, NULL::integer, NULL::varchar, a.currency,
               NULL::bigint, sum(l.m)::bigint
        FROM unnest(leg_accounts, leg_amounts) AS l(a, m) JOIN ledger_accounts a ON a.id = l.a
        GROUP BY a.currency HAVING sum(l.m) <> 0;
    IF FOUND THEN
        RETURN;
    END IF;

    FOR acct IN
        SELECT a.id, a.kind, a.currency, a.balance, d.delta
        FROM ledger_accounts a
        JOIN (SELECT l.a, sum(l.m)::bigint AS delta
              FROM unnest(leg_accounts, leg_amounts) AS l(a, m) GROUP BY l.a) d ON d.a = a.id
        ORDER BY a.id
    LOOP
        IF acct.delta < 0 AND acct.balance + acct.delta < 0
           AND NOT (acct.kind = ANY(may_go_negative)) THEN
            RETURN QUERY SELECT 'insufficient'::varchar, NULL::bigint, acct.id, acct.kind,
                                acct.currency, acct.balance, acct.delta;
            RETURN;
        END IF;
    END LOOP;

    INSERT INTO ledger_transactions (idempotency_key, reason, description, refs, fingerprint,
                                     created_at)
    VALUES (txn_key, txn_reason, txn_description, txn_refs, txn_fingerprint, txn_created_at)
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING id INTO found_id;
    IF found_id IS NULL THEN
        RETURN QUERY SELECT 'taken'::varchar, NULL::bigint, NULL::integer, NULL::varchar,
                            NULL::varchar, NULL::bigint, NULL::bigint;
        RETURN;
    END IF;

    INSERT INTO ledger_postings (transaction_id, account_id, currency, amount)
    SELECT found_id, l.a, a.currency, l.m
    FROM unnest(leg_accounts, leg_amounts) WITH ORDINALITY AS l(a, m, n)
    JOIN ledger_accounts a ON a.id = l.a
    ORDER BY l.n;

    RETURN QUERY
        UPDATE ledger_accounts a SET balance = a.balance + d.delta
        FROM (SELECT l.a, sum(l.m)::bigint AS delta
              FROM unnest(leg_accounts, leg_amounts) AS l(a, m) GROUP BY l.a) d
        WHERE a.id = d.a
        RETURNING 'posted'::varchar, found_id, a.id, a.kind, a.currency, a.balance, d.delta;
END;
$$;

DROP FUNCTION IF EXISTS ledger_lock_accounts(integer[], varchar);
"""

# What 0003_ledger created, for a downgrade.
POSTGRES_LOCK_FUNCTION = """
CREATE FUNCTION ledger_lock_accounts(account_ids integer[], txn_key varchar)
RETURNS TABLE (id integer, kind varchar, currency varchar, balance bigint, existing_id bigint)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
    PERFORM 1 FROM ledger_accounts a WHERE a.id = ANY(account_ids) ORDER BY a.id FOR UPDATE;
    RETURN QUERY
        SELECT a.id, a.kind, a.currency, a.balance,
               (SELECT t.id FROM ledger_transactions t WHERE t.idempotency_key = txn_key)
        FROM ledger_accounts a WHERE a.id = ANY(account_ids) ORDER BY a.id;
END;
$$;
"""


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(POSTGRES_FUNCTION)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP FUNCTION IF EXISTS ledger_post(varchar, varchar, varchar, json, varchar, "
                   "timestamptz, integer[], bigint[], varchar[])")
        op.execute(POSTGRES_LOCK_FUNCTION)
