"""What a careful buyer reads before buying a lot (the seed's checklist), the fair-price guide
and the risk signals, computed from the rollups, the ledger's commission rows and the tree."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from cpa_network.accounts.models import User
from cpa_network.database import utcnow
from cpa_network.extensions import db
from offers.tracking_models import TrafficHourly
from payouts.commission_models import ReferralCommission
from publishers import activity
from publishers.exchange_models import REFUNDED, RELEASED, Lot, LotSale
from publishers.ratings import RatingSnapshot, publisher_rating

MONTHS = 6
RECENT_REGISTRATION_DAYS = 30
SPIKE_WINDOW_DAYS, SPIKE_BASE_DAYS, SPIKE_FACTOR, SPIKE_MIN_CLICKS = 14, 76, 3, 20
FLAGGED_SHARE, FLAGGED_MIN_CLICKS = 0.2, 20
FAIR_MONTHS = (2, 3)  # the seed: a referral sells for what it earns its referrer in 2-3 months
RISK_LABELS = {
    "registered_recently": _l("Registered recently"),
    "activity_spike": _l("Activity spiked just before listing"),
    "shared_addresses": _l("Shares login addresses or devices with the seller or other lots"),
    "flagged_traffic": _l("Many fraud-flagged clicks or rejected conversions"),
    "no_own_conversions": _l("No conversions of its own"),
}


def month_starts(now: datetime, count: int = MONTHS) -> list[datetime]:
    """The first instants of the last `count` months, oldest first (the current one last)."""
    first = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    starts = [first]
    for _ in range(count - 1):
        first = (first - timedelta(days=1)).replace(day=1)
        starts.append(first)
    return starts[::-1]


def month_key(at: datetime) -> str:
    return f"{at.year:04d}-{at.month:02d}"


def has_own_activity(user_id: int, since: datetime) -> bool:
    """Any valid click or conversion of the user's own since `since`."""
    t = TrafficHourly
    row = db.session.execute(select(func.coalesce(func.sum(t.clicks - t.flagged_clicks), 0),
                                    func.coalesce(func.sum(t.conversions), 0))
                             .where(t.publisher_id == user_id, t.hour >= since)).one()
    return bool(row[0] or row[1])


@dataclass
class MonthRow:
    month: str
    clicks: int = 0
    flagged_clicks: int = 0
    conversions: int = 0
    approved: int = 0  # approved earnings, minor units of the lot's currency
    commission: int = 0  # what it produced for its upline (kept after refback)


def monthly(user_id: int, currency: str, now: datetime | None = None) -> list[MonthRow]:
    """Clicks, conversions, approved earnings and commission produced, per month, 6 months."""
    now = now or utcnow()
    starts = month_starts(now)
    rows = {month_key(s): MonthRow(month_key(s)) for s in starts}
    for day, clicks, flagged in activity.clicks_by_day(user_id, starts[0]):
        row = rows.get(day[:7])
        if row:
            row.clicks += clicks
            row.flagged_clicks += flagged
    for at, conversions, approved in activity.conversions(user_id, starts[0], currency):
        row = rows.get(month_key(at))
        if row:
            row.conversions += conversions
            row.approved += approved
    c = ReferralCommission
    for at, kept in db.session.execute(
            select(c.created_at, c.amount - c.refback).where(
                c.via_id == user_id, c.currency == currency, c.created_at >= starts[0],
                c.reversed_at.is_(None))):
        row = rows.get(month_key(at))
        if row:
            row.commission += kept
    return list(rows.values())


def monthly_commission(user_id: int, currency: str, now: datetime | None = None) -> int:
    """The average monthly commission produced through the referral over the last 90 days."""
    now = now or utcnow()
    c = ReferralCommission
    total = db.session.scalar(select(func.coalesce(func.sum(c.amount - c.refback), 0)).where(
        c.via_id == user_id, c.currency == currency, c.created_at >= now - timedelta(days=90),
        c.reversed_at.is_(None)))
    return int(total or 0) // 3


@dataclass(frozen=True)
class FairPrice:
    monthly_commission: int
    low: int
    high: int
    payback_months: float | None  # price / monthly commission; None without commission

    @property
    def verdict(self) -> str:
        if self.payback_months is None:
            return "unknown"
        if self.payback_months < FAIR_MONTHS[0]:
            return "below"
        return "fair" if self.payback_months <= FAIR_MONTHS[1] else "above"


def fair_price(price: int, monthly: int) -> FairPrice:
    payback = round(price / monthly, 1) if monthly > 0 else None
    return FairPrice(monthly, monthly * FAIR_MONTHS[0], monthly * FAIR_MONTHS[1], payback)


def downline_levels(user_id: int, depth: int = 3) -> list[list[User]]:
    """The user's referrals per level (1..depth)."""
    levels, current = [], [user_id]
    for _ in range(depth):
        found = list(db.session.scalars(select(User).where(User.referred_by_id.in_(current))
                                        .order_by(User.id))) if current else []
        levels.append(found)
        current = [u.id for u in found]
    return levels


@dataclass(frozen=True)
class LevelSummary:
    level: int
    count: int
    active: int  # logged in within 7 days


def own_referrals(user_id: int, now: datetime | None = None) -> list[LevelSummary]:
    """The lot's own referrals per level, blocked users left out: their links are stopped and
    their conversions rejected, and bots the network caught must not make a lot look richer.
    The walk still goes through a blocked user: those below it still pay their commissions."""
    now = now or utcnow()
    week_ago = now - timedelta(days=7)
    levels = [[u for u in users if not u.is_blocked] for users in downline_levels(user_id)]
    return [LevelSummary(n, len(users), sum(1 for u in users if u.last_seen_at
                                            and u.last_seen_at >= week_ago))
            for n, users in enumerate(levels, start=1)]


@dataclass(frozen=True)
class SellerProfile:
    seller: User
    conversions_30d: int
    earnings_30d: int
    lots_sold: int
    disputes_lost: int
    rating: RatingSnapshot | None  # None: not rated (no traffic in the rating window)


def seller_profile(seller: User, currency: str, now: datetime | None = None) -> SellerProfile:
    now = now or utcnow()
    conversions = earnings = 0
    for _, count, approved in activity.conversions(seller.id, now - timedelta(days=30), currency):
        conversions += count
        earnings += approved
    sold = dict(db.session.execute(
        select(LotSale.status, func.count(LotSale.id)).where(
            LotSale.seller_id == seller.id, LotSale.status.in_([RELEASED, REFUNDED]))
        .group_by(LotSale.status)).all())
    return SellerProfile(seller, conversions, earnings, int(sold.get(RELEASED, 0)),
                         int(sold.get(REFUNDED, 0)), publisher_rating(seller.id))


@dataclass
class Risk:
    signals: dict[str, str] = field(default_factory=dict)  # code -> detail

    @property
    def level(self) -> str:
        return "low" if not self.signals else ("medium" if len(self.signals) == 1 else "high")


def risk_signals(lot: Lot, now: datetime | None = None) -> Risk:
    """The signals that betray fake or pumped lots, each with the figure behind it."""
    now = now or utcnow()
    referral, risk = lot.referral, Risk()
    age = (lot.listed_at - referral.registered_at).days
    if age < RECENT_REGISTRATION_DAYS:
        risk.signals["registered_recently"] = str(_l(
            "registered %(days)s days before listing", days=age))
    window_start = lot.listed_at - timedelta(days=SPIKE_WINDOW_DAYS)
    before = _valid_clicks(referral.id, window_start, lot.listed_at)
    base = _valid_clicks(referral.id, window_start - timedelta(days=SPIKE_BASE_DAYS),
                         window_start)
    recent_rate, base_rate = before / SPIKE_WINDOW_DAYS, base / SPIKE_BASE_DAYS
    if before >= SPIKE_MIN_CLICKS and recent_rate >= SPIKE_FACTOR * max(base_rate, 0.1):
        risk.signals["activity_spike"] = str(_l(
            "%(recent).1f valid clicks a day in the 14 days before listing, %(base).1f before",
            recent=recent_rate, base=base_rate))
    shared = activity.shared_addresses(referral.id, lot.seller_id, _other_lot_users(lot))
    if shared:
        risk.signals["shared_addresses"] = str(_l("%(count)s shared login addresses or devices",
                                                  count=shared))
    clicks, flagged = _clicks_and_flagged(referral.id, now - timedelta(days=30))
    rejected, decided = activity.rejected_share(referral.id, now - timedelta(days=90))
    if (clicks >= FLAGGED_MIN_CLICKS and flagged / clicks >= FLAGGED_SHARE) or \
            (decided >= 3 and rejected / decided >= 0.3):
        risk.signals["flagged_traffic"] = str(_l(
            "%(flagged)s of %(clicks)s clicks flagged in 30 days; %(rejected)s of %(decided)s "
            "conversions rejected in 90 days", flagged=flagged, clicks=clicks, rejected=rejected,
            decided=decided))
    if not any(count for _, count, _ in activity.conversions(
            referral.id, now - timedelta(days=90), lot.currency)):
        risk.signals["no_own_conversions"] = str(_l("no conversions of its own in 90 days"))
    return risk


def _other_lot_users(lot: Lot) -> set[int]:
    rows = db.session.execute(select(Lot.referral_id, Lot.seller_id).where(
        Lot.id != lot.id, Lot.status == "listed"))
    return {user for pair in rows for user in pair} - {lot.referral_id, lot.seller_id}


def _clicks_and_flagged(user_id: int, since: datetime) -> tuple[int, int]:
    t = TrafficHourly
    clicks, flagged = db.session.execute(
        select(func.coalesce(func.sum(t.clicks), 0), func.coalesce(func.sum(t.flagged_clicks), 0))
        .where(t.publisher_id == user_id, t.hour >= since)).one()
    return int(clicks), int(flagged)


def _valid_clicks(user_id: int, since: datetime, until: datetime) -> int:
    t = TrafficHourly
    return int(db.session.scalar(select(func.coalesce(func.sum(t.clicks - t.flagged_clicks), 0))
                                 .where(t.publisher_id == user_id, t.hour >= since,
                                        t.hour < until)) or 0)


@dataclass(frozen=True)
class LotSummary:
    """One row of the browsing table."""

    lot: Lot
    fair: FairPrice
    clicks_30d: int
    own_referrals: int
    risk: Risk


def summarize(lot: Lot, now: datetime | None = None) -> LotSummary:
    now = now or utcnow()
    monthly_c = monthly_commission(lot.referral_id, lot.currency, now)
    clicks, flagged = _clicks_and_flagged(lot.referral_id, now - timedelta(days=30))
    referrals = sum(level.count for level in own_referrals(lot.referral_id, now))
    return LotSummary(lot, fair_price(lot.price, monthly_c), clicks - flagged, referrals,
                      risk_signals(lot, now))
