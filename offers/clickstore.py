"""Storing clicks in bulk and keeping the hourly rollups, idempotently.

The one write path for clicks: the stream flush, the Redis-down fallback and the demo history
all call `store_clicks`. (id, clicked_at) is the primary key (the partition key must be in it,
offers.partitions) and a click's time is fixed by its id, so storing a click twice inserts it
once; the rollups add only the rows the INSERT actually returned.
"""

import functools
from collections import defaultdict
from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite

from cpa_network.extensions import db
from cpa_network.fastsql import Statement
from offers.tracking_models import SUB_IDS, Click, TrafficHourly

ROLLUP_KEY = ("hour", "link_id", "country", *SUB_IDS)


def _insert(table):
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def hour_of(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)


def store_clicks(records: list[dict]) -> int:
    """Insert the clicks not stored yet and add them to the rollups; returns how many were new."""
    if not records:
        return 0
    by_id = {r["id"]: r for r in records}
    # One statement, executed for many rows (SQLAlchemy batches them into multi-row INSERTs);
    # RETURNING names only the rows the database actually inserted.
    statement = (_insert(Click.__table__)
                 .on_conflict_do_nothing(index_elements=["id", "clicked_at"])
                 .returning(Click.__table__.c.id))
    new_ids = db.session.execute(statement, list(by_id.values())).scalars().all()
    add_to_rollups([by_id[i] for i in new_ids])
    db.session.flush()
    return len(new_ids)


def add_to_rollups(clicks: list[dict]) -> None:
    """Add clicks to traffic_hourly (upsert, in key order so concurrent writers never deadlock)."""
    counts: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for c in clicks:
        key = (hour_of(c["clicked_at"]), c["link_id"], c["country"],
               *(c[s] for s in SUB_IDS))
        row = counts[key]
        row[0] += 1
        row[1] += 1 if c["is_unique"] and not c["flags"] else 0
        row[2] += 1 if c["flags"] else 0
        row[3], row[4] = c["offer_id"], c["publisher_id"]
    rows = [dict(zip(ROLLUP_KEY, key, strict=True), clicks=v[0], unique_clicks=v[1],
                 flagged_clicks=v[2], offer_id=v[3], publisher_id=v[4])
            for key, v in sorted(counts.items())]
    upsert_rollups(rows, ("clicks", "unique_clicks", "flagged_clicks"))


@functools.cache
def _upsert_statement(dialect_name: str, counters: tuple[str, ...]):
    """Built once per process: building a statement costs more than running it."""
    table = TrafficHourly.__table__
    statement = (postgresql if dialect_name == "postgresql" else sqlite).insert(table)
    return Statement(statement.on_conflict_do_update(
        index_elements=list(ROLLUP_KEY),
        set_={name: table.c[name] + statement.excluded[name] for name in counters}))


def upsert_rollups(rows: list[dict], counters: tuple[str, ...]) -> None:
    """Add each row's `counters` to its hour x link x country x sub-ids row (created if new)."""
    if not rows:
        return
    statement = _upsert_statement(db.engine.dialect.name, counters)
    if len(rows) == 1:
        statement.rows(rows[0])  # a conversion's one row: the hot path
    else:
        db.session.execute(statement.statement, rows)
