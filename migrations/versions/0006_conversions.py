"""conversions: conversions, cap usage, login addresses, postback log, outgoing postbacks;
goal sequences, offers paused for funds, rollups by conversion status

Revision ID: 0006_conversions
Revises: 0005_payouts
Create Date: 2026-11-22 13:51:14.196098

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006_conversions'
down_revision = '0005_payouts'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('login_addresses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('ip_hash', sa.String(length=32), nullable=False),
    sa.Column('device_hash', sa.String(length=32), nullable=False),
    sa.Column('first_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_login_addresses_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_addresses')),
    sa.UniqueConstraint('user_id', 'ip_hash', 'device_hash', name='login_address_once')
    )
    with op.batch_alter_table('login_addresses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_addresses_user_id'), ['user_id'], unique=False)

    op.create_table('publisher_postbacks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('publisher_id', sa.Integer(), nullable=False),
    sa.Column('url_template', sa.String(length=1000), nullable=False),
    sa.Column('on_created', sa.Boolean(), nullable=False),
    sa.Column('on_approved', sa.Boolean(), nullable=False),
    sa.Column('on_rejected', sa.Boolean(), nullable=False),
    sa.Column('secret', sa.String(length=64), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['publisher_id'], ['users.id'], name=op.f('fk_publisher_postbacks_publisher_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_publisher_postbacks')),
    sa.UniqueConstraint('publisher_id', name=op.f('uq_publisher_postbacks_publisher_id'))
    )
    op.create_table('cap_usage',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('offer_id', sa.Integer(), nullable=False),
    sa.Column('publisher_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=6), nullable=False),
    sa.Column('period_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('conversions', sa.Integer(), nullable=False),
    sa.Column('payout', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['offer_id'], ['offers.id'], name=op.f('fk_cap_usage_offer_id_offers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cap_usage')),
    sa.UniqueConstraint('offer_id', 'publisher_id', 'period', 'period_start', name='cap_usage_key')
    )
    op.create_table('postback_log',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('offer_id', sa.Integer(), nullable=True),
    sa.Column('source', sa.String(length=12), nullable=False),
    sa.Column('method', sa.String(length=8), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('remote_prefix', sa.String(length=45), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('http_status', sa.Integer(), nullable=False),
    sa.Column('message', sa.String(length=500), nullable=False),
    sa.Column('conversion_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['offer_id'], ['offers.id'], name=op.f('fk_postback_log_offer_id_offers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_postback_log'))
    )
    with op.batch_alter_table('postback_log', schema=None) as batch_op:
        batch_op.create_index('ix_postback_log_offer_received', ['offer_id', 'received_at'], unique=False)
        batch_op.create_index('ix_postback_log_received', ['received_at'], unique=False)

    op.create_table('conversions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('offer_id', sa.Integer(), nullable=False),
    sa.Column('goal_code', sa.String(length=40), nullable=False),
    sa.Column('advertiser_id', sa.Integer(), nullable=False),
    sa.Column('publisher_id', sa.Integer(), nullable=False),
    sa.Column('link_id', sa.Integer(), nullable=False),
    sa.Column('click_id', sa.String(length=26), nullable=True),
    sa.Column('click_once', sa.String(length=26), nullable=True),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('txid', sa.String(length=100), nullable=False),
    sa.Column('customer', sa.String(length=100), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('payout', sa.BigInteger(), nullable=False),
    sa.Column('fee', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('held', sa.Boolean(), nullable=False),
    sa.Column('fraud_signals', sa.String(length=120), nullable=False),
    sa.Column('sub1', sa.String(length=100), nullable=False),
    sa.Column('sub2', sa.String(length=100), nullable=False),
    sa.Column('sub3', sa.String(length=100), nullable=False),
    sa.Column('sub4', sa.String(length=100), nullable=False),
    sa.Column('sub5', sa.String(length=100), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('ip_hash', sa.String(length=32), nullable=False),
    sa.Column('clicked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('hold_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decision_reason', sa.String(length=500), nullable=False),
    sa.CheckConstraint("source IN ('postback', 'pixel', 'promo_code')", name=op.f('ck_conversions_source_known')),
    sa.CheckConstraint("status IN ('pending', 'approved', 'rejected', 'awaiting_funds')", name=op.f('ck_conversions_status_known')),
    sa.CheckConstraint('payout > 0 AND fee >= 0 AND amount >= 0', name=op.f('ck_conversions_amounts_valid')),
    sa.ForeignKeyConstraint(['advertiser_id'], ['users.id'], name=op.f('fk_conversions_advertiser_id_users')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_conversions_decided_by_id_users')),
    sa.ForeignKeyConstraint(['link_id'], ['tracking_links.id'], name=op.f('fk_conversions_link_id_tracking_links')),
    sa.ForeignKeyConstraint(['offer_id'], ['offers.id'], name=op.f('fk_conversions_offer_id_offers')),
    sa.ForeignKeyConstraint(['publisher_id'], ['users.id'], name=op.f('fk_conversions_publisher_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conversions')),
    sa.UniqueConstraint('offer_id', 'goal_code', 'click_once', name='conversion_click_once'),
    sa.UniqueConstraint('offer_id', 'goal_code', 'txid', name='conversion_txid_once')
    )
    with op.batch_alter_table('conversions', schema=None) as batch_op:
        batch_op.create_index('ix_conversions_advertiser_created', ['advertiser_id', 'created_at'], unique=False)
        batch_op.create_index('ix_conversions_awaiting', ['advertiser_id', 'currency', 'created_at'], unique=False, postgresql_where=sa.text("status = 'awaiting_funds'"), sqlite_where=sa.text("status = 'awaiting_funds'"))
        batch_op.create_index('ix_conversions_click', ['click_id'], unique=False)
        batch_op.create_index('ix_conversions_due', ['status', 'hold_until'], unique=False)
        batch_op.create_index('ix_conversions_ip_created', ['ip_hash', 'created_at'], unique=False)
        batch_op.create_index('ix_conversions_offer_created', ['offer_id', 'created_at'], unique=False)
        batch_op.create_index('ix_conversions_publisher_created', ['publisher_id', 'created_at'], unique=False)

    op.create_table('postback_deliveries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('conversion_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('publisher_id', sa.Integer(), nullable=False),
    sa.Column('event', sa.String(length=10), nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_status_code', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.String(length=300), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("state IN ('pending', 'retrying', 'delivered', 'failed')", name=op.f('ck_postback_deliveries_state_known')),
    sa.ForeignKeyConstraint(['conversion_id'], ['conversions.id'], name=op.f('fk_postback_deliveries_conversion_id_conversions')),
    sa.ForeignKeyConstraint(['publisher_id'], ['users.id'], name=op.f('fk_postback_deliveries_publisher_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_postback_deliveries')),
    sa.UniqueConstraint('conversion_id', 'event', name='delivery_once')
    )
    with op.batch_alter_table('postback_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_postback_deliveries_publisher_created', ['publisher_id', 'created_at'], unique=False)

    with op.batch_alter_table('offer_goals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('once_per_click', sa.Boolean(), server_default=sa.text('false'), nullable=False))
        batch_op.add_column(sa.Column('requires_goal', sa.String(length=40), server_default='', nullable=False))
        batch_op.add_column(sa.Column('min_amount', sa.BigInteger(), server_default='0', nullable=False))

    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('paused_reason', sa.String(length=20), server_default='', nullable=False))

    with op.batch_alter_table('traffic_hourly', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pending_conversions', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('pending_payout', sa.BigInteger(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('approved_conversions', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('approved_payout', sa.BigInteger(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('rejected_conversions', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('rejected_payout', sa.BigInteger(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('awaiting_conversions', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('awaiting_payout', sa.BigInteger(), server_default='0', nullable=False))



def downgrade():
    with op.batch_alter_table('traffic_hourly', schema=None) as batch_op:
        batch_op.drop_column('awaiting_payout')
        batch_op.drop_column('awaiting_conversions')
        batch_op.drop_column('rejected_payout')
        batch_op.drop_column('rejected_conversions')
        batch_op.drop_column('approved_payout')
        batch_op.drop_column('approved_conversions')
        batch_op.drop_column('pending_payout')
        batch_op.drop_column('pending_conversions')

    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.drop_column('paused_reason')

    with op.batch_alter_table('offer_goals', schema=None) as batch_op:
        batch_op.drop_column('min_amount')
        batch_op.drop_column('requires_goal')
        batch_op.drop_column('once_per_click')

    with op.batch_alter_table('postback_deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_postback_deliveries_publisher_created')

    op.drop_table('postback_deliveries')
    with op.batch_alter_table('conversions', schema=None) as batch_op:
        batch_op.drop_index('ix_conversions_publisher_created')
        batch_op.drop_index('ix_conversions_offer_created')
        batch_op.drop_index('ix_conversions_ip_created')
        batch_op.drop_index('ix_conversions_due')
        batch_op.drop_index('ix_conversions_click')
        batch_op.drop_index('ix_conversions_awaiting', postgresql_where=sa.text("status = 'awaiting_funds'"), sqlite_where=sa.text("status = 'awaiting_funds'"))
        batch_op.drop_index('ix_conversions_advertiser_created')

    op.drop_table('conversions')
    with op.batch_alter_table('postback_log', schema=None) as batch_op:
        batch_op.drop_index('ix_postback_log_received')
        batch_op.drop_index('ix_postback_log_offer_received')

    op.drop_table('postback_log')
    op.drop_table('cap_usage')
    op.drop_table('publisher_postbacks')
    with op.batch_alter_table('login_addresses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_addresses_user_id'))

    op.drop_table('login_addresses')
