"""The payout job's work: one transfer per payout, whatever crashes, races and retries happen.

The state lives in the database; RQ only triggers. A job takes one payout (a withdrawal) or a
batch (the weekly automatic payouts), in short transactions:

    T1  lock the payout rows (SELECT ... FOR UPDATE SKIP LOCKED: a row another worker holds is
        its business); past `submitting`: nothing to send. requested -> submitting,
        attempts + 1; COMMIT - the evidence that a transfer may exist.
    T2  per payout: lock the row again and hold it across the gateway calls, so two workers
        never call the gateway for one payout at the same time. A later attempt (the row was
        already `submitting`: a retry, a killed work-horse, a racing worker) first looks for
        the transfer at the gateway (transfer_group `payout_<id>`, metadata.payout_id); if there
        is none it creates it with the idempotency key `payout-<id>-transfer`. The transfer id
        is stored (UNIQUE); submitting -> submitted; COMMIT.
    T3  the ledger: payout in flight -> paid out (key `payout:<id>:settle`);
        submitted -> paid; COMMIT (once for a batch).

A work-horse killed anywhere leaves `submitting` or `submitted` behind; the next attempt (RQ's
retry or the reconciler, payouts/reconcile.py) finds the transfer instead of making a second
one, so even an idempotency key Stripe has forgotten (after 24 h) cannot duplicate it.
Transient gateway errors (timeouts, 5xx, rate limits) leave the payout `submitting` and raise, so
RQ retries with backoff. Permanent ones fail it and return the money to available. A gateway
that already saw the key with other parameters stops the payout for an operator (`needs_review`),
money still in flight, nothing posted.
"""

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from cpa_network.accounts.models import User
from cpa_network.database import is_postgres, utcnow
from cpa_network.extensions import db
from cpa_network.notifications.services import notify, notify_many
from payouts import ledger
from payouts.currency import format_money
from payouts.gateway import (
    GatewayError,
    IdempotencyMismatch,
    PaymentGateway,
    describe,
    gateway_named,
    get_gateway,
)
from payouts.models import AccountKind, Payout, PayoutStatus
from payouts.withdrawals import refs_of, transition

log = logging.getLogger(__name__)
S = PayoutStatus
K = AccountKind

# Why a payout failed, for the publisher; other gateway codes are shown as they are.
FAILURE_LABELS = {
    "account_blocked": _l("your account is blocked"),
    "balance_insufficient": _l("the network's payout balance is too low; try again later"),
    "account_invalid": _l("the payout account cannot receive transfers"),
    "insufficient_capabilities_for_transfer": _l("the payout account cannot receive transfers "
                                                 "yet; finish the onboarding at Stripe"),
    "resource_missing": _l("the payout account no longer exists"),
}


def failure_label(payout: Payout):
    return FAILURE_LABELS.get(payout.failure_code, payout.failure_reason or payout.failure_code)


def lock_payout(payout_id: int, skip_locked: bool = False) -> Payout | None:
    """The payout row, locked until the transaction ends (None: missing, or locked elsewhere
    when `skip_locked`)."""
    return db.session.scalar(
        select(Payout).where(Payout.id == payout_id)
        .with_for_update(skip_locked=skip_locked).execution_options(populate_existing=True))


def process_payouts(payout_ids: list[int],
                    gateway: PaymentGateway | None = None) -> dict[int, str]:
    """The job, for one payout or a batch: claim (T1), transfer each (T2), book (T3); what
    happened to each. Safe to run twice, concurrently, or after a crash at any point. A
    retryable gateway error books what was sent, keeps the error on the row and raises, so RQ
    retries the rest later (with backoff) instead of hammering a gateway that is down."""
    outcomes, claimed = claim(payout_ids)
    db.session.commit()
    was_sent = [payout_id for payout_id, outcome in outcomes.items() if outcome == S.SUBMITTED]
    sent, error = send_all(claimed, gateway)
    outcomes.update(sent)
    booked = was_sent + [payout_id for payout_id, outcome in sent.items()
                         if outcome == S.SUBMITTED]
    if booked:
        outcomes.update(settle_paid(booked))
        db.session.commit()
    if error is not None:
        raise error  # RQ retries the job; what was sent is booked, the rest stays in flight
    return outcomes


def send_all(claimed: dict[int, bool], gateway: PaymentGateway | None = None
             ) -> tuple[dict[int, str], GatewayError | None]:
    """T2 for each claimed payout, PAYOUT_BATCH_THREADS at a time on PostgreSQL (while one waits
    for Stripe or its commit, another works; each has its own session and row lock). The first
    retryable error stops further sends and is returned."""
    threads = current_app.config["PAYOUT_BATCH_THREADS"] if is_postgres() else 1
    if len(claimed) <= 1 or threads <= 1:
        return _send_each(claimed, gateway)
    app, stop = current_app._get_current_object(), threading.Event()
    get_gateway()  # built once, before the threads share it

    def send(item: tuple[int, bool]):
        with app.app_context():
            try:
                return _send_each(dict([item]), gateway, stop)
            finally:
                db.session.remove()

    with ThreadPoolExecutor(threads) as pool:
        results = list(pool.map(send, claimed.items()))
    errors = [error for _, error in results if error is not None]
    return {k: v for found, _ in results for k, v in found.items()}, (errors or [None])[0]


def _send_each(claimed: dict[int, bool], gateway: PaymentGateway | None,
               stop: threading.Event | None = None) -> tuple[dict[int, str], GatewayError | None]:
    stop = stop or threading.Event()
    sent = {}
    for payout_id, first_attempt in claimed.items():
        if stop.is_set():
            break  # the gateway is failing: leave the rest for the retry
        try:
            sent[payout_id] = submit(payout_id, first_attempt, gateway)
        except GatewayError as error:
            db.session.commit()  # the error this attempt met; the money stays in flight
            stop.set()
            return sent, error
        db.session.commit()
    return sent, None


def process_payout(payout_id: int, gateway: PaymentGateway | None = None) -> str:
    return process_payouts([payout_id], gateway)[payout_id]


def claim(payout_ids: list[int]) -> tuple[dict[int, str], dict[int, bool]]:
    """T1: lock the rows nobody else holds; requested -> submitting. Returns the outcome of
    those with nothing to send (`busy`: missing or held by another worker) and, for the claimed
    ones, whether this is their first attempt (else the transfer may exist: look first)."""
    rows = db.session.scalars(
        select(Payout).where(Payout.id.in_(payout_ids)).order_by(Payout.id)
        .with_for_update(skip_locked=True).execution_options(populate_existing=True)).all()
    outcomes = {payout_id: "busy" for payout_id in payout_ids}
    blocked = set(db.session.scalars(select(User.id).where(
        User.id.in_({payout.publisher_id for payout in rows}), User.blocked_at.is_not(None))))
    claimed = {}
    for payout in rows:
        if payout.needs_review or payout.status not in (S.REQUESTED, S.SUBMITTING):
            outcomes[payout.id] = "needs_review" if payout.needs_review else payout.status
            continue
        first_attempt = payout.status == S.REQUESTED
        if first_attempt and payout.publisher_id in blocked:
            fail_payout(payout, "account_blocked", "the publisher is blocked")
            outcomes[payout.id] = S.FAILED.value
            continue
        if first_attempt:
            transition(payout, S.SUBMITTING)
            payout.submitting_at = utcnow()
        payout.attempts += 1
        outcomes[payout.id], claimed[payout.id] = "claimed", first_attempt
    return outcomes, claimed


def submit(payout_id: int, first_attempt: bool, gateway: PaymentGateway | None = None) -> str:
    """T2: the transfer, found or created, under the row lock (held across the gateway calls).
    Raises a retryable `GatewayError` (after noting it on the row) for RQ to retry."""
    payout = lock_payout(payout_id, skip_locked=True)
    if payout is None:
        return "busy"  # another worker holds it: it is calling the gateway right now
    if payout.status != S.SUBMITTING or payout.needs_review:
        return payout.status  # another worker got there first
    # Blocked since the claim, or between a failed attempt and this retry: send nothing new,
    # but a transfer an earlier attempt made is money already sent, so it is recorded.
    blocked = db.session.scalar(select(User.blocked_at.is_not(None))
                                .where(User.id == payout.publisher_id))
    try:
        gateway = gateway or gateway_named(payout.gateway)
        transfer = None if first_attempt else gateway.find_transfer(payout)
        if transfer is None and blocked:
            fail_payout(payout, "account_blocked", "the publisher is blocked")
            return S.FAILED.value
        if transfer is None:
            transfer = gateway.create_transfer(payout)
    except IdempotencyMismatch:
        return stop_for_review(payout, f"idempotency key {payout.idempotency_key} was already "
                                       "used with other parameters")
    except GatewayError as error:
        payout.last_error = describe(error)
        if error.retryable:
            log.warning("payout %s: %s; will retry", payout.id, payout.last_error)
            raise
        fail_payout(payout, error.gateway_code, payout.last_error)
        return S.FAILED.value
    return record_transfer(payout, transfer)


def record_transfer(payout: Payout, transfer) -> str:
    """Store the gateway's transfer on the (locked, submitting) payout."""
    if not transfer.matches(payout):
        return stop_for_review(payout, f"transfer {transfer.id} ({transfer.amount} "
                                       f"{transfer.currency} to {transfer.destination}) does not "
                                       "match this payout")
    payout.transfer_id = transfer.id
    transition(payout, S.SUBMITTED)
    payout.submitted_at = utcnow()
    payout.last_error = ""
    return S.SUBMITTED.value


def settle_paid(payout_ids: list[int]) -> dict[int, str]:
    """T3: book submitted payouts as paid out, once each (in one transaction for a batch)."""
    payouts = db.session.scalars(
        select(Payout).where(Payout.id.in_(payout_ids), Payout.status == S.SUBMITTED)
        .order_by(Payout.id).with_for_update().execution_options(populate_existing=True)).all()
    accounts = ledger.accounts_of({(kind, payout.publisher_id, payout.currency)
                                   for payout in payouts
                                   for kind in (K.PAYOUT_IN_FLIGHT, K.PUBLISHER_PAID)})
    # Every account of the batch locked at once, in id order: batches sharing publishers
    # cannot deadlock (the ledger then locks them again, already held, per posting).
    ledger.lock_accounts(account.id for account in accounts.values())
    for payout in payouts:
        owner, code = payout.publisher_id, payout.currency
        ledger.post_transaction(
            f"payout:{payout.id}:settle",
            ledger.transfer(accounts[K.PAYOUT_IN_FLIGHT, owner, code],
                            accounts[K.PUBLISHER_PAID, owner, code], payout.amount),
            "payout_paid", {**refs_of(payout), "transfer": payout.transfer_id},
            description=f"{payout.gateway} transfer {payout.transfer_id}")
        transition(payout, S.PAID)
        payout.settled_at = utcnow()
    notify_many("payout_paid", [
        (payout.publisher_id, f"payout_paid:{payout.id}",
         {"id": payout.id, "amount": format_money(payout.amount, payout.currency)})
        for payout in payouts])
    return {payout.id: S.PAID.value for payout in payouts}


def fail_payout(payout: Payout, code: str, reason: str) -> None:
    """Refused for good: the money goes back to available (the same settle key as paid)."""
    owner, currency = payout.publisher_id, payout.currency
    transition(payout, S.FAILED)
    payout.failure_code, payout.failure_reason = code[:60], reason[:300]
    payout.settled_at = utcnow()
    ledger.post_transaction(
        f"payout:{payout.id}:settle",
        ledger.transfer(ledger.account(K.PAYOUT_IN_FLIGHT, owner, currency),
                        ledger.account(K.PUBLISHER_AVAILABLE, owner, currency), payout.amount),
        "payout_failed", {**refs_of(payout), "failure": payout.failure_code})
    notify(owner, "payout_failed", f"payout_failed:{payout.id}", id=payout.id,
           amount=format_money(payout.amount, currency), reason=str(failure_label(payout)))


def stop_for_review(payout: Payout, error: str) -> str:
    """Stop without posting anything: the money stays in flight until an operator decides."""
    log.error("payout %s needs review: %s", payout.id, error)
    payout.needs_review = True
    payout.last_error = error[:300]
    return "needs_review"
