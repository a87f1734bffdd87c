"""payouts: reversed_amount, what the gateway took back of a paid transfer

Revision ID: 0018_payout_reversals
Revises: 0017_ledger_publisher_ref
Create Date: 2026-11-22 20:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0018_payout_reversals'
down_revision = '0017_ledger_publisher_ref'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('payouts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reversed_amount', sa.BigInteger(), nullable=False,
                                      server_default='0'))
        batch_op.create_check_constraint(
            op.f('ck_payouts_reversed_within_amount'),
            'reversed_amount >= 0 AND reversed_amount <= amount')


def downgrade():
    with op.batch_alter_table('payouts', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_payouts_reversed_within_amount'), type_='check')
        batch_op.drop_column('reversed_amount')
