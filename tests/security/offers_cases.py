"""Authorization cases for the offers and publishers routes (see test_authorization_matrix)."""

from sqlalchemy import func, select

from cpa_network.extensions import db
from offers import access
from offers.models import Creative, Offer, OfferAccess
from offers.tracking_models import TrackingLink
from tests.factories import make_user
from tests.offers.helpers import make_offer

PUBLIC_ROUTES = {
    "tracking.click": "a tracking link is meant to be shared; unknown tokens get a 404 page",
    "tracking.creative_file": "banners are embedded on publishers' sites",
}


def _status(offer_id):
    return db.session.get(Offer, offer_id).status


def _own_offer(path, method="GET", data=None, live=False):
    """The advertiser's own offer (not live: not in any catalog either)."""
    def make(owner):
        offer = make_offer(owner, live=live)
        status, name = offer.status, offer.name
        return (path.format(offer.id), method, data or {},
                lambda: (_status(offer.id), db.session.get(Offer, offer.id).name) ==
                (status, name))
    return make


def _own_creative(owner, path="/advertiser/offers/{}/creatives/{}/delete", method="POST"):
    offer = make_offer(owner, live=False)
    db.session.add(Creative(offer_id=offer.id, kind="text", headline="Ad"))
    db.session.commit()
    creative_id = db.session.scalar(select(Creative.id))
    return (path.format(offer.id, creative_id), method, {},
            lambda: db.session.get(Creative, creative_id) is not None)


def _own_grant(owner, path="/advertiser/offers/{}/access/{}/revoke", method="POST"):
    offer = make_offer(owner, live=False, visibility="private")
    publisher = make_user("publisher")
    access.invite_publisher(offer, publisher.email)
    db.session.commit()
    return (path.format(offer.id, publisher.id), method, {},
            lambda: db.session.scalar(select(func.count(OfferAccess.id))) == 1)


def _no_creatives(owner, path="/advertiser/offers/{}/creatives", data=(("add", "1"),)):
    make = _own_offer(path, "POST", {**dict(data), "headline": "x"})
    url, method, data, _ = make(owner)
    return url, method, data, lambda: db.session.scalar(select(func.count(Creative.id))) == 0


def _no_grants(owner, path="/advertiser/offers/{}/access"):
    make = _own_offer(path, "POST", {"email": "x@example.com"})
    url, method, data, _ = make(owner)
    return url, method, data, lambda: db.session.scalar(select(func.count(OfferAccess.id))) == 0


def _pending(path, data):
    """An offer waiting for moderation; only an operator may decide it."""
    def make(owner):
        offer = make_offer(make_user("advertiser"), live=False)
        return path.format(offer.id), "POST", data, lambda: _status(offer.id) == \
            "pending_moderation"
    return make


def _private_offer(path, method="GET", data=None):
    """A live private offer the owner (a publisher) was invited to; other publishers were not."""
    def make(owner):
        offer = make_offer(visibility="private")
        access.invite_publisher(offer, owner.email)
        db.session.commit()
        return (path.format(offer.id), method, data or {},
                lambda: db.session.scalar(select(func.count(TrackingLink.id))) == 0)
    return make


def cases(case):
    """The cases, built with the matrix's own Case class."""
    return [
        case("offers.detail", ("advertiser",), ("publisher",),
             _own_offer("/advertiser/offers/{}")),
        case("offers.edit", ("advertiser",), ("publisher",),
             _own_offer("/advertiser/offers/{}/edit", "POST", {"name": "Taken over"})),
        # The edit form itself shows the offer (and its postback secret) to whoever opens it.
        case("offers.edit", ("advertiser",), ("publisher",),
             _own_offer("/advertiser/offers/{}/edit")),
        case("offers.change_status", ("advertiser",), ("publisher",),
             _own_offer("/advertiser/offers/{}/status", "POST", {"target": "archived"})),
        case("offers.add_creative", ("advertiser",), ("publisher",), _no_creatives),
        case("offers.delete_creative", ("advertiser",), ("publisher",), _own_creative),
        case("offers.invite", ("advertiser",), ("publisher",), _no_grants),
        case("offers.revoke", ("advertiser",), ("publisher",), _own_grant),
        case("offers_api.list_creatives", ("advertiser",), ("publisher",),
             lambda owner: _own_creative(owner, "/api/v1/offers/{}/creatives", "GET")),
        case("offers_api.add_text_ad", ("advertiser",), ("publisher",),
             lambda owner: _no_creatives(owner, "/api/v1/offers/{}/creatives", ())),
        case("offers_api.delete_creative", ("advertiser",), ("publisher",),
             lambda owner: _own_creative(owner, "/api/v1/offers/{}/creatives/{}", "DELETE")),
        case("offers_api.list_access", ("advertiser",), ("publisher",),
             _own_offer("/api/v1/offers/{}/access")),
        case("offers_api.invite_publisher", ("advertiser",), ("publisher",),
             lambda owner: _no_grants(owner, "/api/v1/offers/{}/access")),
        case("offers_api.revoke_access", ("advertiser",), ("publisher",),
             lambda owner: _own_grant(owner, "/api/v1/offers/{}/access/{}", "DELETE")),
        case("offers_api.get_offer", ("advertiser",), ("publisher",),
             _own_offer("/api/v1/offers/{}")),
        case("offers_api.update_offer", ("advertiser",), ("publisher",),
             _own_offer("/api/v1/offers/{}", "PATCH", {"name": "Taken over"})),
        case("moderation.decide", ("admin",), ("advertiser",),
             _pending("/admin/offers/{}", {"approve": "Approve"})),
        case("offers_api.moderate_offer", ("admin",), ("advertiser",),
             _pending("/api/v1/offers/{}/moderation", {"decision": "approve"})),
        case("publishers.offer", ("publisher",), ("advertiser",), _private_offer("/catalog/{}")),
        case("publishers.link", ("publisher",), ("advertiser",),
             _private_offer("/catalog/{}/link")),
        case("publishers.get_link", ("publisher",), ("advertiser",),
             _private_offer("/catalog/{}/link", "POST")),
        case("publishers.qr", ("publisher",), ("advertiser",),
             _private_offer("/catalog/{}/qr.png")),
        case("publishers_api.create_link", ("publisher",), ("advertiser",),
             _private_offer("/api/v1/offers/{}/links", "POST")),
    ]
