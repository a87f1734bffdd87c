"""Deposits through Stripe Checkout (the local fake): only the signed webhook credits escrow."""

import json
import time

from sqlalchemy import func, select

from cpa_network.extensions import db
from payouts import escrow
from payouts.invariants import check_ledger
from payouts.models import Deposit, LedgerTransaction, StripeEvent
from tests.factories import make_user
from tests.payouts.conftest import deliver


def start_checkout(client, amount="10000.00", currency="USD"):
    """An advertiser confirms a deposit on the balance page and is sent to Stripe Checkout."""
    return client.submit("/balance/deposit", {"amount": amount, "currency": currency,
                                              "confirmed": "yes"}, page="/balance")


def paid_checkout(client, stripe_fake, amount: str, currency: str = "USD", paid: bool = True):
    """adv@example.com signs in, confirms a deposit and pays on Checkout: (their id, session)."""
    advertiser_id = make_user("advertiser", email="adv@example.com").id
    client.login("adv@example.com")
    start_checkout(client, amount, currency)
    return advertiser_id, stripe_fake.complete_checkout(the_deposit().checkout_session_id, paid)


def the_deposit() -> Deposit:
    db.session.expire_all()
    return db.session.scalar(select(Deposit))


def ledger_transactions() -> int:
    return db.session.scalar(select(func.count(LedgerTransaction.id)))


def test_advertiser_deposits_10000_through_checkout_and_the_webhook_credits_it(
        client, app_context, stripe_fake):
    advertiser = make_user("advertiser", email="adv@example.com")
    client.login("adv@example.com")
    assert "Sandbox" not in client.get("/balance").get_data(as_text=True)

    response = start_checkout(client)
    deposit = the_deposit()
    assert response.status_code == 302 and response.headers["Location"] == deposit.checkout_url
    assert deposit.status == "pending" and deposit.amount == 10_000_00
    (call,) = stripe_fake.received("POST", "/v1/checkout/sessions")
    assert call.params["mode"] == "payment"
    assert call.params["line_items"][0]["price_data"] == {
        "currency": "usd", "unit_amount": "1000000", "product_data": {"name": "Escrow top-up"}}
    assert call.params["metadata"] == {"deposit_id": str(deposit.id),
                                       "advertiser_id": str(advertiser.id)}
    assert call.params["payment_intent_data"]["transfer_group"] == f"deposit_{deposit.id}"
    assert call.params["success_url"].endswith(f"/balance/deposits/{deposit.id}")
    assert call.headers["idempotency-key"] == f"deposit-{deposit.id}-checkout"
    assert escrow.escrow_balance(advertiser.id, "USD") == 0  # nothing until Stripe confirms

    session = stripe_fake.complete_checkout(deposit.checkout_session_id)
    answer = deliver(client, stripe_fake.event("checkout.session.completed", session))
    assert answer.status_code == 200 and answer.json["outcome"] == "credited"
    assert escrow.escrow_balance(advertiser.id, "USD") == 10_000_00
    deposit = the_deposit()
    assert deposit.status == "succeeded" and deposit.payment_intent_id == session["payment_intent"]
    assert check_ledger().ok


def test_the_same_event_delivered_three_times_credits_once(client, app_context, stripe_fake):
    advertiser_id, session = paid_checkout(client, stripe_fake, "250.00")
    event = stripe_fake.event("checkout.session.completed", session)
    outcomes = [deliver(client, event).json["outcome"] for _ in range(3)]
    assert outcomes == ["credited", "duplicate", "duplicate"]
    # Stripe also sends async_payment_succeeded for some methods: a new event, the same money.
    later = deliver(client, stripe_fake.event("checkout.session.async_payment_succeeded", session))
    assert later.json["outcome"] == "already_credited"
    assert escrow.escrow_balance(advertiser_id, "USD") == 250_00
    assert ledger_transactions() == 1
    assert db.session.scalar(select(func.count(StripeEvent.id))) == 2


def test_events_out_of_order_never_undo_a_credit(client, app_context, stripe_fake):
    """A bank debit: completed (unpaid) then async_payment_succeeded - delivered backwards,
    with a late expiry thrown in."""
    advertiser_id, completed_unpaid = paid_checkout(client, stripe_fake, "75.50", "EUR",
                                                    paid=False)
    succeeded = dict(completed_unpaid, payment_status="paid")
    events = [stripe_fake.event("checkout.session.async_payment_succeeded", succeeded),
              stripe_fake.event("checkout.session.completed", completed_unpaid),
              stripe_fake.event("checkout.session.expired", dict(succeeded, status="expired"))]
    outcomes = [deliver(client, event).json["outcome"] for event in events]
    assert outcomes == ["credited", "awaiting_payment", "unchanged"]
    assert the_deposit().status == "succeeded"
    assert escrow.escrow_balance(advertiser_id, "EUR") == 75_50


def test_an_async_payment_that_fails_leaves_escrow_untouched(client, app_context, stripe_fake):
    advertiser_id, session = paid_checkout(client, stripe_fake, "80.00", paid=False)
    deliver(client, stripe_fake.event("checkout.session.completed", session))
    failed = deliver(client, stripe_fake.event("checkout.session.async_payment_failed", session))
    assert failed.json["outcome"] == "failed"
    assert the_deposit().status == "failed"
    assert escrow.escrow_balance(advertiser_id, "USD") == 0


def test_tampered_stale_and_unsigned_webhooks_get_400_and_change_nothing(
        client, app_context, stripe_fake):
    advertiser_id, session = paid_checkout(client, stripe_fake, "100.00")
    event = stripe_fake.event("checkout.session.completed", session)

    tampered = json.dumps(event).replace('"amount_total": 10000', '"amount_total": 99999900')
    attempts = [
        deliver(client, event, body=tampered.encode()),  # signed the original, sent another body
        deliver(client, event, timestamp=int(time.time()) - 600),  # ten minutes old
        deliver(client, event, secret="whsec_someone_else"),
        client.post("/webhooks/stripe", data=json.dumps(event)),  # no signature at all
    ]
    assert [a.status_code for a in attempts] == [400, 400, 400, 400]
    assert {a.json["error"]["code"] for a in attempts} == {"signature_invalid"}
    assert escrow.escrow_balance(advertiser_id, "USD") == 0
    assert db.session.scalar(select(func.count(StripeEvent.id))) == 0
    assert the_deposit().status == "pending"
    # The genuine delivery still works afterwards.
    assert deliver(client, event).json["outcome"] == "credited"


def test_the_webhook_arrives_before_the_payer_returns_from_checkout(
        client, app_context, stripe_fake):
    advertiser_id, session = paid_checkout(client, stripe_fake, "500.00")
    deposit = the_deposit()
    deliver(client, stripe_fake.event("checkout.session.completed", session))

    page = client.get(f"/balance/deposits/{deposit.id}?session_id={session['id']}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "The money is in your escrow." in html
    assert escrow.escrow_balance(advertiser_id, "USD") == 500_00
    assert ledger_transactions() == 1
    assert not stripe_fake.received("GET")  # credited already: no need to ask Stripe


def test_returning_before_the_webhook_shows_the_payment_but_credits_nothing(
        client, app_context, stripe_fake):
    advertiser_id, _ = paid_checkout(client, stripe_fake, "500.00")
    deposit = the_deposit()
    html = client.get(f"/balance/deposits/{deposit.id}").get_data(as_text=True)
    assert "Stripe has your payment." in html
    assert stripe_fake.received("GET", f"/v1/checkout/sessions/{deposit.checkout_session_id}")
    assert escrow.escrow_balance(advertiser_id, "USD") == 0


def test_a_webhook_for_a_session_that_does_not_match_its_deposit_credits_nothing(
        client, app_context, stripe_fake):
    advertiser_id, session = paid_checkout(client, stripe_fake, "20.00")
    forged = dict(session, amount_total=2_000_000_00)  # signed, but not what we asked for
    assert deliver(client, stripe_fake.event("checkout.session.completed", forged)).json[
        "outcome"] == "unknown_deposit"
    assert escrow.escrow_balance(advertiser_id, "USD") == 0


def test_checkout_refused_by_stripe_marks_the_deposit_failed(client, app_context, stripe_fake):
    make_user("advertiser", email="adv@example.com")
    client.login("adv@example.com")
    stripe_fake.fail_next("POST", "/v1/checkout/sessions", status=400,
                          type_="invalid_request_error", code="amount_too_large", times=None)
    response = start_checkout(client)
    assert response.status_code == 302 and response.headers["Location"] == "/balance"
    assert "could not complete the request" in client.get("/balance").get_data(as_text=True)
    assert the_deposit().status == "failed"
    assert ledger_transactions() == 0


def test_a_transient_stripe_error_is_retried_with_the_same_idempotency_key(
        client, app_context, stripe_fake):
    make_user("advertiser", email="adv@example.com")
    client.login("adv@example.com")
    stripe_fake.fail_next("POST", "/v1/checkout/sessions", status=500, times=1)
    response = start_checkout(client)
    calls = stripe_fake.received("POST", "/v1/checkout/sessions")
    assert response.status_code == 302 and len(calls) == 2
    assert calls[0].headers["idempotency-key"] == calls[1].headers["idempotency-key"]
    assert the_deposit().status == "pending"
