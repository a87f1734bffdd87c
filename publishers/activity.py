"""A publisher's own activity as the referral pages and the exchange read it: clicks from the
hourly rollups; conversions, approved earnings and rejections from the conversions; login
addresses and devices (keyed hashes, kept by offers.fraud) for shared-address signals."""

from datetime import UTC, date, datetime

from sqlalchemy import func, or_, select

from cpa_network.extensions import db
from offers.conversion_models import APPROVED, REJECTED, Conversion, LoginAddress
from offers.tracking_models import TrafficHourly


def _as_datetime(day) -> datetime:
    if not isinstance(day, date):
        day = date.fromisoformat(str(day)[:10])
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def clicks_by_day(user_id: int, since: datetime) -> list[tuple[str, int, int]]:
    """(YYYY-MM-DD, clicks, flagged clicks) per day since `since`."""
    t = TrafficHourly
    day = func.date(t.hour)
    rows = db.session.execute(select(day, func.sum(t.clicks), func.sum(t.flagged_clicks))
                              .where(t.publisher_id == user_id, t.hour >= since)
                              .group_by(day))
    return [(_as_datetime(d).date().isoformat(), int(c or 0), int(f or 0)) for d, c, f in rows]


def conversions(user_id: int, since: datetime, currency: str) -> list[tuple[datetime, int, int]]:
    """(day, conversions, approved earnings) since `since`: conversions that were not rejected,
    by the day they arrived; approved payouts in `currency`, by the day they were approved."""
    c = Conversion
    arrived, decided = func.date(c.created_at), func.date(c.decided_at)
    found = [(_as_datetime(d), int(n), 0) for d, n in db.session.execute(
        select(arrived, func.count(c.id)).where(
            c.publisher_id == user_id, c.created_at >= since, c.status != REJECTED)
        .group_by(arrived))]
    found += [(_as_datetime(d), 0, int(total or 0)) for d, total in db.session.execute(
        select(decided, func.sum(c.payout)).where(
            c.publisher_id == user_id, c.status == APPROVED, c.decided_at >= since,
            c.currency == currency).group_by(decided))]
    return found


def rejected_share(user_id: int, since: datetime) -> tuple[int, int]:
    """(rejected, decided) conversions of the publisher decided since `since`."""
    c = Conversion
    rows = dict(db.session.execute(
        select(c.status, func.count(c.id)).where(
            c.publisher_id == user_id, c.decided_at >= since,
            c.status.in_([APPROVED, REJECTED])).group_by(c.status)).all())
    rejected = int(rows.get(REJECTED, 0))
    return rejected, rejected + int(rows.get(APPROVED, 0))


def shared_addresses(user_id: int, seller_id: int, others: set[int]) -> int:
    """How many of the user's login addresses or devices the seller or `others` also used."""
    mine = db.session.execute(select(LoginAddress.ip_hash, LoginAddress.device_hash)
                              .where(LoginAddress.user_id == user_id)).all()
    if not mine:
        return 0
    ips = {ip for ip, _ in mine if ip}
    devices = {device for _, device in mine if device}
    shared = db.session.execute(
        select(LoginAddress.ip_hash, LoginAddress.device_hash).where(
            LoginAddress.user_id.in_({seller_id, *others} - {user_id}),
            or_(LoginAddress.ip_hash.in_(ips), LoginAddress.device_hash.in_(devices)))).all()
    return len({ip for ip, _ in shared if ip in ips} | {d for _, d in shared if d in devices})
