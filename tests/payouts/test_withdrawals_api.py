"""POST/GET /api/v1/withdrawals: minor units beside a currency, a code for every refusal, own
withdrawals only, and answers that match the OpenAPI document."""

import jsonschema
import pytest

from cpa_network.api.openapi import build_spec
from payouts import ledger
from payouts.models import AccountKind
from tests.conftest import run_worker_burst
from tests.cpa_network.test_openapi import response_schema
from tests.factories import make_api_key, make_user
from tests.payouts.helpers import connected_publisher
from tests.payouts.test_api import bearer


def post(client, key, body):
    return client.post("/api/v1/withdrawals", json=body, headers=bearer(key))


def test_a_publisher_withdraws_and_follows_the_payout_to_paid(app, client, app_context):
    publisher = connected_publisher(earned=150_00)
    key = make_api_key(publisher)
    made = post(client, key, {"amount": 100_00, "currency": "usd"})
    assert made.status_code == 201
    body = made.json
    assert body["amount"] == 100_00 and body["currency"] == "USD"
    assert body["status"] == "requested" and body["sandbox"] is True
    assert ledger.balance(AccountKind.PAYOUT_IN_FLIGHT, publisher.id, "USD") == 100_00

    assert run_worker_burst(app, "--queue", "payouts").returncode == 0
    paid = client.get(f"/api/v1/withdrawals/{body['id']}", headers=bearer(key)).json
    assert paid["status"] == "paid" and paid["transfer_id"] == f"sandbox_tr_{body['id']}"
    assert paid["settled_at"] and paid["submitted_at"]
    listed = client.get("/api/v1/withdrawals?status=paid", headers=bearer(key)).json
    assert [w["id"] for w in listed["withdrawals"]] == [body["id"]]
    balances = client.get("/api/v1/balances", headers=bearer(key)).json["balances"][0]
    assert (balances["available"], balances["in_flight"], balances["paid"]) == (50_00, 0, 100_00)


@pytest.mark.parametrize("body, status, code", [
    ({"amount": 200_00, "currency": "USD"}, 409, "exceeds_available"),
    ({"amount": 49_99, "currency": "USD"}, 422, "below_threshold"),
    ({"amount": "100", "currency": "USD"}, 422, "amount_invalid"),
    ({"amount": 60_00, "currency": "XYZ"}, 422, "currency_unsupported"),
    ({"amount": 60_00}, 422, "currency_unsupported"),
])
def test_refusals_have_a_code_and_a_field(client, app_context, body, status, code):
    key = make_api_key(connected_publisher(earned=150_00))
    response = post(client, key, body)
    assert response.status_code == status, response.json
    assert response.json["error"]["code"] == code
    assert response.json["error"]["fields"]
    assert client.get("/api/v1/withdrawals", headers=bearer(key)).json == {
        "withdrawals": [], "next_cursor": None}


def test_refusals_about_the_account_and_the_role(client, app_context):
    no_account = make_api_key(make_user("publisher"))
    assert post(client, no_account, {"amount": 60_00, "currency": "USD"}).json["error"][
        "code"] == "payout_account_missing"
    advertiser = make_api_key(make_user("advertiser"))
    assert post(client, advertiser, {"amount": 60_00, "currency": "USD"}).status_code == 403
    assert client.get("/api/v1/withdrawals", headers=bearer(advertiser)).status_code == 403
    read_only = make_api_key(connected_publisher(earned=60_00), scopes="read")
    refused = post(client, read_only, {"amount": 60_00, "currency": "USD"})
    assert refused.json["error"]["code"] == "insufficient_scope"
    assert client.post("/api/v1/withdrawals", data="x", headers=bearer(no_account)).json[
        "error"]["code"] == "amount_invalid"


def test_a_publisher_sees_only_their_own_withdrawals(client, app_context):
    owner = make_api_key(connected_publisher(earned=60_00))
    made = post(client, owner, {"amount": 60_00, "currency": "USD"}).json
    other = make_api_key(connected_publisher())
    assert client.get(f"/api/v1/withdrawals/{made['id']}", headers=bearer(other)).status_code \
        == 404
    assert client.get("/api/v1/withdrawals", headers=bearer(other)).json == {
        "withdrawals": [], "next_cursor": None}
    assert client.get("/api/v1/withdrawals?status=nope", headers=bearer(owner)).status_code == 422


def test_withdrawals_answer_what_the_openapi_document_says(app, client, app_context):
    with app.app_context():
        spec = build_spec(app)
    key = make_api_key(connected_publisher(earned=80_00))
    made = post(client, key, {"amount": 80_00, "currency": "USD"})
    jsonschema.validate(made.json, response_schema(spec, "/api/v1/withdrawals", "post", 201))
    refused = post(client, key, {"amount": 80_00, "currency": "USD"})
    jsonschema.validate(refused.json, response_schema(spec, "/api/v1/withdrawals", "post", 409))
    listed = client.get("/api/v1/withdrawals", headers=bearer(key))
    jsonschema.validate(listed.json, response_schema(spec, "/api/v1/withdrawals", "get", 200))
    one = client.get(f"/api/v1/withdrawals/{made.json['id']}", headers=bearer(key))
    jsonschema.validate(one.json, response_schema(spec, "/api/v1/withdrawals/{payout_id}", "get",
                                                  200))
