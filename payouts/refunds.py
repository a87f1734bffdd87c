"""Withdrawing unused escrow: refunds of the advertiser's own deposits, newest first.

Only the escrow balance can be withdrawn; money held for pending conversions is in other
accounts and is never touched. The money moves in two steps, so a crash between our database
and the gateway never loses or doubles it:

    request:   escrow -> refund in flight        (under the deposit row locks; InsufficientFunds)
    job:       the refund found at the gateway (metadata.refund_id), or else made there with
               the idempotency key `escrow-refund-<id>`, under the refund's row lock
    settled:   refund in flight -> gateway clearing   (the money left the platform)
    or failed: refund in flight -> escrow             (the money is back)
    or review: nothing posted, the money stays in flight for an operator

Looking before making is what keeps a job retried after Stripe forgot the key (24 hours) from
refunding twice. A refusal that may mean the money already went back to the card
(`charge_already_refunded`, `amount_too_large`, a key seen with other parameters) is not a
failure: returning that money to escrow could let it be refunded twice, so the refund stops for
review (`needs_review`, the operator's refunds page). A request key (payouts/request_keys.py)
makes a confirmation sent twice refund once; the reconciler requeues refunds left pending,
including an asynchronous one still pending at the gateway whose `refund.updated` never came:
the job then books what the gateway says about it.
"""

import logging

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, select

from cpa_network.database import utcnow
from cpa_network.errors import DomainError, NotFound
from cpa_network.extensions import db
from payouts import dispute_debts, escrow, ledger, request_keys
from payouts.currency import format_money
from payouts.deposits import validate_amount
from payouts.dispute_models import FUNDS_OWED, DepositDispute
from payouts.gateway import (
    GatewayError,
    IdempotencyMismatch,
    PaymentGateway,
    describe,
    gateway_named,
)
from payouts.ledger import InsufficientFunds
from payouts.models import AccountKind, Deposit, DepositStatus, EscrowRefund, RefundStatus
from payouts.request_keys import RequestKeyTaken

log = logging.getLogger(__name__)
K = AccountKind
# Gateway refusals that may mean the money already went back to the card: an operator looks.
REVIEW_CODES = frozenset({"charge_already_refunded", "amount_too_large"})


class NothingToRefund(DomainError):
    code = "nothing_to_refund"
    http_status = 409
    default_message = _l("There is no deposit left to refund this amount to.")


class RefundTransitionRefused(DomainError):
    code = "refund_state"
    http_status = 409
    default_message = _l("Only a refund still on its way can be retried.")


# A deposit whose card payment the issuer took back (a chargeback) cannot be refunded to it.
_charged_back = exists().where(DepositDispute.deposit_id == Deposit.id,
                               DepositDispute.funds.in_(FUNDS_OWED))


def withdraw_escrow(advertiser_id: int, amount: int, currency: str,
                    request_key: str | None = None) -> list[EscrowRefund]:
    """Reserve `amount` of unused escrow and queue refunds of the deposits that brought it.
    With a request key, `RequestKeyTaken` if a twin request made the withdrawal first."""
    amount, code = validate_amount(amount, currency)
    deposits = db.session.scalars(
        select(Deposit).where(Deposit.owner_id == advertiser_id,
                              Deposit.account_kind == AccountKind.ADVERTISER_ESCROW,
                              Deposit.currency == code,
                              Deposit.status == DepositStatus.SUCCEEDED,
                              Deposit.refunded_amount < Deposit.amount, ~_charged_back)
        .order_by(Deposit.id.desc()).with_for_update()).all()
    if request_key is not None and refunds_with_key(request_key):
        raise RequestKeyTaken()  # a twin held these deposits; we waited for its commit
    # What the advertiser owes for a chargeback is repaid before anything goes back to a card.
    dispute_debts.settle_debts(advertiser_id, AccountKind.ADVERTISER_ESCROW, code)
    available = escrow.escrow_balance(advertiser_id, code)
    if amount > available:
        raise InsufficientFunds(message=_l(
            "You can withdraw at most %(available)s: the rest is held for pending conversions "
            "or already spent.", available=format_money(available, code)))
    if sum(d.refundable for d in deposits) < amount:
        raise NothingToRefund()
    refunds, left = [], amount
    for deposit in deposits:
        if not left:
            break
        part = min(left, deposit.refundable)
        refunds.append(_reserve(deposit, part, request_key, len(refunds)))
        left -= part
    return refunds


def withdraw_escrow_once(advertiser_id: int, amount: int, currency: str,
                         request_key: str | None) -> tuple[list[EscrowRefund], bool]:
    """The advertiser's withdrawal (the balance page, the API): its refunds, and True if this
    call made them. A replayed request key answers the refunds the key made and moves nothing;
    the same key with another amount or currency is `IdempotencyKeyReused`."""
    if request_key is None:
        return withdraw_escrow(advertiser_id, amount, currency), True
    amount, code = validate_amount(amount, currency)
    made, new = request_keys.made_once(
        lambda: refunds_with_key(request_key),
        lambda: withdraw_escrow(advertiser_id, amount, code, request_key))
    if new:
        return made, True
    request_keys.check_same(
        (made[0].advertiser_id, sum(r.amount for r in made), made[0].currency),
        (advertiser_id, amount, code))
    return made, False


def refunds_with_key(request_key: str) -> list[EscrowRefund]:
    return list(db.session.scalars(select(EscrowRefund).where(
        EscrowRefund.request_key == request_key).order_by(EscrowRefund.request_part)))


def _reserve(deposit: Deposit, amount: int, request_key: str | None,
             part: int) -> EscrowRefund:
    refund = EscrowRefund(deposit_id=deposit.id, advertiser_id=deposit.owner_id,
                          amount=amount, currency=deposit.currency,
                          status=RefundStatus.PENDING.value, failure_reason="",
                          request_key=request_key, request_part=part, needs_review=False,
                          last_error="")
    request_keys.insert_once(refund)  # before the deposit changes: a clash undoes nothing
    deposit.refunded_amount += amount
    db.session.flush()
    owner, code = deposit.owner_id, deposit.currency
    ledger.post_transaction(
        f"refund:{refund.id}:reserve",
        ledger.transfer(ledger.account(K.ADVERTISER_ESCROW, owner, code),
                        ledger.account(K.REFUND_IN_FLIGHT, owner, code), amount),
        "escrow_withdrawal", {"refund": refund.id, "deposit": deposit.id, "advertiser": owner})
    from payouts.tasks import enqueue_refund  # tasks.py imports this module

    enqueue_refund(refund.id)
    return refund


def lock_refund(refund_id: int, skip_locked: bool = False) -> EscrowRefund | None:
    """The refund row, locked until the transaction ends (None: missing, or locked elsewhere
    when `skip_locked`)."""
    return db.session.scalar(
        select(EscrowRefund).where(EscrowRefund.id == refund_id)
        .with_for_update(skip_locked=skip_locked).execution_options(populate_existing=True))


def send_to_gateway(refund_id: int, gateway: PaymentGateway | None = None) -> EscrowRefund | None:
    """The job's work: find the refund at the gateway or make it, then settle. Safe to run
    twice, concurrently (the row lock is held across the gateway calls; a second job skips a
    row the first holds), or after the gateway forgot the idempotency key."""
    refund = lock_refund(refund_id, skip_locked=True)
    if refund is None or refund.status != RefundStatus.PENDING or refund.needs_review:
        return refund  # missing or held by a running job; settled; or an operator's to decide
    intent = refund.deposit.payment_intent_id or ""
    try:
        gateway = gateway or gateway_named(refund.deposit.gateway)
        found = gateway.find_refund(refund, intent)
        if found is None and refund.gateway_refund_id:  # made, yet gone: never make another
            return stop_for_review(refund, f"gateway refund {refund.gateway_refund_id} is no "
                                           "longer listed for its payment")
        result = found or gateway.refund(refund, intent)
    except IdempotencyMismatch as error:
        return stop_for_review(refund, f"idempotency key {refund.idempotency_key} was already "
                                       f"used with other parameters ({describe(error)})")
    except GatewayError as error:
        if error.retryable:
            raise  # the job retries; the money stays in flight meanwhile
        if error.gateway_code in REVIEW_CODES:
            return stop_for_review(refund, describe(error))
        refund.failure_reason = error.gateway_code[:300]
        return settle_refund(refund, "failed")
    if not result.matches(refund):
        return stop_for_review(refund, f"gateway refund {result.refund_id} ({result.amount} "
                                       f"{result.currency}) does not match this refund")
    refund.gateway_refund_id = result.refund_id
    refund.last_error = ""
    return settle_refund(refund, result.status)


def stop_for_review(refund: EscrowRefund, error: str) -> EscrowRefund:
    """Stop without posting anything: the money stays in flight until an operator decides."""
    log.error("escrow refund %s needs review: %s", refund.id, error)
    refund.needs_review = True
    refund.last_error = error[:300]
    return refund


def retry_refund(refund_id: int) -> EscrowRefund:
    """The operator's retry of a pending refund (stopped for review or not): queue its job
    again now; it looks for the refund at the gateway before making one."""
    refund = lock_refund(refund_id)
    if refund is None:
        raise NotFound()
    if refund.status != RefundStatus.PENDING:
        raise RefundTransitionRefused()
    refund.needs_review = False
    from payouts.tasks import requeue_refund  # tasks.py imports this module

    requeue_refund(refund.id)
    return refund


def resolve_refund(refund_id: int, refunded: bool) -> EscrowRefund:
    """The operator looked at the gateway's dashboard for a refund stopped for review: the
    money went back to the card (`refunded`: settled as refunded) or it did not (back to
    escrow). Booked once, like the job's own outcome."""
    refund = lock_refund(refund_id)
    if refund is None:
        raise NotFound()
    if refund.status != RefundStatus.PENDING or not refund.needs_review:
        raise RefundTransitionRefused(_l("Only a refund stopped for review can be settled "
                                         "by hand."))
    if not refunded:
        refund.failure_reason = "returned by an operator"
    return settle_refund(refund, "succeeded" if refunded else "failed")


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
    refund.needs_review = False
    refund.settled_at = utcnow()
    return refund


def unfinished_refunds(limit: int = 200) -> list[EscrowRefund]:
    """Pending refunds for the operator, those stopped for review first, then oldest first."""
    return list(db.session.scalars(
        select(EscrowRefund).where(EscrowRefund.status == RefundStatus.PENDING)
        .order_by(EscrowRefund.needs_review.desc(), EscrowRefund.id).limit(limit)))


def recent_refunds(advertiser_id: int, limit: int = 20) -> list[EscrowRefund]:
    return list(db.session.scalars(
        select(EscrowRefund).where(EscrowRefund.advertiser_id == advertiser_id)
        .order_by(EscrowRefund.id.desc()).limit(limit)))
