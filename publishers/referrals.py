"""The referral page's read model: a publisher's tree (levels 1-3) with each referral's
activity and the commission each produced for them, month by month, and which direct
referrals are listed on the exchange (their refback is frozen until the lot closes)."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from cpa_network.accounts.models import User
from cpa_network.database import utcnow
from cpa_network.extensions import db
from offers.tracking_models import TrafficHourly
from payouts import commissions
from payouts.commission_models import ReferralCommission
from publishers.exchange_models import LISTED, Lot
from publishers.exchange_stats import downline_levels, month_key, month_starts


@dataclass(frozen=True)
class TreeRow:
    user: User
    level: int
    upline: User | None
    clicks_30d: int
    conversions_30d: int
    produced_month: dict  # currency -> what its conversions earned me in the chosen month
    produced_total: dict  # currency -> all time
    refback_bp: int
    open_lot_id: int | None = None  # a direct referral listed on the exchange: its lot


def _activity(user_ids: list[int], since: datetime) -> dict[int, tuple[int, int]]:
    if not user_ids:
        return {}
    t = TrafficHourly
    rows = db.session.execute(
        select(t.publisher_id, func.sum(t.clicks - t.flagged_clicks), func.sum(t.conversions))
        .where(t.publisher_id.in_(user_ids), t.hour >= since).group_by(t.publisher_id))
    return {p: (int(c or 0), int(n or 0)) for p, c, n in rows}


def _produced(upline_id: int, since: datetime | None = None,
              until: datetime | None = None) -> dict[int, dict[str, int]]:
    c = ReferralCommission
    query = (select(c.source_id, c.currency, func.sum(c.amount - c.refback))
             .where(c.upline_id == upline_id, c.reversed_at.is_(None))
             .group_by(c.source_id, c.currency))
    if since is not None:
        query = query.where(c.created_at >= since)
    if until is not None:
        query = query.where(c.created_at < until)
    found: dict[int, dict[str, int]] = {}
    for source, currency, total in db.session.execute(query):
        found.setdefault(source, {})[currency] = int(total)
    return found


def month_bounds(month: str, now: datetime) -> tuple[datetime, datetime]:
    """The chosen month (YYYY-MM, one of the last six; else the current one)."""
    starts = month_starts(now)
    keys = [month_key(s) for s in starts]
    index = keys.index(month) if month in keys else len(keys) - 1
    start = starts[index]
    end = starts[index + 1] if index + 1 < len(starts) else (start + timedelta(days=32)).replace(
        day=1)
    return start, end


def tree(upline: User, month: str = "", now: datetime | None = None) -> list[TreeRow]:
    now = now or utcnow()
    levels = downline_levels(upline.id)
    everyone = [u for level in levels for u in level]
    ids = [u.id for u in everyone]
    by_id = {u.id: u for u in everyone}
    active = _activity(ids, now - timedelta(days=30))
    start, end = month_bounds(month, now)
    in_month, total = _produced(upline.id, start, end), _produced(upline.id)
    refbacks = {user.id: commissions.refback_of(user.id) for user in levels[0]}
    lots = _open_lots(upline.id, [user.id for user in levels[0]])
    return [TreeRow(user, n, by_id.get(user.referred_by_id) if n > 1 else None,
                    *active.get(user.id, (0, 0)), in_month.get(user.id, {}),
                    total.get(user.id, {}), refbacks.get(user.id, 0), lots.get(user.id))
            for n, level in enumerate(levels, start=1) for user in level]


def _open_lots(seller_id: int, referral_ids: list[int]) -> dict[int, int]:
    """{referral id: its open lot's id} for the seller's listed direct referrals."""
    if not referral_ids:
        return {}
    rows = db.session.execute(select(Lot.referral_id, Lot.id).where(
        Lot.seller_id == seller_id, Lot.referral_id.in_(referral_ids), Lot.status == LISTED))
    return {referral_id: lot_id for referral_id, lot_id in rows}


@dataclass
class MonthTotals:
    month: str
    by_level: dict  # (level, currency) -> kept


def monthly_totals(upline_id: int, now: datetime | None = None) -> list[MonthTotals]:
    """What the upline earned from the referral program per month and level, 6 months."""
    now = now or utcnow()
    starts = month_starts(now)
    rows = {month_key(s): MonthTotals(month_key(s), {}) for s in starts}
    c = ReferralCommission
    for at, level, currency, kept in db.session.execute(
            select(c.created_at, c.level, c.currency, c.amount - c.refback).where(
                c.upline_id == upline_id, c.created_at >= starts[0], c.reversed_at.is_(None))):
        row = rows.get(month_key(at))
        if row:
            row.by_level[(level, currency)] = row.by_level.get((level, currency), 0) + kept
    return list(rows.values())
