"""POST /api/v1/deposits and GET /api/v1/balances: minor units beside a currency, coded errors."""

import pytest

from cpa_network.extensions import db
from payouts import escrow
from payouts.models import Deposit
from tests.factories import make_api_key, make_user
from tests.payouts.helpers import fund_escrow


def bearer(key):
    return {"Authorization": f"Bearer {key}"}


def test_a_sandbox_deposit_is_credited_at_once(client, app_context):
    advertiser = make_user("advertiser")
    key = make_api_key(advertiser)
    response = client.post("/api/v1/deposits", json={"amount": 10_000_00, "currency": "usd"},
                           headers=bearer(key))
    assert response.status_code == 201
    body = response.json
    assert body["amount"] == 10_000_00 and body["currency"] == "USD"
    assert body["status"] == "succeeded" and body["sandbox"] is True
    assert body["checkout_url"] is None and body["credited_at"]
    assert escrow.escrow_balance(advertiser.id, "USD") == 10_000_00
    again = client.get(f"/api/v1/deposits/{body['id']}", headers=bearer(key))
    assert again.json["status"] == "succeeded"


def test_a_stripe_deposit_answers_the_checkout_url(client, app_context, stripe_fake):
    advertiser = make_user("advertiser")
    response = client.post("/api/v1/deposits", json={"amount": 50_00, "currency": "EUR"},
                           headers=bearer(make_api_key(advertiser)))
    assert response.status_code == 201
    assert response.json["status"] == "pending" and response.json["sandbox"] is False
    assert response.json["checkout_url"].startswith(stripe_fake.url + "/c/pay/cs_test_")
    assert escrow.escrow_balance(advertiser.id, "EUR") == 0


@pytest.mark.parametrize("body, code, field", [
    ({"amount": "100", "currency": "USD"}, "amount_invalid", "amount"),
    ({"amount": 12.5, "currency": "USD"}, "amount_invalid", "amount"),
    ({"amount": 0, "currency": "USD"}, "amount_invalid", "amount"),
    ({"amount": 99, "currency": "USD"}, "amount_invalid", "amount"),
    ({"amount": True, "currency": "USD"}, "amount_invalid", "amount"),
    ({"amount": 10**12, "currency": "USD"}, "amount_invalid", "amount"),
    ({"amount": 1000, "currency": "XYZ"}, "currency_unsupported", "currency"),
    ({"amount": 1000}, "currency_unsupported", "currency"),
])
def test_bad_deposits_get_a_specific_code_and_move_nothing(client, app_context, body, code, field):
    advertiser = make_user("advertiser")
    response = client.post("/api/v1/deposits", json=body, headers=bearer(make_api_key(advertiser)))
    assert response.status_code == 422
    assert response.json["error"]["code"] == code
    assert field in response.json["error"]["fields"]
    assert db.session.query(Deposit).count() == 0


def test_a_body_that_is_not_json_is_refused(client, app_context):
    key = make_api_key(make_user("advertiser"))
    response = client.post("/api/v1/deposits", data="amount=100", headers=bearer(key))
    assert response.status_code == 422 and response.json["error"]["code"] == "amount_invalid"


def test_only_advertisers_with_a_write_key_may_deposit_to_escrow(client, app_context):
    publisher_key = make_api_key(make_user("publisher"))
    response = client.post("/api/v1/deposits",
                           json={"amount": 1000, "currency": "USD", "account": "escrow"},
                           headers=bearer(publisher_key))
    assert response.status_code == 403 and response.json["error"]["code"] == "forbidden"
    read_only = make_api_key(make_user("advertiser"), scopes="read")
    response = client.post("/api/v1/deposits", json={"amount": 1000, "currency": "USD"},
                           headers=bearer(read_only))
    assert response.status_code == 403
    assert response.json["error"]["code"] == "insufficient_scope"
    assert db.session.query(Deposit).count() == 0


def test_another_advertisers_deposit_is_not_found(client, app_context):
    owner_key = make_api_key(make_user("advertiser"))
    made = client.post("/api/v1/deposits", json={"amount": 1000, "currency": "USD"},
                       headers=bearer(owner_key)).json
    other_key = make_api_key(make_user("advertiser"))
    response = client.get(f"/api/v1/deposits/{made['id']}", headers=bearer(other_key))
    assert response.status_code == 404


def test_balances_per_currency_for_an_advertiser_and_a_publisher(client, app_context):
    advertiser, publisher = make_user("advertiser"), make_user("publisher")
    fund_escrow(advertiser.id, 1_000_00)
    escrow.hold_conversion(1, advertiser.id, publisher.id, "USD", payout=90_00, fee=10_00)
    escrow.hold_conversion(2, advertiser.id, publisher.id, "USD", payout=45_00, fee=5_00)
    escrow.approve_conversion(1)
    db.session.commit()

    mine = client.get("/api/v1/balances", headers=bearer(make_api_key(advertiser))).json
    usd = next(row for row in mine["balances"] if row["currency"] == "USD")
    assert usd == {"currency": "USD", "escrow": 850_00, "on_hold": 50_00, "refunding": 0,
                   "spent": 100_00, "disputed": 0, "owed": 0}
    assert [row["currency"] for row in mine["balances"]] == ["USD", "EUR", "RUB"]

    theirs = client.get("/api/v1/balances", headers=bearer(make_api_key(publisher))).json
    usd = next(row for row in theirs["balances"] if row["currency"] == "USD")
    assert usd == {"currency": "USD", "pending": 45_00, "available": 90_00, "in_flight": 0,
                   "paid": 0, "top_up_disputed": 0, "top_up_owed": 0, "top_up_clearing": 0,
                   "withdrawable": 90_00}


def test_deposits_and_balances_answer_what_the_openapi_document_says(app, client, app_context):
    import jsonschema

    from cpa_network.api.openapi import build_spec
    from tests.cpa_network.test_openapi import response_schema

    with app.app_context():
        spec = build_spec(app)
    key = make_api_key(make_user("advertiser", "publisher"))
    made = client.post("/api/v1/deposits", json={"amount": 1000, "currency": "RUB"},
                       headers=bearer(key))
    jsonschema.validate(made.json, response_schema(spec, "/api/v1/deposits", "post", 201))
    refused = client.post("/api/v1/deposits", json={"amount": -1, "currency": "RUB"},
                          headers=bearer(key))
    jsonschema.validate(refused.json, response_schema(spec, "/api/v1/deposits", "post", 422))
    balances = client.get("/api/v1/balances", headers=bearer(key))
    jsonschema.validate(balances.json, response_schema(spec, "/api/v1/balances", "get", 200))
    assert balances.json["balances"][2] == {
        "currency": "RUB", "escrow": 1000, "on_hold": 0, "refunding": 0, "spent": 0,
        "disputed": 0, "owed": 0, "pending": 0, "available": 0, "in_flight": 0, "paid": 0,
        "top_up_disputed": 0, "top_up_owed": 0, "top_up_clearing": 0, "withdrawable": 0}
