"""click partitions: on PostgreSQL, clicks partitioned by month of clicked_at

The primary key becomes (id, clicked_at): a partitioned table's unique keys must include the
partition key. No foreign key references clicks (conversions copy what they need from their
click), so nothing else changes. PostgreSQL: a new partitioned table with a DEFAULT partition,
a partition for every month that holds clicks and for the current and CLICK_PARTITIONS_AHEAD
next months, the rows copied over. SQLite keeps one plain table with the wider primary key.
After this, `flask --app wsgi tracking partitions` (and its daily job) keeps the months.

Revision ID: 0010_click_partitions
Revises: 0009_publisher_topups
Create Date: 2026-11-22 15:50:00

"""
import os
from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010_click_partitions'
down_revision = '0009_publisher_topups'
branch_labels = None
depends_on = None

COLUMNS = ("id, clicked_at, link_id, offer_id, publisher_id, sub1, sub2, sub3, sub4, sub5, "
           "ip_hash, ip_prefix, user_agent, referer, country, is_unique, flags")
INDEXES = (("ix_clicks_ip_clicked", "ip_hash, clicked_at"),
           ("ix_clicks_link_clicked", "link_id, clicked_at"),
           ("ix_clicks_offer_id", "offer_id"),
           ("ix_clicks_publisher_clicked", "publisher_id, clicked_at"))


def _table_sql(name: str, primary_key: str, tail: str = "") -> str:
    return f"""CREATE TABLE {name} (
    id VARCHAR(26) NOT NULL,
    clicked_at TIMESTAMP WITH TIME ZONE NOT NULL,
    link_id INTEGER NOT NULL,
    offer_id INTEGER NOT NULL,
    publisher_id INTEGER NOT NULL,
    sub1 VARCHAR(100) NOT NULL,
    sub2 VARCHAR(100) NOT NULL,
    sub3 VARCHAR(100) NOT NULL,
    sub4 VARCHAR(100) NOT NULL,
    sub5 VARCHAR(100) NOT NULL,
    ip_hash VARCHAR(32) NOT NULL,
    ip_prefix VARCHAR(45) NOT NULL,
    user_agent VARCHAR(300) NOT NULL,
    referer VARCHAR(500) NOT NULL,
    country VARCHAR(2) NOT NULL,
    is_unique BOOLEAN NOT NULL,
    flags VARCHAR(40) NOT NULL,
    CONSTRAINT pk_clicks PRIMARY KEY ({primary_key}),
    CONSTRAINT fk_clicks_link_id_tracking_links FOREIGN KEY (link_id)
        REFERENCES tracking_links (id),
    CONSTRAINT fk_clicks_offer_id_offers FOREIGN KEY (offer_id) REFERENCES offers (id),
    CONSTRAINT fk_clicks_publisher_id_users FOREIGN KEY (publisher_id) REFERENCES users (id)
){tail}"""


def _month_index(year: int, month: int) -> int:
    return year * 12 + month - 1


def _month(index: int) -> datetime:
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


def _literal(at: datetime) -> str:
    return f"'{at.strftime('%Y-%m-%d %H:%M:%S')}+00'"


def _set_aside_old_table() -> None:
    """Free the names the new table takes (index names are per schema)."""
    op.execute("ALTER TABLE clicks RENAME TO clicks_old")
    op.execute("ALTER TABLE clicks_old RENAME CONSTRAINT pk_clicks TO pk_clicks_old")
    for name, _columns in INDEXES:
        op.execute(f"DROP INDEX {name}")
    for fk in ("fk_clicks_link_id_tracking_links", "fk_clicks_offer_id_offers",
               "fk_clicks_publisher_id_users"):
        op.execute(f"ALTER TABLE clicks_old DROP CONSTRAINT {fk}")


def _create_indexes() -> None:
    for name, columns in INDEXES:
        op.execute(f"CREATE INDEX {name} ON clicks ({columns})")


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        with op.batch_alter_table('clicks', schema=None, recreate="always") as batch_op:
            batch_op.drop_constraint('pk_clicks', type_='primary')
            batch_op.create_primary_key('pk_clicks', ['id', 'clicked_at'])
        return
    _set_aside_old_table()
    op.execute(_table_sql("clicks", "id, clicked_at", " PARTITION BY RANGE (clicked_at)"))
    _create_indexes()
    op.execute("CREATE TABLE clicks_default PARTITION OF clicks DEFAULT")
    now = datetime.now(UTC)
    ahead = int(os.environ.get("CLICK_PARTITIONS_AHEAD") or 3)
    current = _month_index(now.year, now.month)
    months = set(range(current, current + ahead + 1))
    held = op.get_bind().execute(sa.text(
        "SELECT DISTINCT date_trunc('month', clicked_at AT TIME ZONE 'UTC') FROM clicks_old"))
    months.update(_month_index(at.year, at.month) for (at,) in held)
    for index in sorted(months):
        start, end = _month(index), _month(index + 1)
        op.execute(f"CREATE TABLE clicks_y{start.year:04d}m{start.month:02d} PARTITION OF clicks "
                   f"FOR VALUES FROM ({_literal(start)}) TO ({_literal(end)})")
    op.execute(f"INSERT INTO clicks ({COLUMNS}) SELECT {COLUMNS} FROM clicks_old")
    op.execute("DROP TABLE clicks_old")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        with op.batch_alter_table('clicks', schema=None, recreate="always") as batch_op:
            batch_op.drop_constraint('pk_clicks', type_='primary')
            batch_op.create_primary_key('pk_clicks', ['id'])
        return
    _set_aside_old_table()  # drops the partitioned indexes with their partitions' copies
    op.execute(_table_sql("clicks", "id"))
    _create_indexes()
    op.execute(f"INSERT INTO clicks ({COLUMNS}) SELECT {COLUMNS} FROM clicks_old "
               "ON CONFLICT (id) DO NOTHING")
    op.execute("DROP TABLE clicks_old")  # with its partitions
