"""conversions: an index on the customer of a goal; exchange_sales: an index on the referral

A goal that requires an earlier one (registration -> first_payment) asks whether the same click
or the same customer reached it. The click had its index (ix_conversions_click), the customer
none, so every conversion of the offer was read, on each such conversion: now (offer_id,
goal_code, customer), partial, as most conversions name no customer. The sell page of the
referral exchange asks, for each of the seller's referrals, whether a sale of it is still
unsettled: (referral_id, status) answers it without reading the exchange's other sales.

On PostgreSQL both are built CONCURRENTLY, as 0017's is: a plain CREATE INDEX would block every
postback's insert into conversions for as long as the build of a large table takes. A build
that failed half-way leaves an invalid index behind, which IF NOT EXISTS would take as done:
it is dropped and built again.

Revision ID: 0024_lookup_indexes
Revises: 0023_deposit_request_keys
Create Date: 2026-11-23 19:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0024_lookup_indexes'
down_revision = '0023_deposit_request_keys'
branch_labels = None
depends_on = None


INDEXES = (  # PostgreSQL: name, table, what it indexes
    ('ix_conversions_offer_goal_customer', 'conversions',
     "(offer_id, goal_code, customer) WHERE customer <> ''"),
    ('ix_exchange_sales_referral_status', 'exchange_sales', '(referral_id, status)'),
)


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':
        with op.get_context().autocommit_block():
            for name, table, indexed in INDEXES:
                if op.get_bind().scalar(sa.text(
                        "SELECT NOT indisvalid FROM pg_index WHERE indexrelid = to_regclass(:name)"
                ), {'name': name}):
                    op.execute(f'DROP INDEX CONCURRENTLY {name}')
                op.execute(f'CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {table} {indexed}')
        return
    with op.batch_alter_table('conversions', schema=None) as batch_op:
        batch_op.create_index('ix_conversions_offer_goal_customer', ['offer_id', 'goal_code', 'customer'], unique=False, postgresql_where=sa.text("customer <> ''"), sqlite_where=sa.text("customer <> ''"))

    with op.batch_alter_table('exchange_sales', schema=None) as batch_op:
        batch_op.create_index('ix_exchange_sales_referral_status', ['referral_id', 'status'], unique=False)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        with op.get_context().autocommit_block():
            for name, _table, _indexed in reversed(INDEXES):
                op.execute(f'DROP INDEX CONCURRENTLY IF EXISTS {name}')
        return
    with op.batch_alter_table('exchange_sales', schema=None) as batch_op:
        batch_op.drop_index('ix_exchange_sales_referral_status')

    with op.batch_alter_table('conversions', schema=None) as batch_op:
        batch_op.drop_index('ix_conversions_offer_goal_customer', postgresql_where=sa.text("customer <> ''"), sqlite_where=sa.text("customer <> ''"))
