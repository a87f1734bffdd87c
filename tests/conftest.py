"""Shared fixtures: a PostgreSQL database and a Redis db number of the suite's own.

The suite creates `cpa_test_<worker>_<pid>` on the server named by TEST_POSTGRES_URL (default
postgresql+psycopg://postgres@127.0.0.1:5432/postgres), migrates it with Alembic, and drops it at
the end. It claims a free Redis database number (1-15) on TEST_REDIS_URL (default
redis://127.0.0.1:6379) so parallel runs never share queues. Every test starts from empty tables
and an empty Redis db: tables are truncated after each test (commits are real, because workers,
threads and a second process must see them).
"""

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
import redis
from flask_migrate import upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from cpa_network.app import create_app
from cpa_network.extensions import db
from offers import postback_direct

PROJECT_ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS_SERVER_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _worker_tag() -> str:
    return f"{os.environ.get('PYTEST_XDIST_WORKER', 'gw')}_{os.getpid()}"


@pytest.fixture(scope="session")
def database_url():
    """A fresh PostgreSQL database for this run, dropped afterwards."""
    server = make_url(POSTGRES_URL)
    name = f"cpa_test_{_worker_tag()}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield server.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _claim_tag() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{_worker_tag()}"


def _abandoned(tag: bytes | None, number: int) -> bool:
    """A claim of this host whose test process is gone, on a database no RQ worker (an orphan
    of that run) still listens to: a killed run's number, safe to take over."""
    if tag is None:
        return True
    host, _, rest = tag.decode().partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
        return False  # still running
    except ProcessLookupError:
        pass
    except PermissionError:
        return False
    data = redis.Redis.from_url(f"{REDIS_SERVER_URL}/{number}")
    try:
        # the set keeps a SIGKILLed worker's key; the key itself lapses without heartbeats
        return not any(data.exists(key) for key in data.smembers("rq:workers"))
    finally:
        data.close()


@pytest.fixture(scope="session")
def redis_url():
    """Claim a Redis database number no other test run is using (taking over a killed run's)."""
    control = redis.Redis.from_url(f"{REDIS_SERVER_URL}/0")
    tag = _claim_tag()
    for number in range(1, 16):
        claim = f"cpa-test-claim:{number}"
        if control.set(claim, tag, nx=True, ex=6 * 3600):
            break
        held = control.get(claim)
        if _abandoned(held, number) and control.set(claim, tag, xx=True, ex=6 * 3600, get=True) \
                == held:
            redis.Redis.from_url(f"{REDIS_SERVER_URL}/{number}").flushdb()
            break
    else:
        pytest.exit("no free Redis database number (1-15) for the test run")
    yield f"{REDIS_SERVER_URL}/{number}"
    redis.Redis.from_url(f"{REDIS_SERVER_URL}/{number}").flushdb()
    control.delete(claim)
    control.close()


def _make_app(database_url, redis_url):
    return create_app("testing", SQLALCHEMY_DATABASE_URI=database_url, REDIS_URL=redis_url,
                      RATELIMIT_STORAGE_URI=redis_url)


@pytest.fixture(scope="session")
def app(database_url, redis_url):
    """The app under test: the one the test client, CLI runner and workers use."""
    app = _make_app(database_url, redis_url)
    with app.app_context():
        upgrade()
        db.session.remove()
    yield app
    _dispose(app)


@pytest.fixture(scope="session")
def test_side_app(app, database_url, redis_url):
    """A second instance for the test's own database work.

    Flask reuses an app context that is already pushed for the same app, so if tests pushed
    `app`'s context, every client request would share the test's session and `g`. With a
    separate instance each request gets a fresh context, as in production.
    """
    side_app = _make_app(database_url, redis_url)
    yield side_app
    _dispose(side_app)


@pytest.fixture
def sqlite_app(tmp_path, redis_url):
    """The app on an SQLite file migrated to the head (the run-by-default database), for the
    tests marked `sqlite`; its Redis number is flushed afterwards (jobs it queued name a
    database that is gone)."""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'db.sqlite3'}",
                     REDIS_URL=redis_url, RATELIMIT_STORAGE_URI=redis_url)
    with app.app_context():
        upgrade()
        db.session.remove()
    yield app
    _dispose(app)
    redis.Redis.from_url(redis_url).flushdb()


def _dispose(app) -> None:
    """Close pooled connections before the database is dropped."""
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    postback_direct.dispose(app)
    if "cpa_redis" in app.extensions:
        app.extensions["cpa_redis"].close()


@pytest.fixture(autouse=True)
def _clean_state(request):
    """Empty tables and Redis after every test that used the app."""
    yield
    if "app" not in request.fixturenames:
        return
    app = request.getfixturevalue("app")
    with app.app_context():
        db.session.remove()
        _truncate_all()
    redis.Redis.from_url(app.config["REDIS_URL"]).flushdb()


def _truncate_all(attempts: int = 5) -> None:
    """TRUNCATE every table. A live server or worker of a browser test (its beat, a page's
    poll) may still be in a transaction over two tables that TRUNCATE locks in another order:
    PostgreSQL then aborts one side as a deadlock, and this side simply tries again."""
    tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
    for attempt in range(attempts):
        try:
            with db.engine.begin() as conn:
                conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            return
        except OperationalError as error:
            if not isinstance(error.orig, psycopg.errors.DeadlockDetected) \
                    or attempt == attempts - 1:
                raise
            time.sleep(0.2)


@pytest.fixture
def app_context(test_side_app):
    with test_side_app.app_context():
        yield
        db.session.remove()


@pytest.fixture
def client(app):
    return Browser(app.test_client())


class Browser:
    """A test client that posts forms the way a browser does: with the page's CSRF token."""

    def __init__(self, client):
        self.client = client

    def __getattr__(self, name):
        return getattr(self.client, name)

    def csrf_token(self, page: str = "/login") -> str:
        html = self.client.get(page).get_data(as_text=True)
        match = CSRF_RE.search(html)
        assert match, f"no CSRF token on {page}"
        return match.group(1)

    def submit(self, url: str, data: dict | None = None, page: str | None = None, **kwargs):
        """POST `data` with a valid CSRF token taken from `page` (default: `url` itself)."""
        data = dict(data or {})
        data["csrf_token"] = self.csrf_token(page or url)
        return self.client.post(url, data=data, **kwargs)

    def login(self, email: str, password: str = "correct-horse-1", **kwargs):
        return self.submit("/login", {"email": email, "password": password}, **kwargs)


def terminate_backend(database_url: str, pid: int) -> None:
    """Kill one PostgreSQL backend from another connection and wait until it is gone, as a
    database restart or an operator's kill would end a pooled connection."""
    import psycopg

    dsn = make_url(database_url).set(drivername="postgresql").render_as_string(
        hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone()[0]
        for _ in range(50):  # the backend exits asynchronously
            if not admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s",
                                 [pid]).fetchone():
                return
            time.sleep(0.05)


def run_worker_burst(app, *extra_args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run `flask --app wsgi worker --burst` as a real process against the suite's DB and Redis."""
    env = dict(os.environ, APP_ENV="testing",
               DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
               REDIS_URL=app.config["REDIS_URL"])
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--burst", *extra_args],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)
