"""payouts: publishers' payout accounts (Stripe Connect) and payouts

The payout state machine lives here (requested -> submitting -> submitted -> paid | failed);
the database refuses an unknown status, a non-positive amount, a submitted or paid payout
without its transfer id, the same transfer id on two payouts, and two automatic payouts with
one request key (one per publisher, currency and week). The money itself is in the ledger
(0003_ledger): keys payout:<id>:reserve and payout:<id>:settle.

Revision ID: 0005_payouts
Revises: 0003_ledger
Create Date: 2026-11-22 13:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005_payouts'
down_revision = '0004_offers'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('payout_accounts',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('gateway', sa.String(length=16), nullable=False),
    sa.Column('external_id', sa.String(length=255), nullable=True),
    sa.Column('payouts_enabled', sa.Boolean(), nullable=False),
    sa.Column('details_submitted', sa.Boolean(), nullable=False),
    sa.Column('minimum_major', sa.Integer(), nullable=True),
    sa.Column('automatic', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('refreshed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('minimum_major IS NULL OR minimum_major > 0', name=op.f('ck_payout_accounts_minimum_positive')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_payout_accounts_user_id_users')),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_payout_accounts')),
    sa.UniqueConstraint('external_id', name=op.f('uq_payout_accounts_external_id'))
    )
    op.create_table('payouts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('publisher_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('gateway', sa.String(length=16), nullable=False),
    sa.Column('destination', sa.String(length=255), nullable=False),
    sa.Column('automatic', sa.Boolean(), nullable=False),
    sa.Column('request_key', sa.String(length=80), nullable=True),
    sa.Column('retry_of_id', sa.Integer(), nullable=True),
    sa.Column('transfer_id', sa.String(length=255), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.String(length=300), nullable=False),
    sa.Column('needs_review', sa.Boolean(), nullable=False),
    sa.Column('failure_code', sa.String(length=60), nullable=False),
    sa.Column('failure_reason', sa.String(length=300), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('submitting_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('settled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('requested', 'submitting', 'submitted', 'paid', 'failed')", name=op.f('ck_payouts_status_known')),
    sa.CheckConstraint("transfer_id IS NOT NULL OR status NOT IN ('submitted', 'paid')", name=op.f('ck_payouts_transfer_when_submitted')),
    sa.CheckConstraint('amount > 0', name=op.f('ck_payouts_amount_positive')),
    sa.ForeignKeyConstraint(['publisher_id'], ['users.id'], name=op.f('fk_payouts_publisher_id_users')),
    sa.ForeignKeyConstraint(['retry_of_id'], ['payouts.id'], name=op.f('fk_payouts_retry_of_id_payouts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payouts')),
    sa.UniqueConstraint('request_key', name=op.f('uq_payouts_request_key')),
    sa.UniqueConstraint('transfer_id', name=op.f('uq_payouts_transfer_id'))
    )
    with op.batch_alter_table('payouts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payouts_publisher_id'), ['publisher_id'], unique=False)
        batch_op.create_index('ix_payouts_status_requested_at', ['status', 'requested_at'], unique=False)


def downgrade():
    with op.batch_alter_table('payouts', schema=None) as batch_op:
        batch_op.drop_index('ix_payouts_status_requested_at')
        batch_op.drop_index(batch_op.f('ix_payouts_publisher_id'))

    op.drop_table('payouts')
    op.drop_table('payout_accounts')
