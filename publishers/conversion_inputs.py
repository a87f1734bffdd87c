"""What the ratings and dashboards need from conversions beyond the rollups: fraud rejections,
hold times and the fraud queue. Read by the scheduled recompute and the dashboards (one grouped
query each), never per row on a page view."""

from datetime import datetime

from sqlalchemy import case, func, select

from cpa_network.extensions import db
from offers.conversion_models import (
    APPROVED,
    HELD_UNDECIDED,
    REJECTED,
    Conversion,
)

C = Conversion


def _fraud():
    """Rejected conversions that carried fraud signals (the fraud queue's or the rules')."""
    return (C.status == REJECTED) & (C.fraud_signals != "")


def fraud_counts(edges: list[datetime], country: str | None = None,
                 offer_id: int | None = None) -> dict[tuple[int, int, int], int]:
    """(publisher, offer, segment) -> conversions rejected with fraud signals, by the hour
    they were created (as the rollups count them)."""
    segment = case(*((C.created_at >= edge, i) for i, edge in enumerate(edges[1:])), else_=-1)
    query = (select(C.publisher_id, C.offer_id, segment, func.count(C.id))
             .where(_fraud(), C.created_at >= edges[-1], C.created_at < edges[0])
             .group_by(C.publisher_id, C.offer_id, segment))
    if country:
        query = query.where(C.country == country)
    if offer_id is not None:
        query = query.where(C.offer_id == offer_id)
    return {(p, o, s): int(n) for p, o, s, n in db.session.execute(query) if s >= 0}


def average_hold_hours(since: datetime) -> dict[int, float]:
    """offer -> average hours from a conversion to its decision, over decided conversions."""
    rows = db.session.execute(
        select(C.offer_id, C.created_at, C.decided_at)
        .where(C.status.in_((APPROVED, REJECTED)), C.decided_at.is_not(None),
               C.created_at >= since))
    sums: dict[int, list[float]] = {}
    for offer_id, created, decided in rows:
        total = sums.setdefault(offer_id, [0.0, 0])
        total[0] += (decided - created).total_seconds() / 3600
        total[1] += 1
    return {o: round(s / n, 1) for o, (s, n) in sums.items() if n}


def fraud_by_offer(advertiser_id: int, start: datetime, end: datetime) -> dict[int, int]:
    """offer -> the advertiser's conversions rejected for fraud signals in [start, end)."""
    rows = db.session.execute(
        select(C.offer_id, func.count(C.id))
        .where(C.advertiser_id == advertiser_id, _fraud(), C.created_at >= start,
               C.created_at < end).group_by(C.offer_id))
    return {o: int(n) for o, n in rows}


def fraud_queue_size() -> int:
    """Undecided conversions held for the operator's fraud review."""
    return db.session.scalar(select(func.count(C.id)).where(*HELD_UNDECIDED)) or 0
