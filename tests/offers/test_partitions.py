"""Monthly click partitions on PostgreSQL: made ahead, dropped past retention, pruned by time."""

import re
from datetime import timedelta

import pytest
from flask import current_app
from sqlalchemy import event, func, select, text

from cpa_network.database import utcnow
from cpa_network.extensions import db
from offers import partitions
from offers.clicks import record_in_database
from offers.clickstore import store_clicks
from offers.partitions import DEFAULT, add_months, month_start, partition_name
from offers.tracking import find_click, hash_ip, new_click_id
from offers.tracking_models import Click, TrafficHourly
from tests.offers.conversion_helpers import conversions, live_setup, postback_url, stored_click
from tests.offers.helpers import RU_IP, click, make_link, make_offer, rollup_totals

SCANNED_RE = re.compile(r"on (clicks_\w+)")


@pytest.fixture
def months(app_context):
    """Put back the partitions the migration made, whatever the test created or dropped."""
    before = partitions.monthly_partitions()
    yield
    db.session.rollback()
    after = partitions.monthly_partitions()
    for name in set(after) - set(before):
        db.session.execute(text(f"DROP TABLE {name}"))
    for name in set(before) - set(after):
        partitions.create_month(before[name])
    db.session.commit()


def click_record(link, at, *, country: str = "RU") -> dict:
    return {"id": new_click_id(int(at.timestamp() * 1000)), "clicked_at": at,
            "link_id": link.id, "offer_id": link.offer_id, "publisher_id": link.publisher_id,
            "sub1": "", "sub2": "", "sub3": "", "sub4": "", "sub5": "",
            "ip_hash": hash_ip(RU_IP), "ip_prefix": "77.88.55.0/24", "user_agent": "ua",
            "referer": "", "country": country, "is_unique": True, "flags": ""}


def partition_of(click_id: str) -> str:
    return db.session.scalar(text("SELECT tableoid::regclass::text FROM clicks WHERE id = :id"),
                             {"id": click_id})


def scanned_partitions(run) -> set[str]:
    """The partitions PostgreSQL plans to read for the first query on clicks that `run` makes."""
    captured = []

    def grab(_conn, _cursor, statement, parameters, _context, _many):
        if "FROM clicks" in statement and statement.lstrip().upper().startswith("SELECT"):
            captured.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", grab)
    try:
        run()
    finally:
        event.remove(db.engine, "before_cursor_execute", grab)
    statement, parameters = captured[0]
    plan = db.session.connection().exec_driver_sql("EXPLAIN " + statement, parameters)
    return set(SCANNED_RE.findall("\n".join(plan.scalars())))


def test_the_migration_made_this_month_and_the_months_ahead_and_a_default(app, months):
    names = set(partitions.monthly_partitions())
    first = month_start(utcnow())
    ahead = current_app.config["CLICK_PARTITIONS_AHEAD"]
    assert {partition_name(add_months(first, n)) for n in range(ahead + 1)} <= names
    assert db.session.scalar(text("SELECT to_regclass(:name)::text"), {"name": DEFAULT}) == DEFAULT


def test_later_months_are_created_ahead_and_a_second_run_does_nothing(app, months):
    later = add_months(month_start(utcnow()), 8)
    report = partitions.maintain_partitions(now=later)
    db.session.commit()
    ahead = current_app.config["CLICK_PARTITIONS_AHEAD"]
    assert report.created == [partition_name(add_months(later, n)) for n in range(ahead + 1)]
    assert report.dropped == [] and report.moved_from_default == 0
    again = partitions.maintain_partitions(now=later)
    db.session.commit()
    assert (again.created, again.dropped, again.moved_from_default,
            again.expired_in_default) == ([], [], 0, 0)


def test_a_click_outside_every_month_lands_in_default_and_moves_when_its_month_is_made(
        app, months):
    link = make_link(make_offer())
    far = utcnow() + timedelta(days=800)
    record = click_record(link, far)
    assert store_clicks([record]) == 1
    db.session.commit()
    assert partition_of(record["id"]) == DEFAULT
    assert find_click(record["id"]).link_id == link.id
    report = partitions.maintain_partitions(now=far)
    db.session.commit()
    assert partition_name(month_start(far)) in report.created
    assert report.moved_from_default == 1
    assert partition_of(record["id"]) == partition_name(month_start(far))
    assert store_clicks([record]) == 0  # still stored once
    assert rollup_totals() == (1, 1, 0)


def test_months_past_retention_go_with_the_default_rows_and_rollups_and_conversions_stay(
        app, client, months, monkeypatch):
    offer, link, recent_id = live_setup()
    now = utcnow()
    old_month = add_months(month_start(now), -4)
    old = click_record(link, old_month + timedelta(days=3))
    older = click_record(link, add_months(old_month, -2) + timedelta(days=3))
    store_clicks([old, older])
    db.session.commit()
    # A conversion on the old click, made back when it was fresh (the window is 30 days).
    monkeypatch.setattr("offers.attribution.utcnow", lambda: old["clicked_at"] + timedelta(1))
    assert client.get(postback_url(offer, old["id"], txid="OLD-1")).status_code == 200
    monkeypatch.undo()
    partitions.maintain_partitions(now=old_month)  # the old month gets its partition
    db.session.commit()
    assert partition_of(old["id"]) == partition_name(old_month)
    assert partition_of(older["id"]) == DEFAULT
    rollups_before = rollup_totals()
    monkeypatch.setitem(current_app.config, "CLICK_RETENTION_MONTHS", 2)
    report = partitions.maintain_partitions(now=now)
    db.session.commit()
    assert partition_name(old_month) in report.dropped
    assert report.expired_in_default == 1
    assert report.cutoff == add_months(month_start(now), -2)
    assert find_click(old["id"]) is None and find_click(older["id"]) is None
    assert find_click(recent_id) is not None
    assert rollup_totals() == rollups_before == (3, 3, 0)
    [conversion] = conversions()
    assert (conversion.click_id, conversion.clicked_at) == (old["id"], old["clicked_at"])


def test_retention_never_cuts_into_an_offers_attribution_window(months, monkeypatch):
    monkeypatch.setitem(current_app.config, "CLICK_RETENTION_MONTHS", 2)
    now = utcnow()
    assert partitions.retention_cutoff(now) == add_months(month_start(now), -2)
    make_offer(attribution_window_days=365)
    assert partitions.retention_cutoff(now) <= now - timedelta(days=365)
    monkeypatch.setitem(current_app.config, "CLICK_RETENTION_MONTHS", 0)
    assert partitions.retention_cutoff(now) is None


def test_conversions_attribute_to_stored_clicks_and_to_clicks_still_in_the_stream(
        client, months):
    offer, link, stored_id = live_setup()
    response = click(client, link, "?sub1=fresh")
    waiting_id = re.search(r"cid=([0-9A-Z]{26})", response.headers["Location"])[1]
    assert find_click(waiting_id).stored is False
    assert client.get(postback_url(offer, stored_id, txid="A")).json["status"] == "ok"
    # Seconds after its click, the second one is recorded and held as suspect (202).
    assert client.get(postback_url(offer, waiting_id, txid="B")).json["status"] in (
        "ok", "fraud_suspected")
    assert {c.click_id for c in conversions()} == {stored_id, waiting_id}


def test_a_lookup_by_id_reads_only_the_month_the_id_names(app, months):
    link = make_link(make_offer())
    # Mid-month: a click minutes old falls in last month early on the 1st, which may have no
    # partition (the migration makes this month and the months ahead).
    mid_month = month_start(utcnow()) + timedelta(days=14)
    record = click_record(link, mid_month)
    store_clicks([record])
    db.session.commit()
    scanned = scanned_partitions(lambda: find_click(record["id"]))
    assert scanned == {partition_name(month_start(mid_month))}


def test_postgresql_keeps_one_plan_for_the_lookup_by_id(app, months):
    """A prepared statement is planned once for every call (a generic plan) only when that
    plan is as good as one made for the call. The lookup names its months as constants, so
    the plan made without the parameters reads one partition too, and PostgreSQL keeps it
    instead of planning every lookup again."""
    link = make_link(make_offer())
    click_ids = [stored_click(link) for _ in range(15)]
    for click_id in click_ids:  # psycopg prepares after 5 runs, PostgreSQL decides after 5 more
        assert find_click(click_id) is not None
    plans = db.session.execute(text(
        "SELECT generic_plans, custom_plans FROM pg_prepared_statements "
        "WHERE statement LIKE '%FROM clicks%' AND statement LIKE '%offers.xmin%'")).all()
    assert len(plans) == 1 and plans[0].generic_plans > 0, plans


def test_a_query_by_time_reads_only_the_months_in_its_range(app, months):
    link = make_link(make_offer())
    mid_month = month_start(utcnow()) + timedelta(days=14)
    ms = int(mid_month.timestamp() * 1000)
    record = [new_click_id(ms), ms, link.id, link.offer_id, link.publisher_id, "", "", "", "",
              "", hash_ip(RU_IP), "77.88.55.0/24", "ua", "", "RU", "", 0]
    scanned = scanned_partitions(lambda: record_in_database(record))
    assert scanned == {partition_name(month_start(mid_month))}
    assert db.session.scalar(select(func.count()).select_from(Click)) == 1
    assert db.session.scalar(select(func.sum(TrafficHourly.clicks))) == 1


def test_the_command_reports_what_it_did_and_the_daily_job_runs_the_same(app, months):
    from cpa_network.schedule import periodic_jobs
    from offers.tasks import maintain_click_partitions

    # Up to date first: the suite may have migrated last month, leaving a month to create now.
    partitions.maintain_partitions()
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["tracking", "partitions"])
    assert result.exit_code == 0, result.output
    assert "created: none" in result.output and "dropped: none" in result.output
    [job] = [j for j in periodic_jobs(app) if j.name == "click-partitions"]
    assert (job.func, job.every_s, job.queue) == (maintain_click_partitions, 86400, "tracking")
    assert maintain_click_partitions()[:2] == ["created: none", "dropped: none"]
