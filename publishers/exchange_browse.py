"""The exchange's table of lots: every listed lot summarized, filtered and sorted."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from cpa_network.accounts.models import User
from cpa_network.errors import NotFound
from cpa_network.extensions import db
from publishers.exchange_models import LISTED, ExchangeEvent, Lot, LotSale
from publishers.exchange_stats import LotSummary, summarize

RISK_ORDER = {"low": 0, "medium": 1, "high": 2}
SORTS = {
    "price": lambda s: s.lot.price,
    "monthly": lambda s: s.fair.monthly_commission,
    "payback": lambda s: (s.fair.payback_months is None, s.fair.payback_months or 0),
    "activity": lambda s: s.clicks_30d,
    "referrals": lambda s: s.own_referrals,
    "risk": lambda s: (RISK_ORDER[s.risk.level], len(s.risk.signals)),
    "listed": lambda s: s.lot.listed_at,
}
DESCENDING_FIRST = {"monthly", "activity", "referrals", "listed"}


@dataclass(frozen=True)
class BrowseQuery:
    currency: str = ""
    max_price: int | None = None  # minor units
    max_payback: float | None = None
    max_risk: str = ""  # low, medium, high
    with_referrals: bool = False
    sort: str = "listed"
    descending: bool | None = None  # None: the sort's natural direction


def browse(query: BrowseQuery, now: datetime | None = None) -> list[LotSummary]:
    lots = db.session.scalars(select(Lot).where(Lot.status == LISTED)
                              .options(selectinload(Lot.referral), selectinload(Lot.seller)))
    rows = []
    for lot in lots:
        if query.currency and lot.currency != query.currency:
            continue
        if query.max_price is not None and lot.price > query.max_price:
            continue
        summary = summarize(lot, now)
        if query.max_payback is not None and (summary.fair.payback_months is None
                                              or summary.fair.payback_months > query.max_payback):
            continue
        if query.max_risk in RISK_ORDER and \
                RISK_ORDER[summary.risk.level] > RISK_ORDER[query.max_risk]:
            continue
        if query.with_referrals and not summary.own_referrals:
            continue
        rows.append(summary)
    sort = query.sort if query.sort in SORTS else "listed"
    descending = query.descending if query.descending is not None else sort in DESCENDING_FIRST
    rows.sort(key=SORTS[sort], reverse=descending)
    return rows


def visible_lot(user: User, lot_id: int) -> Lot:
    """A listed lot (any publisher), or a closed one its seller or buyer (or the operator)
    may still see."""
    lot = db.session.get(Lot, lot_id)
    if lot is None:
        raise NotFound()
    if lot.status == LISTED or lot.seller_id == user.id or user.is_admin:
        return lot
    sale = db.session.scalar(select(LotSale).where(LotSale.lot_id == lot.id))
    if sale is not None and sale.buyer_id == user.id:
        return lot
    raise NotFound()


def history(user_id: int, side: str) -> list[ExchangeEvent]:
    return list(db.session.scalars(
        select(ExchangeEvent).where(ExchangeEvent.user_id == user_id, ExchangeEvent.side == side)
        .order_by(ExchangeEvent.at.desc(), ExchangeEvent.id.desc()).limit(200)
        .options(selectinload(ExchangeEvent.lot).selectinload(Lot.referral))))


def sales_of(user_id: int, side: str) -> list[LotSale]:
    column = LotSale.seller_id if side == "seller" else LotSale.buyer_id
    return list(db.session.scalars(select(LotSale).where(column == user_id)
                                   .order_by(LotSale.bought_at.desc()).limit(200)))


def listed_by(seller_id: int) -> list[Lot]:
    return list(db.session.scalars(select(Lot).where(Lot.seller_id == seller_id,
                                                     Lot.status == LISTED)
                                   .order_by(Lot.listed_at.desc())))
