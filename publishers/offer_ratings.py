"""Offer ratings for publishers: EPC, CR, approval rate and average hold time per offer, from
the snapshots the recompute job writes."""

from dataclasses import dataclass

from sqlalchemy import exists, or_, select

from cpa_network.accounts.models import User
from cpa_network.extensions import db
from offers import status as st
from offers.models import Offer, OfferAccess
from publishers.models import OfferRating

SORTS = ("epc", "cr", "approval_rate", "avg_hold_hours")


@dataclass(frozen=True)
class OfferRatingRow:
    offer: Offer
    rating: OfferRating | None


def visible_offer_ratings(publisher: User, sort: str = "epc") -> list[OfferRatingRow]:
    """Live offers the publisher may promote, with their ratings; the best first by `sort`
    (hold time: shortest first; EPC, an amount, within each currency); offers without a rating
    yet last."""
    sort = sort if sort in SORTS else "epc"
    invited = exists().where(OfferAccess.offer_id == Offer.id,
                             OfferAccess.publisher_id == publisher.id)
    rows = db.session.execute(
        select(Offer, OfferRating).outerjoin(OfferRating, OfferRating.offer_id == Offer.id)
        .where(Offer.status == st.ACTIVE, or_(Offer.visibility == "public", invited))
        .limit(500)).all()
    column = sort

    def key(row):
        value = getattr(row[1], column, None) if row[1] is not None else None
        currency = row[0].currency if column == "epc" else ""
        if value is None:
            return (1, currency, 0.0, row[0].name)
        return (0, currency, value if column == "avg_hold_hours" else -value, row[0].name)

    return [OfferRatingRow(offer, rating) for offer, rating in sorted(rows, key=key)]


def rating_of(offer_id: int) -> OfferRating | None:
    return db.session.scalar(select(OfferRating).where(OfferRating.offer_id == offer_id))
