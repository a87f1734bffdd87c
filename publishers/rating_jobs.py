"""Computing ratings from the hourly rollups (never from raw clicks): the scheduled recompute
that rewrites the snapshots, and the live variant the filtered leaderboards use.

One SQL pass groups the rollups of the window (plus the trend period) by publisher x offer x
time segment; everything else is arithmetic here. Segments are cut where a recency bucket of
the current or the previous window starts, so both scores come from the same pass.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import case, delete, select

from cpa_network.accounts.models import User
from cpa_network.database import utcnow
from cpa_network.extensions import db
from offers.models import Offer
from offers.tracking_models import TrafficHourly
from publishers import conversion_inputs, rating_history
from publishers.models import NETWORK_SCOPE, OfferRating, PublisherRating
from publishers.rating_formula import (
    NetworkAverages,
    RatingInputs,
    rank_scores,
    score_of,
    score_parts,
)
from publishers.reports import sum_of

WINDOW_DAYS = 90
TREND_DAYS = 7
BUCKET_WEIGHTS = (1.0, 0.5, 0.25)  # newest third of the window, middle third, oldest third
FIELDS = ("clicks", "flagged", "approved", "rejected", "payout", "fraud")


@dataclass
class Scored:
    score: float
    parts: dict
    inputs: dict


@dataclass
class Computation:
    """Scores per scope ("all" and each category) for the current and previous window."""

    current: dict[str, dict[int, Scored]] = field(default_factory=dict)
    previous: dict[str, dict[int, float]] = field(default_factory=dict)


def segment_edges(now: datetime, window_days: int, trend_days: int) -> list[datetime]:
    """Descending instants where a bucket of either window starts (the segment borders)."""
    third = timedelta(days=window_days / len(BUCKET_WEIGHTS))
    edges = {now, now - timedelta(days=trend_days)}
    for shift in (timedelta(0), timedelta(days=trend_days)):
        edges.update(now - shift - third * (i + 1) for i in range(len(BUCKET_WEIGHTS)))
    return sorted(edges, reverse=True)


def weight(as_of: datetime, newer: datetime, older: datetime, window_days: int) -> float:
    """The recency weight of the segment [older, newer) seen from `as_of` (0 outside)."""
    if newer > as_of or older < as_of - timedelta(days=window_days):
        return 0.0
    third = timedelta(days=window_days / len(BUCKET_WEIGHTS))
    bucket = int((as_of - newer) / third)
    return BUCKET_WEIGHTS[bucket] if bucket < len(BUCKET_WEIGHTS) else 0.0


def gather(edges: list[datetime], country: str | None = None, offer_id: int | None = None,
           category: str | None = None) -> dict[tuple[int, int, int], list[float]]:
    """(publisher, offer, segment) -> [clicks, flagged, approved, rejected, payout, fraud]."""
    t = TrafficHourly
    segment = case(*((t.hour >= edge, i) for i, edge in enumerate(edges[1:])), else_=-1)
    query = (select(t.publisher_id, t.offer_id, segment, sum_of("clicks"),
                    sum_of("flagged_clicks"), sum_of("approved_conversions"),
                    sum_of("rejected_conversions"), sum_of("approved_payout"))
             .where(t.hour >= edges[-1], t.hour < edges[0])
             .group_by(t.publisher_id, t.offer_id, segment))
    if country:
        query = query.where(t.country == country)
    if offer_id is not None:
        query = query.where(t.offer_id == offer_id)
    if category:
        query = query.where(t.offer_id.in_(select(Offer.id).where(Offer.category == category)))
    found = {(p, o, s): [float(v) for v in values] + [0.0]
             for p, o, s, *values in db.session.execute(query) if s >= 0}
    for key, count in conversion_inputs.fraud_counts(edges, country, offer_id).items():
        found.setdefault(key, [0.0] * len(FIELDS))[5] += count
    return found


def score_window(data, edges, as_of: datetime, window_days: int, categories: dict[int, str],
                 tenure: dict[int, float], per_category: bool) -> dict[str, dict[int, Scored]]:
    """Score every publisher with traffic in the window, network-wide and per category."""
    weights = [weight(as_of, edges[i], edges[i + 1], window_days) for i in range(len(edges) - 1)]
    pairs: dict[tuple[int, int], list[float]] = defaultdict(lambda: [0.0] * len(FIELDS))
    for (publisher, offer, segment), values in data.items():
        w = weights[segment]
        if w:
            pair = pairs[(publisher, offer)]
            for i, v in enumerate(values):
                pair[i] += w * v
    offer_clicks: dict[int, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for (_publisher, offer), v in pairs.items():
        offer_clicks[offer][0] += v[0]
        offer_clicks[offer][1] += v[4]
    scopes: dict[str, dict[int, list[float]]] = defaultdict(lambda: defaultdict(
        lambda: [0.0] * 6))
    for (publisher, offer), v in pairs.items():
        clicks, payout = offer_clicks[offer]
        expected = v[4] / (payout / clicks) if payout > 0 and clicks > 0 else 0.0
        targets = [NETWORK_SCOPE] + ([categories.get(offer, "")] if per_category else [])
        for scope in targets:
            totals = scopes[scope][publisher]
            for i, value in enumerate((v[0], v[1], v[2], v[3], v[5], expected)):
                totals[i] += value
    result = {}
    for scope, publishers in scopes.items():
        clicks = sum(v[0] for v in publishers.values())
        network = NetworkAverages(cr=sum(v[2] for v in publishers.values()) / clicks
                                  if clicks else 0.0)
        scored = {}
        for publisher, v in publishers.items():
            if v[0] <= 0 and v[2] <= 0:
                continue
            inputs = RatingInputs(clicks=v[0], flagged=v[1], approved=v[2], rejected=v[3],
                                  fraud=v[4], expected_clicks=v[5],
                                  tenure_days=tenure.get(publisher, 0.0))
            parts = score_parts(inputs, network)
            scored[publisher] = Scored(score_of(parts), parts, {
                "clicks": round(v[0], 1), "flagged": round(v[1], 1),
                "approved": round(v[2], 1), "rejected": round(v[3], 1),
                "fraud": round(v[4], 1), "tenure_days": round(inputs.tenure_days),
                "network_cr": round(network.cr, 5)})
        result[scope] = scored
    return result


def _tenure(now: datetime, publisher_ids) -> dict[int, float]:
    rows = db.session.execute(select(User.id, User.registered_at)
                              .where(User.id.in_(list(publisher_ids))))
    return {pid: (now - at).total_seconds() / 86400 for pid, at in rows}


def compute(now: datetime, window_days: int = WINDOW_DAYS, trend_days: int = TREND_DAYS,
            per_category: bool = True, **filters) -> Computation:
    edges = segment_edges(now, window_days, trend_days)
    data = gather(edges, **filters)
    categories = {o: c for o, c in db.session.execute(select(Offer.id, Offer.category))}
    tenure = _tenure(now, {p for p, _o, _s in data})
    current = score_window(data, edges, now, window_days, categories, tenure, per_category)
    previous = {}
    if trend_days:
        before = now - timedelta(days=trend_days)
        old_tenure = {p: d - trend_days for p, d in tenure.items()}
        previous = {scope: {p: s.score for p, s in scored.items()} for scope, scored in
                    score_window(data, edges, before, window_days, categories, old_tenure,
                                 per_category).items()}
    return Computation(current, previous)


def recompute_ratings(now: datetime | None = None) -> int:
    """Rewrite the rating snapshots from the rollups; returns how many rows changed.

    Incremental: rows whose score, rank and parts are unchanged are left alone, publishers who
    left a scope are removed, the rest are updated in place."""
    now = now or utcnow()
    result = compute(now)
    existing = {(r.publisher_id, r.scope): r for r in db.session.scalars(select(PublisherRating))}
    changed, keep = 0, set()
    for scope, scored in result.current.items():
        ranks = rank_scores({p: (s.score, s.inputs["approved"]) for p, s in scored.items()})
        if scope == NETWORK_SCOPE:
            rating_history.record_day(now.date(), {p: (scored[p].score, r) for p, r in ranks})
        previous = result.previous.get(scope, {})
        for publisher, rank in ranks:
            s = scored[publisher]
            keep.add((publisher, scope))
            values = {"score": s.score, "rank": rank, "ranked": len(ranks),
                      "previous_score": previous.get(publisher), "parts": s.parts}
            row = existing.get((publisher, scope))
            if row is None:
                row = PublisherRating(publisher_id=publisher, scope=scope)
                db.session.add(row)
            elif all(getattr(row, k) == v for k, v in values.items()):
                continue
            for name, value in values.items():
                setattr(row, name, value)
            row.inputs, row.computed_at = s.inputs, now
            changed += 1
    stale = [r.id for key, r in existing.items() if key not in keep]
    if stale:
        db.session.execute(delete(PublisherRating).where(PublisherRating.id.in_(stale)))
    if not changed and existing:
        # Nothing moved: still record that the recompute ran (the pages show its time).
        db.session.execute(PublisherRating.__table__.update().values(computed_at=now)
                           .where(PublisherRating.id == min(r.id for r in existing.values())))
    recompute_offer_ratings(now)
    db.session.flush()
    return changed + len(stale)


def recompute_offer_ratings(now: datetime, window_days: int = WINDOW_DAYS) -> None:
    """EPC, CR, approval rate and average hold time of every offer with traffic in the window."""
    t = TrafficHourly
    rows = db.session.execute(
        select(t.offer_id, sum_of("clicks"), sum_of("flagged_clicks"),
               sum_of("approved_conversions"), sum_of("rejected_conversions"),
               sum_of("approved_payout"))
        .where(t.hour >= now - timedelta(days=window_days)).group_by(t.offer_id)).all()
    holds = conversion_inputs.average_hold_hours(now - timedelta(days=window_days))
    existing = {r.offer_id: r for r in db.session.scalars(select(OfferRating))}
    for offer_id, clicks, flagged, approved, rejected, payout in rows:
        row = existing.pop(offer_id, None) or OfferRating(offer_id=offer_id)
        db.session.add(row)
        valid = int(clicks) - int(flagged)
        decided = int(approved) + int(rejected)
        row.clicks, row.approved, row.decided, row.payout = valid, int(approved), decided, \
            int(payout)
        row.epc = int(payout) / valid if valid > 0 else None
        row.cr = int(approved) / valid if valid > 0 else None
        row.approval_rate = int(approved) / decided if decided else None
        row.avg_hold_hours = holds.get(offer_id)
        row.computed_at = now
    for row in existing.values():
        db.session.delete(row)

