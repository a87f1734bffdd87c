"""A listed referral's refback is frozen: buyers price the lot with the refback it shows, so
the seller may not change it (from the referral page or the API) until the lot is withdrawn.
A listing and a refback change at once take the referral's row lock in turn: the change
either comes first (and the lot shows it) or sees the lot and is refused."""

import pytest

from cpa_network.accounts.models import User
from cpa_network.api.openapi import build_spec
from cpa_network.extensions import db
from payouts import commissions
from publishers import exchange_listing
from publishers.exchange_models import Lot
from tests.factories import make_user
from tests.publishers.exchange_helpers import make_referral, run_overlapping
from tests.publishers.test_exchange_api import bearer, check

PRICE = 30_00
REFUSAL = "Withdraw the lot first, then change the refback."


@pytest.fixture
def spec(app):
    with app.app_context():
        return build_spec(app)


def listed_with_refback(refback_bp: int = 1000):
    """A seller, their referral with a 10 % refback, and the referral's open lot."""
    seller = make_user("publisher")
    referral = make_referral(seller)
    commissions.set_refback(seller, referral.id, refback_bp)
    lot = exchange_listing.list_referral(seller, referral.id, PRICE, "USD")
    db.session.commit()
    return seller, referral, lot


def refback_of(referral_id: int) -> int:
    db.session.expire_all()
    return commissions.refback_of(referral_id)


def test_the_referral_page_refuses_a_listed_referrals_refback_until_withdrawn(client,
                                                                              app_context):
    seller, referral, lot = listed_with_refback()
    client.login(seller.email)
    refused = client.submit(f"/referrals/{referral.id}/refback", {"refback": "80"},
                            page="/referrals", follow_redirects=True)
    assert refused.status_code == 200
    assert REFUSAL in refused.get_data(as_text=True)
    assert "Refback saved." not in refused.get_data(as_text=True)
    assert refback_of(referral.id) == 1000
    page = client.get("/referrals").get_data(as_text=True)
    assert "Listed on the exchange: withdraw the lot to change its refback." in page
    assert f"/exchange/lots/{lot.id}" in page
    # The same value again changes nothing, so it is no change to refuse.
    same = client.submit(f"/referrals/{referral.id}/refback", {"refback": "10"},
                         page="/referrals", follow_redirects=True)
    assert "Refback saved." in same.get_data(as_text=True)

    exchange_listing.withdraw_lot(db.session.get(User, seller.id), lot.id)
    db.session.commit()
    saved = client.submit(f"/referrals/{referral.id}/refback", {"refback": "80"},
                          page="/referrals", follow_redirects=True)
    assert "Refback saved." in saved.get_data(as_text=True)
    assert refback_of(referral.id) == 8000


def test_the_api_refuses_a_listed_referrals_refback_with_its_code(client, app_context, spec):
    seller, referral, lot = listed_with_refback()
    auth = bearer(seller)
    path = "/api/v1/referrals/{referral_id}/refback"
    refused = client.put(f"/api/v1/referrals/{referral.id}/refback", headers=auth,
                         json={"refback_percent": 80})
    check(spec, refused, path, "put", 409)
    assert refused.json["error"]["code"] == "referral_listed"
    assert REFUSAL in refused.json["error"]["message"]
    assert refback_of(referral.id) == 1000
    # Out of range is still out of range, and a stranger still finds nothing.
    assert client.put(f"/api/v1/referrals/{referral.id}/refback", headers=auth,
                      json={"refback_percent": 81}).json["error"]["code"] == \
        "refback_out_of_range"
    stranger = bearer(make_user("publisher"))
    assert client.put(f"/api/v1/referrals/{referral.id}/refback", headers=stranger,
                      json={"refback_percent": 80}).status_code == 404

    withdrawn = client.post(f"/api/v1/lots/{lot.id}/withdraw", headers=auth)
    assert withdrawn.status_code == 200, withdrawn.json
    saved = client.put(f"/api/v1/referrals/{referral.id}/refback", headers=auth,
                       json={"refback_percent": 80})
    check(spec, saved, path, "put", 200)
    assert refback_of(referral.id) == 8000


def racers(seller_id: int, referral_id: int):
    def list_it():
        return exchange_listing.list_referral(db.session.get(User, seller_id), referral_id,
                                              PRICE, "USD").id

    def raise_refback():
        return exchange_listing.set_refback(db.session.get(User, seller_id), referral_id,
                                            8000).refback_bp

    return list_it, raise_refback


def test_a_refback_change_while_the_listing_commits_waits_and_is_refused(app, app_context):
    seller = make_user("publisher")
    referral = make_referral(seller)
    commissions.set_refback(seller, referral.id, 1000)
    db.session.commit()
    list_it, raise_refback = racers(seller.id, referral.id)
    listed, changed = run_overlapping(app, list_it, raise_refback)
    assert isinstance(listed, int), listed
    assert isinstance(changed, exchange_listing.ReferralListed), changed
    assert refback_of(referral.id) == 1000


def test_a_listing_while_a_refback_change_commits_lists_with_the_new_refback(app,
                                                                            app_context):
    seller = make_user("publisher")
    referral = make_referral(seller)
    commissions.set_refback(seller, referral.id, 1000)
    db.session.commit()
    list_it, raise_refback = racers(seller.id, referral.id)
    changed, listed = run_overlapping(app, raise_refback, list_it)
    assert changed == 8000 and isinstance(listed, int), (changed, listed)
    assert refback_of(referral.id) == 8000
    assert db.session.get(Lot, listed).status == "listed"
