"""Pooled connections: pinged only after sitting idle, and replaced when the server dropped them.

Each test builds its own app (its own pool) on the test database and kills the pooled
connection's backend with `pg_terminate_backend`, as a PostgreSQL restart or a proxy would.
"""

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from cpa_network.app import create_app
from cpa_network.extensions import db


@pytest.fixture
def make_app(database_url, redis_url):
    made = []

    def make(idle_s: float):
        app = create_app("testing", SQLALCHEMY_DATABASE_URI=database_url, REDIS_URL=redis_url,
                         RATELIMIT_STORAGE_URI=redis_url, DB_PING_IDLE_S=idle_s,
                         SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 1, "max_overflow": 0})
        made.append(app)
        return app

    yield make
    for app in made:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def backend_pid(app) -> int:
    """The server process of the connection the app's pool hands out, returned afterwards."""
    with app.app_context():
        pid = db.session.scalar(text("SELECT pg_backend_pid()"))
        db.session.remove()
    return pid


def terminate(database_url: str, pid: int) -> None:
    killer = create_engine(database_url)
    with killer.connect() as conn:
        assert conn.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    killer.dispose()


def test_an_idle_connection_is_pinged_and_replaced(make_app, database_url):
    app = make_app(idle_s=0)  # every reuse counts as idle: always pinged
    first = backend_pid(app)
    terminate(database_url, first)

    second = backend_pid(app)  # the ping failed, the pool connected afresh: no error

    assert second != first


def test_a_recently_used_connection_is_trusted_and_the_pool_recovers(make_app, database_url):
    app = make_app(idle_s=3600)  # never idle long enough to be pinged
    first = backend_pid(app)
    terminate(database_url, first)

    with app.app_context(), pytest.raises(OperationalError):
        try:
            db.session.scalar(text("SELECT 1"))  # no ping: the dead connection is used once
        finally:
            db.session.remove()

    assert backend_pid(app) != first  # the pool was invalidated; the next request connects
