"""Publishers' withdrawals: the request, its refusals, and the payout state machine.

A request moves the money in one database transaction: a payout row is created and its amount
goes from the publisher's available balance to payout in flight (`payout:<id>:reserve`), under
the available account's row lock, so concurrent requests can never overdraw it. The payout job
(payouts/transfers.py) is enqueued after the commit. A payout then settles once, either way
(`payout:<id>:settle`): paid (in flight -> paid out) or failed (in flight -> available).
A request key (UNIQUE, payouts/request_keys.py) makes a confirmation or an API call sent twice,
and an operator's retry of a failed payout, one payout.

    requested -> submitting -> submitted -> paid
         \\            \\
          `-> failed   `-> failed          (permanent refusals; the money is back)
"""

from flask import current_app
from flask_babel import format_date
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from cpa_network.accounts.models import User
from cpa_network.accounts.services import AccountBlocked
from cpa_network.database import utcnow
from cpa_network.errors import DomainError, Forbidden, NotFound, ValidationFailed
from cpa_network.extensions import db
from payouts import dispute_debts, ledger, request_keys, top_up_clearing
from payouts.connect import usable_account
from payouts.currency import format_money, to_minor
from payouts.deposits import validate_amount
from payouts.ledger import InsufficientFunds
from payouts.models import AccountKind, Payout, PayoutAccount, PayoutStatus

S = PayoutStatus
K = AccountKind

TRANSITIONS = {
    S.REQUESTED: {S.SUBMITTING, S.FAILED},
    S.SUBMITTING: {S.SUBMITTED, S.FAILED},
    S.SUBMITTED: {S.PAID},  # the gateway took the money: it is paid out, never returned
    S.PAID: set(),
    S.FAILED: set(),
}


class BelowThreshold(ValidationFailed):
    code = "below_threshold"
    default_message = _l("This is below the minimum payout.")


class ExceedsAvailable(InsufficientFunds):
    code = "exceeds_available"
    default_message = _l("This is more than your available balance.")


class TopUpClearing(ExceedsAvailable):
    """The amount reaches into card top-ups that have not cleared yet (payouts/top_up_clearing)."""

    code = "top_up_clearing"
    default_message = _l("This reaches into card top-ups that have not cleared yet.")

    def __init__(self, withdrawable: int, clearing: int, currency: str, clears_at):
        super().__init__(fields={"amount": [_l(
            "You can withdraw at most %(withdrawable)s now: %(clearing)s of your balance is card "
            "top-ups, which you can spend on the exchange at once but withdraw only from "
            "%(date)s.", withdrawable=format_money(withdrawable, currency),
            clearing=format_money(clearing, currency), date=format_date(clears_at))]})


class PublisherBlocked(AccountBlocked):
    default_message = _l("Your account is blocked, so payouts are suspended. Contact the "
                         "network operator.")


class PayoutTransitionRefused(DomainError):
    code = "payout_state"
    http_status = 409
    default_message = _l("The payout cannot change to that state.")


class AlreadyRetried(PayoutTransitionRefused):
    """A failed payout is retried once; to try again, retry the retry."""

    code = "already_retried"

    def __init__(self, payout_id: int, retry_id: int):
        self.retry_id = retry_id
        super().__init__(_l("Payout %(old)d was already retried as payout #%(new)d.",
                            old=payout_id, new=retry_id))


def network_minimum(currency: str) -> int:
    """The network's minimum payout (PAYOUT_MINIMUM, major units) in `currency`'s minor units."""
    return to_minor(current_app.config["PAYOUT_MINIMUM"], currency)


def threshold(account: PayoutAccount | None, currency: str) -> int:
    """The publisher's own minimum if they set one, else the network's; never below it."""
    network = network_minimum(currency)
    if account is None or account.minimum_major is None:
        return network
    return max(network, to_minor(account.minimum_major, currency))


def transition(payout: Payout, new: PayoutStatus) -> None:
    if new not in TRANSITIONS[S(payout.status)]:
        raise PayoutTransitionRefused()
    payout.status = new.value


def request_withdrawal(publisher: User, amount: int, currency: str, *, automatic: bool = False,
                       request_key: str | None = None, retry_of: Payout | None = None,
                       enqueue: bool = True) -> Payout:
    """Move `amount` of available earnings into flight and queue its transfer (after commit;
    `enqueue=False`: the caller queues it in a batch).

    Refusals, each a named error: not a publisher, blocked, a bad amount or currency, no usable
    payout account, below the threshold (not checked for an operator's retry), more than
    available (decided under the row lock by the ledger)."""
    if not publisher.is_publisher:
        raise Forbidden(_l("Only publishers have earnings to withdraw."))
    if publisher.is_blocked:
        raise PublisherBlocked()
    amount, code = validate_amount(amount, currency)
    account = usable_account(publisher.id)
    minimum = threshold(account, code)
    if retry_of is None and amount < minimum:
        raise BelowThreshold(fields={"amount": [_l(
            "The minimum payout is %(minimum)s.", minimum=format_money(minimum, code))]})
    payout = Payout(publisher_id=publisher.id, amount=amount, currency=code,
                    status=S.REQUESTED.value, gateway=account.gateway,
                    destination=account.external_id, automatic=automatic,
                    request_key=request_key, retry_of_id=retry_of.id if retry_of else None,
                    attempts=0, last_error="", needs_review=False, failure_code="",
                    failure_reason="", requested_at=utcnow())
    request_keys.insert_once(payout)  # RequestKeyTaken: a twin request has the key
    # What the publisher owes for a chargeback of a top-up is repaid before a payout.
    dispute_debts.settle_debts(publisher.id, K.PUBLISHER_AVAILABLE, code)
    if retry_of is None:  # a retry returns what was once allowed out
        _refuse_uncleared_top_ups(publisher.id, amount, code)
    try:
        ledger.post_transaction(
            f"payout:{payout.id}:reserve",
            ledger.transfer(ledger.account(K.PUBLISHER_AVAILABLE, publisher.id, code),
                            ledger.account(K.PAYOUT_IN_FLIGHT, publisher.id, code), amount),
            "payout_requested", refs_of(payout))
    except InsufficientFunds as error:
        raise ExceedsAvailable(fields={"amount": [_l(
            "You can withdraw at most %(available)s.",
            available=format_money(max(error.available, 0), code))]}) from None
    if enqueue:
        from payouts.tasks import enqueue_payout  # tasks.py imports this module

        enqueue_payout(payout.id)
    return payout


def withdraw(publisher: User, amount: int, currency: str,
             request_key: str | None = None) -> tuple[Payout, bool]:
    """A publisher's own withdrawal (the earnings page, the API): the payout, and True if this
    call made it. A replayed request key answers the payout the key made and moves nothing;
    the same key with another amount or currency is `IdempotencyKeyReused`."""
    if request_key is None:
        return request_withdrawal(publisher, amount, currency), True
    amount, code = validate_amount(amount, currency)
    made, new = request_keys.made_once(
        lambda: payout_with_key(request_key),
        lambda: request_withdrawal(publisher, amount, code, request_key=request_key))
    if new:
        return made, True
    request_keys.check_same((made.publisher_id, made.amount, made.currency),
                            (publisher.id, amount, code))
    return made, False


def _refuse_uncleared_top_ups(publisher_id: int, amount: int, code: str) -> None:
    """`TopUpClearing` if the amount reaches into top-ups still clearing. Decided under the
    available account's row lock (the reserve below takes it again), both read after it: a
    top-up credited meanwhile (its credit takes the same lock) counts in the balance and in
    what is clearing, never in one alone."""
    available = ledger.account(K.PUBLISHER_AVAILABLE, publisher_id, code)
    ledger.lock_accounts([available.id])
    clearing = top_up_clearing.held(publisher_id, code)
    if not clearing:
        return
    free = ledger.balance(K.PUBLISHER_AVAILABLE, publisher_id, code) - clearing
    if amount > free:
        raise TopUpClearing(max(free, 0), clearing, code,
                            top_up_clearing.clears_at(publisher_id, code))


def payout_with_key(request_key: str) -> Payout | None:
    return db.session.scalar(select(Payout).where(Payout.request_key == request_key))


def retry_failed(failed: Payout) -> Payout:
    """A new payout for a failed one's amount, if it is still available (no threshold check:
    the operator retries what the publisher once asked for). Once per failed payout: the
    request key `retry:<id>` is UNIQUE, and a second retry is `AlreadyRetried`. The caller
    holds the failed payout's row lock, so concurrent retries take their turns."""
    if failed.status != S.FAILED:
        raise PayoutTransitionRefused(_l("Only a failed payout can be retried."))
    key = f"retry:{failed.id}"
    retry, new = request_keys.made_once(
        lambda: _retry_of(failed.id, key),
        lambda: request_withdrawal(db.session.get(User, failed.publisher_id), failed.amount,
                                   failed.currency, request_key=key, retry_of=failed))
    if new:
        return retry
    raise AlreadyRetried(failed.id, retry.id)


def _retry_of(payout_id: int, key: str) -> Payout | None:
    """The retry of a payout (one made before retries had keys has only `retry_of_id`)."""
    return db.session.scalar(select(Payout).where(
        or_(Payout.request_key == key, Payout.retry_of_id == payout_id))
        .order_by(Payout.id).limit(1))


def refs_of(payout: Payout) -> dict:
    return {"payout": payout.id, "publisher": payout.publisher_id}


def payout_for_user(payout_id: int, user: User) -> Payout:
    """The publisher's own payout (operators see all); anyone else's is Not Found."""
    payout = db.session.get(Payout, payout_id)
    if payout is None or (payout.publisher_id != user.id and not user.is_admin):
        raise NotFound()
    return payout


def payouts_query(publisher_id: int, status: str | None = None):
    """The publisher's payouts, newest first (a select, for lists and pages)."""
    query = select(Payout).where(Payout.publisher_id == publisher_id)
    if status:
        query = query.where(Payout.status == status)
    return query.order_by(Payout.id.desc())


def payouts_of(publisher_id: int, status: str | None = None, limit: int = 50) -> list[Payout]:
    return list(db.session.scalars(payouts_query(publisher_id, status).limit(limit)))
