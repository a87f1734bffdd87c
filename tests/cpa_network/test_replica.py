"""DATABASE_REPLICA_URL: the statistics pages and API read the replica, everything else the
primary. The test's "replica" is the suite's own database under a second engine."""

from collections import Counter

import pytest
from sqlalchemy import event

from cpa_network.app import create_app
from cpa_network.extensions import db
from tests.conftest import Browser
from tests.factories import PASSWORD, make_api_key, make_user


@pytest.fixture
def replica_app(database_url, redis_url):
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=database_url, REDIS_URL=redis_url,
                     RATELIMIT_STORAGE_URI=redis_url, DATABASE_REPLICA_URL=database_url)
    counts = Counter()
    with app.app_context():
        for key, engine in db.engines.items():
            event.listen(engine, "before_cursor_execute",
                         lambda *_args, key=key: counts.update([key or "primary"]))
    yield app, counts
    with app.app_context():
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()


def test_stats_pages_and_the_stats_api_read_the_replica_other_pages_do_not(
        replica_app, app_context):
    app, counts = replica_app
    publisher = make_user("publisher")
    key = make_api_key(publisher)
    browser = Browser(app.test_client())
    assert browser.login(publisher.email, PASSWORD).status_code == 302
    counts.clear()
    assert browser.get("/catalog").status_code == 200
    assert counts["replica"] == 0 and counts["primary"] > 0
    for url in ("/stats", "/stats/live.json", "/stats/export.csv"):
        counts.clear()
        assert browser.get(url).status_code == 200
        assert counts["replica"] > 0, url
    counts.clear()
    response = browser.get("/api/v1/stats", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200 and counts["replica"] > 0
    # Starting a long export writes a job: what it decides on is read from the primary.
    browser.get("/stats/export.csv?period=90d")
    counts.clear()
    assert browser.submit("/stats/export.csv?period=90d").status_code == 303
    assert counts["replica"] == 0 and counts["primary"] > 0


def test_without_a_replica_there_is_only_the_primary(app):
    with app.app_context():
        assert set(db.engines) == {None}
