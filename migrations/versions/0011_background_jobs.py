"""background jobs (exports, bulk decisions) with progress; daily rating points (the trend)

Revision ID: 0011_background_jobs
Revises: 0010_click_partitions
Create Date: 2026-11-22 16:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011_background_jobs'
down_revision = '0010_click_partitions'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('background_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('progress_done', sa.Integer(), nullable=False),
    sa.Column('progress_total', sa.Integer(), nullable=True),
    sa.Column('result', sa.JSON(), nullable=False),
    sa.Column('file_name', sa.String(length=200), nullable=True),
    sa.Column('download_name', sa.String(length=200), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('queued', 'running', 'done', 'failed')",
                       name=op.f('ck_background_jobs_known_status')),
    sa.CheckConstraint('progress_done >= 0', name=op.f('ck_background_jobs_progress_not_negative')),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_background_jobs_owner_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_background_jobs'))
    )
    with op.batch_alter_table('background_jobs', schema=None) as batch_op:
        batch_op.create_index('ix_background_jobs_owner_created', ['owner_id', 'created_at'], unique=False)
    op.create_table('publisher_rating_days',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('publisher_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['publisher_id'], ['users.id'], name=op.f('fk_publisher_rating_days_publisher_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_publisher_rating_days')),
    sa.UniqueConstraint('publisher_id', 'day', name='publisher_rating_day_once')
    )


def downgrade():
    op.drop_table('publisher_rating_days')
    with op.batch_alter_table('background_jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_background_jobs_owner_created')
    op.drop_table('background_jobs')
