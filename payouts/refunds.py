"""Withdrawing unused escrow: refunds of the advertiser's own deposits, newest first.

Only the escrow balance can be withdrawn; money held for pending conversions is in other
accounts and is never touched. The money moves in two steps, so a crash between our database
and the gateway never loses or doubles it:

    request:   escrow -> refund in flight        (under the escrow row lock; InsufficientFunds)
    job:       the gateway refund, idempotency key per refund row
    settled:   refund in flight -> gateway clearing   (the money left the platform)
    or failed: refund in flight -> escrow             (the money is back)
"""

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from cpa_network.database import utcnow
from cpa_network.errors import DomainError
from cpa_network.extensions import db
from cpa_network.jobs import enqueue_after_commit
from payouts import escrow, ledger
from payouts.currency import format_money
from payouts.deposits import validate_amount
from payouts.gateway import GatewayError, PaymentGateway, RefundResult, gateway_named
from payouts.ledger import InsufficientFunds
from payouts.models import AccountKind, Deposit, DepositStatus, EscrowRefund, RefundStatus

K = AccountKind


class NothingToRefund(DomainError):
    code = "nothing_to_refund"
    http_status = 409
    default_message = _l("There is no deposit left to refund this amount to.")


def withdraw_escrow(advertiser_id: int, amount: int, currency: str) -> list[EscrowRefund]:
    """Reserve `amount` of unused escrow and queue refunds of the deposits that brought it."""
    amount, code = validate_amount(amount, currency)
    available = escrow.escrow_balance(advertiser_id, code)
    if amount > available:
        raise InsufficientFunds(message=_l(
            "You can withdraw at most %(available)s: the rest is held for pending conversions "
            "or already spent.", available=format_money(available, code)))
    deposits = db.session.scalars(
        select(Deposit).where(Deposit.owner_id == advertiser_id,
                              Deposit.account_kind == AccountKind.ADVERTISER_ESCROW,
                              Deposit.currency == code,
                              Deposit.status == DepositStatus.SUCCEEDED,
                              Deposit.refunded_amount < Deposit.amount)
        .order_by(Deposit.id.desc()).with_for_update()).all()
    if sum(d.refundable for d in deposits) < amount:
        raise NothingToRefund()
    refunds, left = [], amount
    for deposit in deposits:
        if not left:
            break
        part = min(left, deposit.refundable)
        refunds.append(_reserve(deposit, part))
        left -= part
    return refunds


def _reserve(deposit: Deposit, amount: int) -> EscrowRefund:
    refund = EscrowRefund(deposit_id=deposit.id, advertiser_id=deposit.owner_id,
                          amount=amount, currency=deposit.currency,
                          status=RefundStatus.PENDING.value, failure_reason="")
    db.session.add(refund)
    deposit.refunded_amount += amount
    db.session.flush()
    owner, code = deposit.owner_id, deposit.currency
    ledger.post_transaction(
        f"refund:{refund.id}:reserve",
        ledger.transfer(ledger.account(K.ADVERTISER_ESCROW, owner, code),
                        ledger.account(K.REFUND_IN_FLIGHT, owner, code), amount),
        "escrow_withdrawal", {"refund": refund.id, "deposit": deposit.id, "advertiser": owner})
    from payouts.tasks import REFUND_RETRY, send_refund  # tasks.py imports this module

    enqueue_after_commit(send_refund, refund.id, queue="payouts", job_id=f"refund-{refund.id}",
                         retry=REFUND_RETRY)
    return refund


def send_to_gateway(refund_id: int, gateway: PaymentGateway | None = None) -> EscrowRefund:
    """The job's work: ask the gateway to refund, then settle. Safe to run twice."""
    refund = db.session.get(EscrowRefund, refund_id)
    if refund is None or refund.status != RefundStatus.PENDING:
        return refund
    try:
        gateway = gateway or gateway_named(refund.deposit.gateway)
        result = gateway.refund(refund, refund.deposit.payment_intent_id or "")
    except GatewayError as error:
        if error.retryable:
            raise  # the job retries; the money stays in flight meanwhile
        result = RefundResult(refund_id="", status="failed")
        refund.failure_reason = error.gateway_code[:300]
    if result.refund_id:
        refund.gateway_refund_id = result.refund_id
    return settle_refund(refund, result.status)


def settle_refund(refund: EscrowRefund, gateway_status: str) -> EscrowRefund:
    """Book a refund's final status (from the job or a `refund.updated` webhook), once. A
    refund reported succeeded can still fail later (the card was closed, say): Stripe then
    puts the money back in the network's balance and sends `refund.failed`, and the
    advertiser's escrow gets it back."""
    refund = db.session.scalar(select(EscrowRefund).where(EscrowRefund.id == refund.id)
                               .with_for_update().execution_options(populate_existing=True))
    late_failure = refund.status == RefundStatus.SUCCEEDED and gateway_status == "failed"
    if not late_failure and (refund.status != RefundStatus.PENDING
                             or gateway_status not in ("succeeded", "failed")):
        return refund
    owner, code = refund.advertiser_id, refund.currency
    # Where the money is now: in flight, or, failing after it succeeded, back at the gateway.
    source = (ledger.network_account(K.GATEWAY_CLEARING, code) if late_failure
              else ledger.account(K.REFUND_IN_FLIGHT, owner, code))
    if gateway_status == "succeeded":
        destination, reason = ledger.network_account(K.GATEWAY_CLEARING, code), "escrow_refunded"
    else:
        destination, reason = ledger.account(K.ADVERTISER_ESCROW, owner, code), "refund_failed"
        deposit = db.session.get(Deposit, refund.deposit_id, with_for_update=True)
        deposit.refunded_amount -= refund.amount
    refs = {"refund": refund.id, "deposit": refund.deposit_id, "advertiser": owner}
    ledger.post_transaction(f"refund:{refund.id}:{'returned' if late_failure else 'settle'}",
                            ledger.transfer(source, destination, refund.amount), reason, refs)
    refund.status = gateway_status
    refund.settled_at = utcnow()
    return refund


def recent_refunds(advertiser_id: int, limit: int = 20) -> list[EscrowRefund]:
    return list(db.session.scalars(
        select(EscrowRefund).where(EscrowRefund.advertiser_id == advertiser_id)
        .order_by(EscrowRefund.id.desc()).limit(limit)))
