"""Money jobs: take ids, re-read state, safe to run twice. Periodic ones are listed in PERIODIC
(registered in create_app); every worker's beat enqueues each slot once."""

from collections import Counter

from flask import current_app
from rq import Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from cpa_network.jobs import enqueue_after_commit, get_queue, redis_connection, task
from cpa_network.schedule import PeriodicJob
from payouts import (
    automatic,
    dispute_debts,
    invariants,
    ledger_status,
    reconcile,
    refunds,
    transfers,
)

# Transient gateway failures (5xx, timeouts) retry with backoff; the money waits in flight.
REFUND_RETRY = Retry(max=5, interval=[10, 60, 300, 900, 3600])
WAITING = (JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.STARTED, JobStatus.DEFERRED)


@task
def send_refund(refund_id: int) -> None:
    """Ask the gateway to refund one escrow refund row, then book the outcome."""
    refunds.send_to_gateway(refund_id)


@task
def send_payout(payout_id: int) -> str:
    """Transfer one payout exactly once (payouts/transfers.py). Commits after each of its
    steps on purpose: the state must survive a crash between them."""
    return transfers.process_payout(payout_id)


@task
def send_payouts(payout_ids: list[int]) -> dict[str, int]:
    """A batch of payouts (the weekly run): one job, one work-horse and one database connection
    for many transfers, each still made exactly once."""
    return dict(Counter(transfers.process_payouts(payout_ids).values()))


@task
def reconcile_payouts() -> dict:
    """Every 10 minutes: settle or retry payouts that crashed jobs left unfinished, and queue
    again escrow refunds left pending."""
    return reconcile.reconcile_payouts()


@task
def pay_automatically() -> dict:
    """Hourly: the weekly automatic payouts of publishers who turned them on."""
    return automatic.run_automatic_payouts()


@task
def repay_dispute_debts() -> int:
    """Every 10 minutes: what owners owe for chargebacks, repaid from money that reached their
    balance outside a deposit (a rejected conversion returned to escrow, say)."""
    return dispute_debts.settle_all_debts()


@task
def check_ledger_nightly() -> dict:
    """Nightly (and on the operator's "Check now"): `ledger check`, its report kept for the
    ledger page, and a notification to every operator on any violation."""
    return invariants.check_and_alert(ledger_status.run_and_store().report)


PERIODIC = (
    PeriodicJob("payout_reconciler", reconcile_payouts, every_s=600, queue="payouts"),
    PeriodicJob("automatic_payouts", pay_automatically, every_s=3600, queue="payouts"),
    PeriodicJob("dispute_debts", repay_dispute_debts, every_s=600, queue="payouts"),
    PeriodicJob("ledger_check", check_ledger_nightly, every_s=86400, queue="default"),
)


def payout_job_id(payout_id: int) -> str:
    return f"payout-{payout_id}"


def payout_retry() -> Retry:
    """RQ's retries for transient gateway errors: PAYOUT_RETRY_INTERVALS, one try per entry."""
    intervals = list(current_app.config["PAYOUT_RETRY_INTERVALS"])
    return Retry(max=len(intervals), interval=intervals)


def enqueue_payout(payout_id: int) -> None:
    """Queue the payout job once the current transaction commits."""
    enqueue_after_commit(send_payout, payout_id, queue="payouts",
                         job_id=payout_job_id(payout_id), retry=payout_retry(),
                         job_timeout=current_app.config["PAYOUT_JOB_TIMEOUT_S"])


def _job(job_id: str) -> Job | None:
    try:
        return Job.fetch(job_id, connection=redis_connection())
    except NoSuchJobError:
        return None


def enqueue_payout_batches(payout_ids: list[int]) -> None:
    """Queue batch jobs of PAYOUT_BATCH_SIZE payouts once the current transaction commits."""
    size = current_app.config["PAYOUT_BATCH_SIZE"]
    for start in range(0, len(payout_ids), size):
        batch = payout_ids[start:start + size]
        enqueue_after_commit(send_payouts, batch, queue="payouts",
                             job_id=f"payouts-{batch[0]}-{batch[-1]}", retry=payout_retry(),
                             job_timeout=current_app.config["PAYOUT_JOB_TIMEOUT_S"] * 2
                             + len(batch))


def payout_job_waiting(payout_id: int) -> bool:
    """True if RQ holds this payout's job queued, scheduled (a retry) or running."""
    return _waiting(payout_job_id(payout_id))


def forget_failed_job(payout_id: int) -> None:
    """Drop the payout's job from the failed registry: it is about to run again, same id."""
    _forget_failed(payout_job_id(payout_id))


def refund_job_id(refund_id: int) -> str:
    return f"refund-{refund_id}"


def enqueue_refund(refund_id: int) -> None:
    """Queue the escrow refund job once the current transaction commits."""
    enqueue_after_commit(send_refund, refund_id, queue="payouts",
                         job_id=refund_job_id(refund_id), retry=REFUND_RETRY)


def requeue_refund(refund_id: int) -> bool:
    """Queue the refund job (after commit) unless RQ already has it waiting; False if it does."""
    job_id = refund_job_id(refund_id)
    if _waiting(job_id):
        return False
    _forget_failed(job_id)
    enqueue_refund(refund_id)
    return True


def _waiting(job_id: str) -> bool:
    job = _job(job_id)
    return job is not None and job.get_status() in WAITING


def _forget_failed(job_id: str) -> None:
    job = _job(job_id)
    if job is not None and job.get_status() == JobStatus.FAILED:
        get_queue("payouts").failed_job_registry.remove(job)
