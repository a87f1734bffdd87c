"""Flood flags do not depend on how clicks were split between flushes: two drains at once,
or a click that reaches the stream after later clicks were already flushed, flag the same
clicks as one flush of everything would (the ones past CLICK_FLOOD_LIMIT in (ms, id) order)."""

import random
import threading
import time

import pytest
from sqlalchemy import func, select

from cpa_network.extensions import db
from offers import stream, tasks, visits
from offers.tasks import drain_stream
from offers.tracking import hash_ip, ip_prefix, new_click_id
from offers.tracking_models import Click, TrafficHourly
from tests.offers.helpers import make_link, make_offer, rollup_totals, stored_clicks

IP = "5.18.1.1"


@pytest.fixture
def flood_config(test_side_app, monkeypatch):
    # One window of ~317 years (windows are clock-aligned): no boundary splits the count.
    monkeypatch.setitem(test_side_app.config, "CLICK_FLOOD_WINDOW_S", 10**10)
    return test_side_app.config


def append(app, link, ms: int, agent: str = "Mozilla/5.0 Firefox/128.0",
           click_id: str | None = None) -> str:
    """Put a click on the stream the way the click path does (an older ms than the stream's
    last entry lands after it, as when another process's click got there first)."""
    click_id = click_id or new_click_id(ms)
    record = [click_id, ms, link.id, link.offer_id, link.publisher_id, "", "", "", "", "",
              hash_ip(IP, app), ip_prefix(IP), agent, "", "RU", "", 0]
    stream.append_click(app, click_id, ms, stream.encode_record(record), False)
    return click_id


def flags_of(ids: list[str]) -> list[str]:
    flags = {c.id: c.flags for c in stored_clicks()}
    return [flags[i] for i in ids]


def assert_rollups_match_a_recount():
    raw = db.session.execute(select(
        func.count(), func.sum(db.case((Click.is_unique & (Click.flags == ""), 1), else_=0)),
        func.sum(db.case((Click.flags != "", 1), else_=0)))).one()
    rolled = db.session.execute(select(func.sum(TrafficHourly.clicks),
                                       func.sum(TrafficHourly.unique_clicks),
                                       func.sum(TrafficHourly.flagged_clicks))).one()
    assert tuple(raw) == tuple(rolled)


def test_two_drains_at_once_still_flag_the_flood(app_context, test_side_app, flood_config,
                                                 monkeypatch):
    """Worker A reads clicks 1-3 and stalls; worker B reads 4-6 and decides them first: ranked
    without 1-3 they look like the first three. A then decides 1-3 and commits before B does,
    so not even a correction by A could reach B's rows: nothing would be flagged."""
    monkeypatch.setitem(flood_config, "CLICK_FLOOD_LIMIT", 3)
    monkeypatch.setitem(flood_config, "CLICK_FLUSH_BATCH", 3)
    link = make_link(make_offer())
    base = int(time.time() * 1000) - 1000
    ids = [append(test_side_app, link, base + i, agent=f"agent {i}") for i in range(6)]

    a_read, b_decided, a_done = threading.Event(), threading.Event(), threading.Event()
    lock_ttl_ms = []
    real_read_batch, real_decide = stream.read_batch, visits.decide

    def read_batch(count, **kwargs):
        entry_ids, records = real_read_batch(count, **kwargs)
        if threading.current_thread() is worker_a and entry_ids and not a_read.is_set():
            lock_key = getattr(tasks, "FLUSH_LOCK_KEY", "")  # (no lock before the fix)
            lock_ttl_ms.append(stream.redis_for_clicks().pttl(lock_key))
            a_read.set()
            b_decided.wait(10)  # a slow worker holding its batch
        return entry_ids, records

    def decide(rows):
        pushed = real_decide(rows)
        if threading.current_thread() is worker_b:
            b_decided.set()
            a_done.wait(10)  # B commits only after A has decided, corrected and committed
        return pushed

    monkeypatch.setattr(stream, "read_batch", read_batch)
    monkeypatch.setattr(visits, "decide", decide)
    results = {}

    def run(name, done):
        try:
            with test_side_app.app_context():
                results[name] = drain_stream()
                db.session.remove()
        finally:
            done.set()

    worker_a = threading.Thread(target=run, args=("a", a_done))
    worker_b = threading.Thread(target=run, args=("b", b_decided))
    worker_a.start()
    assert a_read.wait(10)
    worker_b.start()
    worker_a.join(20)
    worker_b.join(20)
    assert not worker_a.is_alive() and not worker_b.is_alive()
    assert flags_of(ids) == ["", "", "", "flood", "flood", "flood"]
    assert results == {"a": (6, 6), "b": (0, 0)}  # B left them to the drain holding the lock
    assert stream.backlog() == 0
    assert_rollups_match_a_recount()
    # A crashed holder cannot block flushing forever: the lock expires a little after the
    # longest drain slice; a finished drain releases it at once.
    limit_ms = (flood_config["CLICK_FLUSH_MAX_S"] + tasks.FLUSH_LOCK_SLACK_S) * 1000
    assert lock_ttl_ms and 0 < lock_ttl_ms[0] <= limit_ms
    assert not stream.redis_for_clicks().exists(tasks.FLUSH_LOCK_KEY)


def test_a_skipped_drain_schedules_another_flush(app_context, test_side_app, flood_config):
    """Clicks a skipped run found are not left waiting for the next click to arm a flush."""
    from cpa_network.jobs import get_queue

    link = make_link(make_offer())
    append(test_side_app, link, int(time.time() * 1000))
    held = stream.redis_for_clicks().lock(tasks.FLUSH_LOCK_KEY, timeout=30)
    assert held.acquire(blocking=False)  # another worker is draining (or crashed mid-drain)
    try:
        assert drain_stream() == (0, 0)
    finally:
        held.release()
    assert get_queue("tracking").scheduled_job_registry.count == 1
    assert drain_stream() == (1, 1)


def test_a_click_that_reaches_the_stream_late_makes_the_stored_later_click_a_flood(
        app_context, test_side_app, flood_config, monkeypatch):
    """Limit 1: the later click is the second one, whichever flush sees which click first."""
    monkeypatch.setitem(flood_config, "CLICK_FLOOD_LIMIT", 1)
    link = make_link(make_offer())
    base = int(time.time() * 1000) - 1000
    later = append(test_side_app, link, base + 5, agent="agent later")
    assert drain_stream() == (1, 1)
    assert flags_of([later]) == [""]  # alone so far: not a flood yet
    earlier = append(test_side_app, link, base, agent="agent earlier")  # another process's
    assert drain_stream() == (1, 1)
    assert flags_of([earlier, later]) == ["", "flood"]
    assert rollup_totals() == (2, 1, 1)  # the later one no longer counts as a unique visitor
    assert_rollups_match_a_recount()
    assert drain_stream() == (0, 0)


def _scenario(app, link, order, batch_after, base):
    """Clicks at base+ms[i] appended in `order`, a drain after every `batch_after` appends."""
    offsets = [0, 1, 1, 2, 3, 3, 4]  # ties: same millisecond, ordered by click id
    ids = [new_click_id(base + o) for o in offsets]
    for n, i in enumerate(order, start=1):
        append(app, link, base + offsets[i], agent=f"agent {i}", click_id=ids[i])
        if n % batch_after == 0:
            drain_stream()
    drain_stream()
    return ids


@pytest.mark.parametrize("seed", range(6))
def test_the_flood_flags_depend_only_on_the_clicks(app_context, test_side_app, flood_config,
                                                   monkeypatch, seed):
    """Any arrival order, any split into flushes and batches: the clicks after the first
    CLICK_FLOOD_LIMIT in (ms, id) order are the floods, and the rollups agree."""
    rng = random.Random(seed)
    monkeypatch.setitem(flood_config, "CLICK_FLOOD_LIMIT", 3)
    monkeypatch.setitem(flood_config, "CLICK_FLUSH_BATCH", rng.choice([1, 2, 3]))
    link = make_link(make_offer())
    order = list(range(7))
    rng.shuffle(order)
    ids = _scenario(test_side_app, link, order, rng.choice([1, 2, 4]),
                    int(time.time() * 1000) - 1000)
    ranked = sorted(ids, key=lambda i: (next(c.clicked_at for c in stored_clicks()
                                             if c.id == i), i))
    assert flags_of(ranked) == ["", "", "", "flood", "flood", "flood", "flood"], order
    assert_rollups_match_a_recount()


def test_one_flush_ranks_its_batch_in_click_order_whatever_the_stream_order(
        app_context, test_side_app, flood_config, monkeypatch):
    """Within one batch the rank was always right: ZRANK after all of the batch's ZADDs counts
    the members before it in (score, member) order, i.e. (ms, click id). (Passes before the fix.)"""
    monkeypatch.setitem(flood_config, "CLICK_FLOOD_LIMIT", 3)
    link = make_link(make_offer())
    ids = _scenario(test_side_app, link, [6, 2, 5, 0, 3, 1, 4], 100,
                    int(time.time() * 1000) - 1000)
    assert flags_of(ids) == ["", "", "", "flood", "flood", "flood", "flood"]


def test_a_crashed_flushs_clicks_reclaimed_one_per_batch_still_correct_the_stored_ones(
        app_context, test_side_app, flood_config, monkeypatch):
    """Limit 2. Click 3 is stored alone (clean); a run then reads the late clicks 0-2, adds them
    to the sorted set and dies before committing. Reclaimed one per batch, each finds click 3
    behind it already more than one place down: all of them must still reach it."""
    monkeypatch.setitem(flood_config, "CLICK_FLOOD_LIMIT", 2)
    link = make_link(make_offer())
    base = int(time.time() * 1000) - 1000
    last = append(test_side_app, link, base + 3, agent="agent 3")
    assert drain_stream() == (1, 1)
    early = [append(test_side_app, link, base + i, agent=f"agent {i}") for i in range(3)]
    _entry_ids, records = stream.read_batch(100)
    visits.decide(records)
    db.session.rollback()  # the crash: nothing stored, nothing acknowledged
    monkeypatch.setitem(flood_config, "CLICK_FLUSH_BATCH", 1)
    monkeypatch.setitem(flood_config, "CLICK_FLUSH_RECLAIM_IDLE_S", 0)
    assert drain_stream() == (3, 3)
    assert flags_of([*early, last]) == ["", "", "flood", "flood"]
    assert_rollups_match_a_recount()
