"""Clicks move from the Redis stream to PostgreSQL losslessly and exactly once."""

import shutil
import socket
import subprocess
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import redis
from sqlalchemy import func, select

from cpa_network.app import create_app
from cpa_network.extensions import db
from cpa_network.jobs import get_queue
from offers import stream, visits
from offers.clickstore import store_clicks
from offers.tasks import drain_stream, flush_clicks
from offers.tracking import find_click
from offers.tracking_models import Click, TrafficHourly
from tests.conftest import run_worker_burst
from tests.offers.helpers import US_IP, click, make_link, make_offer, rollup_totals, stored_clicks


def click_id_of(response) -> str:
    return parse_qs(urlsplit(response.headers["Location"]).query)["cid"][0]


def test_a_click_still_in_the_stream_is_found_then_found_in_the_database(client, app_context):
    link = make_link(make_offer())
    click_id = click_id_of(click(client, link, "?sub1=feed&sub5=z"))
    waiting = find_click(click_id)
    assert waiting is not None and waiting.stored is False
    assert (waiting.link_id, waiting.offer_id, waiting.publisher_id) == (
        link.id, link.offer_id, link.publisher_id)
    assert waiting.subs == ("feed", "", "", "", "z") and waiting.country == "RU"
    assert stored_clicks() == []
    drain_stream()
    stored = find_click(click_id)
    assert stored.stored is True
    assert stored.clicked_at == waiting.clicked_at and stored.ip_hash == waiting.ip_hash
    assert find_click("01ARZ3NDEKTSV4RRFFQ69G5FAV") is None and find_click("nonsense") is None


def test_flush_jobs_in_a_real_worker_store_each_click_once(app, client, app_context):
    link = make_link(make_offer())
    for i in range(25):
        click(client, link, f"?sub1=s{i % 3}", ip=f"81.2.69.{i}")
    queue = get_queue("tracking")
    queue.enqueue(flush_clicks)
    queue.enqueue(flush_clicks)  # a duplicate run must change nothing
    result = run_worker_burst(app, "--queue", "tracking")
    assert result.returncode == 0, result.stderr
    assert len(stored_clicks()) == 25
    assert rollup_totals() == (25, 1, 0)  # one browser: its cookie makes the rest repeats
    assert stream.backlog() == 0


def test_a_flush_that_crashed_before_acknowledging_counts_nothing_twice(
        client, app_context, test_side_app, monkeypatch):
    link = make_link(make_offer())
    for i in range(10):
        click(client, link, ip=f"81.2.69.{i}")
    # A run reads and commits, then dies before XACK: the entries stay pending.
    _ids, records = stream.read_batch(100)
    visits.decide(records)
    assert store_clicks(records) == 10
    db.session.commit()
    assert stream.backlog() == 10
    click(client, link, ip=US_IP)
    monkeypatch.setitem(test_side_app.config, "CLICK_FLUSH_RECLAIM_IDLE_S", 0)
    assert drain_stream() == (11, 1)  # 10 reclaimed (already stored) + 1 new
    assert drain_stream() == (0, 0)
    assert len(stored_clicks()) == 11
    assert rollup_totals() == (11, 1, 0)
    assert stream.backlog() == 0


def test_rollups_equal_a_recount_of_the_raw_clicks(client, app_context, test_side_app,
                                                   monkeypatch):
    monkeypatch.setitem(test_side_app.config, "CLICK_FLOOD_LIMIT", 4)
    links = [make_link(make_offer()) for _ in range(2)]
    agents = ["Mozilla/5.0 Firefox/128.0", "curl/8.0", "Mozilla/5.0 Safari/605"]
    for i in range(40):
        click(client, links[i % 2], f"?sub1=s{i % 4}&sub2={i % 3}", ip=f"81.2.69.{i % 7}",
              agent=agents[i % 3])
        client.delete_cookie(f"cpa_o{links[i % 2].offer_id}")
    drain_stream()
    raw = db.session.execute(
        select(Click.link_id, Click.sub1, Click.sub2, func.count(),
               func.sum(db.case((Click.flags == "", db.case((Click.is_unique, 1), else_=0)),
                                else_=0)),
               func.sum(db.case((Click.flags != "", 1), else_=0)))
        .group_by(Click.link_id, Click.sub1, Click.sub2)).all()
    rolled = db.session.execute(
        select(TrafficHourly.link_id, TrafficHourly.sub1, TrafficHourly.sub2,
               func.sum(TrafficHourly.clicks), func.sum(TrafficHourly.unique_clicks),
               func.sum(TrafficHourly.flagged_clicks))
        .group_by(TrafficHourly.link_id, TrafficHourly.sub1, TrafficHourly.sub2)).all()
    assert sorted(map(tuple, raw)) == sorted(map(tuple, rolled))
    assert sum(r[5] for r in raw) > 0  # the data did include flagged clicks


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_redis_stopped_mid_test_clicks_still_redirect_and_are_stored(
        database_url, redis_url, app_context):
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("needs a redis-server binary to start and stop a Redis of its own")
    port = _free_port()
    server = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1",
                               "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL)
    own_url = f"redis://127.0.0.1:{port}/0"
    try:
        for _ in range(50):
            try:
                redis.Redis.from_url(own_url).ping()
                break
            except redis.ConnectionError:
                time.sleep(0.1)
        own = create_app("testing", SQLALCHEMY_DATABASE_URI=database_url, REDIS_URL=own_url,
                         RATELIMIT_STORAGE_URI=redis_url)
        visitor = own.test_client()
        link = make_link(make_offer())
        first = click_id_of(click(visitor, link))
        with own.app_context():
            assert find_click(first).stored is False  # in the stream of this Redis
            drain_stream()
        server.terminate()
        server.wait(timeout=10)
        responses = []
        for i in range(3):
            visitor.delete_cookie(f"cpa_o{link.offer_id}")  # new visitors: unique by address
            responses.append(click(visitor, link, ip=f"81.2.69.{i}"))
        assert [r.status_code for r in responses] == [302, 302, 302]
        with own.app_context():
            found = find_click(click_id_of(responses[1]))
            assert found is not None and found.stored is True
            db.session.remove()
            db.engine.dispose()
    finally:
        if server.poll() is None:
            server.kill()
    assert len(stored_clicks()) == 4
    assert rollup_totals() == (4, 4, 0)
