"""Leaderboards: the stored ranking (network or category), or a live one from the rollups when
filtered by country, period or offer; and inviting a publisher from it to a private offer."""

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from cpa_network.accounts.models import User
from cpa_network.database import utcnow
from cpa_network.errors import NotFound, ValidationFailed
from cpa_network.extensions import db
from offers import access
from offers.models import CATEGORIES, Offer, OfferAccess
from offers.services import owned_offer
from publishers import rating_jobs, ratings
from publishers.models import NETWORK_SCOPE
from publishers.rating_formula import rank_scores
from publishers.ratings import RatingSnapshot

WINDOWS = (30, 90)
PAGE_SIZE = 100


class UnknownScope(ValidationFailed):
    code = "bad_category"


@dataclass(frozen=True)
class Filters:
    scope: str = NETWORK_SCOPE  # "all" or a category code
    country: str = ""
    window_days: int = rating_jobs.WINDOW_DAYS
    offer_id: int | None = None

    @property
    def is_stored(self) -> bool:
        """The unfiltered network or category board is read from the snapshots."""
        return (not self.country and self.window_days == rating_jobs.WINDOW_DAYS
                and self.offer_id is None)


def filters_of(scope: str = "", country: str = "", window_days: int | str = 90,
               offer_id: int | None = None) -> Filters:
    scope = scope or NETWORK_SCOPE
    if scope != NETWORK_SCOPE and scope not in CATEGORIES:
        raise UnknownScope(_l("Unknown category."), fields={"category": [_l("Unknown category.")]})
    try:
        days = int(window_days)
    except (TypeError, ValueError):
        days = rating_jobs.WINDOW_DAYS
    return Filters(scope, (country or "").strip().upper()[:2],
                   days if days in WINDOWS else rating_jobs.WINDOW_DAYS, offer_id)


@dataclass(frozen=True)
class Board:
    rows: list[tuple[RatingSnapshot, User]]
    total: int
    filters: Filters
    computed_at: datetime | None
    live: bool


def _live(filters: Filters, limit: int) -> Board:
    now = utcnow()
    result = rating_jobs.compute(
        now, filters.window_days, per_category=False, country=filters.country or None,
        offer_id=filters.offer_id,
        category=None if filters.scope == NETWORK_SCOPE else filters.scope)
    scored = result.current.get(NETWORK_SCOPE, {})
    previous = result.previous.get(NETWORK_SCOPE, {})
    ranked = rank_scores({p: (s.score, s.inputs["approved"]) for p, s in scored.items()})
    top = ranked[:limit]
    users = {u.id: u for u in db.session.scalars(select(User).where(
        User.id.in_([p for p, _r in top])))}
    rows = []
    for publisher, rank in top:
        s = scored[publisher]
        parts = tuple(ratings.RatingPart(n, p, ratings.max_points(n)) for n, p in
                      s.parts.items())
        rows.append((RatingSnapshot(publisher, filters.scope, s.score, rank, len(ranked),
                                    previous.get(publisher), parts, s.inputs, now),
                     users[publisher]))
    return Board(rows, len(ranked), filters, now, live=True)


def board(filters: Filters, limit: int = PAGE_SIZE) -> Board:
    if not filters.is_stored:
        return _live(filters, limit)
    found, total = ratings.leaderboard(filters.scope, limit=limit)
    return Board([(r.snapshot, r.publisher) for r in found], total, filters,
                 ratings.last_recomputed_at(), live=False)


def offer_board(advertiser: User, offer_id: int, filters: Filters) -> tuple[Offer, Board]:
    """Who performs best on one of the advertiser's own offers (another's: not found)."""
    offer = owned_offer(advertiser, offer_id)
    return offer, _live(Filters(NETWORK_SCOPE, filters.country, filters.window_days, offer.id),
                        PAGE_SIZE)


def private_offers(advertiser: User) -> list[Offer]:
    return list(db.session.scalars(select(Offer).where(
        Offer.advertiser_id == advertiser.id, Offer.visibility == "private",
        Offer.status.in_(("active", "paused", "draft", "pending_moderation")))
        .order_by(Offer.name)))


def invite(advertiser: User, offer_id: int, publisher_id: int) -> OfferAccess:
    """Give a publisher from the leaderboard access to one of the advertiser's private offers."""
    offer = owned_offer(advertiser, offer_id)
    if offer.visibility != "private":
        raise ValidationFailed(_l("Public offers are open to every publisher already."))
    publisher = db.session.get(User, publisher_id)
    if publisher is None or not publisher.is_publisher:
        raise NotFound(_l("No such publisher."))
    return access.invite_publisher(offer, publisher.email)
