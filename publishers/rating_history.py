"""The rating trend: one network score per publisher per day, kept by the recompute job and
read by the rating page's chart."""

from datetime import date, datetime, timedelta

from sqlalchemy import select

from cpa_network.extensions import db
from publishers.models import PublisherRatingDay

TREND_CHART_DAYS = 90


def record_day(day: date, ranked: dict[int, tuple[float, int]]) -> int:
    """Write `{publisher: (score, rank)}` as `day`'s points; unchanged rows are left alone."""
    existing = {r.publisher_id: r for r in db.session.scalars(
        select(PublisherRatingDay).where(PublisherRatingDay.day == day))}
    written = 0
    for publisher, (score, rank) in ranked.items():
        row = existing.get(publisher)
        if row is None:
            db.session.add(PublisherRatingDay(publisher_id=publisher, day=day, score=score,
                                              rank=rank))
        elif (row.score, row.rank) == (score, rank):
            continue
        else:
            row.score, row.rank = score, rank
        written += 1
    return written


def trend_of(publisher_id: int, today: date, days: int = TREND_CHART_DAYS) -> list:
    """The publisher's daily points over the last `days` days, oldest first."""
    return list(db.session.scalars(
        select(PublisherRatingDay).where(PublisherRatingDay.publisher_id == publisher_id,
                                         PublisherRatingDay.day > today - timedelta(days=days))
        .order_by(PublisherRatingDay.day)))


def chart_of(points: list) -> dict:
    """The points as the stats charts read them (static/js/stats.js: days + one series)."""
    return {"days": [p.day.isoformat() for p in points],
            "score": [round(p.score, 1) for p in points]}


def backfill(now: datetime, weeks: int = 8) -> None:
    """Past points computed from the rollups as of each earlier week (the demo's history)."""
    from publishers.models import NETWORK_SCOPE
    from publishers.rating_formula import rank_scores
    from publishers.rating_jobs import compute

    for back in range(weeks, 0, -1):
        as_of = now - timedelta(days=7 * back)
        scored = compute(as_of, trend_days=0, per_category=False).current.get(NETWORK_SCOPE, {})
        ranks = rank_scores({p: (s.score, s.inputs["approved"]) for p, s in scored.items()})
        record_day(as_of.date(), {p: (scored[p].score, rank) for p, rank in ranks})
    db.session.flush()
