"""A scratch PostgreSQL database for one benchmark run, dropped however the run ends."""

import os
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

SERVER_URL = os.environ.get("BENCH_POSTGRES_URL",
                            "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


@contextmanager
def scratch_database(prefix: str = "cpa_bench") -> Iterator[str]:
    """Create `<prefix>_<pid>` on BENCH_POSTGRES_URL, yield its URL, drop it at exit."""
    server = make_url(SERVER_URL)
    name = f"{prefix}_{os.getpid()}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def psycopg_dsn(database_url: str) -> str:
    """The SQLAlchemy URL of the app (postgresql+psycopg://...) as a bare psycopg DSN."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(
        hide_password=False)
