"""Tracking and conversion jobs. Clicks (queue `tracking`): move them from the Redis stream to
the database. Conversions: approve them when their hold ends, fund the ones waiting for funds,
call publishers' postbacks (queue `notifications`), prune the postback log.

A flush is scheduled by the click path itself, at most once per CLICK_FLUSH_INTERVAL_S while
clicks arrive (its one Redis write arms it), and re-arms itself while a backlog remains, so
`flask worker` (which runs RQ's scheduler) keeps the database within seconds of the stream;
the worker's beat also runs it every 30 s. `flask --app wsgi tracking flush` runs the same
function by hand.
"""

import logging
import time
from datetime import timedelta

from flask import current_app
from redis.exceptions import LockError
from rq import Retry
from sqlalchemy import delete

from cpa_network.database import utcnow
from cpa_network.extensions import db
from cpa_network.jobs import task
from cpa_network.schedule import PeriodicJob
from offers import outgoing, stream, visits
from offers.clickstore import store_clicks

log = logging.getLogger(__name__)


# One drain at a time: a click's flood rank counts the clicks already in its sorted set, so a
# drain deciding later clicks while another still holds the earlier ones ranks them short.
FLUSH_LOCK_KEY = "cpa:clicks:flush-lock"
# The lock's time to live beyond CLICK_FLUSH_MAX_S, renewed after every batch: a worker that died
# mid-drain frees it this soon, and a live drain never outlasts it by more than one batch.
FLUSH_LOCK_SLACK_S = 10


def drain_stream(max_seconds: float | None = None) -> tuple[int, int]:
    """Store every click waiting in the stream, a batch per transaction, unless another drain
    is at it (then (0, 0), and a flush is scheduled for whatever it leaves).

    Commit, then acknowledge: a crash in between leaves the entries pending; the next run
    reclaims them and the primary key makes the second insert a no-op, so nothing is counted
    twice and nothing is lost. Returns (entries read, clicks newly stored).
    """
    config = current_app.config
    lock = stream.redis_for_clicks().lock(
        FLUSH_LOCK_KEY, timeout=config["CLICK_FLUSH_MAX_S"] + FLUSH_LOCK_SLACK_S)
    if not lock.acquire(blocking=False):
        # The holder may have read its last batch before our clicks arrived: look again soon.
        stream.schedule_flush(config["CLICK_FLUSH_INTERVAL_S"])
        return 0, 0
    try:
        read, stored, unfinished = _drain(lock, max_seconds or config["CLICK_FLUSH_MAX_S"])
    finally:
        try:
            lock.release()
        except LockError:  # expired (a batch overran it): another drain may already hold it
            log.warning("the click flush lock expired during a drain")
    if unfinished:
        stream.schedule_flush(0)  # after the release, so the fresh job can take the lock
    return read, stored


def _drain(lock, max_seconds: float) -> tuple[int, int, bool]:
    """drain_stream's loop, under its lock: (entries read, clicks stored, more left to do)."""
    config = current_app.config
    batch = config["CLICK_FLUSH_BATCH"]
    deadline = time.monotonic() + max_seconds
    read = stored = 0
    reclaim_idle_ms = config["CLICK_FLUSH_RECLAIM_IDLE_S"] * 1000
    while True:
        ids, records = stream.read_batch(batch, reclaim_idle_ms=reclaim_idle_ms)
        if not ids and reclaim_idle_ms is not None:
            reclaim_idle_ms = None  # stale entries done: now the new ones
            continue
        if not ids:
            return read, stored, False
        pushed = visits.decide(records)
        stored += store_clicks(records)
        visits.flag_stored_floods(pushed)
        db.session.commit()
        stream.ack(ids)
        read += len(ids)
        if time.monotonic() > deadline:
            return read, stored, True  # let other jobs run; continue in a fresh job
        try:
            lock.reacquire()  # a fresh time to live for the next batch (a long CLI drain too)
        except LockError:  # a batch overran it; another drain may hold it: leave it the rest
            return read, stored, True


@task
def flush_clicks() -> int:
    """The scheduled job: drain the stream; returns how many clicks were newly stored."""
    return drain_stream()[1]


# A safety net beside the flushes the click path arms: entries a crashed run left pending are
# reclaimed even when no new clicks arrive to arm a flush.
PERIODIC = (PeriodicJob("flush-clicks", flush_clicks, every_s=30, queue="tracking"),)


@task
def approve_due_conversions() -> int:
    """The hold-period job: approve what is still pending when its hold ends, in batches."""
    from offers import review

    total = 0
    while True:
        approved = review.approve_due()
        db.session.commit()
        total += approved
        if approved == 0:
            return total


@task
def fund_awaiting_conversions(advertiser_id: int, currency: str) -> int:
    """Enqueued after an escrow top-up (payouts.deposits' credit listener): fund waiting
    conversions oldest first."""
    from offers import awaiting

    return awaiting.fund_awaiting(advertiser_id, currency)


@task
def pause_unfunded_offers(advertiser_id: int, currency: str) -> int:
    """Enqueued after a chargeback took escrow back (payouts.disputes' withdrawn listener):
    pause the live offers the escrow no longer backs."""
    from offers import awaiting

    return awaiting.pause_unfunded(advertiser_id, currency)


@task
def fund_all_awaiting() -> int:
    """The safety net for top-ups whose job was never enqueued."""
    from offers import awaiting

    funded = 0
    for advertiser_id, currency in awaiting.advertisers_waiting():
        funded += awaiting.fund_awaiting(advertiser_id, currency)
        db.session.commit()
    return funded


@task
def prune_postback_log() -> int:
    """Postback log lines older than POSTBACK_LOG_DAYS go."""
    from offers.conversion_models import PostbackLog

    cutoff = utcnow() - timedelta(days=current_app.config["POSTBACK_LOG_DAYS"])
    return db.session.execute(delete(PostbackLog).where(PostbackLog.received_at < cutoff)
                              ).rowcount


@task
def maintain_click_partitions() -> list[str]:
    """Daily: the months ahead of the clicks table exist, the expired ones are gone."""
    from offers.partitions import maintain_partitions

    return maintain_partitions().lines()


class DeliveryFailed(Exception):
    """The publisher's endpoint did not answer 2xx; RQ retries the job with backoff."""


def delivery_retry() -> Retry:
    intervals = outgoing.retry_intervals()
    return Retry(max=len(intervals), interval=intervals) if intervals else None


def deliver_postback(delivery_id: int) -> str:
    """Call a publisher's postback once. The attempt is committed before a failure is raised,
    so the delivery log shows every try; RQ's Retry brings the job back with backoff."""
    try:
        delivery = outgoing.attempt_delivery(delivery_id)
        db.session.commit()
        state = delivery.state if delivery is not None else "gone"
    except BaseException:
        db.session.rollback()
        raise
    finally:
        db.session.remove()
    if state == "retrying":
        raise DeliveryFailed(f"postback delivery {delivery_id} failed; will retry")
    return state


PERIODIC += (
    PeriodicJob("approve-due-conversions", approve_due_conversions, every_s=300),
    PeriodicJob("fund-awaiting-conversions", fund_all_awaiting, every_s=600),
    PeriodicJob("prune-postback-log", prune_postback_log, every_s=86400),
    PeriodicJob("click-partitions", maintain_click_partitions, every_s=86400, queue="tracking"),
)
