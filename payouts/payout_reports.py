"""Read models for the operator's payouts page: counts by status, totals per day."""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from cpa_network.database import utcnow
from cpa_network.extensions import db
from payouts.models import Payout, PayoutStatus

S = PayoutStatus


@dataclass
class DayTotals:
    day: date
    currency: str
    # status (requested = all requested that day; paid/failed = settled that day) -> (n, amount)
    totals: dict[str, tuple[int, int]] = field(default_factory=dict)


def status_counts() -> dict[str, int]:
    rows = db.session.execute(select(Payout.status, func.count()).group_by(Payout.status))
    counts = {status.value: 0 for status in S}
    counts.update({status: count for status, count in rows})
    counts["needs_review"] = db.session.scalar(
        select(func.count()).where(Payout.needs_review.is_(True))) or 0
    return counts


def totals_per_day(days: int = 14, now: datetime | None = None) -> list[DayTotals]:
    """Requested per day of request; paid and failed per day of settlement; newest first."""
    since = (now or utcnow()) - timedelta(days=days)
    found: dict[tuple, DayTotals] = {}

    def add(column, label: str | None, *conditions):
        """Count payouts by the day of `column`, under `label` (None: their status)."""
        day = func.date(column)
        rows = db.session.execute(
            select(day, Payout.currency, Payout.status, func.count(), func.sum(Payout.amount))
            .where(column >= since, *conditions)
            .group_by(day, Payout.currency, Payout.status))
        for raw_day, code, status, count, amount in rows:
            key = (_as_date(raw_day), code)
            entry = found.setdefault(key, DayTotals(*key))
            before = entry.totals.get(label or status, (0, 0))
            entry.totals[label or status] = (before[0] + count, before[1] + int(amount or 0))

    add(Payout.requested_at, "requested")
    add(Payout.settled_at, None, Payout.status.in_((S.PAID, S.FAILED)))
    return sorted(found.values(), key=lambda t: (t.day, t.currency), reverse=True)


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def payouts_query(status: str = "", needs_review: bool = False):
    query = select(Payout).order_by(Payout.id.desc())
    if status in S.__members__.values():
        query = query.where(Payout.status == status)
    if needs_review:
        query = query.where(Payout.needs_review.is_(True))
    return query
