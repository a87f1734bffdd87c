"""deposits: request_key, so a retried POST /api/v1/deposits makes one deposit

A client whose deposit call timed out sends it again; without a key that was a second deposit
and a second Stripe Checkout. The API's `Idempotency-Key` header becomes the deposit's request
key (`api:<user>:<key>`, payouts/request_keys.py), UNIQUE: a replay answers the deposit the key
made, and the index decides between concurrent twins. NULL for deposits made without a key
(every deposit before this revision, and every page deposit).

Revision ID: 0023_deposit_request_keys
Revises: 0022_escrow_refund_requests
Create Date: 2026-11-25 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0023_deposit_request_keys'
down_revision = '0022_escrow_refund_requests'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('deposits', schema=None) as batch_op:
        batch_op.add_column(sa.Column('request_key', sa.String(length=80), nullable=True))
        batch_op.create_unique_constraint(op.f('uq_deposits_request_key'), ['request_key'])


def downgrade():
    with op.batch_alter_table('deposits', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('uq_deposits_request_key'), type_='unique')
        batch_op.drop_column('request_key')
