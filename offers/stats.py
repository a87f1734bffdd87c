"""Numbers served from the hourly rollups: a publisher's clicks, an offer's EPC and CR."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, literal, select

from cpa_network.database import utcnow
from cpa_network.extensions import db
from offers.clickstore import hour_of, upsert_rollups
from offers.models import Offer
from offers.tracking_models import SUB_IDS, TrackingLink, TrafficHourly

GROUPS = ("offer", "link", *SUB_IDS, "country", "day")
METRICS_DAYS = 30


@dataclass(frozen=True)
class TrafficRow:
    key: str
    offer_id: int | None
    clicks: int
    unique_clicks: int
    flagged_clicks: int

    @property
    def valid_clicks(self) -> int:
        return self.clicks - self.flagged_clicks


def publisher_traffic(publisher_id: int, since: datetime, group_by: str = "offer",
                      offer_id: int | None = None) -> list[TrafficRow]:
    """The publisher's clicks (total, unique, flagged) since `since`, grouped as asked."""
    t = TrafficHourly
    if group_by == "offer":
        key = Offer.name
    elif group_by == "link":
        key = TrackingLink.token
    elif group_by == "day":
        key = func.date(t.hour)
    else:
        key = getattr(t, group_by)
    query = (select(key, t.offer_id, func.sum(t.clicks), func.sum(t.unique_clicks),
                    func.sum(t.flagged_clicks))
             .join(Offer, Offer.id == t.offer_id).join(TrackingLink, TrackingLink.id == t.link_id)
             .where(t.publisher_id == publisher_id, t.hour >= hour_of(since))
             .group_by(key, t.offer_id).order_by(func.sum(t.clicks).desc()).limit(500))
    if offer_id is not None:
        query = query.where(t.offer_id == offer_id)
    return [TrafficRow(str(k), o, int(c), int(u), int(f)) for k, o, c, u, f in
            db.session.execute(query)]


@dataclass(frozen=True)
class OfferMetrics:
    """An offer's last 30 days: EPC (minor units per valid click) and CR, or 'new'."""

    valid_clicks: int
    conversions: int
    payout: int
    is_new: bool

    @property
    def epc(self) -> float | None:
        return None if self.is_new else self.payout / self.valid_clicks

    @property
    def cr(self) -> float | None:
        return None if self.is_new else self.conversions / self.valid_clicks


def metrics_since() -> datetime:
    return hour_of(utcnow() - timedelta(days=METRICS_DAYS))


def metrics_subquery(min_clicks: int):
    """Per offer over the last 30 days: valid clicks, conversions, payout, and sort keys
    (EPC and CR; -1 for offers below the minimum sample, which sort last as 'new')."""
    t = TrafficHourly
    valid = func.sum(t.clicks - t.flagged_clicks)
    enough = valid >= min_clicks
    return (select(t.offer_id.label("offer_id"), valid.label("valid_clicks"),
                   func.sum(t.conversions).label("conversions"),
                   func.sum(t.payout).label("payout"),
                   case((enough, func.sum(t.payout) * 1.0 / valid), else_=-1.0).label("epc"),
                   case((enough, func.sum(t.conversions) * 1.0 / valid), else_=-1.0).label("cr"))
            .where(t.hour >= _written_in(metrics_since(), t.hour.type))
            .group_by(t.offer_id).subquery())


def _written_in(cutoff: datetime, type_):
    """The cutoff written into the SQL when it runs, not sent as a parameter: rollups are kept
    forever, and a generic plan (psycopg prepares a statement run five times), made without
    the cutoff's value, cannot tell 30 days from all of them and read every rollup row."""
    return literal(cutoff, type_, literal_execute=True)


def offer_metrics(offer_ids: list[int], min_clicks: int) -> dict[int, OfferMetrics]:
    sub = metrics_subquery(min_clicks)
    rows = db.session.execute(select(sub.c.offer_id, sub.c.valid_clicks, sub.c.conversions,
                                     sub.c.payout).where(sub.c.offer_id.in_(offer_ids)))
    found = {o: OfferMetrics(int(v or 0), int(c or 0), int(p or 0), int(v or 0) < min_clicks)
             for o, v, c, p in rows}
    return {o: found.get(o, OfferMetrics(0, 0, 0, True)) for o in offer_ids}


# Conversion status -> its (count, payout) columns in traffic_hourly.
STATUS_COLUMNS = {
    "pending": ("pending_conversions", "pending_payout"),
    "approved": ("approved_conversions", "approved_payout"),
    "rejected": ("rejected_conversions", "rejected_payout"),
    "awaiting_funds": ("awaiting_conversions", "awaiting_payout"),
}
CONVERSION_COUNTERS = ("conversions", "payout",
                       *(column for pair in STATUS_COLUMNS.values() for column in pair))


def record_conversion_stats(click: dict, at: datetime, conversions: int, payout: int) -> None:
    """Add a conversion (or, with negative numbers, take back a rejected one) to the rollup row
    of its click's hour x link x country x sub-ids. `click` has link_id, offer_id,
    publisher_id, country and sub1..sub5 (a promo-code conversion: empty strings)."""
    add_conversion_stats(click, at, {"conversions": conversions, "payout": payout})


def add_conversion_stats(click: dict, at: datetime, changes: dict[str, int]) -> None:
    """Add `changes` (counter column -> delta) to the rollup row of hour x link x country x
    sub-ids. Called in the transaction that creates the conversion or changes its status, which
    happens once, so the rollups count each conversion once."""
    upsert_rollups([conversion_stats_row(click, at, changes)], CONVERSION_COUNTERS)


def conversion_stats_row(click: dict, at: datetime, changes: dict[str, int]) -> dict:
    """The rollup row `add_conversion_stats` adds: its key and every conversion counter."""
    counters = dict.fromkeys(CONVERSION_COUNTERS, 0) | changes
    return {"hour": hour_of(at), "link_id": click["link_id"], "offer_id": click["offer_id"],
            "publisher_id": click["publisher_id"], "country": click.get("country", ""),
            **{s: click.get(s, "") for s in SUB_IDS}, **counters,
            "clicks": 0, "unique_clicks": 0, "flagged_clicks": 0}
