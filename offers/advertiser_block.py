"""A blocked advertiser's offers stop: the block listener pauses every live one (so the
catalog, the links and the postbacks all see a paused offer), and `services.change_status`
refuses to put an offer of a blocked advertiser live again (resume, moderation). Unblocking
resumes nothing: the advertiser decides when traffic returns.
"""

from sqlalchemy import or_, select

from cpa_network.accounts.models import User
from cpa_network.extensions import db
from offers import awaiting, services
from offers import status as st
from offers.models import Offer

BLOCKED = "advertiser_blocked"  # Offer.paused_reason


def pause_offers_of_blocked(user: User) -> int:
    """Block listener: pause the advertiser's live offers. One already paused for funds is
    marked as stopped by the block too, so a top-up does not resume it on its own after the
    unblock. Returns how many offers the block stopped."""
    if not user.is_advertiser:
        return 0
    stopped = list(db.session.scalars(
        select(Offer).where(Offer.advertiser_id == user.id, or_(
            Offer.status == st.ACTIVE,
            (Offer.status == st.PAUSED) & (Offer.paused_reason == awaiting.FUNDS)))
        .order_by(Offer.id).with_for_update().execution_options(populate_existing=True)))
    for offer in stopped:
        if offer.status == st.ACTIVE:
            services.change_status(offer, st.PAUSED)
        offer.paused_reason = BLOCKED
    return len(stopped)
