"""Processing verified Stripe events: each event id once, in any order, at any repetition.

The event row is inserted first, inside a savepoint, in the same database transaction as its
effects: a repeated delivery hits the primary key and does nothing, a concurrent one waits for
the first to commit and then does nothing, and a failure rolls both back so Stripe retries.
Handlers only move a deposit forward (see deposits.TRANSITIONS), so late or reordered events
cannot undo a credit; a dispute's money steps likewise only go forward (payouts/disputes.py).
"""

import logging

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from cpa_network.extensions import db
from payouts import connect, deposits, disputes, refunds, reversals
from payouts.models import Deposit, DepositStatus, EscrowRefund, StripeEvent

log = logging.getLogger(__name__)


def handle_event(event: dict) -> str:
    """Record and process one verified event; returns what happened (stored on the row)."""
    row = StripeEvent(id=event["id"], type=event["type"], payload=event, outcome="")
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        return "duplicate"
    handler = HANDLERS.get(event["type"])
    obj = event["data"]["object"]
    row.outcome = handler(obj, event["id"]) if handler else "ignored"
    return row.outcome


def _deposit_for_session(session: dict) -> Deposit | None:
    """The deposit a Checkout Session pays for, if the session matches it in every detail."""
    deposit_id = (session.get("metadata") or {}).get("deposit_id", "")
    if not str(deposit_id).isdigit():
        return None
    deposit = db.session.scalar(select(Deposit).where(Deposit.id == int(deposit_id))
                                .with_for_update().execution_options(populate_existing=True))
    if deposit is None:
        return None
    if (deposit.checkout_session_id not in (None, session["id"])
            or session.get("amount_total") != deposit.amount
            or str(session.get("currency", "")).upper() != deposit.currency):
        log.error("stripe session %s does not match deposit %s", session["id"], deposit.id)
        return None
    deposit.checkout_session_id = session["id"]
    if session.get("payment_intent"):
        deposit.payment_intent_id = session["payment_intent"]
    return deposit


def _credit(session: dict, event_id: str) -> str:
    deposit = _deposit_for_session(session)
    if deposit is None:
        return "unknown_deposit"
    credited = deposits.credit_deposit(deposit, {"stripe_event": event_id,
                                                 "checkout_session": session["id"]})
    return "credited" if credited else "already_credited"


def on_session_completed(session: dict, event_id: str) -> str:
    if session.get("payment_status") in ("paid", "no_payment_required"):
        return _credit(session, event_id)
    deposit = _deposit_for_session(session)  # an async method (bank debit) is still clearing
    if deposit is None:
        return "unknown_deposit"
    if deposit.status == DepositStatus.CREATED:
        deposits.transition(deposit, DepositStatus.PENDING)
    return "awaiting_payment"


def _closer(status: DepositStatus, reason: str):
    def close(session: dict, event_id: str) -> str:
        deposit = _deposit_for_session(session)
        if deposit is None:
            return "unknown_deposit"
        return status.value if deposits.close_deposit(deposit, status, reason) else "unchanged"

    return close


def on_refund_updated(stripe_refund: dict, event_id: str) -> str:
    """An asynchronous refund reached its final status."""
    refund_id = (stripe_refund.get("metadata") or {}).get("refund_id", "")
    refund = db.session.get(EscrowRefund, int(refund_id)) if str(refund_id).isdigit() else None
    if refund is None or refund.gateway_refund_id not in (None, stripe_refund["id"]):
        return "unknown_refund"
    status = stripe_refund.get("status", "")
    if status not in ("succeeded", "failed", "canceled"):
        return "refund_pending"
    refunds.settle_refund(refund, "succeeded" if status == "succeeded" else "failed")
    return f"refund_{refund.status}"


def on_transfer_reversed(transfer: dict, event_id: str) -> str:
    """A payout's transfer was (partly) taken back; `amount_reversed` is the running total."""
    payout_id = (transfer.get("metadata") or {}).get("payout_id", "")
    if not str(payout_id).isdigit():
        return "unknown_payout"
    return reversals.record_reversal(int(payout_id), transfer["id"],
                                     transfer.get("amount_reversed") or 0)


def _dispute_step(event_type: str):
    def on_dispute(dispute: dict, event_id: str) -> str:
        return disputes.record_dispute(dispute, event_type)

    return on_dispute


def on_session_polled(session: dict, source: str) -> str:
    """A Checkout Session fetched from Stripe by the reconciler (its webhook never came): the
    handler its current state's event would have run. "open": the payer has not finished."""
    status = session.get("status")
    if status == "complete":
        return on_session_completed(session, source)
    if status == "expired":
        return HANDLERS["checkout.session.expired"](session, source)
    return str(status or "unknown")


HANDLERS = {
    "checkout.session.completed": on_session_completed,
    "checkout.session.async_payment_succeeded": _credit,
    "checkout.session.async_payment_failed": _closer(DepositStatus.FAILED, "payment failed"),
    "checkout.session.expired": _closer(DepositStatus.EXPIRED, "checkout expired"),
    "refund.updated": on_refund_updated,
    "refund.failed": on_refund_updated,
    "account.updated": connect.on_account_updated,  # a publisher's connected account (Connect)
    "transfer.reversed": on_transfer_reversed,  # a paid payout taken back (e.g. the dashboard)
    # A deposit's card payment disputed (chargeback): payouts/disputes.py.
    **{f"charge.dispute.{step}": _dispute_step(f"charge.dispute.{step}") for step in (
        "created", "updated", "funds_withdrawn", "funds_reinstated", "closed")},
}
