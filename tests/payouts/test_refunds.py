"""Withdrawing unused escrow: refunds of deposits, never of money held for conversions."""

import pytest
from sqlalchemy import select

from cpa_network.extensions import db
from payouts import escrow, ledger, refunds
from payouts.gateway import GatewayError
from payouts.invariants import check_ledger
from payouts.ledger import InsufficientFunds
from payouts.models import AccountKind, Deposit, EscrowRefund
from payouts.tasks import send_refund
from tests.conftest import run_worker_burst
from tests.factories import make_user
from tests.payouts.conftest import deliver
from tests.payouts.helpers import ask_and_confirm
from tests.payouts.test_stripe_deposits import paid_checkout, the_deposit


def stripe_funded_advertiser(client, stripe_fake, amount="1000.00"):
    """adv@example.com (its id), logged in, with a deposit paid through Checkout and credited."""
    advertiser_id, session = paid_checkout(client, stripe_fake, amount)
    deliver(client, stripe_fake.event("checkout.session.completed", session))
    return advertiser_id, session


def withdraw(client, amount: str, currency: str = "USD"):
    return ask_and_confirm(client, "/balance/withdraw", amount, "/balance", currency)


def the_refund() -> EscrowRefund:
    db.session.expire_all()
    return db.session.scalar(select(EscrowRefund))


def test_advertiser_withdraws_300_of_1000_through_a_stripe_refund(client, app_context, stripe_fake):
    advertiser_id, session = stripe_funded_advertiser(client, stripe_fake)
    assert withdraw(client, "300.00").status_code == 302
    # Reserved at once: out of escrow, in flight until Stripe answers.
    assert escrow.escrow_balance(advertiser_id, "USD") == 700_00
    assert ledger.balance(AccountKind.REFUND_IN_FLIGHT, advertiser_id, "USD") == 300_00
    refund_id = the_refund().id
    assert the_refund().status == "pending"

    send_refund(refund_id)  # the job (its own transaction: it commits and ends the session)
    send_refund(refund_id)  # a job that runs twice refunds once
    (call,) = stripe_fake.received("POST", "/v1/refunds")
    assert call.params["payment_intent"] == session["payment_intent"]
    assert call.params["amount"] == "30000"
    assert call.headers["idempotency-key"] == f"escrow-refund-{refund_id}"
    refund = the_refund()
    assert refund.status == "succeeded" and refund.gateway_refund_id.startswith("re_")
    assert ledger.balance(AccountKind.REFUND_IN_FLIGHT, advertiser_id, "USD") == 0
    assert ledger.balance(AccountKind.GATEWAY_CLEARING, None, "USD") == -700_00
    assert the_deposit().refunded_amount == 300_00
    assert check_ledger().ok


def test_money_on_hold_for_pending_conversions_cannot_be_withdrawn(
        client, app_context, stripe_fake):
    advertiser_id, _ = stripe_funded_advertiser(client, stripe_fake, "100.00")
    escrow.hold_conversion(1, advertiser_id, make_user("publisher").id, "USD",
                           payout=54_00, fee=6_00)
    db.session.commit()
    response = withdraw(client, "50.00")
    assert response.status_code == 302
    html = client.get("/balance").get_data(as_text=True)
    assert "You can withdraw at most $40.00" in html
    assert escrow.escrow_balance(advertiser_id, "USD") == 40_00
    assert escrow.on_hold(advertiser_id, "USD") == 60_00
    assert the_refund() is None
    with pytest.raises(InsufficientFunds):
        refunds.withdraw_escrow(advertiser_id, 40_01, "USD")


def test_a_refund_stripe_refuses_returns_the_money_to_escrow(client, app_context, stripe_fake):
    advertiser_id, _ = stripe_funded_advertiser(client, stripe_fake, "100.00")
    withdraw(client, "100.00")
    stripe_fake.fail_next("POST", "/v1/refunds", status=400, type_="invalid_request_error",
                          code="charge_disputed", times=None)
    send_refund(the_refund().id)
    refund = the_refund()
    assert refund.status == "failed" and refund.failure_reason == "charge_disputed"
    assert escrow.escrow_balance(advertiser_id, "USD") == 100_00
    assert the_deposit().refunded_amount == 0
    assert check_ledger().ok


def test_a_stripe_outage_keeps_the_money_in_flight_for_the_retry(client, app_context, stripe_fake):
    advertiser_id, _ = stripe_funded_advertiser(client, stripe_fake, "100.00")
    withdraw(client, "60.00")
    refund_id = the_refund().id
    stripe_fake.fail_next("POST", "/v1/refunds", status=503, times=3)  # beyond the SDK's retries
    with pytest.raises(GatewayError) as outage:
        send_refund(refund_id)
    assert outage.value.retryable
    assert the_refund().status == "pending"
    assert ledger.balance(AccountKind.REFUND_IN_FLIGHT, advertiser_id, "USD") == 60_00
    send_refund(refund_id)  # RQ's retry, once Stripe is back
    assert the_refund().status == "succeeded"
    assert escrow.escrow_balance(advertiser_id, "USD") == 40_00


def test_an_asynchronous_refund_settles_on_its_webhook(client, app_context, stripe_fake):
    advertiser_id, _ = stripe_funded_advertiser(client, stripe_fake, "100.00")
    stripe_fake.refund_status = "pending"
    withdraw(client, "100.00")
    send_refund(the_refund().id)
    refund = the_refund()
    assert refund.status == "pending" and refund.gateway_refund_id
    stripe_refund = dict(stripe_fake.objects[refund.gateway_refund_id], status="succeeded")
    answer = deliver(client, stripe_fake.event("refund.updated", stripe_refund))
    assert answer.json["outcome"] == "refund_succeeded"
    assert ledger.balance(AccountKind.REFUND_IN_FLIGHT, advertiser_id, "USD") == 0
    assert check_ledger().ok


def test_a_refund_that_fails_after_it_succeeded_returns_the_money_to_escrow(
        client, app_context, stripe_fake):
    advertiser_id, _ = stripe_funded_advertiser(client, stripe_fake, "1000.00")
    withdraw(client, "300.00")
    send_refund(the_refund().id)
    refund = the_refund()
    assert refund.status == "succeeded" and escrow.escrow_balance(advertiser_id, "USD") == 700_00
    # Later the card turns out closed: Stripe puts the money back in the network's balance.
    failed = dict(stripe_fake.objects[refund.gateway_refund_id], status="failed",
                  failure_reason="expired_or_canceled_card")
    for _delivery in range(2):  # a webhook may come twice (and under two event types)
        answer = deliver(client, stripe_fake.event("refund.failed", failed))
        assert answer.json["outcome"] == "refund_failed"
    assert the_refund().status == "failed"
    assert escrow.escrow_balance(advertiser_id, "USD") == 1000_00
    assert db.session.scalar(select(Deposit)).refunded_amount == 0
    assert check_ledger().ok


def test_a_withdrawal_spans_deposits_newest_first(app_context):
    from payouts import deposits
    from payouts.gateway import SandboxGateway

    advertiser = make_user("advertiser")
    for cents in (100_00, 50_00):
        made = deposits.create_deposit(advertiser, cents, "USD", gateway=SandboxGateway())
        deposits.open_checkout(made, "", "", gateway=SandboxGateway())
    made = refunds.withdraw_escrow(advertiser.id, 80_00, "USD")
    assert [(r.deposit.amount, r.amount) for r in made] == [(50_00, 50_00), (100_00, 30_00)]
    db.session.commit()
    assert sorted(d.refunded_amount for d in db.session.scalars(select(Deposit))) == [
        30_00, 50_00]


def test_a_sandbox_withdrawal_is_refunded_by_a_real_worker(app, client, app_context):
    advertiser = make_user("advertiser", email="adv@example.com")
    client.login("adv@example.com")
    client.submit("/balance/deposit", {"amount": "200", "currency": "USD", "confirmed": "yes"},
                  page="/balance")
    withdraw(client, "120.50")
    result = run_worker_burst(app, "--queue", "payouts")
    assert result.returncode == 0, result.stderr
    assert the_refund().status == "succeeded"
    assert escrow.escrow_balance(advertiser.id, "USD") == 79_50
    assert ledger.balance(AccountKind.REFUND_IN_FLIGHT, advertiser.id, "USD") == 0
