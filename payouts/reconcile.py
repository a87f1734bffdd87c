"""The payout reconciler (every 10 minutes): finish what crashed jobs left behind.

- `submitted` (the transfer exists, the ledger is not booked yet): book it as paid.
- `submitting` for longer than PAYOUT_STUCK_AFTER_S and not locked by a live job (SKIP LOCKED):
  ask the gateway first (transfers by transfer_group, matched by metadata.payout_id). Found:
  store it and book it, with no new transfer. Not found: queue the payout job again, which
  creates it. Asking first is what makes an idempotency key older than Stripe's 24 hours safe.
- `requested` for that long with no job waiting in RQ (the enqueue was lost): queue the job.

Payouts stopped for review (`needs_review`) are left to the operator.

Escrow refunds get the same care: one still `pending` after PAYOUT_STUCK_AFTER_S with no job
waiting in RQ is queued again. Without a gateway refund id (a killed job, a lost enqueue,
retries used up) the job asks the gateway for the refund before making one; with one (an
asynchronous refund whose `refund.updated` was lost, or is slow) it asks the gateway where that
refund is and books it if it is done, so a lost webhook cannot leave the money in flight for
ever. One stopped for review is the operator's.

Deposits whose webhook never came: a Stripe deposit still `created` or `pending` that long after
it was made has its Checkout Session fetched, and what the session says is done by the webhook's
own handler (payouts.stripe_events): paid is credited once (the credit's ledger key is fixed),
expired is closed, open is left for the next pass. Without this a payer whose event was lost
(an endpoint down for longer than Stripe retries, a secret rotated) paid and was never credited.
"""

import logging
from collections import Counter
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from cpa_network.database import utcnow
from cpa_network.errors import NotFound
from cpa_network.extensions import db
from payouts.gateway import GatewayError, PaymentGateway, gateway_named
from payouts.models import (
    Deposit,
    DepositStatus,
    EscrowRefund,
    Payout,
    PayoutStatus,
    RefundStatus,
)
from payouts.transfers import lock_payout, record_transfer, settle_paid
from payouts.withdrawals import PayoutTransitionRefused, retry_failed

log = logging.getLogger(__name__)
S = PayoutStatus


def reconcile_payouts(now: datetime | None = None,
                      gateway: PaymentGateway | None = None) -> dict[str, int]:
    """One pass over unfinished payouts, one transaction each; counts of what happened."""
    now = now or utcnow()
    cutoff = now - timedelta(seconds=current_app.config["PAYOUT_STUCK_AFTER_S"])
    report: Counter = Counter()
    submitted = _ids(Payout.status == S.SUBMITTED)
    if submitted:
        report["submitted_paid"] += len(settle_paid(submitted))
        db.session.commit()
    for payout_id in _ids(Payout.status == S.SUBMITTING, Payout.submitting_at < cutoff,
                          Payout.needs_review.is_(False)):
        try:
            report[f"submitting_{resolve_submitting(payout_id, gateway)}"] += 1
            db.session.commit()
        except GatewayError as error:
            db.session.rollback()
            log.warning("reconciler: payout %s: the gateway failed (%s); next pass",
                        payout_id, error.gateway_code)
            report["submitting_gateway_error"] += 1
    for payout_id in _ids(Payout.status == S.REQUESTED, Payout.requested_at < cutoff):
        report[f"requested_{'requeued' if requeue(payout_id) else 'queued'}"] += 1
        db.session.commit()
    report.update(requeue_stuck_refunds(cutoff))
    report.update(reconcile_deposits(cutoff, gateway))
    if report:
        log.info("reconciler: %s", dict(report))
    return dict(report)


def resolve_submitting(payout_id: int, gateway: PaymentGateway | None = None) -> str:
    """A payout left `submitting`: settle it from the transfer the gateway has, or retry it."""
    payout = lock_payout(payout_id, skip_locked=True)
    if payout is None:
        return "busy"  # a job holds the row: it is calling the gateway right now
    if payout.status != S.SUBMITTING or payout.needs_review:
        return payout.status
    transfer = (gateway or gateway_named(payout.gateway)).find_transfer(payout)
    if transfer is None:
        return "requeued" if requeue(payout.id) else "queued"
    if record_transfer(payout, transfer) != S.SUBMITTED:
        return "needs_review"
    db.session.commit()
    return settle_paid([payout_id]).get(payout_id, "settled_elsewhere")


def requeue(payout_id: int) -> bool:
    """Queue the payout job unless RQ already has it waiting; False if it does."""
    from payouts.tasks import enqueue_payout, forget_failed_job, payout_job_waiting

    if payout_job_waiting(payout_id):
        return False
    forget_failed_job(payout_id)
    enqueue_payout(payout_id)
    return True


def requeue_stuck_refunds(cutoff: datetime) -> Counter:
    """Queue the job of each escrow refund left pending since before `cutoff`."""
    from payouts.tasks import requeue_refund

    report: Counter = Counter()
    stuck = db.session.scalars(select(EscrowRefund.id).where(
        EscrowRefund.status == RefundStatus.PENDING, EscrowRefund.created_at < cutoff,
        EscrowRefund.needs_review.is_(False))
        .order_by(EscrowRefund.id)).all()
    for refund_id in stuck:
        report[f"refund_{'requeued' if requeue_refund(refund_id) else 'queued'}"] += 1
        db.session.commit()  # releases the enqueue
    return report


DEPOSITS_PER_PASS = 200  # least recently looked at first; the next pass takes the rest


def reconcile_deposits(cutoff: datetime, gateway: PaymentGateway | None = None) -> Counter:
    """Ask Stripe about each unfinished Stripe deposit made before `cutoff`; one transaction
    each. A gateway error leaves the deposit for the next pass. Each one asked about is marked
    (`updated_at`) and the least recently marked come first, so deposits that stay open for
    days (an asynchronous payment clearing) cannot keep newer ones out of every pass."""
    from payouts import stripe_events

    report: Counter = Counter()
    waiting = db.session.execute(select(Deposit.id, Deposit.checkout_session_id).where(
        Deposit.status.in_((DepositStatus.CREATED, DepositStatus.PENDING)),
        Deposit.gateway == "stripe", Deposit.checkout_session_id.is_not(None),
        Deposit.created_at < cutoff).order_by(Deposit.updated_at, Deposit.id)
        .limit(DEPOSITS_PER_PASS)).all()
    for deposit_id, session_id in waiting:
        try:
            session = (gateway or gateway_named("stripe")).checkout_session(session_id)
        except GatewayError as error:
            log.warning("reconciler: deposit %s: the gateway failed (%s); next pass",
                        deposit_id, error.gateway_code)
            report["deposit_gateway_error"] += 1
        else:
            outcome = (stripe_events.on_session_polled(session, "reconciler") if session
                       else "unknown")
            report[f"deposit_{outcome}"] += 1
        db.session.execute(update(Deposit).where(Deposit.id == deposit_id)
                           .values(updated_at=utcnow()))  # asked about: to the back
        db.session.commit()
    return report


def retry_payout(payout_id: int) -> Payout:
    """The operator's retry button. A failed payout: a new payout of its amount (if still
    available). One stopped for review or still unfinished: queue its job again now (it looks
    for the transfer before creating one)."""
    payout = lock_payout(payout_id)
    if payout is None:
        raise NotFound()
    if payout.status == S.FAILED:
        return retry_failed(payout)
    if payout.status not in (S.REQUESTED, S.SUBMITTING):
        raise PayoutTransitionRefused(_l("Only a failed or unfinished payout can be retried."))
    payout.needs_review = False
    requeue(payout.id)
    return payout


def _ids(*conditions) -> list[int]:
    return list(db.session.scalars(select(Payout.id).where(*conditions).order_by(Payout.id)))
