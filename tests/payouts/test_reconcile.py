"""The reconciler settles what crashed jobs left behind, asking Stripe before any retry."""

import threading
from datetime import timedelta

from sqlalchemy import update

from cpa_network.database import utcnow
from cpa_network.extensions import db
from cpa_network.jobs import get_queue
from payouts import reconcile, transfers, withdrawals
from payouts.invariants import check_ledger
from payouts.models import Payout
from payouts.tasks import reconcile_payouts
from tests.conftest import run_worker_burst
from tests.factories import make_user
from tests.payouts.helpers import connect_account, connect_stripe_account, earn, the_payout


def crashed_payout(fake, amount: int = 75_00) -> Payout:
    """A payout whose job was killed an hour ago after marking it `submitting` (its queued job
    is gone too): the state a SIGKILL leaves, before or after Stripe accepted the transfer."""
    publisher = make_user("publisher")
    connect_stripe_account(publisher, fake)
    earn(publisher.id, 100_00)
    payout = withdrawals.request_withdrawal(publisher, amount, "USD")
    db.session.commit()
    get_queue("payouts").empty()
    transfers.claim([payout.id])
    db.session.commit()
    db.session.execute(update(Payout).where(Payout.id == payout.id).values(
        submitting_at=utcnow() - timedelta(hours=1)))
    db.session.commit()
    return the_payout(payout.id)


def orphan_transfer(fake, payout: Payout) -> dict:
    """The transfer the killed job got Stripe to make, sent exactly as the job sends it."""
    return fake.post("/v1/transfers", {
        "amount": str(payout.amount), "currency": "usd", "destination": payout.destination,
        "transfer_group": payout.transfer_group, "description": f"cpa-network payout {payout.id}",
        "metadata": {"payout_id": str(payout.id), "publisher_id": str(payout.publisher_id)}},
        idempotency_key=payout.idempotency_key)


def test_the_reconciler_settles_an_orphaned_transfer_without_a_new_one(
        app, app_context, stripe_workers):
    payout = crashed_payout(stripe_workers)
    orphan = orphan_transfer(stripe_workers, payout)
    stripe_workers.forget_idempotency_keys()  # more than 24 h later: the key protects no more
    get_queue("payouts").enqueue(reconcile_payouts)  # as the beat does every 10 minutes
    result = run_worker_burst(app, "--queue", "payouts")
    assert result.returncode == 0, result.stderr
    assert len(stripe_workers.received("POST", "/v1/transfers")) == 1  # the orphan only
    (call,) = stripe_workers.received("GET", "/v1/transfers")
    assert call.params == {"transfer_group": payout.transfer_group, "limit": "100"}
    paid = the_payout(payout.id)
    assert paid.status == "paid" and paid.transfer_id == orphan["id"]
    assert check_ledger().ok


def test_a_stuck_payout_without_a_transfer_is_retried_and_paid_once(
        app, app_context, stripe_workers):
    payout = crashed_payout(stripe_workers)  # killed before Stripe saw anything
    get_queue("payouts").enqueue(reconcile_payouts)
    assert run_worker_burst(app, "--queue", "payouts").returncode == 0
    assert the_payout(payout.id).status == "paid"
    assert len(stripe_workers.transfers()) == 1
    assert check_ledger().ok


def test_a_payout_killed_after_storing_its_transfer_is_booked(app_context, stripe_fake,
                                                              fast_retries):
    payout = crashed_payout(stripe_fake)
    assert transfers.submit(payout.id, first_attempt=False) == "submitted"
    db.session.commit()  # killed here: the transfer id is stored, the ledger not booked
    assert reconcile.reconcile_payouts() == {"submitted_paid": 1}
    assert the_payout(payout.id).status == "paid"
    assert len(stripe_fake.transfers()) == 1
    assert check_ledger().ok


def test_the_reconciler_leaves_a_payout_a_live_job_holds(app, app_context, stripe_fake,
                                                         fast_retries):
    payout = crashed_payout(stripe_fake)
    locked, release = threading.Event(), threading.Event()

    def live_job():
        with app.app_context():
            transfers.lock_payout(payout.id)
            locked.set()
            release.wait(10)
            db.session.rollback()
            db.session.remove()

    holder = threading.Thread(target=live_job)
    holder.start()
    locked.wait(10)
    try:
        assert reconcile.reconcile_payouts() == {"submitting_busy": 1}
    finally:
        release.set()
        holder.join(10)
    assert stripe_fake.received("GET", "/v1/transfers") == []


def test_a_requested_payout_whose_job_was_lost_is_queued_again(app_context, fast_retries):
    publisher = make_user("publisher")
    connect_account(publisher)
    earn(publisher.id, 80_00)
    payout = withdrawals.request_withdrawal(publisher, 80_00, "USD")
    db.session.commit()
    later = utcnow() + timedelta(hours=1)
    assert reconcile.reconcile_payouts(now=later) == {"requested_queued": 1}  # RQ has it
    get_queue("payouts").empty()  # Redis lost it
    assert reconcile.reconcile_payouts(now=later) == {"requested_requeued": 1}
    assert get_queue("payouts").job_ids == [f"payout-{payout.id}"]


def test_payouts_under_review_wait_for_the_operator(app, app_context, stripe_workers):
    payout = crashed_payout(stripe_workers)
    db.session.execute(update(Payout).where(Payout.id == payout.id).values(needs_review=True))
    db.session.commit()
    assert reconcile.reconcile_payouts() == {}
    reconcile.retry_payout(payout.id)  # the operator looked and retries it
    db.session.commit()
    assert not the_payout(payout.id).needs_review
    assert run_worker_burst(app, "--queue", "payouts").returncode == 0
    assert the_payout(payout.id).status == "paid" and len(stripe_workers.transfers()) == 1
