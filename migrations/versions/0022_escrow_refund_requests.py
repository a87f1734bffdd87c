"""escrow_refunds: request keys and a review flag; payouts: retry_of_id indexed

A withdrawal of unused escrow may span deposits: its refunds share one request key (the
confirmation page's one-time token, or the API's Idempotency-Key), parts 0, 1, ...; the unique
(request_key, request_part) refuses a replayed request's part 0, so one confirmation refunds
once (payouts/request_keys.py). `needs_review` stops a refund the gateway answered
`charge_already_refunded` (or whose idempotency key it saw with other parameters): the money
stays in flight for an operator rather than going back to escrow, where it could be refunded
twice; `last_error` says why. The (status, created_at) index serves the reconciler's search for
refunds left pending. A failed payout is retried once (request key `retry:<id>`); payouts
retried before that key existed are found by `retry_of_id`, now indexed.

Revision ID: 0022_escrow_refund_requests
Revises: 0021_conversion_record
Create Date: 2026-11-24 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0022_escrow_refund_requests'
down_revision = '0021_conversion_record'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('escrow_refunds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('request_key', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('request_part', sa.Integer(), server_default='0',
                                      nullable=False))
        batch_op.add_column(sa.Column('needs_review', sa.Boolean(),
                                      server_default=sa.text('false'), nullable=False))
        batch_op.add_column(sa.Column('last_error', sa.String(length=300), server_default='',
                                      nullable=False))
        batch_op.create_check_constraint(op.f('ck_escrow_refunds_request_part_not_negative'),
                                         'request_part >= 0')
        batch_op.create_unique_constraint(op.f('uq_escrow_refunds_request_key'),
                                          ['request_key', 'request_part'])
        batch_op.create_index('ix_escrow_refunds_status_created_at', ['status', 'created_at'],
                              unique=False)

    with op.batch_alter_table('payouts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payouts_retry_of_id'), ['retry_of_id'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('payouts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payouts_retry_of_id'))

    with op.batch_alter_table('escrow_refunds', schema=None) as batch_op:
        batch_op.drop_index('ix_escrow_refunds_status_created_at')
        batch_op.drop_constraint(op.f('uq_escrow_refunds_request_key'), type_='unique')
        batch_op.drop_constraint(op.f('ck_escrow_refunds_request_part_not_negative'),
                                 type_='check')
        batch_op.drop_column('last_error')
        batch_op.drop_column('needs_review')
        batch_op.drop_column('request_part')
        batch_op.drop_column('request_key')
