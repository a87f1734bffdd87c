"""A publisher's own activity as the referral pages and the exchange read it: clicks from the
hourly rollups, conversions and approved earnings, rejections, shared login addresses."""

from datetime import UTC, date, datetime

from sqlalchemy import func, select

from cpa_network.extensions import db
from offers.tracking_models import TrafficHourly
from payouts.models import AccountKind, LedgerAccount, LedgerTransaction, Posting


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
    """(when, conversions, approved earnings) since `since`: conversion counts per day from the
    rollups, approved earnings from the ledger's approvals that name the publisher."""
    t = TrafficHourly
    day = func.date(t.hour)
    found = [(_as_datetime(d), int(n or 0), 0) for d, n in db.session.execute(
        select(day, func.sum(t.conversions)).where(t.publisher_id == user_id, t.hour >= since)
        .group_by(day))]
    found += [(at, 0, int(amount)) for at, amount in db.session.execute(
        select(LedgerTransaction.created_at, Posting.amount)
        .join(Posting, Posting.transaction_id == LedgerTransaction.id)
        .join(LedgerAccount, Posting.account_id == LedgerAccount.id)
        .where(LedgerTransaction.reason == "conversion_approve",
               LedgerTransaction.created_at >= since,
               LedgerTransaction.refs["publisher"].as_integer() == user_id,
               LedgerAccount.kind == AccountKind.PUBLISHER_AVAILABLE,
               LedgerAccount.owner_id == user_id, LedgerAccount.currency == currency))]
    return found


def rejected_share(user_id: int, since: datetime) -> tuple[int, int]:
    """(rejected, decided) conversions of the publisher since `since`."""
    return 0, 0  # conversions arrive with issue 5


def shared_addresses(user_id: int, seller_id: int, others: set[int]) -> int:
    """How many login addresses or devices the user shares with the seller or `others`."""
    return 0  # login addresses arrive with issue 5
