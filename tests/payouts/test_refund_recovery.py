"""Escrow refunds that a crash, a forgotten idempotency key or an ambiguous refusal left behind:
the job looks for the refund at Stripe before making one, stops for an operator when the money
may already be back on the card, and the reconciler queues again what was left pending."""

from datetime import timedelta

import pytest
from sqlalchemy import update

from cpa_network.database import utcnow
from cpa_network.extensions import db
from cpa_network.jobs import get_queue
from payouts import escrow, ledger, reconcile
from payouts.invariants import check_ledger
from payouts.models import AccountKind, EscrowRefund
from payouts.tasks import reconcile_payouts, send_refund
from tests.conftest import run_worker_burst
from tests.factories import make_user
from tests.payouts.test_refunds import stripe_funded_advertiser, the_refund, withdraw
from tests.payouts.test_stripe_deposits import the_deposit


def orphan_refund(fake, refund: EscrowRefund, **changes) -> dict:
    """The refund a killed job got Stripe to make, sent as the job sends it (or with `changes`)."""
    params = {"payment_intent": the_deposit().payment_intent_id, "amount": str(refund.amount),
              "metadata": {"refund_id": str(refund.id), "deposit_id": str(refund.deposit_id)},
              **changes}
    return fake.post("/v1/refunds", params, idempotency_key=f"escrow-refund-{refund.id}")


def refunds_at(fake) -> list[dict]:
    return [o for o in fake.objects.values() if o.get("object") == "refund"]


def in_flight(advertiser_id: int) -> int:
    return ledger.balance(AccountKind.REFUND_IN_FLIGHT, advertiser_id, "USD")


def test_a_refund_retried_after_stripe_forgot_its_key_adopts_the_one_it_made(
        client, app_context, stripe_fake):
    advertiser_id, _session = stripe_funded_advertiser(client, stripe_fake, "1000.00")
    assert withdraw(client, "300.00").status_code == 302
    refund = the_refund()
    # The job called Stripe and was killed before its commit: the refund exists at Stripe,
    # the row is still `pending`; more than 24 hours later an operator requeues the job.
    orphan = orphan_refund(stripe_fake, refund)
    stripe_fake.forget_idempotency_keys()
    send_refund(refund.id)
    assert len(refunds_at(stripe_fake)) == 1, "the refund was made twice at Stripe"
    assert len(stripe_fake.received("POST", "/v1/refunds")) == 1  # the orphan only
    (looked,) = stripe_fake.received("GET", "/v1/refunds")
    assert looked.params == {"payment_intent": orphan["payment_intent"], "limit": "100"}
    assert stripe_fake.objects[orphan["payment_intent"]]["amount_refunded"] == 300_00
    refund = the_refund()
    assert refund.status == "succeeded" and refund.gateway_refund_id == orphan["id"]
    assert escrow.escrow_balance(advertiser_id, "USD") == 700_00
    assert in_flight(advertiser_id) == 0
    assert check_ledger().ok


def test_a_first_attempt_looks_then_makes_the_refund(client, app_context, stripe_fake):
    stripe_funded_advertiser(client, stripe_fake, "100.00")
    stripe_fake.objects["re_someone_elses"] = {  # another row's refund of the same payment
        "id": "re_someone_elses", "object": "refund", "amount": 1_00, "currency": "usd",
        "payment_intent": the_deposit().payment_intent_id, "status": "succeeded",
        "metadata": {"refund_id": "999"}}
    withdraw(client, "40.00")
    send_refund(the_refund().id)
    refund = the_refund()
    assert refund.status == "succeeded" and refund.gateway_refund_id != "re_someone_elses"
    assert len(stripe_fake.received("POST", "/v1/refunds")) == 1


def test_charge_already_refunded_stops_the_refund_for_review(client, app_context, stripe_fake):
    advertiser_id, _session = stripe_funded_advertiser(client, stripe_fake, "1000.00")
    withdraw(client, "300.00")
    # Someone refunded the whole payment from Stripe's dashboard, without our metadata.
    stripe_fake.post("/v1/refunds", {"payment_intent": the_deposit().payment_intent_id})
    send_refund(the_refund().id)
    refund = the_refund()
    assert refund.status == "pending" and refund.needs_review
    assert refund.last_error.startswith("charge_already_refunded")
    # Not "failed": returning the $300 to escrow could let it be refunded a second time.
    assert in_flight(advertiser_id) == 300_00
    assert escrow.escrow_balance(advertiser_id, "USD") == 700_00
    assert the_deposit().refunded_amount == 300_00
    send_refund(refund.id)  # RQ or an operator's requeue: still nothing until someone looks
    assert len(stripe_fake.received("POST", "/v1/refunds")) == 2  # the dashboard's and ours
    assert check_ledger().ok


def test_a_key_stripe_saw_with_other_parameters_stops_the_refund_for_review(
        client, app_context, stripe_fake):
    advertiser_id, _session = stripe_funded_advertiser(client, stripe_fake, "1000.00")
    withdraw(client, "300.00")
    refund = the_refund()
    # Some other request used this refund's key (with no metadata naming it) within 24 hours.
    orphan_refund(stripe_fake, refund, amount="100", metadata={})
    send_refund(refund.id)
    refund = the_refund()
    assert refund.status == "pending" and refund.needs_review
    assert "already used with other parameters" in refund.last_error
    assert in_flight(advertiser_id) == 300_00
    assert check_ledger().ok


def test_a_found_refund_of_another_amount_stops_the_refund_for_review(
        client, app_context, stripe_fake):
    advertiser_id, _session = stripe_funded_advertiser(client, stripe_fake, "1000.00")
    withdraw(client, "300.00")
    refund = the_refund()
    orphan_refund(stripe_fake, refund, amount="25000")
    send_refund(refund.id)
    refund = the_refund()
    assert refund.needs_review and refund.gateway_refund_id is None
    assert "does not match" in refund.last_error
    assert in_flight(advertiser_id) == 300_00


@pytest.mark.parametrize("button, status, escrow_after", [
    ("refunded", "succeeded", 700_00), ("returned", "failed", 1000_00)])
def test_the_operator_books_a_refund_under_review_as_the_dashboard_shows_it(
        client, app_context, stripe_fake, button, status, escrow_after):
    advertiser_id, _session = stripe_funded_advertiser(client, stripe_fake, "1000.00")
    withdraw(client, "300.00")
    stripe_fake.post("/v1/refunds", {"payment_intent": the_deposit().payment_intent_id})
    refund_id = the_refund().id
    send_refund(refund_id)
    make_user("admin", email="ops@example.com")
    client.submit("/logout", {}, page="/dashboard")
    client.login("ops@example.com")
    html = client.get("/admin/payouts/refunds").get_data(as_text=True)
    assert "under review" in html and "charge_already_refunded" in html and "$300.00" in html
    answer = client.submit(f"/admin/payouts/refunds/{refund_id}/resolve", {"outcome": button},
                           page="/admin/payouts/refunds")
    assert answer.status_code == 302
    refund = the_refund()
    assert refund.status == status and not refund.needs_review
    assert in_flight(advertiser_id) == 0
    assert escrow.escrow_balance(advertiser_id, "USD") == escrow_after
    again = client.submit(f"/admin/payouts/refunds/{refund_id}/resolve", {"outcome": button},
                          page="/admin/payouts/refunds")
    assert again.status_code == 302  # refused: booked once
    assert "Only a refund stopped for review can be settled by hand." in client.get(
        "/admin/payouts/refunds").get_data(as_text=True)
    assert escrow.escrow_balance(advertiser_id, "USD") == escrow_after
    assert check_ledger().ok


def test_the_reconciler_requeues_a_refund_left_pending_and_the_worker_adopts_it(
        app, client, app_context, stripe_workers):
    advertiser_id, _session = stripe_funded_advertiser(client, stripe_workers, "1000.00")
    withdraw(client, "300.00")
    get_queue("payouts").empty()  # the job was killed: RQ has nothing left to run
    refund = the_refund()
    orphan = orphan_refund(stripe_workers, refund)
    stripe_workers.forget_idempotency_keys()
    db.session.execute(update(EscrowRefund).where(EscrowRefund.id == refund.id).values(
        created_at=utcnow() - timedelta(hours=1)))
    db.session.commit()
    get_queue("payouts").enqueue(reconcile_payouts)  # as the beat does every 10 minutes
    result = run_worker_burst(app, "--queue", "payouts")
    assert result.returncode == 0, result.stderr
    assert len(stripe_workers.received("POST", "/v1/refunds")) == 1  # the orphan only
    refund = the_refund()
    assert refund.status == "succeeded" and refund.gateway_refund_id == orphan["id"]
    assert in_flight(advertiser_id) == 0
    assert check_ledger().ok


def test_the_reconciler_leaves_fresh_and_reviewed_refunds_alone(
        client, app_context, stripe_fake):
    stripe_funded_advertiser(client, stripe_fake, "1000.00")
    withdraw(client, "300.00")
    assert reconcile.reconcile_payouts() == {}  # its job is queued and it is new
    get_queue("payouts").empty()
    db.session.execute(update(EscrowRefund).values(created_at=utcnow() - timedelta(hours=1),
                                                   needs_review=True))
    db.session.commit()
    assert reconcile.reconcile_payouts() == {}  # an operator's to decide
    db.session.execute(update(EscrowRefund).values(needs_review=False))
    db.session.commit()
    assert reconcile.reconcile_payouts() == {"refund_requeued": 1}
    assert get_queue("payouts").job_ids == [f"refund-{the_refund().id}"]
    assert reconcile.reconcile_payouts() == {"refund_queued": 1}  # already waiting in RQ


def test_an_asynchronous_refund_whose_webhook_was_lost_is_booked_from_stripe(
        app, client, app_context, stripe_workers):
    advertiser_id, _session = stripe_funded_advertiser(client, stripe_workers, "100.00")
    stripe_workers.refund_status = "pending"  # a payment method whose refunds take days
    withdraw(client, "100.00")
    assert run_worker_burst(app, "--queue", "payouts").returncode == 0
    refund = the_refund()
    assert refund.status == "pending" and refund.gateway_refund_id
    db.session.execute(update(EscrowRefund).values(created_at=utcnow() - timedelta(hours=1)))
    db.session.commit()

    # Still pending at Stripe: asked again, nothing booked, nothing new made.
    assert reconcile.reconcile_payouts() == {"refund_requeued": 1}
    assert run_worker_burst(app, "--queue", "payouts").returncode == 0
    assert the_refund().status == "pending" and in_flight(advertiser_id) == 100_00

    # Stripe finishes it, and its refund.updated never reaches us.
    stripe_workers.objects[refund.gateway_refund_id]["status"] = "succeeded"
    assert reconcile.reconcile_payouts() == {"refund_requeued": 1}
    assert run_worker_burst(app, "--queue", "payouts").returncode == 0
    assert the_refund().status == "succeeded" and in_flight(advertiser_id) == 0
    assert len(stripe_workers.received("POST", "/v1/refunds")) == 1
    assert reconcile.reconcile_payouts() == {}  # nothing left pending
    assert check_ledger().ok


def test_a_refund_stripe_no_longer_lists_stops_for_review_instead_of_a_second_one(
        client, app_context, stripe_fake):
    advertiser_id, _session = stripe_funded_advertiser(client, stripe_fake, "100.00")
    stripe_fake.refund_status = "pending"
    withdraw(client, "100.00")
    send_refund(the_refund().id)
    made = the_refund().gateway_refund_id
    del stripe_fake.objects[made]  # the listing no longer has it (a gateway-side mishap)
    send_refund(the_refund().id)
    refund = the_refund()
    assert refund.status == "pending" and refund.needs_review and made in refund.last_error
    assert len(stripe_fake.received("POST", "/v1/refunds")) == 1
    assert in_flight(advertiser_id) == 100_00
