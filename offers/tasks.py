"""Tracking jobs (queue `tracking`): move clicks from the Redis stream to the database.

A flush is scheduled by the click path itself, at most once per CLICK_FLUSH_INTERVAL_S while
clicks arrive (its one Redis write arms it), and re-arms itself while a backlog remains, so
`flask worker` (which runs RQ's scheduler) keeps the database within seconds of the stream;
the worker's beat also runs it every 30 s. `flask --app wsgi tracking flush` runs the same
function by hand.
"""

import time

from flask import current_app

from cpa_network.extensions import db
from cpa_network.jobs import task
from cpa_network.schedule import PeriodicJob
from offers import stream, visits
from offers.clickstore import store_clicks


def drain_stream(max_seconds: float | None = None) -> tuple[int, int]:
    """Store every click waiting in the stream, a batch per transaction.

    Commit, then acknowledge: a crash in between leaves the entries pending; the next run
    reclaims them and the primary key makes the second insert a no-op, so nothing is counted
    twice and nothing is lost. Returns (entries read, clicks newly stored).
    """
    config = current_app.config
    batch = config["CLICK_FLUSH_BATCH"]
    deadline = time.monotonic() + (max_seconds or config["CLICK_FLUSH_MAX_S"])
    read = stored = 0
    reclaim_idle_ms = config["CLICK_FLUSH_RECLAIM_IDLE_S"] * 1000
    while True:
        ids, records = stream.read_batch(batch, reclaim_idle_ms=reclaim_idle_ms)
        if not ids and reclaim_idle_ms is not None:
            reclaim_idle_ms = None  # stale entries done: now the new ones
            continue
        if not ids:
            return read, stored
        visits.decide(records)
        stored += store_clicks(records)
        db.session.commit()
        stream.ack(ids)
        read += len(ids)
        if time.monotonic() > deadline:
            stream.schedule_flush(0)  # let other jobs run; continue in a fresh job
            return read, stored


@task
def flush_clicks() -> int:
    """The scheduled job: drain the stream; returns how many clicks were newly stored."""
    return drain_stream()[1]


# A safety net beside the flushes the click path arms: entries a crashed run left pending are
# reclaimed even when no new clicks arrive to arm a flush.
PERIODIC = (PeriodicJob("flush-clicks", flush_clicks, every_s=30, queue="tracking"),)
