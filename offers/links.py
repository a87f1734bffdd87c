"""Tracking links: one per publisher x offer, with a stable unguessable token and a promo code."""

import secrets
from urllib.parse import urlencode

from flask import current_app, request, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from cpa_network.accounts.models import User
from cpa_network.errors import NotFound, ValidationFailed
from cpa_network.extensions import db
from offers import access, routing
from offers.clicks import DEEP_LINK_PARAM, check_deep_link
from offers.models import Offer
from offers.tracking_models import SUB_IDS, SUB_MAX_LENGTH, TrackingLink

PROMO_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes are read aloud


class DeepLinkRefused(ValidationFailed):
    code = "deep_link_refused"
    default_message = _l("A deep link must be a page on the offer's own site.")


def _promo_code(offer: Offer) -> str:
    stem = "".join(ch for ch in offer.name.upper() if ch.isalnum() and ch.isascii())[:6]
    return (stem or "PROMO") + "".join(secrets.choice(PROMO_ALPHABET) for _ in range(6))


def link_for(offer: Offer, publisher: User) -> TrackingLink:
    """The publisher's link for `offer`, created on first request (concurrent calls agree)."""
    if not access.publisher_can_see(offer, publisher):
        raise NotFound(_l("No such offer."))
    link = db.session.scalar(select(TrackingLink).where(
        TrackingLink.offer_id == offer.id, TrackingLink.publisher_id == publisher.id))
    if link is not None:
        return link
    for _attempt in range(5):
        link = TrackingLink(offer_id=offer.id, publisher_id=publisher.id,
                            token=secrets.token_urlsafe(16), promo_code=_promo_code(offer))
        try:
            with db.session.begin_nested():
                db.session.add(link)
        except IntegrityError:
            existing = db.session.scalar(select(TrackingLink).where(
                TrackingLink.offer_id == offer.id, TrackingLink.publisher_id == publisher.id))
            if existing is not None:
                return existing  # another request made it first
            continue  # a token or promo code collided: draw again
        return link
    raise RuntimeError("could not draw a unique token")


def links_of(publisher: User) -> list[TrackingLink]:
    return list(db.session.scalars(select(TrackingLink).where(
        TrackingLink.publisher_id == publisher.id).order_by(TrackingLink.created_at.desc())))


def link_by_promo_code(code: str) -> TrackingLink | None:
    """For promo-code conversions (issue 5): codes are unique across the network."""
    return db.session.scalar(select(TrackingLink).where(
        TrackingLink.promo_code == code.strip().upper()))


def base_url() -> str:
    return current_app.config.get("PUBLIC_BASE_URL") or request.host_url.rstrip("/")


def tracking_url(link: TrackingLink, subs: dict | None = None, deep_link: str = "") -> str:
    """The link as published: /c/<token>?sub1=..&dl=/path. A deep link to another host is
    refused here (and ignored by the click path, which checks again)."""
    params = [(name, str(value)[:SUB_MAX_LENGTH]) for name, value in (subs or {}).items()
              if name in SUB_IDS and value]
    if deep_link:
        # From the offer itself: the route cache reads on its own connection, which cannot
        # see a link this request has just created.
        path = check_deep_link(routing.origin_of(link.offer.landing_url), deep_link)
        if path is None:
            raise DeepLinkRefused(fields={"deep_link": [DeepLinkRefused.default_message]})
        params.append((DEEP_LINK_PARAM, path))
    url = base_url() + url_for("tracking.click", token=link.token)
    return url + ("?" + urlencode(params) if params else "")
