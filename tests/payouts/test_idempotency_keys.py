"""`Idempotency-Key` on POST /api/v1/withdrawals and /api/v1/escrow/withdrawals: a retried call
answers what the first one made and moves no money again; the same key with another amount is
refused with its own code; keys are each user's own."""

import jsonschema
import pytest
from sqlalchemy import func, select

from cpa_network.api.openapi import build_spec
from cpa_network.extensions import db
from payouts import escrow, ledger
from payouts.invariants import check_ledger
from payouts.models import AccountKind, EscrowRefund, Payout
from tests.cpa_network.test_openapi import response_schema
from tests.factories import make_api_key, make_user
from tests.payouts.helpers import connected_publisher, earn
from tests.payouts.test_api import bearer
from tests.payouts.test_ledger_concurrency import run_in_threads

KEY = "5f0c6a4e-8d1b-4c1e-9a57-1f2e3d4c5b6a"


def withdraw(client, api_key, body, idempotency_key=KEY, path="/api/v1/withdrawals"):
    headers = bearer(api_key)
    if idempotency_key is not None:
        headers["Idempotency-Key"] = idempotency_key
    return client.post(path, json=body, headers=headers)


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def sandbox_advertiser(client) -> tuple[int, str]:
    """An advertiser with $1,000 in escrow from a sandbox deposit, and an API key."""
    advertiser = make_user("advertiser")
    api_key = make_api_key(advertiser)
    assert client.post("/api/v1/deposits", json={"amount": 1000_00, "currency": "USD"},
                       headers=bearer(api_key)).status_code == 201
    return advertiser.id, api_key


def test_a_withdrawal_retried_with_its_key_is_one_payout(client, app_context):
    publisher = connected_publisher(earned=300_00)
    api_key = make_api_key(publisher)
    first = withdraw(client, api_key, {"amount": 100_00, "currency": "USD"})
    again = withdraw(client, api_key, {"amount": 100_00, "currency": "usd"})
    assert (first.status_code, again.status_code) == (201, 200), again.json
    assert again.json["id"] == first.json["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert count(Payout) == 1
    assert ledger.balance(AccountKind.PUBLISHER_AVAILABLE, publisher.id, "USD") == 200_00
    assert ledger.balance(AccountKind.PAYOUT_IN_FLIGHT, publisher.id, "USD") == 100_00
    other_key = withdraw(client, api_key, {"amount": 100_00, "currency": "USD"},
                         idempotency_key="another-withdrawal")
    no_key = withdraw(client, api_key, {"amount": 100_00, "currency": "USD"}, None)
    assert (other_key.status_code, no_key.status_code) == (201, 201)
    assert count(Payout) == 3
    assert check_ledger().ok


@pytest.mark.parametrize("changed", [{"amount": 90_00}, {"currency": "EUR"}])
def test_the_same_key_for_another_withdrawal_is_refused(client, app_context, changed):
    publisher = connected_publisher(earned=300_00)
    earn(publisher.id, 300_00, "EUR")  # a EUR withdrawal would be allowed on its own
    api_key = make_api_key(publisher)
    assert withdraw(client, api_key, {"amount": 100_00, "currency": "USD"}).status_code == 201
    refused = withdraw(client, api_key, {"amount": 100_00, "currency": "USD", **changed})
    assert refused.status_code == 422
    assert refused.json["error"]["code"] == "idempotency_key_reused"
    assert count(Payout) == 1


def test_keys_are_each_users_own(client, app_context):
    first, second = (make_api_key(connected_publisher(earned=100_00)) for _ in range(2))
    made = [withdraw(client, api_key, {"amount": 100_00, "currency": "USD"})
            for api_key in (first, second)]
    assert [m.status_code for m in made] == [201, 201]
    assert made[0].json["id"] != made[1].json["id"]


@pytest.mark.parametrize("bad", ["", "x" * 65, "has space", "ключ"])
def test_a_malformed_key_is_refused(client, app_context, bad):
    api_key = make_api_key(connected_publisher(earned=100_00))
    refused = client.post("/api/v1/withdrawals", json={"amount": 100_00, "currency": "USD"},
                          # as the bytes arrive: UTF-8, read by the server as Latin-1
                          headers={**bearer(api_key),
                                   "Idempotency-Key": bad.encode().decode("latin-1")})
    assert refused.status_code == 422
    assert refused.json["error"]["code"] == "idempotency_key_invalid"
    assert count(Payout) == 0


def test_an_escrow_withdrawal_retried_with_its_key_refunds_once(client, app_context):
    advertiser_id, api_key = sandbox_advertiser(client)
    path = "/api/v1/escrow/withdrawals"
    first = withdraw(client, api_key, {"amount": 250_00, "currency": "USD"}, path=path)
    again = withdraw(client, api_key, {"amount": 250_00, "currency": "USD"}, path=path)
    assert (first.status_code, again.status_code) == (201, 200), again.json
    assert again.json["refunds"][0]["id"] == first.json["refunds"][0]["id"]
    assert count(EscrowRefund) == 1
    assert escrow.escrow_balance(advertiser_id, "USD") == 750_00
    refused = withdraw(client, api_key, {"amount": 200_00, "currency": "USD"}, path=path)
    assert refused.status_code == 422
    assert refused.json["error"]["code"] == "idempotency_key_reused"
    assert count(EscrowRefund) == 1
    assert check_ledger().ok


def test_concurrent_calls_with_one_key_make_one_payout(app, client, app_context):
    publisher = connected_publisher(earned=1000_00)
    api_key = make_api_key(publisher)

    def call(_i):
        with app.test_client() as own:
            answer = withdraw(own, api_key, {"amount": 100_00, "currency": "USD"})
            return answer.status_code, answer.json["id"]

    results = run_in_threads(app, 8, call)
    assert sorted(status for status, _id in results) == [200] * 7 + [201], results
    assert len({payout_id for _status, payout_id in results}) == 1
    assert count(Payout) == 1
    assert ledger.balance(AccountKind.PAYOUT_IN_FLIGHT, publisher.id, "USD") == 100_00


def test_the_openapi_document_describes_the_header_and_the_replay(app, client, app_context):
    with app.app_context():
        spec = build_spec(app)
    for path in ("/api/v1/withdrawals", "/api/v1/escrow/withdrawals"):
        operation = spec["paths"][path]["post"]
        assert "Idempotency-Key" in operation["description"]
        assert "idempotency_key_reused" in operation["responses"]["422"]["description"]
    api_key = make_api_key(connected_publisher(earned=100_00))
    withdraw(client, api_key, {"amount": 100_00, "currency": "USD"})
    replayed = withdraw(client, api_key, {"amount": 100_00, "currency": "USD"})
    jsonschema.validate(replayed.json, response_schema(spec, "/api/v1/withdrawals", "post", 200))
    refused = withdraw(client, api_key, {"amount": 50_00, "currency": "USD"})
    jsonschema.validate(refused.json, response_schema(spec, "/api/v1/withdrawals", "post", 422))
