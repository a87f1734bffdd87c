"""Operator moderation: approve (the offer goes live if escrow backs it) or reject with a reason."""

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from cpa_network.accounts.models import User
from cpa_network.database import utcnow
from cpa_network.errors import NotFound, ValidationFailed
from cpa_network.extensions import db
from cpa_network.notifications.services import MESSAGES, notify
from offers import services
from offers import status as st
from offers.models import Offer

DECISIONS = ("approve", "reject")
MESSAGES.update({
    "offer_approved": _l("Your offer \"%(name)s\" was approved and is live."),
    "offer_rejected": _l("Your offer \"%(name)s\" was rejected: %(reason)s"),
})


class ReasonRequired(ValidationFailed):
    code = "reason_required"
    default_message = _l("Say why the offer is rejected.")


def moderate(offer_id: int, moderator: User, decision: str, reason: str = "") -> Offer:
    """Approve or reject an offer awaiting moderation; the advertiser is notified."""
    offer = db.session.get(Offer, offer_id)
    if offer is None:
        raise NotFound(_l("No such offer."))
    if decision not in DECISIONS:
        raise ValidationFailed(_l("Decide approve or reject."),
                               fields={"decision": [_l("approve or reject")]})
    reason = reason.strip()[:500]
    if decision == "reject" and not reason:
        raise ReasonRequired(fields={"reason": [ReasonRequired.default_message]})
    target = st.ACTIVE if decision == "approve" else st.REJECTED
    if offer.status != st.PENDING:
        raise st.ForbiddenTransition(offer.status, target)
    services.change_status(offer, target)
    offer.rejection_reason = reason if decision == "reject" else ""
    offer.moderated_at, offer.moderated_by_id = utcnow(), moderator.id
    kind = "offer_approved" if decision == "approve" else "offer_rejected"
    notify(offer.advertiser_id, kind, f"{kind}:{offer.id}:{offer.moderated_at.isoformat()}",
           name=offer.name, reason=reason)
    return offer


def moderation_queue() -> list[Offer]:
    """Offers waiting for the operator, oldest first."""
    return list(db.session.scalars(select(Offer).where(Offer.status == st.PENDING)
                                   .order_by(Offer.updated_at)))
