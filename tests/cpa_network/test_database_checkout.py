"""On PostgreSQL a pooled connection proves itself alive by beginning its transaction at
checkout (cpa_network.database._begin_on_checkout): no separate ping, and a dead connection is
still replaced before anyone's statement runs on it."""


import pytest
from psycopg import pq
from sqlalchemy import text

from cpa_network.app import create_app
from cpa_network.extensions import db
from tests.conftest import terminate_backend


@pytest.fixture
def own_app(database_url, redis_url):
    """An app with its own pool, so killing its connections touches no other test's."""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=database_url, REDIS_URL=redis_url,
                     RATELIMIT_STORAGE_URI=redis_url)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_the_transaction_is_open_before_the_first_statement(own_app):
    with own_app.app_context():
        assert db.engine.pool._pre_ping is False  # the BEGIN replaces the ping's round trip
        raw = db.session.connection().connection.dbapi_connection
        assert raw.info.transaction_status == pq.TransactionStatus.INTRANS
        # Statements run inside that transaction: its start is earlier than theirs.
        assert db.session.scalar(text("SELECT now() <= statement_timestamp()")) is True
        db.session.commit()
        assert raw.info.transaction_status == pq.TransactionStatus.IDLE


def test_a_killed_connection_is_replaced_before_a_statement_runs(own_app, database_url):
    with own_app.app_context():
        db.session.execute(text("SELECT 1"))
        pooled = db.session.connection().connection.dbapi_connection
        killed_pid = pooled.info.backend_pid
        db.session.commit()
        db.session.remove()  # back in the pool, idle

        terminate_backend(database_url, killed_pid)

        # No error reaches the caller; the statement runs on a new backend.
        assert db.session.scalar(text("SELECT pg_backend_pid()")) != killed_pid
        db.session.commit()
