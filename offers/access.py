"""Who sees an offer: public offers are open to every publisher, private ones to invitees."""

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, select

from cpa_network.accounts.models import User
from cpa_network.accounts.services import normalize_email
from cpa_network.errors import NotFound, ValidationFailed
from cpa_network.extensions import db
from offers import status as st
from offers.models import Offer, OfferAccess


def has_access(offer: Offer, publisher_id: int) -> bool:
    if offer.visibility == "public":
        return True
    return db.session.scalar(select(exists().where(
        OfferAccess.offer_id == offer.id, OfferAccess.publisher_id == publisher_id)))


def publisher_can_see(offer: Offer, user: User) -> bool:
    """A live offer the publisher may promote: public, or private with an invitation."""
    return (user.is_publisher and not user.is_blocked and offer.status == st.ACTIVE
            and has_access(offer, user.id))


def visible_offer(user: User, offer_id: int) -> Offer:
    """The offer as the publisher's catalog shows it; anything else is 'not found'."""
    offer = db.session.get(Offer, offer_id)
    if offer is None or not publisher_can_see(offer, user):
        raise NotFound(_l("No such offer."))
    return offer


def invite_publisher(offer: Offer, email: str) -> OfferAccess:
    """Give a publisher access to a private offer (idempotent)."""
    publisher = db.session.scalar(select(User).where(User.email == normalize_email(email)))
    if publisher is None or not publisher.is_publisher:
        raise ValidationFailed(_l("No publisher with this email."),
                               fields={"email": [_l("No publisher with this email.")]})
    access = db.session.scalar(select(OfferAccess).where(
        OfferAccess.offer_id == offer.id, OfferAccess.publisher_id == publisher.id))
    if access is None:
        access = OfferAccess(offer_id=offer.id, publisher_id=publisher.id)
        db.session.add(access)
        db.session.flush()
    return access


def revoke_access(offer: Offer, publisher_id: int) -> None:
    """The publisher no longer sees the private offer; their link stops sending traffic."""
    access = db.session.scalar(select(OfferAccess).where(
        OfferAccess.offer_id == offer.id, OfferAccess.publisher_id == publisher_id))
    if access is None:
        raise NotFound(_l("This publisher has no access."))
    db.session.delete(access)
    db.session.flush()


def access_list(offer: Offer) -> list[OfferAccess]:
    return list(db.session.scalars(select(OfferAccess).where(OfferAccess.offer_id == offer.id)
                                   .order_by(OfferAccess.granted_at)))
