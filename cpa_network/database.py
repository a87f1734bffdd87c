"""Database helpers shared by every package: UTC timestamps, SQLite pragmas, dialect checks."""

import time
from datetime import UTC, datetime

from flask import Flask
from sqlalchemy import DateTime, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.types import TypeDecorator

from cpa_network.extensions import db


def utcnow() -> datetime:
    """The current time, timezone-aware UTC (the only kind stored)."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use cpa_network.database.utcnow()")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def is_postgres() -> bool:
    """True on PostgreSQL, where row locks and triggers are real."""
    return db.engine.dialect.name == "postgresql"


def init_engine_hooks(app: Flask) -> None:
    """Ping connections that sat idle; SQLite: enforce foreign keys and use WAL."""
    with app.app_context():
        engine, engines = db.engine, list(db.engines.values())
    for each in engines:  # the primary, and the read replica if there is one
        install_idle_ping(each, app.config["DB_PING_IDLE_S"])
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()


def install_idle_ping(engine: Engine, idle_s: float) -> None:
    """Before handing out a pooled connection that sat idle for `idle_s` or more, ping it, and
    replace it if the server is gone.

    SQLAlchemy's `pool_pre_ping` pings at every checkout: a round trip per request and job,
    which on the postback path cost more than some of its statements. A connection returned
    moments ago is alive; one that dies in use fails that request, and SQLAlchemy then
    invalidates the whole pool, so the next checkout connects afresh.
    """

    @event.listens_for(engine.pool, "checkin")
    def _checked_in(_dbapi_connection, record):
        if record is not None:
            record.info["checked_in_at"] = time.monotonic()

    @event.listens_for(engine.pool, "checkout")
    def _checked_out(dbapi_connection, record, _proxy):
        since = record.info.get("checked_in_at")
        if since is None or time.monotonic() - since < idle_s:
            return  # new, or just used
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            raise DisconnectionError(str(error)) from error  # the pool connects afresh
