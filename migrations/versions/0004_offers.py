"""offers: offers, goals, caps, private access, creatives, tracking links, clicks, hourly rollups

Revision ID: 0004_offers
Revises: 0003_ledger
Create Date: 2026-11-22 13:01:49.093926

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004_offers'
down_revision = '0003_ledger'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('offers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('advertiser_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('description_md', sa.Text(), nullable=False),
    sa.Column('description_html', sa.Text(), nullable=False),
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.Column('landing_url', sa.String(length=1000), nullable=False),
    sa.Column('fallback_url', sa.String(length=1000), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('reference_amount', sa.BigInteger(), nullable=False),
    sa.Column('top_payout', sa.BigInteger(), nullable=False),
    sa.Column('hold_days', sa.Integer(), nullable=False),
    sa.Column('attribution_window_days', sa.Integer(), nullable=False),
    sa.Column('reward_model', sa.String(length=12), nullable=False),
    sa.Column('customer_bonus', sa.String(length=300), nullable=False),
    sa.Column('promo_discount_bp', sa.Integer(), nullable=True),
    sa.Column('allowed_countries', sa.String(length=800), nullable=False),
    sa.Column('traffic_sources', sa.Text(), nullable=False),
    sa.Column('visibility', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('rejection_reason', sa.String(length=500), nullable=False),
    sa.Column('moderated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('moderated_by_id', sa.Integer(), nullable=True),
    sa.Column('postback_secret', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("reward_model IN ('one_sided', 'two_sided')", name=op.f('ck_offers_reward_model_known')),
    sa.CheckConstraint("status IN ('draft', 'pending_moderation', 'active', 'rejected', 'paused', 'archived')", name=op.f('ck_offers_status_known')),
    sa.CheckConstraint("visibility IN ('public', 'private')", name=op.f('ck_offers_visibility_known')),
    sa.CheckConstraint('attribution_window_days BETWEEN 1 AND 365', name=op.f('ck_offers_window_range')),
    sa.CheckConstraint('hold_days >= 0 AND hold_days <= 365', name=op.f('ck_offers_hold_days_range')),
    sa.ForeignKeyConstraint(['advertiser_id'], ['users.id'], name=op.f('fk_offers_advertiser_id_users')),
    sa.ForeignKeyConstraint(['moderated_by_id'], ['users.id'], name=op.f('fk_offers_moderated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_offers'))
    )
    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_offers_advertiser_id'), ['advertiser_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_offers_category'), ['category'], unique=False)
        batch_op.create_index(batch_op.f('ix_offers_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_offers_top_payout'), ['top_payout'], unique=False)

    op.create_table('creatives',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('offer_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('file_name', sa.String(length=64), nullable=False),
    sa.Column('mime_type', sa.String(length=20), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=True),
    sa.Column('height', sa.Integer(), nullable=True),
    sa.Column('headline', sa.String(length=120), nullable=False),
    sa.Column('body', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('banner', 'text')", name=op.f('ck_creatives_kind_known')),
    sa.ForeignKeyConstraint(['offer_id'], ['offers.id'], name=op.f('fk_creatives_offer_id_offers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_creatives'))
    )
    with op.batch_alter_table('creatives', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_creatives_offer_id'), ['offer_id'], unique=False)

    op.create_table('offer_access',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('offer_id', sa.Integer(), nullable=False),
    sa.Column('publisher_id', sa.Integer(), nullable=False),
    sa.Column('granted_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['offer_id'], ['offers.id'], name=op.f('fk_offer_access_offer_id_offers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['publisher_id'], ['users.id'], name=op.f('fk_offer_access_publisher_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_offer_access')),
    sa.UniqueConstraint('offer_id', 'publisher_id', name='access_once')
    )
    with op.batch_alter_table('offer_access', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_offer_access_offer_id'), ['offer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_offer_access_publisher_id'), ['publisher_id'], unique=False)

    op.create_table('offer_caps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('offer_id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.String(length=10), nullable=False),
    sa.Column('period', sa.String(length=6), nullable=False),
    sa.Column('metric', sa.String(length=12), nullable=False),
    sa.Column('cap_limit', sa.BigInteger(), nullable=False),
    sa.CheckConstraint("metric IN ('conversions', 'payout')", name=op.f('ck_offer_caps_metric_known')),
    sa.CheckConstraint("period IN ('day', 'month')", name=op.f('ck_offer_caps_period_known')),
    sa.CheckConstraint("scope IN ('offer', 'publisher')", name=op.f('ck_offer_caps_scope_known')),
    sa.CheckConstraint('cap_limit > 0', name=op.f('ck_offer_caps_limit_positive')),
    sa.ForeignKeyConstraint(['offer_id'], ['offers.id'], name=op.f('fk_offer_caps_offer_id_offers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_offer_caps')),
    sa.UniqueConstraint('offer_id', 'scope', 'period', 'metric', name='cap_once')
    )
    with op.batch_alter_table('offer_caps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_offer_caps_offer_id'), ['offer_id'], unique=False)

    op.create_table('offer_goals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('offer_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('payout_type', sa.String(length=8), nullable=False),
    sa.Column('payout', sa.BigInteger(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.CheckConstraint("payout_type = 'fixed' OR payout <= 10000", name=op.f('ck_offer_goals_percent_at_most_100')),
    sa.CheckConstraint("payout_type IN ('fixed', 'percent')", name=op.f('ck_offer_goals_payout_type_known')),
    sa.CheckConstraint('payout > 0', name=op.f('ck_offer_goals_payout_positive')),
    sa.ForeignKeyConstraint(['offer_id'], ['offers.id'], name=op.f('fk_offer_goals_offer_id_offers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_offer_goals')),
    sa.UniqueConstraint('offer_id', 'code', name='goal_code_once')
    )
    with op.batch_alter_table('offer_goals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_offer_goals_offer_id'), ['offer_id'], unique=False)

    op.create_table('tracking_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('offer_id', sa.Integer(), nullable=False),
    sa.Column('publisher_id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=32), nullable=False),
    sa.Column('promo_code', sa.String(length=24), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['offer_id'], ['offers.id'], name=op.f('fk_tracking_links_offer_id_offers')),
    sa.ForeignKeyConstraint(['publisher_id'], ['users.id'], name=op.f('fk_tracking_links_publisher_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tracking_links')),
    sa.UniqueConstraint('offer_id', 'publisher_id', name='link_once'),
    sa.UniqueConstraint('promo_code', name=op.f('uq_tracking_links_promo_code')),
    sa.UniqueConstraint('token', name=op.f('uq_tracking_links_token'))
    )
    with op.batch_alter_table('tracking_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tracking_links_offer_id'), ['offer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tracking_links_publisher_id'), ['publisher_id'], unique=False)

    op.create_table('clicks',
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('clicked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('link_id', sa.Integer(), nullable=False),
    sa.Column('offer_id', sa.Integer(), nullable=False),
    sa.Column('publisher_id', sa.Integer(), nullable=False),
    sa.Column('sub1', sa.String(length=100), nullable=False),
    sa.Column('sub2', sa.String(length=100), nullable=False),
    sa.Column('sub3', sa.String(length=100), nullable=False),
    sa.Column('sub4', sa.String(length=100), nullable=False),
    sa.Column('sub5', sa.String(length=100), nullable=False),
    sa.Column('ip_hash', sa.String(length=32), nullable=False),
    sa.Column('ip_prefix', sa.String(length=45), nullable=False),
    sa.Column('user_agent', sa.String(length=300), nullable=False),
    sa.Column('referer', sa.String(length=500), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('is_unique', sa.Boolean(), nullable=False),
    sa.Column('flags', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['link_id'], ['tracking_links.id'], name=op.f('fk_clicks_link_id_tracking_links')),
    sa.ForeignKeyConstraint(['offer_id'], ['offers.id'], name=op.f('fk_clicks_offer_id_offers')),
    sa.ForeignKeyConstraint(['publisher_id'], ['users.id'], name=op.f('fk_clicks_publisher_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clicks'))
    )
    with op.batch_alter_table('clicks', schema=None) as batch_op:
        batch_op.create_index('ix_clicks_ip_clicked', ['ip_hash', 'clicked_at'], unique=False)
        batch_op.create_index('ix_clicks_link_clicked', ['link_id', 'clicked_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_clicks_offer_id'), ['offer_id'], unique=False)
        batch_op.create_index('ix_clicks_publisher_clicked', ['publisher_id', 'clicked_at'], unique=False)

    op.create_table('traffic_hourly',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('hour', sa.DateTime(timezone=True), nullable=False),
    sa.Column('link_id', sa.Integer(), nullable=False),
    sa.Column('offer_id', sa.Integer(), nullable=False),
    sa.Column('publisher_id', sa.Integer(), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('sub1', sa.String(length=100), nullable=False),
    sa.Column('sub2', sa.String(length=100), nullable=False),
    sa.Column('sub3', sa.String(length=100), nullable=False),
    sa.Column('sub4', sa.String(length=100), nullable=False),
    sa.Column('sub5', sa.String(length=100), nullable=False),
    sa.Column('clicks', sa.Integer(), server_default='0', nullable=False),
    sa.Column('unique_clicks', sa.Integer(), server_default='0', nullable=False),
    sa.Column('flagged_clicks', sa.Integer(), server_default='0', nullable=False),
    sa.Column('conversions', sa.Integer(), server_default='0', nullable=False),
    sa.Column('payout', sa.BigInteger(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['link_id'], ['tracking_links.id'], name=op.f('fk_traffic_hourly_link_id_tracking_links')),
    sa.ForeignKeyConstraint(['offer_id'], ['offers.id'], name=op.f('fk_traffic_hourly_offer_id_offers')),
    sa.ForeignKeyConstraint(['publisher_id'], ['users.id'], name=op.f('fk_traffic_hourly_publisher_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_traffic_hourly')),
    sa.UniqueConstraint('hour', 'link_id', 'country', 'sub1', 'sub2', 'sub3', 'sub4', 'sub5', name='traffic_hourly_key')
    )
    with op.batch_alter_table('traffic_hourly', schema=None) as batch_op:
        batch_op.create_index('ix_traffic_hourly_offer_hour', ['offer_id', 'hour'], unique=False)
        batch_op.create_index('ix_traffic_hourly_publisher_hour', ['publisher_id', 'hour'], unique=False)



def downgrade():
    with op.batch_alter_table('traffic_hourly', schema=None) as batch_op:
        batch_op.drop_index('ix_traffic_hourly_publisher_hour')
        batch_op.drop_index('ix_traffic_hourly_offer_hour')

    op.drop_table('traffic_hourly')
    with op.batch_alter_table('clicks', schema=None) as batch_op:
        batch_op.drop_index('ix_clicks_publisher_clicked')
        batch_op.drop_index(batch_op.f('ix_clicks_offer_id'))
        batch_op.drop_index('ix_clicks_link_clicked')
        batch_op.drop_index('ix_clicks_ip_clicked')

    op.drop_table('clicks')
    with op.batch_alter_table('tracking_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tracking_links_publisher_id'))
        batch_op.drop_index(batch_op.f('ix_tracking_links_offer_id'))

    op.drop_table('tracking_links')
    with op.batch_alter_table('offer_goals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_offer_goals_offer_id'))

    op.drop_table('offer_goals')
    with op.batch_alter_table('offer_caps', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_offer_caps_offer_id'))

    op.drop_table('offer_caps')
    with op.batch_alter_table('offer_access', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_offer_access_publisher_id'))
        batch_op.drop_index(batch_op.f('ix_offer_access_offer_id'))

    op.drop_table('offer_access')
    with op.batch_alter_table('creatives', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_creatives_offer_id'))

    op.drop_table('creatives')
    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_offers_top_payout'))
        batch_op.drop_index(batch_op.f('ix_offers_status'))
        batch_op.drop_index(batch_op.f('ix_offers_category'))
        batch_op.drop_index(batch_op.f('ix_offers_advertiser_id'))

    op.drop_table('offers')
