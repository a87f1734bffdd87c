"""Stripe's closing events (`checkout.session.expired`, `async_payment_failed`) for a deposit we
already closed are accepted and recorded, and move nothing: refused, Stripe would send them
again for days."""

import pytest
from sqlalchemy import func, select

from cpa_network.extensions import db
from payouts import deposits, escrow
from payouts.models import DepositStatus, LedgerTransaction, StripeEvent
from tests.factories import make_user
from tests.payouts.conftest import deliver
from tests.payouts.test_stripe_deposits import start_checkout, the_deposit


def ledger_transactions() -> int:
    return db.session.scalar(select(func.count(LedgerTransaction.id)))


def the_session(stripe_fake) -> dict:
    (session,) = [o for o in stripe_fake.objects.values()
                  if isinstance(o, dict) and o.get("object") == "checkout.session"]
    return session


@pytest.fixture
def short_stripe_timeout(app, monkeypatch):
    """A 0.3 s Stripe timeout for this test only: the gateway made with it is dropped after,
    so later tests on the shared app get the configured one again."""
    monkeypatch.setitem(app.config, "STRIPE_TIMEOUT_S", 0.3)
    app.extensions.pop("cpa_gateway", None)
    yield
    app.extensions.pop("cpa_gateway", None)


def test_the_expiry_of_a_session_whose_deposit_was_marked_failed_is_accepted(
        client, app_context, stripe_fake, short_stripe_timeout):
    make_user("advertiser", email="adv@example.com")
    client.login("adv@example.com")
    # Stripe makes the session, but every answer (the SDK's retries too) comes too late.
    stripe_fake.delay_next("POST", "/v1/checkout/sessions", 1.0, times=None)
    start_checkout(client, "100.00")
    assert the_deposit().status == "failed"
    expired = dict(the_session(stripe_fake), status="expired")
    event = stripe_fake.event("checkout.session.expired", expired)
    answers = [deliver(client, event) for _attempt in range(3)]  # Stripe retries on non-2xx
    assert [a.status_code for a in answers] == [200, 200, 200], answers[0].json
    assert [a.json["outcome"] for a in answers] == ["unchanged", "duplicate", "duplicate"]
    assert db.session.get(StripeEvent, event["id"]).outcome == "unchanged"
    deposit = the_deposit()
    assert deposit.status == "failed" and deposit.credited_at is None
    assert ledger_transactions() == 0


@pytest.mark.parametrize("closed, event_type", [
    (DepositStatus.FAILED, "checkout.session.expired"),
    (DepositStatus.EXPIRED, "checkout.session.expired"),
    (DepositStatus.EXPIRED, "checkout.session.async_payment_failed"),
    (DepositStatus.FAILED, "checkout.session.async_payment_failed"),
])
def test_closing_a_closed_deposit_is_a_recorded_no_op(client, app_context, stripe_fake, closed,
                                                      event_type):
    make_user("advertiser", email="adv@example.com")
    client.login("adv@example.com")
    start_checkout(client, "100.00")
    deposits.close_deposit(deposits.lock_deposit(the_deposit().id), closed, "closed earlier")
    db.session.commit()
    answer = deliver(client, stripe_fake.event(event_type, the_session(stripe_fake)))
    assert answer.status_code == 200, answer.json
    assert answer.json["outcome"] == "unchanged"
    assert the_deposit().status == closed and ledger_transactions() == 0


def test_money_that_arrives_after_the_expiry_is_still_credited(client, app_context, stripe_fake):
    advertiser = make_user("advertiser", email="adv@example.com")
    client.login("adv@example.com")
    start_checkout(client, "100.00")
    session_id = the_deposit().checkout_session_id
    deliver(client, stripe_fake.event("checkout.session.expired",
                                      dict(the_session(stripe_fake), status="expired")))
    paid = stripe_fake.complete_checkout(session_id)
    assert deliver(client, stripe_fake.event("checkout.session.completed", paid)).json[
        "outcome"] == "credited"
    deliver(client, stripe_fake.event("checkout.session.expired", paid))  # a late straggler
    assert the_deposit().status == "succeeded"
    assert escrow.escrow_balance(advertiser.id, "USD") == 100_00
