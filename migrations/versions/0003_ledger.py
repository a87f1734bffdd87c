"""ledger: accounts, transactions, postings; deposits, escrow refunds, Stripe events

The database refuses bad ledger data by itself, whatever the code does:
- CHECK constraints: posting amount non-zero, balances non-negative except clearing and revenue,
  known account kinds, ISO currency codes, deposit and refund amounts positive;
- UNIQUE: one transaction per idempotency key, one reversal per transaction, one account per
  kind + owner + currency; a posting's currency must be its account's (composite foreign key);
- PostgreSQL: a deferred constraint trigger rejects, at commit, a transaction whose postings do
  not sum to zero per currency or that has fewer than two postings;
- PostgreSQL and SQLite: triggers refuse UPDATE and DELETE of postings and transactions
  (append-only: corrections are reversing transactions).

Revision ID: 0003_ledger
Revises: 0002_notifications
Create Date: 2026-11-22 13:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003_ledger'
down_revision = '0002_notifications'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
KINDS = ("'advertiser_escrow', 'advertiser_hold', 'network_pending_fee', 'publisher_available', "
         "'payout_in_flight', 'refund_in_flight', 'publisher_paid', 'exchange_escrow', 'network_revenue', "
         "'gateway_clearing'")
MAY_GO_NEGATIVE = "'gateway_clearing', 'network_revenue'"

POSTGRES_TRIGGERS = """
-- Balances are rewritten on every posting: room on each page lets PostgreSQL update them in
-- place (HOT), without touching the indexes.
ALTER TABLE ledger_accounts SET (fillfactor = 70);

CREATE FUNCTION ledger_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    txn_id BIGINT;
    legs BIGINT;
    bad_currency VARCHAR;
    bad_total NUMERIC;
BEGIN
    IF TG_TABLE_NAME = 'ledger_transactions' THEN
        txn_id := NEW.id;
    ELSE
        txn_id := NEW.transaction_id;
    END IF;
    -- One query for both rules: the number of legs, and the first currency that does not balance.
    SELECT coalesce(sum(s.n), 0),
           (array_agg(s.currency ORDER BY s.currency) FILTER (WHERE s.total <> 0))[1],
           (array_agg(s.total ORDER BY s.currency) FILTER (WHERE s.total <> 0))[1]
      INTO legs, bad_currency, bad_total
      FROM (SELECT currency, count(*) AS n, sum(amount) AS total FROM ledger_postings
             WHERE transaction_id = txn_id GROUP BY currency) s;
    IF legs < 2 THEN
        RAISE EXCEPTION 'ledger transaction % has % posting(s); at least two are needed',
            txn_id, legs USING ERRCODE = 'check_violation';
    END IF;
    IF bad_currency IS NOT NULL THEN
        RAISE EXCEPTION 'ledger transaction % does not balance: % postings sum to %',
            txn_id, bad_currency, bad_total USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$;

CREATE CONSTRAINT TRIGGER ledger_postings_balanced
    AFTER INSERT ON ledger_postings DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_check_balanced();

CREATE CONSTRAINT TRIGGER ledger_transactions_balanced
    AFTER INSERT ON ledger_transactions DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_check_balanced();

-- post_transaction's first round trip: lock the accounts in id order (concurrent posts on
-- overlapping accounts queue instead of deadlocking), then read them and look the key up in a
-- new statement - under READ COMMITTED a fresh snapshot, which sees the balances and a post of
-- the same key committed while we waited for the locks.
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

CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused; post a reversing transaction instead',
        TG_TABLE_NAME, TG_OP USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER ledger_postings_append_only
    BEFORE UPDATE OR DELETE ON ledger_postings
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();

CREATE TRIGGER ledger_transactions_append_only
    BEFORE UPDATE OR DELETE ON ledger_transactions
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
"""

POSTGRES_DROP = """
DROP TRIGGER IF EXISTS ledger_transactions_append_only ON ledger_transactions;
DROP TRIGGER IF EXISTS ledger_postings_append_only ON ledger_postings;
DROP TRIGGER IF EXISTS ledger_transactions_balanced ON ledger_transactions;
DROP TRIGGER IF EXISTS ledger_postings_balanced ON ledger_postings;
DROP FUNCTION IF EXISTS ledger_refuse_change();
DROP FUNCTION IF EXISTS ledger_lock_accounts(integer[], varchar);
DROP FUNCTION IF EXISTS ledger_check_balanced();
"""


def _sqlite_append_only():
    for table in ('ledger_postings', 'ledger_transactions'):
        for action in ('UPDATE', 'DELETE'):
            op.execute(
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {action} refused'); END")


def upgrade():
    op.create_table('ledger_accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('owner_id', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('balance', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint(f'kind IN ({KINDS})', name=op.f('ck_ledger_accounts_kind_known')),
    sa.CheckConstraint('owner_id >= 0', name=op.f('ck_ledger_accounts_owner_not_negative')),
    sa.CheckConstraint('length(currency) = 3 AND currency = upper(currency)', name=op.f('ck_ledger_accounts_currency_iso')),
    sa.CheckConstraint(f'balance >= 0 OR kind IN ({MAY_GO_NEGATIVE})', name=op.f('ck_ledger_accounts_balance_not_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_accounts')),
    sa.UniqueConstraint('id', 'currency', name='uq_ledger_accounts_id_currency'),
    sa.UniqueConstraint('kind', 'owner_id', 'currency', name='uq_ledger_accounts_kind_owner_currency')
    )
    op.create_table('ledger_transactions',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('idempotency_key', sa.String(length=200), nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=False),
    sa.Column('description', sa.String(length=300), nullable=False),
    sa.Column('refs', sa.JSON(), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('reverses_id', BIG_ID, nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('length(idempotency_key) > 0', name=op.f('ck_ledger_transactions_key_not_empty')),
    sa.CheckConstraint('reverses_id IS NULL OR reverses_id <> id', name=op.f('ck_ledger_transactions_not_own_reversal')),
    sa.ForeignKeyConstraint(['reverses_id'], ['ledger_transactions.id'], name=op.f('fk_ledger_transactions_reverses_id_ledger_transactions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_transactions')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_ledger_transactions_idempotency_key')),
    sa.UniqueConstraint('reverses_id', name=op.f('uq_ledger_transactions_reverses_id'))
    )
    with op.batch_alter_table('ledger_transactions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ledger_transactions_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_ledger_transactions_reason'), ['reason'], unique=False)

    op.create_table('ledger_postings',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('transaction_id', BIG_ID, nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('amount <> 0', name=op.f('ck_ledger_postings_amount_not_zero')),
    sa.ForeignKeyConstraint(['account_id', 'currency'], ['ledger_accounts.id', 'ledger_accounts.currency'], name='fk_ledger_postings_account_currency'),
    sa.ForeignKeyConstraint(['transaction_id'], ['ledger_transactions.id'], name=op.f('fk_ledger_postings_transaction_id_ledger_transactions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_postings'))
    )
    with op.batch_alter_table('ledger_postings', schema=None) as batch_op:
        batch_op.create_index('ix_ledger_postings_account_id_id', ['account_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ledger_postings_transaction_id'), ['transaction_id'], unique=False)

    op.create_table('deposits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('advertiser_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('gateway', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('checkout_session_id', sa.String(length=255), nullable=True),
    sa.Column('checkout_url', sa.String(length=2000), nullable=True),
    sa.Column('payment_intent_id', sa.String(length=255), nullable=True),
    sa.Column('refunded_amount', sa.BigInteger(), nullable=False),
    sa.Column('failure_reason', sa.String(length=300), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('credited_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('amount > 0', name=op.f('ck_deposits_amount_positive')),
    sa.CheckConstraint('refunded_amount >= 0 AND refunded_amount <= amount', name=op.f('ck_deposits_refunded_within_amount')),
    sa.CheckConstraint("status IN ('created', 'pending', 'succeeded', 'failed', 'expired')", name=op.f('ck_deposits_status_known')),
    sa.ForeignKeyConstraint(['advertiser_id'], ['users.id'], name=op.f('fk_deposits_advertiser_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deposits')),
    sa.UniqueConstraint('checkout_session_id', name=op.f('uq_deposits_checkout_session_id'))
    )
    with op.batch_alter_table('deposits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deposits_advertiser_id'), ['advertiser_id'], unique=False)

    op.create_table('escrow_refunds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('deposit_id', sa.Integer(), nullable=False),
    sa.Column('advertiser_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('gateway_refund_id', sa.String(length=255), nullable=True),
    sa.Column('failure_reason', sa.String(length=300), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('settled_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('amount > 0', name=op.f('ck_escrow_refunds_amount_positive')),
    sa.CheckConstraint("status IN ('pending', 'succeeded', 'failed')", name=op.f('ck_escrow_refunds_status_known')),
    sa.ForeignKeyConstraint(['advertiser_id'], ['users.id'], name=op.f('fk_escrow_refunds_advertiser_id_users')),
    sa.ForeignKeyConstraint(['deposit_id'], ['deposits.id'], name=op.f('fk_escrow_refunds_deposit_id_deposits')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escrow_refunds')),
    sa.UniqueConstraint('gateway_refund_id', name=op.f('uq_escrow_refunds_gateway_refund_id'))
    )
    with op.batch_alter_table('escrow_refunds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_escrow_refunds_advertiser_id'), ['advertiser_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_escrow_refunds_deposit_id'), ['deposit_id'], unique=False)

    op.create_table('stripe_events',
    sa.Column('id', sa.String(length=255), nullable=False),
    sa.Column('type', sa.String(length=100), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('outcome', sa.String(length=60), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stripe_events'))
    )

    if op.get_bind().dialect.name == 'postgresql':
        op.execute(POSTGRES_TRIGGERS)
    else:
        _sqlite_append_only()


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(POSTGRES_DROP)
    op.drop_table('stripe_events')
    with op.batch_alter_table('escrow_refunds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_escrow_refunds_deposit_id'))
        batch_op.drop_index(batch_op.f('ix_escrow_refunds_advertiser_id'))
    op.drop_table('escrow_refunds')
    with op.batch_alter_table('deposits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deposits_advertiser_id'))
    op.drop_table('deposits')
    with op.batch_alter_table('ledger_postings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_postings_transaction_id'))
        batch_op.drop_index('ix_ledger_postings_account_id_id')
    op.drop_table('ledger_postings')
    with op.batch_alter_table('ledger_transactions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_transactions_reason'))
        batch_op.drop_index(batch_op.f('ix_ledger_transactions_created_at'))
    op.drop_table('ledger_transactions')
    op.drop_table('ledger_accounts')
