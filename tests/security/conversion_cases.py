"""Authorization cases for the conversion routes (see test_authorization_matrix)."""

from sqlalchemy import func, select

from cpa_network.extensions import db
from offers import attribution
from offers.conversion_models import Conversion, PostbackLog
from offers.tracking import find_click
from tests.factories import make_user
from tests.offers.conversion_helpers import stored_click
from tests.offers.helpers import make_link, make_offer

PUBLIC_ROUTES = {
    "postbacks.pixel": "the pixel sits on the advertiser's public thank-you page; the "
                       "attribution cookie, not the caller, decides what it converts",
}


def _pending(conversion_id: int):
    return lambda: db.session.get(Conversion, conversion_id).status == "pending"


def _own_conversion(path, method="GET", data=None):
    """A pending conversion of the owner's (an advertiser's) offer."""
    def make(owner):
        offer = make_offer(owner)
        link = make_link(offer)
        click = find_click(stored_click(link))
        outcome = attribution.record(offer, link.id, link.publisher_id, click,
                                     attribution.ConversionInput("registration", "AUTHZ-1"))
        db.session.commit()
        conversion_id = outcome.conversion.id
        return path.format(conversion_id), method, data or {}, _pending(conversion_id)
    return make


def _own_offer_log(path, method="GET", data=None):
    def make(owner):
        offer = make_offer(owner)
        return (path.format(offer.id), method, data or {},
                lambda: db.session.scalar(select(func.count(PostbackLog.id))) == 0)
    return make


def _held_conversion(owner):
    """Any advertiser's conversion; only an operator decides the fraud queue."""
    make = _own_conversion("/admin/fraud/{}", "POST", {"approve": "Approve"})
    return make(make_user("advertiser"))


def cases(case):
    return [
        case("conversions.detail", ("advertiser",), ("publisher",),
             _own_conversion("/advertiser/conversions/{}")),
        case("conversions.decide", ("advertiser",), ("publisher",),
             _own_conversion("/advertiser/conversions/{}/decide", "POST",
                             {"approve": "Approve", "confirmed": "yes"})),
        case("conversions.postback_log", ("advertiser",), ("publisher",),
             _own_offer_log("/advertiser/offers/{}/postbacks")),
        case("conversions.test_postback", ("advertiser",), ("publisher",),
             _own_offer_log("/advertiser/offers/{}/postbacks/test", "POST",
                            {"click_id": "01HZZZZZZZZZZZZZZZZZZZZZZZ", "goal": "registration",
                             "txid": "X"})),
        case("offers_api.postback_log", ("advertiser",), ("publisher",),
             _own_offer_log("/api/v1/offers/{}/postbacks")),
        case("offers_api.test_postback", ("advertiser",), ("publisher",),
             _own_offer_log("/api/v1/offers/{}/postbacks/test", "POST",
                            {"click_id": "01HZZZZZZZZZZZZZZZZZZZZZZZ", "goal": "registration",
                             "txid": "X"})),
        case("conversions_api.get_conversion", ("advertiser",), ("publisher",),
             _own_conversion("/api/v1/conversions/{}")),
        case("conversions_api.approve_conversion", ("advertiser",), ("publisher",),
             _own_conversion("/api/v1/conversions/{}/approve", "POST")),
        case("conversions_api.reject_conversion", ("advertiser",), ("publisher",),
             _own_conversion("/api/v1/conversions/{}/reject", "POST", {"reason": "x"})),
        case("fraud.decide", ("admin",), ("advertiser",), _held_conversion),
    ]
