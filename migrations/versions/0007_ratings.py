"""ratings: publisher rating snapshots, offer ratings

Revision ID: 0007_ratings
Revises: 0006_conversions
Create Date: 2026-11-22 14:03:37.077230

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007_ratings'
down_revision = '0006_conversions'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('publisher_ratings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('publisher_id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.String(length=24), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('ranked', sa.Integer(), nullable=False),
    sa.Column('previous_score', sa.Float(), nullable=True),
    sa.Column('parts', sa.JSON(), nullable=False),
    sa.Column('inputs', sa.JSON(), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['publisher_id'], ['users.id'], name=op.f('fk_publisher_ratings_publisher_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_publisher_ratings')),
    sa.UniqueConstraint('publisher_id', 'scope', name='publisher_rating_once')
    )
    with op.batch_alter_table('publisher_ratings', schema=None) as batch_op:
        batch_op.create_index('ix_publisher_ratings_scope_rank', ['scope', 'rank'], unique=False)

    op.create_table('offer_ratings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('offer_id', sa.Integer(), nullable=False),
    sa.Column('clicks', sa.Integer(), nullable=False),
    sa.Column('approved', sa.Integer(), nullable=False),
    sa.Column('decided', sa.Integer(), nullable=False),
    sa.Column('payout', sa.BigInteger(), nullable=False),
    sa.Column('epc', sa.Float(), nullable=True),
    sa.Column('cr', sa.Float(), nullable=True),
    sa.Column('approval_rate', sa.Float(), nullable=True),
    sa.Column('avg_hold_hours', sa.Float(), nullable=True),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['offer_id'], ['offers.id'], name=op.f('fk_offer_ratings_offer_id_offers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_offer_ratings')),
    sa.UniqueConstraint('offer_id', name=op.f('uq_offer_ratings_offer_id'))
    )


def downgrade():
    op.drop_table('offer_ratings')
    with op.batch_alter_table('publisher_ratings', schema=None) as batch_op:
        batch_op.drop_index('ix_publisher_ratings_scope_rank')

    op.drop_table('publisher_ratings')
