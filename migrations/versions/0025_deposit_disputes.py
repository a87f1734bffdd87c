"""deposit_disputes: card disputes (chargebacks) of deposits; the `disputed` account kind

A disputed card payment is taken back by its issuer at once: the money leaves the owner's
balance for their new `disputed` account until the dispute is won (it comes back) or lost (it
leaves through gateway clearing). `deposit_disputes` keeps one row per Stripe dispute: its
amount, Stripe's status and reason, where its money is (`funds`), and how it was covered (what
the owner's balance gave, the shortfall the network fronted and what of it was repaid), with
CHECKs that the split adds up. Stripe names the payment intent, not the deposit, so
`deposits.payment_intent_id` gets an index.

The account kinds are a CHECK on ledger_accounts: PostgreSQL replaces it in place; SQLite
rebuilds the table (batch mode), with foreign keys checked at commit (`defer_foreign_keys`), as
postings refer to the accounts being copied. A downgrade refuses while a `disputed` account
exists: its postings are append-only.

Revision ID: 0025_deposit_disputes
Revises: 0024_lookup_indexes
Create Date: 2026-11-25 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0025_deposit_disputes'
down_revision = '0024_lookup_indexes'
branch_labels = None
depends_on = None

KINDS = ("'advertiser_escrow', 'advertiser_hold', 'network_pending_fee', 'publisher_available', "
         "'payout_in_flight', 'refund_in_flight', 'publisher_paid', 'exchange_escrow', "
         "'network_revenue', 'gateway_clearing'")
KINDS_WITH_DISPUTED = ("'advertiser_escrow', 'advertiser_hold', 'network_pending_fee', "
                       "'publisher_available', 'payout_in_flight', 'refund_in_flight', "
                       "'publisher_paid', 'exchange_escrow', 'disputed', 'network_revenue', "
                       "'gateway_clearing'")
SPLIT_IS_AMOUNT = ("(funds = 'none' AND taken_amount = 0 AND shortfall_amount = 0) OR "
                   "(funds <> 'none' AND taken_amount >= 0 AND shortfall_amount >= 0 AND "
                   "taken_amount + shortfall_amount = amount)")


def _replace_kinds(kinds: str) -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == 'sqlite'
    if sqlite:
        # The rebuild drops the old table while postings still refer to it: SQLite's own
        # procedure for changing a table is to switch foreign keys off, then check them after.
        op.execute('PRAGMA foreign_keys = OFF')
    with op.batch_alter_table('ledger_accounts', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_ledger_accounts_kind_known'), type_='check')
        batch_op.create_check_constraint(op.f('ck_ledger_accounts_kind_known'),
                                         f'kind IN ({kinds})')
    if sqlite:
        op.execute('PRAGMA foreign_keys = ON')
        broken = bind.execute(sa.text('PRAGMA foreign_key_check')).fetchall()
        if broken:
            raise RuntimeError(f"foreign keys broken by the ledger_accounts rebuild: {broken}")


def upgrade():
    op.create_table('deposit_disputes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('stripe_dispute_id', sa.String(length=255), nullable=False),
    sa.Column('deposit_id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('account_kind', sa.String(length=32), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.String(length=40), nullable=False),
    sa.Column('reason', sa.String(length=60), nullable=False),
    sa.Column('funds', sa.String(length=16), nullable=False),
    sa.Column('taken_amount', sa.BigInteger(), nullable=False),
    sa.Column('shortfall_amount', sa.BigInteger(), nullable=False),
    sa.Column('recovered_amount', sa.BigInteger(), nullable=False),
    sa.Column('evidence_due_by', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('amount > 0', name=op.f('ck_deposit_disputes_amount_positive')),
    sa.CheckConstraint("funds IN ('none', 'withdrawn', 'reinstated', 'lost')", name=op.f('ck_deposit_disputes_funds_known')),
    sa.CheckConstraint(SPLIT_IS_AMOUNT, name=op.f('ck_deposit_disputes_split_is_amount')),
    sa.CheckConstraint('recovered_amount >= 0 AND recovered_amount <= shortfall_amount', name=op.f('ck_deposit_disputes_recovered_within_shortfall')),
    sa.ForeignKeyConstraint(['deposit_id'], ['deposits.id'], name=op.f('fk_deposit_disputes_deposit_id_deposits')),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_deposit_disputes_owner_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deposit_disputes')),
    sa.UniqueConstraint('stripe_dispute_id', name=op.f('uq_deposit_disputes_stripe_dispute_id'))
    )
    with op.batch_alter_table('deposit_disputes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deposit_disputes_deposit_id'), ['deposit_id'], unique=False)
        batch_op.create_index('ix_deposit_disputes_owner_currency', ['owner_id', 'currency'], unique=False)

    with op.batch_alter_table('deposits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deposits_payment_intent_id'), ['payment_intent_id'], unique=False)

    _replace_kinds(KINDS_WITH_DISPUTED)


def downgrade():
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT count(*) FROM ledger_accounts WHERE kind = 'disputed'")).scalar():
        raise RuntimeError("ledger_accounts holds 'disputed' accounts (chargebacks were booked); "
                           "their postings are append-only, so 0025 cannot be downgraded")
    _replace_kinds(KINDS)

    with op.batch_alter_table('deposits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deposits_payment_intent_id'))

    with op.batch_alter_table('deposit_disputes', schema=None) as batch_op:
        batch_op.drop_index('ix_deposit_disputes_owner_currency')
        batch_op.drop_index(batch_op.f('ix_deposit_disputes_deposit_id'))

    op.drop_table('deposit_disputes')
