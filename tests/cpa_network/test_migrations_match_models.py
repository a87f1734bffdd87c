"""The schema the migrations build is the one the models describe, on PostgreSQL and SQLite.

The app's code reads the models; the databases are built by the migrations. A column, index,
constraint or type changed on one side only would pass every other test that runs on a
migrated database until a query touched it; alembic's autogenerate comparison finds it now.
"""

import re

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from cpa_network.extensions import db

# Made outside the models on purpose: the monthly partitions of `clicks` (offers/partitions.py
# creates and drops them) and a PostgreSQL expression index (migration 0017), which the models
# cannot declare for SQLite.
PARTITION = re.compile(r"^clicks_(y\d{4}m\d{2}|default)(_|$)")
MIGRATION_ONLY_INDEXES = {"ix_ledger_transactions_publisher_ref"}


def _compared(name, type_, reflected) -> bool:
    if type_ in ("table", "index") and name and PARTITION.match(name):
        return False
    return not (type_ == "index" and reflected and name in MIGRATION_ONLY_INDEXES)


def differences() -> list:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            # SQLite keeps the defaults a few migrations gave new NOT NULL columns of existing
            # rows (PostgreSQL's migrations drop them after): harmless, every insert says.
            "compare_type": True, "compare_server_default": db.engine.dialect.name != "sqlite",
            "include_object": lambda _obj, name, type_, reflected, _to:
                _compared(name, type_, reflected)})
        return compare_metadata(context, db.metadata)


def test_the_migrated_postgresql_schema_matches_the_models(app):
    with app.app_context():
        assert differences() == []


@pytest.mark.sqlite
def test_the_migrated_sqlite_schema_matches_the_models(sqlite_app):
    app = sqlite_app
    with app.app_context():
        assert differences() == []
