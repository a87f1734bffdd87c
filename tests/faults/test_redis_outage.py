"""Redis stops while clicks flow: redirects continue, clicks are stored through the database
fallback, and the stream and its flush job recover when Redis returns; no click is lost or
stored twice. A real app node (granian), a private durable redis-server (killed with SIGKILL and
restarted on the same port) and a real worker."""

import signal
import threading
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy import func, select

from cpa_network.app import create_app
from cpa_network.extensions import db
from cpa_network.jobs import get_queue
from offers import stream
from offers.tasks import drain_stream, flush_clicks
from offers.tracking_models import Click
from tests.conftest import run_worker_burst
from tests.faults.servers import Visitor, app_env, free_port, redis_binary
from tests.offers.helpers import BROWSER, make_link, make_offer, rollup_totals

pytestmark = pytest.mark.skipif(redis_binary() is None,
                                reason="needs a redis-server binary to kill and restart a Redis "
                                       "of its own (the shared one must never stop)")


class Clicker(threading.Thread):
    """Clicks a link over one keep-alive connection until stopped; keeps every answer."""

    def __init__(self, base_url: str, token: str, number: int):
        super().__init__(daemon=True)
        self.visitor, self.token, self.number = Visitor(base_url), token, number
        self.answers: list[tuple[int, str]] = []  # (status, click id)
        self.stopped = threading.Event()

    def run(self) -> None:
        try:
            while not self.stopped.is_set():
                status, headers, _ = self.visitor.get(
                    f"/c/{self.token}?sub1=t{self.number}", {"User-Agent": BROWSER})
                cid = parse_qs(urlsplit(headers.get("Location", "")).query).get("cid", [""])[0]
                self.answers.append((status, cid))
                time.sleep(0.005)
        finally:
            self.visitor.close()


def wait_for_answers(clickers: list[Clicker], more: int, timeout: float = 20) -> None:
    target = sum(len(c.answers) for c in clickers) + more
    deadline = time.monotonic() + timeout
    while sum(len(c.answers) for c in clickers) < target:
        assert all(c.is_alive() for c in clickers), "a clicker died"
        assert time.monotonic() < deadline, "clicks stopped being answered"
        time.sleep(0.01)


def test_redis_killed_mid_stream_loses_no_click_and_stores_none_twice(
        app, processes, database_url, redis_url, app_context, tmp_path, monkeypatch):
    link = make_link(make_offer())
    port = free_port()
    own_url = f"redis://127.0.0.1:{port}/0"
    redis_server = processes.redis_server(port, str(tmp_path))
    node = processes.node(app_env(app, CLICK_REDIS_URL=own_url, CLICK_REDIS_RETRY_S=1))
    # The test's own view of the click Redis (the stream), beside the suite's queue Redis.
    own = create_app("testing", SQLALCHEMY_DATABASE_URI=database_url, REDIS_URL=redis_url,
                     RATELIMIT_STORAGE_URI=redis_url, CLICK_REDIS_URL=own_url)
    clickers = [Clicker(node, link.token, n) for n in range(3)]
    try:
        for clicker in clickers:
            clicker.start()
        wait_for_answers(clickers, 60)
        with own.app_context():
            # One batch (a run that hits its time slice hands over to the next job).
            assert drain_stream(max_seconds=0.001)[1] > 0  # the flush works; the group exists
        wait_for_answers(clickers, 30)  # these wait in the stream (durable: AOF, fsync always)
        processes.stop(redis_server, signal.SIGKILL)
        wait_for_answers(clickers, 60)  # Redis is gone: straight to the database
        with own.app_context(), pytest.raises(RedisConnectionError):
            drain_stream()  # a flush during the outage fails (RQ would retry it) ...
        redis_server = processes.redis_server(port, str(tmp_path))  # same port, same AOF
        time.sleep(1.2)  # CLICK_REDIS_RETRY_S: the click path tries Redis again
        wait_for_answers(clickers, 60)
    finally:
        for clicker in clickers:
            clicker.stopped.set()
        for clicker in clickers:
            clicker.join(timeout=10)
    answers = [answer for clicker in clickers for answer in clicker.answers]
    assert {status for status, _ in answers} == {302}, answers
    click_ids = [cid for _, cid in answers]
    assert len(set(click_ids)) == len(click_ids) >= 210
    try:
        with own.app_context():
            waiting = stream.backlog()
        # ... and clicks after the outage went to the stream again, as did those before it.
        assert waiting > 0
        get_queue("tracking").enqueue(flush_clicks)
        monkeypatch.setenv("CLICK_REDIS_URL", own_url)
        result = run_worker_burst(app, "--queue", "tracking")
        assert result.returncode == 0, result.stderr
        with own.app_context():
            assert stream.backlog() == 0
    finally:
        with own.app_context():
            db.session.remove()
            db.engine.dispose()
        if "cpa_click_redis" in own.extensions:
            own.extensions["cpa_click_redis"].close()
    stored = set(db.session.scalars(select(Click.id)))
    assert stored == set(click_ids)  # none lost, none made up
    assert db.session.scalar(select(func.count()).select_from(Click)) == len(click_ids)
    assert rollup_totals()[0] == len(click_ids)  # and counted once each
    print(f"\n{len(click_ids)} clicks, all 302; {waiting} waited in the stream after the outage")
