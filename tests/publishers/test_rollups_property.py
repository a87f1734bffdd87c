"""Property: whatever clicks (and conversions) arrive, in any order and with retries, the hourly
rollups equal a recount of the raw rows."""

import itertools
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select

from cpa_network.extensions import db
from offers import review
from offers.clickstore import hour_of, store_clicks
from offers.conversion_models import Conversion
from offers.models import Offer
from offers.stats import CONVERSION_COUNTERS, STATUS_COLUMNS
from offers.tracking import new_click_id
from offers.tracking_models import SUB_IDS, Click, TrackingLink, TrafficHourly
from tests.factories import make_user
from tests.offers.conversion_helpers import postback_url, stored_click
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
    found = list(db.session.scalars(select(TrackingLink).order_by(TrackingLink.id)))
    if found:
        return found
    offer = make_offer()
    return [make_link(offer, make_user("publisher")) for _ in range(3)]


conversion_strategy = st.fixed_dictionaries({
    "link": st.integers(0, 1),
    "minutes_ago": st.integers(1, 3 * 24 * 60),
    "decision": st.sampled_from(["", "approve", "reject"]),
    "country": st.sampled_from(["RU", "DE"]),
})
_txids = itertools.count(1)


def _conversion_recount() -> dict:
    counts: dict[tuple, dict] = {}
    for c in db.session.scalars(select(Conversion)):
        key = (hour_of(c.created_at), c.link_id, c.country, *(c.subs[s] for s in SUB_IDS))
        row = counts.setdefault(key, dict.fromkeys(CONVERSION_COUNTERS, 0))
        count, amount = STATUS_COLUMNS[c.status]
        row[count] += 1
        row[amount] += c.payout
        if c.status != "rejected":
            row["conversions"] += 1
            row["payout"] += c.payout
    return counts


def _conversion_rollups() -> dict:
    t = TrafficHourly
    columns = [getattr(t, name) for name in CONVERSION_COUNTERS]
    found = {}
    for row in db.session.execute(select(*(getattr(t, k) for k in KEY), *columns)):
        values = dict(zip(CONVERSION_COUNTERS, (int(v) for v in row[len(KEY):]), strict=True))
        if any(values.values()):
            found[tuple(row[:len(KEY)])] = values
    return found


@settings(max_examples=8, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(actions=st.lists(conversion_strategy, min_size=1, max_size=6))
def test_conversion_rollups_equal_a_recount(client, app_context, actions):
    """Conversions arrive through the real postback, then are approved or rejected by the
    advertiser: the rollups' per-status counts and payouts equal a recount of the conversions."""
    offer = _conversion_offer()
    links = list(db.session.scalars(select(TrackingLink).where(TrackingLink.offer_id == offer.id)
                                    .order_by(TrackingLink.id)))
    for action in actions:
        n = next(_txids)
        click_id = stored_click(links[action["link"]],
                                ago=timedelta(minutes=action["minutes_ago"]),
                                ip=f"77.88.{n // 250 % 250}.{n % 250 + 1}",
                                country=action["country"], subs=("s", "", "", "", ""))
        answer = client.get(postback_url(offer, click_id, txid=f"P-{n}"))
        assert answer.status_code in (200, 201, 202), answer.get_json()
        conversion_id = answer.get_json()["conversion_id"]
        held = answer.get_json()["status"] == "fraud_suspected"  # the operator decides those
        if action["decision"] and not held:
            review.decide(offer.advertiser, conversion_id, action["decision"], reason="checked")
            db.session.commit()
    db.session.expire_all()
    assert _conversion_rollups() == _conversion_recount()


def _conversion_offer():
    found = db.session.scalar(select(Offer).where(Offer.name == "Property offer"))
    if found is not None:
        return found
    offer = make_offer(name="Property offer", escrow=1_000_000_00)
    for _ in range(2):
        make_link(offer, make_user("publisher"))
    return offer
