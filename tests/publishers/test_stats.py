"""Statistics: days cut in the reader's time zone, CSV, the live feed, the API contract and who
sees what."""

import csv
import io
from datetime import UTC, date, datetime, timedelta

from cpa_network.database import utcnow
from cpa_network.extensions import db
from publishers import reports
from tests.factories import make_api_key, make_user
from tests.offers.helpers import make_link, make_offer
from tests.publishers.helpers import add_clicks


def bearer(user) -> dict:
    return {"Authorization": f"Bearer {make_api_key(user)}"}


def test_days_are_cut_in_the_readers_time_zone(client, app_context):
    offer = make_offer()
    east = make_user("publisher", timezone="Asia/Yekaterinburg")  # UTC+5, no DST
    link = make_link(offer, east)
    add_clicks(link, datetime(2026, 1, 10, 18, 30, tzinfo=UTC))  # 23:30 local, 10 Jan
    add_clicks(link, datetime(2026, 1, 10, 19, 5, tzinfo=UTC), 2)  # 00:05 local, 11 Jan
    body = client.get("/api/v1/stats?from=2026-01-10&to=2026-01-11&group_by=day",
                      headers=bearer(east)).get_json()
    assert body["timezone"] == "Asia/Yekaterinburg"
    assert [(r["key"], r["clicks"]) for r in body["rows"]] == [("2026-01-10", 1),
                                                               ("2026-01-11", 2)]
    east.timezone = "UTC"
    db.session.commit()
    body = client.get("/api/v1/stats?from=2026-01-10&to=2026-01-11&group_by=day",
                      headers=bearer(east)).get_json()
    assert [(r["key"], r["clicks"]) for r in body["rows"]] == [("2026-01-10", 3)]
    # A one-day range is that local day only.
    body = client.get("/api/v1/stats?from=2026-01-11&to=2026-01-11",
                      headers=bearer(east)).get_json()
    assert body["rows"] == []


def test_a_day_across_a_dst_change_has_its_real_length():
    new_york = reports.zone("America/New_York")
    start, end = reports.day_range(date(2026, 3, 8), date(2026, 3, 8), new_york)
    assert end - start == timedelta(hours=23)
    assert start == datetime(2026, 3, 8, 5, tzinfo=UTC)
    assert reports.zone("Not/AZone") == reports.zone("UTC")


def pinned_now(monkeypatch):
    """Now, as the stats pages will read it: "today" is the day of the test's clicks even if a
    midnight passes before the request."""
    now = utcnow()
    monkeypatch.setattr("publishers.stats_views.utcnow", lambda: now)
    return now


def test_csv_export_has_the_tables_rows(client, app_context, monkeypatch):
    offer = make_offer(name="CSV offer")
    publisher = make_user("publisher", email="pub@example.com")
    link = make_link(offer, publisher)
    now = pinned_now(monkeypatch)
    add_clicks(link, now, 3, sub1="feed")
    add_clicks(link, now, 1, sub1="=cmd", flags="bot")
    client.login("pub@example.com")
    response = client.get("/stats/export.csv?period=today&group_by=sub1")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][:6] == ["key", "currency", "clicks", "unique_clicks", "flagged_clicks",
                           "valid_clicks"]
    assert rows[1][:6] == ["feed", "USD", "3", "3", "0", "3"]
    # A cell a spreadsheet would run as a formula is defused.
    assert rows[2][:6] == ["'=cmd", "USD", "1", "0", "1", "0"]
    assert len(rows) == 3


def test_a_long_period_exports_through_a_job(app, client, app_context):
    from cpa_network.background.models import BackgroundJob
    from tests.conftest import run_worker_burst

    offer = make_offer(name="Long offer")
    publisher = make_user("publisher", email="pub@example.com")
    link = make_link(offer, publisher)
    now = utcnow()
    for days in (1, 40, 80):
        add_clicks(link, now - timedelta(days=days), 2, sub1=f"d{days}")
    add_clicks(link, now - timedelta(days=3), 1, sub1="@SUM(A1)")
    client.login("pub@example.com")
    assert "Prepare the statistics CSV" in client.get(
        "/stats/export.csv?period=90d&group_by=sub1").get_data(as_text=True)
    started = client.submit("/stats/export.csv?period=90d&group_by=sub1")
    assert started.status_code == 303 and "/jobs/" in started.headers["Location"]
    job_id = int(started.headers["Location"].rsplit("/", 1)[1])
    assert run_worker_burst(app, "--no-beat", timeout=180).returncode == 0
    db.session.expire_all()
    job = db.session.get(BackgroundJob, job_id)
    assert (job.status, job.progress_done, job.progress_total) == ("done", 4, 4)
    download = client.get(f"/jobs/{job_id}/download")
    rows = list(csv.reader(io.StringIO(download.get_data(as_text=True))))
    download.close()
    # The same table the page would stream for a short period, built from the same report.
    assert sorted(r[0] for r in rows[1:]) == ["'@SUM(A1)", "d1", "d40", "d80"]
    assert {r[0]: r[2] for r in rows[1:]}["d40"] == "2"
    make_user("publisher", email="other@example.com")
    client.submit("/logout", page="/stats")
    client.login("other@example.com")
    assert client.get(f"/jobs/{job_id}/download").status_code == 404


def test_the_live_feed_follows_new_clicks(client, app_context, monkeypatch):
    publisher = make_user("publisher", email="pub@example.com")
    link = make_link(make_offer(), publisher)
    now = pinned_now(monkeypatch)
    client.login("pub@example.com")
    before = client.get("/stats/live.json?period=today").get_json()
    assert before["clicks"] == 0
    add_clicks(link, now, 2)
    add_clicks(link, now, 1, flags="flood")
    after = client.get("/stats/live.json?period=today")
    assert after.headers["Cache-Control"] == "no-store"
    data = after.get_json()
    assert (data["clicks"], data["unique_clicks"], data["flagged_clicks"]) == (3, 2, 1)
    assert sum(data["chart"]["clicks"]) == 3


def test_a_publisher_sees_only_their_own_stats(client, app_context, monkeypatch):
    offer = make_offer(name="Shared offer")
    mine, theirs = make_user("publisher", email="me@example.com"), make_user("publisher")
    now = pinned_now(monkeypatch)
    add_clicks(make_link(offer, mine), now, 2)
    add_clicks(make_link(offer, theirs), now, 7)
    body = client.get("/api/v1/stats?group_by=offer", headers=bearer(mine)).get_json()
    assert [(r["key"], r["clicks"]) for r in body["rows"]] == [("Shared offer", 2)]
    client.login("me@example.com")
    live = client.get("/stats/live.json?period=today").get_json()
    assert live["clicks"] == 2


def test_an_advertiser_sees_only_their_offers(client, app_context):
    advertiser, other = make_user("advertiser"), make_user("advertiser")
    own, foreign = make_offer(advertiser, name="Own"), make_offer(other, name="Foreign")
    publisher = make_user("publisher")
    add_clicks(make_link(own, publisher), utcnow(), 4)
    add_clicks(make_link(foreign, publisher), utcnow(), 9)
    body = client.get("/api/v1/stats?group_by=publisher", headers=bearer(advertiser)).get_json()
    assert body["role"] == "advertiser"
    assert [(r["key_id"], r["clicks"]) for r in body["rows"]] == [(publisher.id, 4)]
    totals = body["totals"]
    assert [(t["currency"], t["clicks"]) for t in totals] == [("USD", 4)]
    refused = client.get("/api/v1/stats?role=publisher", headers=bearer(advertiser))
    assert refused.status_code == 422
    assert refused.get_json()["error"]["code"] == "bad_role"


def test_stats_api_errors_name_the_problem(client, app_context):
    headers = bearer(make_user("publisher"))
    cases = {"?from=2026-13-01&to=2026-01-02": "bad_date",
             "?from=2026-02-01&to=2026-01-02": "bad_range",
             "?from=2024-01-01&to=2026-01-02": "bad_range",
             "?group_by=weekday": "bad_group_by",
             "?group_by=publisher": "bad_group_by"}  # a publisher's rows are their own
    for query, code in cases.items():
        response = client.get(f"/api/v1/stats{query}", headers=headers)
        assert response.status_code == 422, query
        error = response.get_json()["error"]
        assert error["code"] == code, query
        assert error["message"]
    assert client.get("/api/v1/stats").status_code == 401
    assert client.get("/api/v1/stats", headers=bearer(make_user("admin"))).status_code == 403


def test_stats_api_rows_carry_amounts_in_minor_units_beside_the_currency(client, app_context):
    publisher = make_user("publisher")
    add_clicks(make_link(make_offer(currency="EUR"), publisher), utcnow(), 5, country="DE")
    body = client.get("/api/v1/stats?group_by=country", headers=bearer(publisher)).get_json()
    row = body["rows"][0]
    assert row["key"] == "DE" and row["currency"] == "EUR"
    assert set(row["earnings"]) == {"pending", "approved", "rejected", "awaiting_funds"}
    assert all(isinstance(v, int) for v in row["earnings"].values())
    assert row["valid_clicks"] == 5
