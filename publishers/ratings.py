"""Publisher ratings as pages and other packages read them: snapshots written by the recompute
job (`publishers.rating_jobs`), never computed from raw clicks on a page view.

`publisher_rating(publisher_id)` is the public entry point (the referral exchange shows it on a
lot): the network-wide score 0-100, rank, trend and the parts that make up the score.
"""

import math
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from cpa_network.accounts.models import User
from cpa_network.extensions import db
from offers.models import CATEGORIES
from publishers.models import NETWORK_SCOPE, PublisherRating
from publishers.rating_formula import FRAUD_PENALTY, WEIGHTS

TOP_SHARE = 0.10  # the "top 10 %" badge
BADGE_MIN_RANKED = 5  # a scope needs this many ranked publishers before it hands out badges
TREND_EPSILON = 0.5  # smaller moves show as "steady"

PART_LABELS = {
    "approval": _l("Approval rate"), "cr": _l("Conversion rate"), "epc": _l("Earnings per click"),
    "volume": _l("Volume"), "clean": _l("Clean traffic"), "tenure": _l("Tenure"),
    "fraud": _l("Fraud penalty"),
}
PART_HINTS = {
    # No "% l" or "% o" in msgids: gettext's python-format check reads them as placeholders.
    "approval": _l("Approved out of decided conversions: the lower bound of its confidence "
                   "interval (Wilson, 95 %)."),
    "cr": _l("Approved conversions per click, blended with 300 clicks at the network rate."),
    "epc": _l("What your clicks earn compared with the same offers network-wide, blended "
              "with 300 average clicks."),
    "volume": _l("Approved conversions on a log scale; 1,000 earn every point."),
    "clean": _l("Share of clicks not flagged as bots, floods or wrong countries: the lower "
                "bound of its confidence interval (95 %)."),
    "tenure": _l("Account age; a full year earns every point."),
    "fraud": _l("Conversions rejected for fraud signals, as a share of decided ones."),
}


@dataclass(frozen=True)
class RatingPart:
    name: str
    points: float
    max_points: float

    @property
    def label(self):
        return PART_LABELS.get(self.name, self.name)

    @property
    def hint(self):
        return PART_HINTS.get(self.name, "")


@dataclass(frozen=True)
class Badge:
    kind: str  # "top" (top 10 % of a scope) or "rising"
    scope: str

    @property
    def label(self):
        if self.kind == "rising":
            return _l("Rising")
        if self.scope == NETWORK_SCOPE:
            return _l("Network top 10 %")
        return _l("Top 10 %% in %(category)s", category=CATEGORIES.get(self.scope, self.scope))


@dataclass(frozen=True)
class RatingSnapshot:
    """A publisher's rating in one scope as of the last recompute."""

    publisher_id: int
    scope: str
    score: float
    rank: int
    ranked: int
    previous_score: float | None
    parts: tuple[RatingPart, ...]
    inputs: dict
    computed_at: datetime
    badges: tuple[Badge, ...] = ()

    @property
    def trend(self) -> float | None:
        """Points gained (+) or lost (-) since the previous period; None without history."""
        return None if self.previous_score is None else round(self.score -
                                                              self.previous_score, 1)

    @property
    def direction(self) -> str:
        trend = self.trend
        if trend is None:
            return "new"
        return "up" if trend >= TREND_EPSILON else "down" if trend <= -TREND_EPSILON else "steady"

    @property
    def top_percent(self) -> int:
        """The publisher is in the top N % of the scope (1..100)."""
        return max(1, math.ceil(100 * self.rank / max(1, self.ranked)))


def max_points(name: str) -> float:
    return -FRAUD_PENALTY if name == "fraud" else WEIGHTS.get(name, 0.0)


def to_snapshot(row: PublisherRating, badges: tuple[Badge, ...] = ()) -> RatingSnapshot:
    parts = tuple(RatingPart(name, float(points), max_points(name))
                  for name, points in (row.parts or {}).items())
    return RatingSnapshot(row.publisher_id, row.scope, row.score, row.rank, row.ranked,
                          row.previous_score, parts, dict(row.inputs or {}), row.computed_at,
                          badges)


def is_top(row: PublisherRating) -> bool:
    return row.ranked >= BADGE_MIN_RANKED and row.rank <= max(1, math.floor(row.ranked *
                                                                            TOP_SHARE))


def badges_of(rows: list[PublisherRating]) -> tuple[Badge, ...]:
    badges = [Badge("top", r.scope) for r in sorted(rows, key=lambda r: r.scope != NETWORK_SCOPE)
              if is_top(r)]
    network = next((r for r in rows if r.scope == NETWORK_SCOPE), None)
    if network is not None and network.previous_score is not None \
            and network.score - network.previous_score >= 5:
        badges.append(Badge("rising", NETWORK_SCOPE))
    return tuple(badges)


def publisher_rating(publisher_id: int, scope: str = NETWORK_SCOPE) -> RatingSnapshot | None:
    """The publisher's latest rating (score 0-100, rank, trend, parts, badges), or None if the
    recompute job has not rated them (no traffic in the window)."""
    rows = list(db.session.scalars(select(PublisherRating).where(
        PublisherRating.publisher_id == publisher_id)))
    row = next((r for r in rows if r.scope == scope), None)
    return None if row is None else to_snapshot(row, badges_of(rows))


def publisher_ratings(publisher_ids: list[int]) -> dict[int, RatingSnapshot]:
    """Network-wide snapshots of many publishers at once (lists, lots, leaderboards)."""
    if not publisher_ids:
        return {}
    rows = db.session.scalars(select(PublisherRating).where(
        PublisherRating.publisher_id.in_(publisher_ids)))
    by_publisher: dict[int, list[PublisherRating]] = {}
    for row in rows:
        by_publisher.setdefault(row.publisher_id, []).append(row)
    return {pid: to_snapshot(next(r for r in found if r.scope == NETWORK_SCOPE),
                             badges_of(found))
            for pid, found in by_publisher.items()
            if any(r.scope == NETWORK_SCOPE for r in found)}


@dataclass(frozen=True)
class LeaderboardRow:
    snapshot: RatingSnapshot
    publisher: User


def leaderboard(scope: str = NETWORK_SCOPE, limit: int = 100,
                offset: int = 0) -> tuple[list[LeaderboardRow], int]:
    """The stored ranking of a scope, best first, and how many it ranks."""
    query = (select(PublisherRating, User).join(User, User.id == PublisherRating.publisher_id)
             .where(PublisherRating.scope == scope)
             .order_by(PublisherRating.rank, PublisherRating.publisher_id))
    rows = db.session.execute(query.limit(limit).offset(offset)).all()
    total = db.session.scalar(select(func.count(PublisherRating.id))
                              .where(PublisherRating.scope == scope)) or 0
    return [LeaderboardRow(to_snapshot(r, badges_of([r])), u) for r, u in rows], total


def last_recomputed_at() -> datetime | None:
    return db.session.scalar(select(func.max(PublisherRating.computed_at)))


def scopes_of(publisher_id: int) -> list[RatingSnapshot]:
    """The publisher's ratings in each category they work in, best rank share first."""
    rows = list(db.session.scalars(select(PublisherRating).where(
        PublisherRating.publisher_id == publisher_id,
        PublisherRating.scope != NETWORK_SCOPE)))
    return sorted((to_snapshot(r, (Badge("top", r.scope),) if is_top(r) else ()) for r in rows),
                  key=lambda s: s.top_percent)
