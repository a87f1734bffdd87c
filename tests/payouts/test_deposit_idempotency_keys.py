"""`Idempotency-Key` on POST /api/v1/deposits: a retried call answers the deposit the first one
made and opens no second Checkout; the same key with another amount, currency or account is
refused; keys are each user's own; concurrent twins make one deposit (PostgreSQL)."""

import jsonschema
import pytest
from sqlalchemy import select

from cpa_network.api.openapi import build_spec
from cpa_network.extensions import db
from payouts import escrow
from payouts.invariants import check_ledger
from payouts.models import Deposit
from tests.cpa_network.test_openapi import response_schema
from tests.factories import make_api_key, make_user
from tests.payouts.test_api import bearer
from tests.payouts.test_idempotency_keys import KEY, count
from tests.payouts.test_ledger_concurrency import run_in_threads

CHECKOUTS = "/v1/checkout/sessions"


def deposit(client, api_key, body, idempotency_key=KEY):
    headers = bearer(api_key)
    if idempotency_key is not None:
        headers["Idempotency-Key"] = idempotency_key
    return client.post("/api/v1/deposits", json=body, headers=headers)


def deposits() -> list[Deposit]:
    db.session.expire_all()
    return list(db.session.scalars(select(Deposit).order_by(Deposit.id)))


def test_a_sandbox_deposit_retried_with_its_key_is_credited_once(client, app_context):
    advertiser = make_user("advertiser")
    api_key = make_api_key(advertiser)
    first = deposit(client, api_key, {"amount": 100_00, "currency": "USD"})
    again = deposit(client, api_key, {"amount": 100_00, "currency": "usd"})
    assert (first.status_code, again.status_code) == (201, 200), again.json
    assert again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert count(Deposit) == 1
    assert escrow.escrow_balance(advertiser.id, "USD") == 100_00
    other_key = deposit(client, api_key, {"amount": 100_00, "currency": "USD"},
                        idempotency_key="another-deposit")
    no_key = deposit(client, api_key, {"amount": 100_00, "currency": "USD"}, None)
    assert (other_key.status_code, no_key.status_code) == (201, 201)
    assert "Idempotent-Replayed" not in no_key.headers
    assert [d.request_key for d in deposits()] == [
        f"api:{advertiser.id}:{KEY}", f"api:{advertiser.id}:another-deposit", None]
    assert escrow.escrow_balance(advertiser.id, "USD") == 300_00
    assert check_ledger().ok


def test_a_stripe_deposit_retried_with_its_key_opens_one_checkout(
        client, app_context, stripe_fake):
    api_key = make_api_key(make_user("advertiser"))
    first = deposit(client, api_key, {"amount": 50_00, "currency": "EUR"})
    again = deposit(client, api_key, {"amount": 50_00, "currency": "EUR"})
    assert (first.status_code, again.status_code) == (201, 200), again.json
    assert again.json["id"] == first.json["id"] and again.json["status"] == "pending"
    assert again.json["checkout_url"] == first.json["checkout_url"]
    assert len(stripe_fake.received("POST", CHECKOUTS)) == 1
    assert count(Deposit) == 1


@pytest.mark.parametrize("changed", [{"amount": 90_00}, {"currency": "EUR"}])
def test_the_same_key_for_another_deposit_is_refused(client, app_context, stripe_fake, changed):
    api_key = make_api_key(make_user("advertiser"))
    assert deposit(client, api_key, {"amount": 100_00, "currency": "USD"}).status_code == 201
    refused = deposit(client, api_key, {"amount": 100_00, "currency": "USD", **changed})
    assert refused.status_code == 422
    assert refused.json["error"]["code"] == "idempotency_key_reused"
    assert count(Deposit) == 1
    assert len(stripe_fake.received("POST", CHECKOUTS)) == 1


def test_the_same_key_for_the_other_account_is_refused(client, app_context):
    both = make_user("advertiser", "publisher")
    api_key = make_api_key(both)
    assert deposit(client, api_key, {"amount": 10_00, "currency": "USD"}).status_code == 201
    refused = deposit(client, api_key, {"amount": 10_00, "currency": "USD",
                                        "account": "available"})
    assert refused.status_code == 422
    assert refused.json["error"]["code"] == "idempotency_key_reused"
    same = deposit(client, api_key, {"amount": 10_00, "currency": "USD", "account": "escrow"})
    assert same.status_code == 200  # the default account named: the same request
    assert count(Deposit) == 1


def test_keys_are_each_users_own(client, app_context):
    first, second = (make_api_key(make_user("advertiser")) for _ in range(2))
    made = [deposit(client, api_key, {"amount": 10_00, "currency": "USD"})
            for api_key in (first, second)]
    assert [m.status_code for m in made] == [201, 201]
    assert made[0].json["id"] != made[1].json["id"]
    assert count(Deposit) == 2


@pytest.mark.parametrize("bad", ["", "x" * 65, "has space", "ключ"])
def test_a_malformed_key_is_refused(client, app_context, bad):
    api_key = make_api_key(make_user("advertiser"))
    refused = client.post("/api/v1/deposits", json={"amount": 10_00, "currency": "USD"},
                          # as the bytes arrive: UTF-8, read by the server as Latin-1
                          headers={**bearer(api_key),
                                   "Idempotency-Key": bad.encode().decode("latin-1")})
    assert refused.status_code == 422
    assert refused.json["error"]["code"] == "idempotency_key_invalid"
    assert count(Deposit) == 0


def test_a_checkout_stripe_refused_keeps_no_key(client, app_context, stripe_fake):
    """A refused request keeps nothing: sent again with its key, it is tried again."""
    api_key = make_api_key(make_user("advertiser"))
    stripe_fake.fail_next("POST", CHECKOUTS, status=400, type_="invalid_request_error",
                          code="amount_too_large")
    refused = deposit(client, api_key, {"amount": 100_00, "currency": "USD"})
    assert refused.status_code == 502, refused.json
    again = deposit(client, api_key, {"amount": 100_00, "currency": "USD"})
    assert again.status_code == 201 and again.json["status"] == "pending"
    failed, made = deposits()
    assert (failed.status, failed.request_key) == ("failed", None)
    assert made.request_key.endswith(f":{KEY}") and made.id == again.json["id"]


def test_concurrent_calls_with_one_key_make_one_deposit(app, client, app_context, stripe_fake,
                                                        monkeypatch):
    """Eight copies of one call at once, the first held at Stripe: one deposit, one Checkout;
    the unique index makes the others wait for the first's row and answer it."""
    # The default timeout (another test may leave a short one): the SDK must not retry here.
    monkeypatch.setitem(app.config, "STRIPE_TIMEOUT_S", 20.0)
    app.extensions.pop("cpa_gateway", None)
    advertiser = make_user("advertiser")
    api_key = make_api_key(advertiser)
    stripe_fake.delay_next("POST", CHECKOUTS, 0.5)

    def call(_i):
        with app.test_client() as own:
            answer = deposit(own, api_key, {"amount": 100_00, "currency": "USD"})
            return answer.status_code, answer.json["id"]

    results = run_in_threads(app, 8, call)
    assert sorted(status for status, _id in results) == [200] * 7 + [201], results
    assert len({deposit_id for _status, deposit_id in results}) == 1
    assert len(stripe_fake.received("POST", CHECKOUTS)) == 1
    (made,) = deposits()
    assert made.status == "pending" and made.checkout_url
    assert made.request_key == f"api:{advertiser.id}:{KEY}"


def test_concurrent_sandbox_calls_with_one_key_credit_once(app, client, app_context):
    advertiser = make_user("advertiser")
    api_key = make_api_key(advertiser)

    def call(_i):
        with app.test_client() as own:
            return deposit(own, api_key, {"amount": 100_00, "currency": "USD"}).status_code

    assert sorted(run_in_threads(app, 8, call)) == [200] * 7 + [201]
    assert count(Deposit) == 1
    assert escrow.escrow_balance(advertiser.id, "USD") == 100_00
    assert check_ledger().ok


def test_the_openapi_document_describes_the_header_and_the_replay(app, client, app_context):
    with app.app_context():
        spec = build_spec(app)
    operation = spec["paths"]["/api/v1/deposits"]["post"]
    assert "Idempotency-Key" in operation["description"]
    assert "idempotency_key_reused" in operation["responses"]["422"]["description"]
    api_key = make_api_key(make_user("advertiser"))
    deposit(client, api_key, {"amount": 10_00, "currency": "USD"})
    replayed = deposit(client, api_key, {"amount": 10_00, "currency": "USD"})
    assert replayed.status_code == 200
    jsonschema.validate(replayed.json, response_schema(spec, "/api/v1/deposits", "post", 200))
    refused = deposit(client, api_key, {"amount": 5_00, "currency": "USD"})
    jsonschema.validate(refused.json, response_schema(spec, "/api/v1/deposits", "post", 422))
