"""The run-by-default path: the app factory, migrations and demo on an SQLite file."""

import pytest
import redis
from flask_migrate import upgrade
from sqlalchemy import func, select

from cpa_network.accounts.models import User
from cpa_network.app import create_app
from cpa_network.demo import load_demo
from cpa_network.extensions import db


@pytest.mark.sqlite
def test_factory_migrations_and_demo_on_sqlite(tmp_path, redis_url):
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'db.sqlite3'}",
                     REDIS_URL=redis_url, RATELIMIT_STORAGE_URI=redis_url)
    with app.app_context():
        upgrade()
        load_demo()
        assert db.session.scalar(select(func.count(User.id))) == 46
        db.session.remove()
    client = app.test_client()
    assert client.get("/").status_code == 200
    assert client.get("/login").status_code == 200
    with app.app_context():
        db.engine.dispose()
    redis.Redis.from_url(redis_url).flushdb()  # the demo queued jobs for a database now gone
