"""Property: whatever clicks (and conversions) arrive, in any order and with retries, the hourly
rollups equal a recount of the raw rows."""

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select

from cpa_network.extensions import db
from offers.clickstore import hour_of, store_clicks
from offers.tracking import new_click_id
from offers.tracking_models import SUB_IDS, Click, TrafficHourly
from tests.factories import make_user
from tests.offers.helpers import make_link, make_offer

START = datetime(2026, 3, 1, tzinfo=UTC)
KEY = ("hour", "link_id", "country", *SUB_IDS)

click_strategy = st.fixed_dictionaries({
    "minute": st.integers(0, 3 * 24 * 60),
    "link": st.integers(0, 2),
    "country": st.sampled_from(["RU", "US", ""]),
    "sub1": st.sampled_from(["", "a", "b"]),
    "flags": st.sampled_from(["", "", "bot", "flood"]),
    "unique": st.booleans(),
    "random": st.integers(0, 2**80 - 1),
})


def _records(clicks, links) -> list[dict]:
    records = []
    for c in clicks:
        link = links[c["link"]]
        at = START + timedelta(minutes=c["minute"])
        records.append({"id": new_click_id(int(at.timestamp() * 1000), c["random"]),
                        "clicked_at": at, "link_id": link.id, "offer_id": link.offer_id,
                        "publisher_id": link.publisher_id, "country": c["country"],
                        "sub1": c["sub1"], "sub2": "", "sub3": "", "sub4": "", "sub5": "",
                        "ip_hash": "h", "ip_prefix": "", "user_agent": "", "referer": "",
                        "is_unique": c["unique"], "flags": c["flags"]})
    return records


def _recount() -> dict:
    counts: dict[tuple, list[int]] = {}
    for click in db.session.scalars(select(Click)):
        key = (hour_of(click.clicked_at), click.link_id, click.country,
               *(getattr(click, s) for s in SUB_IDS))
        row = counts.setdefault(key, [0, 0, 0])
        row[0] += 1
        row[1] += 1 if click.is_unique and not click.flags else 0
        row[2] += 1 if click.flags else 0
    return counts


def _rollups() -> dict:
    t = TrafficHourly
    return {tuple(r[:len(KEY)]): [int(v) for v in r[len(KEY):]] for r in db.session.execute(
        select(*(getattr(t, k) for k in KEY), t.clicks, t.unique_clicks, t.flagged_clicks)
        .where(t.clicks > 0))}


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(clicks=st.lists(click_strategy, max_size=40), batches=st.integers(1, 4),
       replay=st.booleans())
def test_click_rollups_equal_a_recount(app_context, clicks, batches, replay):
    db.session.execute(delete(TrafficHourly))
    db.session.execute(delete(Click))
    db.session.commit()
    links = _links()
    records = _records(clicks, links)
    size = max(1, len(records) // batches)
    for i in range(0, len(records), size):
        store_clicks(records[i:i + size])
        db.session.commit()
    if replay:  # a crashed flush re-delivers what it had stored: counted once
        store_clicks(records)
        db.session.commit()
    assert _rollups() == _recount()
    assert db.session.scalar(select(func.count(Click.id))) == len({r["id"] for r in records})


def _links():
    """Three links, made once per test (examples of one test share the database)."""
    from offers.tracking_models import TrackingLink

    found = list(db.session.scalars(select(TrackingLink).order_by(TrackingLink.id)))
    if found:
        return found
    offer = make_offer()
    return [make_link(offer, make_user("publisher")) for _ in range(3)]
