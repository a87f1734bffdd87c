"""The exchange's JSON API: /api/v1/lots (list, create), /lots/<id>, /lots/<id>/buy — shapes
checked against the OpenAPI document, errors with their codes, money moved only on success."""

from datetime import timedelta

import jsonschema
import pytest

from cpa_network.accounts.models import User
from cpa_network.api.openapi import build_spec
from cpa_network.database import utcnow
from cpa_network.extensions import db
from publishers.exchange_models import ListingRefusal
from tests.cpa_network.test_openapi import response_schema
from tests.factories import make_api_key, make_user
from tests.publishers.exchange_helpers import (
    approve,
    assert_ledger_clean,
    available,
    fund_available,
    make_referral,
    sold,
)


def bearer(user):
    return {"Authorization": f"Bearer {make_api_key(user)}"}


@pytest.fixture
def spec(app):
    with app.app_context():
        return build_spec(app)


def check(spec, response, path, method, status):
    assert response.status_code == status, response.json
    jsonschema.validate(response.json, response_schema(spec, path, method, status))


def test_list_create_read_and_buy_a_lot(client, app_context, spec):
    seller = make_user("publisher")
    referral = make_referral(seller)
    made = client.post("/api/v1/lots", json={"referral_id": referral.id, "price": 25_00,
                                             "currency": "USD", "note": "steady"},
                       headers=bearer(seller))
    check(spec, made, "/api/v1/lots", "post", 201)
    lot_id = made.json["id"]
    assert (made.json["price"], made.json["currency"], made.json["status"]) == (
        25_00, "USD", "listed")
    buyer = make_user("publisher")
    headers = bearer(buyer)
    listing = client.get("/api/v1/lots?sort=price", headers=headers)
    check(spec, listing, "/api/v1/lots", "get", 200)
    assert [lot["id"] for lot in listing.json["lots"]] == [lot_id]
    detail = client.get(f"/api/v1/lots/{lot_id}", headers=headers)
    check(spec, detail, "/api/v1/lots/{lot_id}", "get", 200)
    assert len(detail.json["referral"]["months"]) == 6
    assert detail.json["seller"]["rating"] is None  # the seller has no traffic to rate
    assert [lv["level"] for lv in detail.json["own_referrals_by_level"]] == [1, 2, 3]
    short = client.post(f"/api/v1/lots/{lot_id}/buy", headers=headers)
    check(spec, short, "/api/v1/lots/{lot_id}/buy", "post", 409)
    assert short.json["error"]["code"] == "insufficient_funds"
    fund_available(buyer.id, 30_00)
    bought = client.post(f"/api/v1/lots/{lot_id}/buy", headers=headers)
    check(spec, bought, "/api/v1/lots/{lot_id}/buy", "post", 201)
    assert bought.json["status"] == "in_guarantee" and available(buyer.id) == 5_00
    again = client.post(f"/api/v1/lots/{lot_id}/buy", headers=bearer(make_user("publisher")))
    assert again.status_code == 409 and again.json["error"]["code"] == "lot_not_available"
    assert_ledger_clean()


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"referral_id": "x", "price": 25_00, "currency": "USD"}, 422, "validation_failed"),
    ({"price": 25_00, "currency": "USD"}, 422, "validation_failed"),
    ({"referral_id": 0, "price": "25.00", "currency": "USD"}, 422, "validation_failed"),
    ({"referral_id": 0, "price": 1_00, "currency": "USD"}, 422, "price_too_low"),
    ({"referral_id": 0, "price": 25_00, "currency": "ZZZ"}, 422, "currency_unsupported"),
])
def test_bad_listings_get_a_specific_code(client, app_context, spec, body, status, code):
    seller = make_user("publisher")
    referral = make_referral(seller)
    if body.get("referral_id") == 0:
        body = {**body, "referral_id": referral.id}
    refused = client.post("/api/v1/lots", json=body, headers=bearer(seller))
    check(spec, refused, "/api/v1/lots", "post", status)
    assert refused.json["error"]["code"] == code


def test_listing_anothers_referral_by_api_is_refused_and_recorded(client, app_context, spec):
    referral = make_referral(make_user("publisher"))
    thief = make_user("publisher")
    refused = client.post("/api/v1/lots", json={"referral_id": referral.id, "price": 25_00,
                                                "currency": "USD"}, headers=bearer(thief))
    check(spec, refused, "/api/v1/lots", "post", 403)
    assert refused.json["error"]["code"] == "not_your_referral"
    assert db.session.query(ListingRefusal).filter_by(user_id=thief.id).count() == 1


def test_advertisers_may_not_use_the_exchange(client, app_context):
    response = client.get("/api/v1/lots", headers=bearer(make_user("advertiser")))
    assert response.status_code == 403


def test_lot_list_takes_the_exchange_pages_filters_and_sorts(client, app_context, spec):
    """README: GET /api/v1/lots has the page's filters: highest price (minor units, with a
    currency), longest payback, has referrals; and the sort with its direction."""
    plain_seller = make_user("publisher")
    plain = make_referral(plain_seller)  # no referrals, no commission: payback never
    plain_lot = client.post("/api/v1/lots", json={"referral_id": plain.id, "price": 90_00,
                                                  "currency": "USD"},
                            headers=bearer(plain_seller)).json["id"]
    rich_seller = make_user("publisher")
    rich = make_referral(rich_seller)
    make_user("publisher", upline=rich)
    approve(rich.id, fee=300_00)  # 30.00 in 90 days: 10.00 a month
    rich_lot = client.post("/api/v1/lots", json={"referral_id": rich.id, "price": 25_00,
                                                 "currency": "USD"},
                           headers=bearer(rich_seller)).json["id"]
    headers = bearer(make_user("publisher"))

    def ids(query):
        response = client.get(f"/api/v1/lots?{query}", headers=headers)
        check(spec, response, "/api/v1/lots", "get", 200)
        return [lot["id"] for lot in response.json["lots"]]

    assert ids("currency=USD&max_price=1000") == []
    assert ids("currency=USD&max_price=2500") == [rich_lot]
    assert ids("max_payback=3") == [rich_lot]
    assert ids("with_referrals=true") == [rich_lot]
    assert ids("with_referrals=0") == ids("") == [rich_lot, plain_lot]  # newest first
    assert ids("sort=price") == [rich_lot, plain_lot]
    assert ids("sort=price&dir=desc") == [plain_lot, rich_lot]


@pytest.mark.parametrize(("query", "field"), [
    ("max_price=1000", "max_price"),  # no currency: prices in different currencies
    ("currency=USD&max_price=-1", "max_price"),
    ("currency=USD&max_price=ten", "max_price"),
    ("max_payback=soon", "max_payback"),
    ("max_payback=nan", "max_payback"),
    ("max_payback=-1", "max_payback"),
    ("with_referrals=maybe", "with_referrals"),
    ("dir=up", "dir"),
    ("sort=cheapest", "sort"),
])
def test_bad_lot_list_filters_are_refused_naming_the_parameter(client, app_context, spec, query,
                                                                field):
    response = client.get(f"/api/v1/lots?{query}", headers=bearer(make_user("publisher")))
    check(spec, response, "/api/v1/lots", "get", 422)
    assert response.json["error"]["code"] == "validation_failed"
    assert field in response.json["error"]["fields"]


def test_a_retried_buy_answers_200_with_the_purchase(client, app_context, spec):
    """A buy retried after a timeout: the buyer gets their purchase back, not "someone else
    bought it... your money was not touched" (it was: once)."""
    seller = make_user("publisher")
    referral = make_referral(seller)
    lot_id = client.post("/api/v1/lots", json={"referral_id": referral.id, "price": 30_00,
                                               "currency": "USD"},
                         headers=bearer(seller)).json["id"]
    buyer = make_user("publisher")
    fund_available(buyer.id, 60_00)
    headers = bearer(buyer)
    first = client.post(f"/api/v1/lots/{lot_id}/buy", headers=headers)
    check(spec, first, "/api/v1/lots/{lot_id}/buy", "post", 201)
    retry = client.post(f"/api/v1/lots/{lot_id}/buy", headers=headers)
    check(spec, retry, "/api/v1/lots/{lot_id}/buy", "post", 200)
    assert retry.json == first.json
    assert available(buyer.id) == 30_00
    assert_ledger_clean()


def test_reselling_a_purchase_in_its_guarantee_period_is_purchase_unsettled(client, app_context,
                                                                            spec):
    _, _, referral, buyer = sold()
    db.session.get(User, referral.id).referred_at = utcnow() - timedelta(days=8)
    db.session.commit()
    refused = client.post("/api/v1/lots", json={"referral_id": referral.id, "price": 30_00,
                                                "currency": "USD"}, headers=bearer(buyer))
    check(spec, refused, "/api/v1/lots", "post", 409)
    assert refused.json["error"]["code"] == "purchase_unsettled"
