"""Database helpers shared by every package: UTC timestamps, SQLite pragmas, dialect checks."""

from datetime import UTC, date, datetime

import psycopg
from flask import Flask
from psycopg import pq
from sqlalchemy import DateTime, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.types import TypeDecorator

from cpa_network.extensions import db


def utcnow() -> datetime:
    """The current time, timezone-aware UTC (the only kind stored)."""
    return datetime.now(UTC)


# The dates a filter may name: a day at either end of the calendar (0001-01-01, 9999-12-31)
# overflows when it is turned into a time range in a zone or extended by a day.
FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(9000, 12, 31)


def usable_day(day: date) -> bool:
    return FIRST_DAY <= day <= LAST_DAY


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


def configure_engine_options(app: Flask) -> None:
    """On psycopg the pool's ping becomes the transaction's BEGIN (see `_begin_on_checkout`);
    set before the engines are created. The options are every bind's (the replica's too), so
    only when every database is on psycopg."""
    urls = [app.config["SQLALCHEMY_DATABASE_URI"],
            *(app.config.get("SQLALCHEMY_BINDS") or {}).values()]
    if not all(str(url).startswith("postgresql+psycopg") for url in urls):
        return
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    if options.get("pool_pre_ping"):
        options["pool_pre_ping"] = False
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
        app.config["DATABASE_BEGIN_ON_CHECKOUT"] = True


def init_engine_hooks(app: Flask) -> None:
    """SQLite: enforce foreign keys and use WAL, so the default database behaves sanely.
    PostgreSQL: a pooled connection proves it is alive by beginning its transaction."""
    with app.app_context():
        engines = list(db.engines.values())
    for engine in engines:
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        elif app.config.get("DATABASE_BEGIN_ON_CHECKOUT") and engine.dialect.driver == "psycopg":
            event.listen(engine, "checkout", _begin_on_checkout)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def _begin_on_checkout(dbapi_connection, _record, _proxy) -> None:
    """Pessimistic disconnect handling in no extra round trip.

    `pool_pre_ping` sends an empty query at every checkout, then psycopg sends BEGIN before the
    first statement: two round trips before any work. Sending the BEGIN at checkout proves the
    connection alive just as well (psycopg sees the open transaction and sends no BEGIN of its
    own). A dead connection (a database restart, a killed backend) raises DisconnectionError,
    and the pool replaces it with a new one before the caller sees anything."""
    if dbapi_connection.autocommit or \
            dbapi_connection.info.transaction_status != pq.TransactionStatus.IDLE:
        return
    try:
        result = dbapi_connection.pgconn.exec_(b"BEGIN")
    except psycopg.Error as error:
        raise DisconnectionError(f"connection lost: {error}") from error
    if result.status != pq.ExecStatus.COMMAND_OK:
        raise DisconnectionError(
            f"connection lost: {result.error_message.decode(errors='replace').strip()}")
