"""exchange: referral commissions, refbacks, lots, sales, history, refused listings

On PostgreSQL also a trigger that refuses an upline change closing a loop in the referral tree.

Revision ID: 0008_exchange
Revises: 0007_ratings
Create Date: 2026-11-22 14:07:58.368769

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008_exchange'
down_revision = '0007_ratings'
branch_labels = None
depends_on = None

# The CHECK not_own_upline refuses a user as their own upline; this refuses longer loops (the
# new upline, or anyone above it, is the user) when referred_by_id changes (an exchange sale).
POSTGRES_TRIGGERS = """
CREATE FUNCTION users_refuse_upline_cycle() RETURNS trigger AS $$
BEGIN
    IF NEW.referred_by_id IS NOT NULL AND EXISTS (
        WITH RECURSIVE up(id, depth) AS (
            SELECT NEW.referred_by_id, 1
            UNION ALL
            SELECT u.referred_by_id, up.depth + 1 FROM users u JOIN up ON u.id = up.id
            WHERE u.referred_by_id IS NOT NULL AND up.depth < 10000
        )
        SELECT 1 FROM up WHERE up.id = NEW.id
    ) THEN
        RAISE EXCEPTION 'referral cycle: user % cannot be below %', NEW.id, NEW.referred_by_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ck_users_upline_not_cycle';
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER users_upline_not_cycle BEFORE UPDATE OF referred_by_id ON users
    FOR EACH ROW EXECUTE FUNCTION users_refuse_upline_cycle();
"""
POSTGRES_DROP = """
DROP TRIGGER IF EXISTS users_upline_not_cycle ON users;
DROP FUNCTION IF EXISTS users_refuse_upline_cycle();
"""


def upgrade():
    op.create_table('exchange_listing_refusals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('referral_id', sa.BigInteger(), nullable=True),
    sa.Column('actual_upline_id', sa.BigInteger(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_exchange_listing_refusals_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exchange_listing_refusals'))
    )
    with op.batch_alter_table('exchange_listing_refusals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exchange_listing_refusals_user_id'), ['user_id'], unique=False)

    op.create_table('exchange_lots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seller_id', sa.Integer(), nullable=False),
    sa.Column('referral_id', sa.Integer(), nullable=False),
    sa.Column('price', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('note', sa.String(length=1000), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('listed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('listed', 'sold', 'withdrawn')", name=op.f('ck_exchange_lots_status_known')),
    sa.CheckConstraint('price > 0', name=op.f('ck_exchange_lots_price_positive')),
    sa.CheckConstraint('referral_id <> seller_id', name=op.f('ck_exchange_lots_not_self')),
    sa.ForeignKeyConstraint(['referral_id'], ['users.id'], name=op.f('fk_exchange_lots_referral_id_users')),
    sa.ForeignKeyConstraint(['seller_id'], ['users.id'], name=op.f('fk_exchange_lots_seller_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exchange_lots'))
    )
    with op.batch_alter_table('exchange_lots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exchange_lots_referral_id'), ['referral_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_exchange_lots_seller_id'), ['seller_id'], unique=False)
        batch_op.create_index('ix_exchange_lots_status_listed', ['status', 'listed_at'], unique=False)
        batch_op.create_index('uq_exchange_lots_listed_referral', ['referral_id'], unique=True, postgresql_where=sa.text("status = 'listed'"), sqlite_where=sa.text("status = 'listed'"))

    op.create_table('referral_commissions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('conversion_id', sa.BigInteger(), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('via_id', sa.Integer(), nullable=False),
    sa.Column('upline_id', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('refback', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reversed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('amount > 0 AND refback >= 0 AND refback <= amount', name=op.f('ck_referral_commissions_amounts_valid')),
    sa.CheckConstraint('level BETWEEN 1 AND 9', name=op.f('ck_referral_commissions_level_valid')),
    sa.ForeignKeyConstraint(['source_id'], ['users.id'], name=op.f('fk_referral_commissions_source_id_users')),
    sa.ForeignKeyConstraint(['upline_id'], ['users.id'], name=op.f('fk_referral_commissions_upline_id_users')),
    sa.ForeignKeyConstraint(['via_id'], ['users.id'], name=op.f('fk_referral_commissions_via_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referral_commissions')),
    sa.UniqueConstraint('conversion_id', 'level', name='commission_once_per_level')
    )
    with op.batch_alter_table('referral_commissions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_referral_commissions_source_id'), ['source_id'], unique=False)
        batch_op.create_index('ix_referral_commissions_upline_created', ['upline_id', 'created_at'], unique=False)
        batch_op.create_index('ix_referral_commissions_via_created', ['via_id', 'created_at'], unique=False)

    op.create_table('referral_refbacks',
    sa.Column('referral_id', sa.Integer(), nullable=False),
    sa.Column('refback_bp', sa.Integer(), nullable=False),
    sa.Column('set_by_id', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('refback_bp BETWEEN 0 AND 8000', name=op.f('ck_referral_refbacks_refback_in_range')),
    sa.ForeignKeyConstraint(['referral_id'], ['users.id'], name=op.f('fk_referral_refbacks_referral_id_users')),
    sa.ForeignKeyConstraint(['set_by_id'], ['users.id'], name=op.f('fk_referral_refbacks_set_by_id_users')),
    sa.PrimaryKeyConstraint('referral_id', name=op.f('pk_referral_refbacks'))
    )
    op.create_table('exchange_sales',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('lot_id', sa.Integer(), nullable=False),
    sa.Column('buyer_id', sa.Integer(), nullable=False),
    sa.Column('seller_id', sa.Integer(), nullable=False),
    sa.Column('referral_id', sa.Integer(), nullable=False),
    sa.Column('price', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('commission_bp', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('bought_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('guarantee_until', sa.DateTime(timezone=True), nullable=False),
    sa.Column('seller_referred_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('dispute_reason', sa.String(length=1000), nullable=False),
    sa.Column('disputed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_by_id', sa.Integer(), nullable=True),
    sa.Column('resolution_note', sa.String(length=1000), nullable=False),
    sa.Column('settled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('seller_amount', sa.BigInteger(), nullable=False),
    sa.Column('exchange_fee', sa.BigInteger(), nullable=False),
    sa.CheckConstraint("status IN ('in_guarantee', 'disputed', 'released', 'refunded')", name=op.f('ck_exchange_sales_status_known')),
    sa.CheckConstraint('buyer_id <> seller_id AND buyer_id <> referral_id', name=op.f('ck_exchange_sales_buyer_not_party')),
    sa.ForeignKeyConstraint(['buyer_id'], ['users.id'], name=op.f('fk_exchange_sales_buyer_id_users')),
    sa.ForeignKeyConstraint(['lot_id'], ['exchange_lots.id'], name=op.f('fk_exchange_sales_lot_id_exchange_lots')),
    sa.ForeignKeyConstraint(['referral_id'], ['users.id'], name=op.f('fk_exchange_sales_referral_id_users')),
    sa.ForeignKeyConstraint(['resolved_by_id'], ['users.id'], name=op.f('fk_exchange_sales_resolved_by_id_users')),
    sa.ForeignKeyConstraint(['seller_id'], ['users.id'], name=op.f('fk_exchange_sales_seller_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exchange_sales')),
    sa.UniqueConstraint('lot_id', name=op.f('uq_exchange_sales_lot_id'))
    )
    with op.batch_alter_table('exchange_sales', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exchange_sales_buyer_id'), ['buyer_id'], unique=False)
        batch_op.create_index('ix_exchange_sales_due', ['status', 'guarantee_until'], unique=False)
        batch_op.create_index(batch_op.f('ix_exchange_sales_seller_id'), ['seller_id'], unique=False)

    op.create_table('exchange_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('side', sa.String(length=6), nullable=False),
    sa.Column('lot_id', sa.Integer(), nullable=False),
    sa.Column('sale_id', sa.Integer(), nullable=True),
    sa.Column('event', sa.String(length=12), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('transaction_id', sa.BigInteger(), nullable=True),
    sa.Column('note', sa.String(length=1000), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("side IN ('seller', 'buyer')", name=op.f('ck_exchange_events_side_known')),
    sa.ForeignKeyConstraint(['lot_id'], ['exchange_lots.id'], name=op.f('fk_exchange_events_lot_id_exchange_lots')),
    sa.ForeignKeyConstraint(['sale_id'], ['exchange_sales.id'], name=op.f('fk_exchange_events_sale_id_exchange_sales')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_exchange_events_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exchange_events'))
    )
    with op.batch_alter_table('exchange_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exchange_events_lot_id'), ['lot_id'], unique=False)
        batch_op.create_index('ix_exchange_events_user_at', ['user_id', 'at'], unique=False)

    if op.get_bind().dialect.name == 'postgresql':
        op.execute(POSTGRES_TRIGGERS)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(POSTGRES_DROP)
    with op.batch_alter_table('exchange_events', schema=None) as batch_op:
        batch_op.drop_index('ix_exchange_events_user_at')
        batch_op.drop_index(batch_op.f('ix_exchange_events_lot_id'))

    op.drop_table('exchange_events')
    with op.batch_alter_table('exchange_sales', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exchange_sales_seller_id'))
        batch_op.drop_index('ix_exchange_sales_due')
        batch_op.drop_index(batch_op.f('ix_exchange_sales_buyer_id'))

    op.drop_table('exchange_sales')
    op.drop_table('referral_refbacks')
    with op.batch_alter_table('referral_commissions', schema=None) as batch_op:
        batch_op.drop_index('ix_referral_commissions_via_created')
        batch_op.drop_index('ix_referral_commissions_upline_created')
        batch_op.drop_index(batch_op.f('ix_referral_commissions_source_id'))

    op.drop_table('referral_commissions')
    with op.batch_alter_table('exchange_lots', schema=None) as batch_op:
        batch_op.drop_index('uq_exchange_lots_listed_referral', postgresql_where=sa.text("status = 'listed'"), sqlite_where=sa.text("status = 'listed'"))
        batch_op.drop_index('ix_exchange_lots_status_listed')
        batch_op.drop_index(batch_op.f('ix_exchange_lots_seller_id'))
        batch_op.drop_index(batch_op.f('ix_exchange_lots_referral_id'))

    op.drop_table('exchange_lots')
    with op.batch_alter_table('exchange_listing_refusals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exchange_listing_refusals_user_id'))

    op.drop_table('exchange_listing_refusals')
