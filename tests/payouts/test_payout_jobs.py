"""The payout job against the Stripe fake, in real worker processes: one transfer per payout,
whatever crashes, races, outages and refusals happen; the ledger balanced after each."""

import pytest
from rq import Worker
from sqlalchemy import func, select

from cpa_network.extensions import db
from cpa_network.jobs import get_queue, redis_connection
from cpa_network.notifications.models import Notification
from payouts import ledger, withdrawals
from payouts.invariants import check_ledger
from payouts.models import AccountKind, LedgerTransaction
from payouts.tasks import enqueue_payout_batches, send_payout
from tests.conftest import run_worker_burst
from tests.factories import make_user
from tests.payouts.helpers import connect_stripe_account, earn, the_payout
from tests.payouts.workers import finish, kill_work_horse, start_worker, wait_until

K = AccountKind


@pytest.fixture
def payout_id(app_context, stripe_workers):
    """pub@example.com, onboarded at the fake, earned 100.00 and asked for 60.00 (queued)."""
    publisher = make_user("publisher", email="pub@example.com")
    connect_stripe_account(publisher, stripe_workers)
    earn(publisher.id, 100_00)
    made = withdrawals.request_withdrawal(publisher, 60_00, "USD")
    db.session.commit()
    assert get_queue("payouts").count == 1
    return made.id


def balances(publisher_id: int) -> tuple[int, int, int]:
    db.session.expire_all()
    return tuple(ledger.balance(kind, publisher_id, "USD") for kind in (
        K.PUBLISHER_AVAILABLE, K.PAYOUT_IN_FLIGHT, K.PUBLISHER_PAID))


def posts(fake) -> int:
    return len(fake.received("POST", "/v1/transfers"))


def assert_paid_once(fake, payout_id: int) -> None:
    payout = the_payout(payout_id)
    (transfer,) = fake.transfers()
    assert payout.status == "paid" and payout.transfer_id == transfer["id"]
    assert (transfer["amount"], transfer["currency"]) == (60_00, "usd")
    assert transfer["transfer_group"] == f"payout_{payout_id}"
    assert transfer["metadata"]["payout_id"] == str(payout_id)
    assert balances(payout.publisher_id) == (40_00, 0, 60_00)
    assert check_ledger().ok


def test_a_payout_is_one_transfer_with_a_key_derived_from_its_id(app, payout_id, stripe_workers):
    result = run_worker_burst(app, "--queue", "payouts")
    assert result.returncode == 0, result.stderr
    (call,) = stripe_workers.received("POST", "/v1/transfers")
    assert call.headers["idempotency-key"] == f"payout-{payout_id}-transfer"
    assert call.params["destination"] == the_payout(payout_id).destination
    assert_paid_once(stripe_workers, payout_id)
    notice = db.session.scalar(select(Notification))
    assert notice.kind == "payout_paid" and notice.params["amount"] == "$60.00"
    keys = set(db.session.scalars(select(LedgerTransaction.idempotency_key).where(
        LedgerTransaction.reason.in_(("payout_requested", "payout_paid")))))
    assert keys == {f"payout:{payout_id}:reserve", f"payout:{payout_id}:settle"}


def test_sigkill_after_stripe_accepted_the_transfer_then_rerun_makes_no_second_one(
        app, payout_id, stripe_workers):
    # Stripe records the transfer, then its answer is held back: the job waits for it, with the
    # payout row locked and `submitting` committed, when the work-horse is killed.
    stripe_workers.delay_next("POST", "/v1/transfers", seconds=30)
    worker = start_worker(app, "--queue", "payouts")
    wait_until(lambda: stripe_workers.transfers(), what="the transfer at Stripe")
    kill_work_horse(worker)
    output = finish(worker)  # RQ counts the kill as a failure and retries (at once here)
    assert "Work-horse terminated unexpectedly" in output and "(signal 9)" in output

    get_queue("payouts").enqueue(send_payout, payout_id)  # and a rerun on top, for good measure
    assert run_worker_burst(app, "--queue", "payouts").returncode == 0
    assert posts(stripe_workers) == 1  # the retries found the transfer: they never created one
    assert_paid_once(stripe_workers, payout_id)
    assert the_payout(payout_id).attempts >= 2


def test_two_workers_racing_on_one_payout_make_one_transfer(app, payout_id, stripe_workers):
    # Stripe answers slowly, so the first worker is still in its call when the second starts.
    stripe_workers.delay_next("POST", "/v1/transfers", seconds=1.0, times=None)
    workers = [start_worker(app, "--queue", "payouts", burst=False) for _ in range(2)]
    wait_until(lambda: len(Worker.all(connection=redis_connection())) == 2, what="2 workers")
    wait_until(lambda: get_queue("payouts").count == 0, what="the first job taken")
    get_queue("payouts").enqueue(send_payout, payout_id)  # enqueued twice: the idle one takes it
    wait_until(lambda: the_payout(payout_id).status == "paid", what="the payout paid")
    wait_until(lambda: get_queue("payouts").finished_job_registry.count == 2, what="both jobs")
    outputs = [finish(worker) for worker in workers]
    assert [output.count("Job OK") for output in outputs] == [1, 1]  # one job each
    assert posts(stripe_workers) == 1
    assert_paid_once(stripe_workers, payout_id)


def test_stripe_500_twice_then_success_is_one_transfer_paid(app, payout_id, stripe_workers):
    stripe_workers.fail_next("POST", "/v1/transfers", status=500, times=2)
    assert run_worker_burst(app, "--queue", "payouts").returncode == 0
    assert posts(stripe_workers) == 3  # two refused before Stripe did anything, one accepted
    assert_paid_once(stripe_workers, payout_id)
    assert the_payout(payout_id).attempts == 3 and the_payout(payout_id).last_error == ""


def test_a_timeout_after_stripe_did_the_work_is_found_not_repeated(app, payout_id,
                                                                   stripe_workers):
    stripe_workers.delay_next("POST", "/v1/transfers", seconds=5)  # beyond STRIPE_TIMEOUT_S=2
    assert run_worker_burst(app, "--queue", "payouts").returncode == 0
    assert posts(stripe_workers) == 1
    assert len(stripe_workers.received("GET", "/v1/transfers")) == 1  # the retry looked first
    assert_paid_once(stripe_workers, payout_id)


def test_a_rate_limit_is_retried(app, payout_id, stripe_workers):
    stripe_workers.fail_next("POST", "/v1/transfers", status=429, type_="rate_limit_error",
                             code="rate_limit")
    assert run_worker_burst(app, "--queue", "payouts").returncode == 0
    assert_paid_once(stripe_workers, payout_id)


def test_a_permanent_error_fails_the_payout_and_returns_the_money(app, payout_id,
                                                                  stripe_workers):
    stripe_workers.balance["usd"] = 10_00  # the platform's Stripe balance cannot pay 60.00
    assert run_worker_burst(app, "--queue", "payouts").returncode == 0
    payout = the_payout(payout_id)
    assert payout.status == "failed" and payout.failure_code == "balance_insufficient"
    assert "insufficient available funds" in payout.failure_reason
    assert stripe_workers.transfers() == []
    assert balances(payout.publisher_id) == (100_00, 0, 0)
    assert db.session.scalar(select(Notification.kind)) == "payout_failed"
    assert check_ledger().ok
    # Running it again changes nothing: a failed payout is settled.
    get_queue("payouts").enqueue(send_payout, payout_id)
    assert run_worker_burst(app, "--queue", "payouts").returncode == 0
    assert balances(payout.publisher_id) == (100_00, 0, 0) and posts(stripe_workers) == 1


def test_the_same_key_with_another_amount_stops_the_job_with_a_recorded_error(
        app, payout_id, stripe_workers):
    payout = the_payout(payout_id)
    stripe_workers.post("/v1/transfers", {  # the key was used before, for 1.00
        "amount": "100", "currency": "usd", "destination": payout.destination,
        "transfer_group": payout.transfer_group, "metadata": {"payout_id": str(payout_id)}},
        idempotency_key=payout.idempotency_key)
    result = run_worker_burst(app, "--queue", "payouts")
    assert result.returncode == 0, result.stderr
    payout = the_payout(payout_id)
    assert payout.status == "submitting" and payout.needs_review
    assert "idempotency key payout-1-transfer was already used" in payout.last_error
    assert payout.transfer_id is None
    settled = db.session.scalar(select(func.count(LedgerTransaction.id)).where(
        LedgerTransaction.idempotency_key == f"payout:{payout_id}:settle"))
    assert settled == 0 and balances(payout.publisher_id) == (40_00, 60_00, 0)
    assert len(stripe_workers.transfers()) == 1  # the earlier one, for 1.00: nothing new
    assert get_queue("payouts").failed_job_registry.count == 0  # stopped, not crashed
    assert check_ledger().ok


def batch_of(fake, count: int) -> list[int]:
    """`count` publishers onboarded at the fake, each with one payout queued in one batch job
    (as the weekly automatic run queues them)."""
    ids = []
    for _ in range(count):
        publisher = make_user("publisher")
        connect_stripe_account(publisher, fake)
        earn(publisher.id, 50_00)
        ids.append(withdrawals.request_withdrawal(publisher, 50_00, "USD", enqueue=False).id)
        db.session.commit()
    enqueue_payout_batches(ids)
    db.session.commit()
    return ids


def test_an_outage_stops_a_batch_and_its_retry_pays_each_payout_once(app, app_context,
                                                                     stripe_workers):
    ids = batch_of(stripe_workers, 3)
    assert get_queue("payouts").job_ids == [f"payouts-{ids[0]}-{ids[-1]}"]
    stripe_workers.fail_next("POST", "/v1/transfers", status=503)
    assert run_worker_burst(app, "--queue", "payouts").returncode == 0
    assert posts(stripe_workers) == 4 and len(stripe_workers.transfers()) == 3
    assert {the_payout(i).status for i in ids} == {"paid"}
    assert check_ledger().ok


def test_a_refused_payout_fails_alone_in_its_batch(app, app_context, stripe_workers):
    ids = batch_of(stripe_workers, 3)
    stripe_workers.objects[the_payout(ids[1]).destination]["capabilities"]["transfers"] = \
        "inactive"  # Stripe disabled that account after the request
    assert run_worker_burst(app, "--queue", "payouts").returncode == 0
    assert [the_payout(i).status for i in ids] == ["paid", "failed", "paid"]
    assert the_payout(ids[1]).failure_code == "insufficient_capabilities_for_transfer"
    assert len(stripe_workers.transfers()) == 2
    assert check_ledger().ok
