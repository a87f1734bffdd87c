"""The run-by-default path: the app factory, migrations and demo on an SQLite file."""

import pytest
from sqlalchemy import func, select

from cpa_network.accounts.models import User
from cpa_network.demo import load_demo
from cpa_network.extensions import db


@pytest.mark.sqlite
def test_factory_migrations_and_demo_on_sqlite(sqlite_app):
    app = sqlite_app
    with app.app_context():
        load_demo()
        assert db.session.scalar(select(func.count(User.id))) == 46
        db.session.remove()
    client = app.test_client()
    assert client.get("/").status_code == 200
    assert client.get("/login").status_code == 200
