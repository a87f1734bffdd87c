"""publisher top-ups: a deposit credits its owner's escrow (advertiser) or available (publisher)

`deposits.advertiser_id` becomes `owner_id` (index and foreign key renamed with it) and a new
`account_kind` says which of the owner's accounts the deposit credits; existing rows are escrow
top-ups. Only escrow top-ups may be refunded to the card (CHECK only_escrow_refunded). On
SQLite the batch copy keeps the foreign key's old name; nothing refers to it by name there.

Revision ID: 0009_publisher_topups
Revises: 0008_exchange
Create Date: 2026-11-22 16:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009_publisher_topups'
down_revision = '0008_exchange'
branch_labels = None
depends_on = None

KINDS_KNOWN = "account_kind IN ('advertiser_escrow', 'publisher_available')"
ONLY_ESCROW_REFUNDED = "account_kind = 'advertiser_escrow' OR refunded_amount = 0"


def upgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        # Plain renames: no table rewrite, the rows and their locks stay as they are.
        op.alter_column('deposits', 'advertiser_id', new_column_name='owner_id')
        op.execute("ALTER INDEX ix_deposits_advertiser_id RENAME TO ix_deposits_owner_id")
        op.execute("ALTER TABLE deposits RENAME CONSTRAINT fk_deposits_advertiser_id_users "
                   "TO fk_deposits_owner_id_users")
    with op.batch_alter_table('deposits', schema=None) as batch_op:
        if not postgres:
            batch_op.drop_index(batch_op.f('ix_deposits_advertiser_id'))
            batch_op.alter_column('advertiser_id', new_column_name='owner_id')
        batch_op.add_column(sa.Column('account_kind', sa.String(length=32), nullable=False,
                                      server_default='advertiser_escrow'))
        batch_op.create_check_constraint(batch_op.f('ck_deposits_account_kind_known'),
                                         KINDS_KNOWN)
        batch_op.create_check_constraint(batch_op.f('ck_deposits_only_escrow_refunded'),
                                         ONLY_ESCROW_REFUNDED)
    if not postgres:
        with op.batch_alter_table('deposits', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_deposits_owner_id'), ['owner_id'], unique=False)


def downgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    op.execute("DELETE FROM deposits WHERE account_kind <> 'advertiser_escrow'")
    with op.batch_alter_table('deposits', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_deposits_only_escrow_refunded'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_deposits_account_kind_known'), type_='check')
        batch_op.drop_column('account_kind')
        if not postgres:
            batch_op.drop_index(batch_op.f('ix_deposits_owner_id'))
            batch_op.alter_column('owner_id', new_column_name='advertiser_id')
    if postgres:
        op.execute("ALTER TABLE deposits RENAME CONSTRAINT fk_deposits_owner_id_users "
                   "TO fk_deposits_advertiser_id_users")
        op.execute("ALTER INDEX ix_deposits_owner_id RENAME TO ix_deposits_advertiser_id")
        op.alter_column('deposits', 'owner_id', new_column_name='advertiser_id')
    else:
        with op.batch_alter_table('deposits', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_deposits_advertiser_id'), ['advertiser_id'],
                                  unique=False)
