"""Top-ups: a deposit row, a Checkout at the gateway, and the credit from its webhook.

A deposit credits one account of its owner (`account_kind`): an advertiser's escrow, or a
publisher's available balance (to buy lots on the exchange with). Both are credited in one
place, `credit_deposit`, called by the Stripe webhook handler (a paid Checkout Session) or at
once by the sandbox. Its ledger key is fixed per deposit, so the `completed` and
`async_payment_succeeded` events, retried deliveries and concurrent ones credit the money once.

An API deposit may carry a request key (UNIQUE, payouts/request_keys.py): the same call sent
again answers the deposit it made and opens no second Checkout.
"""

from collections.abc import Callable

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from cpa_network.accounts.models import User
from cpa_network.database import utcnow
from cpa_network.errors import DomainError, Forbidden, NotFound, ValidationFailed
from cpa_network.extensions import db
from cpa_network.jobs import enqueue_after_commit
from payouts import currency as currencies
from payouts import dispute_debts, ledger, request_keys
from payouts.gateway import GatewayError, PaymentGateway, get_gateway
from payouts.models import DEPOSIT_KINDS, AccountKind, Deposit, DepositStatus
from payouts.request_keys import IdempotencyKeyReused

S = DepositStatus
CREDIT_LISTENERS = "cpa_escrow_credit_listeners"
MIN_AMOUNT_MINOR = 100  # 1.00: below Stripe's minimum charge in every supported currency

# The deposit state machine: where each state may go next.
TRANSITIONS = {
    S.CREATED: {S.PENDING, S.SUCCEEDED, S.FAILED, S.EXPIRED},
    S.PENDING: {S.SUCCEEDED, S.FAILED, S.EXPIRED},
    # Money that arrives after a failure or expiry is still money: credit it.
    S.FAILED: {S.SUCCEEDED},
    S.EXPIRED: {S.SUCCEEDED},
    S.SUCCEEDED: set(),
}
# Where `close_deposit` has nothing left to do: credited, or already failed or expired.
CLOSED = frozenset({S.SUCCEEDED, S.FAILED, S.EXPIRED})


class AmountInvalid(ValidationFailed):
    code = "amount_invalid"
    default_message = _l("Enter a positive amount.")


class CurrencyUnsupported(ValidationFailed):
    code = "currency_unsupported"
    default_message = _l("This currency is not supported.")


class DepositTransitionRefused(DomainError):
    code = "deposit_state"
    http_status = 409
    default_message = _l("The deposit cannot change to that state.")


def top_up_amount(short_by: int) -> int:
    """What to deposit to cover `short_by`: at least the gateway's minimum charge."""
    return max(short_by, MIN_AMOUNT_MINOR)


def validate_amount(amount, currency: str | None) -> tuple[int, str]:
    """An integer amount in minor units within limits, and a supported currency code."""
    if not currencies.is_supported(currency):
        raise CurrencyUnsupported(fields={"currency": [_l(
            "Use one of: %(codes)s.", codes=", ".join(currencies.CURRENCIES))]})
    code = currency.upper()
    if type(amount) is not int or amount < MIN_AMOUNT_MINOR or amount > currencies.max_minor(code):
        raise AmountInvalid(fields={"amount": [_l(
            "Give an integer amount in minor units between %(low)s and %(high)s.",
            low=currencies.format_money(MIN_AMOUNT_MINOR, code),
            high=currencies.format_money(currencies.max_minor(code), code))]})
    return amount, code


def transition(deposit: Deposit, new: DepositStatus) -> bool:
    """Move `deposit` to `new`; False if it is already there, refused if the move is illegal."""
    if deposit.status == new:
        return False
    if new not in TRANSITIONS[S(deposit.status)]:
        raise DepositTransitionRefused()
    deposit.status = new.value
    return True


def create_deposit(owner: User, amount: int, currency: str,
                   gateway: PaymentGateway | None = None,
                   kind: AccountKind = AccountKind.ADVERTISER_ESCROW,
                   request_key: str | None = None) -> Deposit:
    """A new top-up row of the owner's `kind` account. Commit it before `open_checkout`, so a
    webhook always finds it. `RequestKeyTaken` if a twin request has the key."""
    if kind not in DEPOSIT_KINDS:
        raise ValueError(f"deposits cannot credit {kind}")
    if kind == AccountKind.ADVERTISER_ESCROW and (not owner.is_advertiser or owner.is_blocked):
        raise Forbidden(_l("Only advertisers can deposit."))
    if kind == AccountKind.PUBLISHER_AVAILABLE and (not owner.is_publisher or owner.is_blocked):
        raise Forbidden(_l("Only publishers can top up their available balance."))
    amount, code = validate_amount(amount, currency)
    gateway = gateway or get_gateway()
    deposit = Deposit(owner_id=owner.id, account_kind=kind.value, amount=amount, currency=code,
                      gateway=gateway.name, status=S.CREATED.value, refunded_amount=0,
                      failure_reason="", request_key=request_key)
    if request_key is None:
        db.session.add(deposit)
        db.session.flush()
    else:
        request_keys.insert_once(deposit)  # a savepoint: a clash undoes nothing else
    return deposit


def open_checkout(deposit: Deposit, success_url: str, cancel_url: str,
                  gateway: PaymentGateway | None = None) -> Deposit:
    """Start the payment at the gateway; the sandbox credits the account at once."""
    gateway = gateway or get_gateway()
    start = gateway.start_deposit(deposit, success_url, cancel_url)
    deposit = lock_deposit(deposit.id)  # a webhook may have credited it meanwhile
    deposit.checkout_session_id, deposit.checkout_url = start.session_id, start.url
    if start.url is None:
        credit_deposit(deposit, {"gateway": gateway.name})
    elif deposit.status == S.CREATED:
        transition(deposit, S.PENDING)
    return deposit


def begin_deposit(owner: User, amount: int, currency: str,
                  success_url_for: Callable[[int], str], cancel_url: str,
                  kind: AccountKind = AccountKind.ADVERTISER_ESCROW,
                  request_key: str | None = None) -> Deposit:
    """The request boundary's deposit: commit the row, open the Checkout, commit again.

    Two commits on purpose: the row must exist before Stripe can possibly send its webhook.
    A Checkout that could not be opened frees the request key: the refused call keeps nothing
    and may be sent again with its key.
    """
    deposit = create_deposit(owner, amount, currency, kind=kind, request_key=request_key)
    db.session.commit()
    try:
        deposit = open_checkout(deposit, success_url_for(deposit.id), cancel_url)
    except GatewayError:
        db.session.rollback()
        failed = lock_deposit(deposit.id)
        close_deposit(failed, S.FAILED, "the checkout could not be opened")
        failed.request_key = None
        db.session.commit()
        raise
    db.session.commit()
    return deposit


def begin_deposit_once(owner: User, amount: int, currency: str,
                       success_url_for: Callable[[int], str], cancel_url: str,
                       kind: AccountKind, request_key: str | None) -> tuple[Deposit, bool]:
    """The API's deposit: the deposit, and True if this call made it. A replayed request key
    answers the deposit the key made, as it is now, and opens no second Checkout; the same key
    with another amount, currency or account is `IdempotencyKeyReused`."""
    if request_key is None:
        return begin_deposit(owner, amount, currency, success_url_for, cancel_url, kind), True
    amount, code = validate_amount(amount, currency)
    made, new = request_keys.made_once(
        lambda: deposit_with_key(request_key),
        lambda: begin_deposit(owner, amount, code, success_url_for, cancel_url, kind,
                              request_key))
    if new:
        return made, True
    request_keys.check_same((made.owner_id, made.amount, made.currency),
                            (owner.id, amount, code))
    if made.account_kind != kind:
        raise IdempotencyKeyReused(_l("This Idempotency-Key was already used for a deposit to "
                                      "another account."))
    return made, False


def deposit_with_key(request_key: str) -> Deposit | None:
    return db.session.scalar(select(Deposit).where(Deposit.request_key == request_key))


def lock_deposit(deposit_id: int) -> Deposit:
    deposit = db.session.scalar(select(Deposit).where(Deposit.id == deposit_id).with_for_update()
                                .execution_options(populate_existing=True))
    if deposit is None:
        raise NotFound()
    return deposit


def register_credit_listener(app, job) -> None:
    """`job(advertiser_id, currency)` is enqueued after an escrow deposit's credit commits: higher
    layers react to new escrow (offers funds conversions waiting for it) without payouts
    importing them. Registered in create_app."""
    app.extensions.setdefault(CREDIT_LISTENERS, []).append(job)


def credit_deposit(deposit: Deposit, refs: dict | None = None) -> bool:
    """Credit the deposit's account once (a fixed ledger key); True if this call credited it.

    The account is the deposit owner's of the deposit's kind, whoever delivered the event."""
    if deposit.status == S.SUCCEEDED:
        return False
    code, kind = deposit.currency, AccountKind(deposit.account_kind)
    escrow = kind == AccountKind.ADVERTISER_ESCROW
    debts = dispute_debts.lock_debts(deposit.owner_id, kind, code)  # before any account lock
    clearing = ledger.network_account(AccountKind.GATEWAY_CLEARING, code)
    owners = ledger.account(kind, deposit.owner_id, code)
    dispute_debts.lock_accounts_with(debts, [clearing, owners])  # the repayment comes below
    ledger.post_transaction(
        f"deposit:{deposit.id}:credit", ledger.transfer(clearing, owners, deposit.amount),
        "deposit", {"deposit": deposit.id,
                    "advertiser" if escrow else "publisher": deposit.owner_id, **(refs or {})},
        description=f"{deposit.gateway} deposit {deposit.checkout_session_id or deposit.id}")
    transition(deposit, S.SUCCEEDED)
    deposit.credited_at = utcnow()
    deposit.failure_reason = ""
    # What the owner owes for a chargeback is repaid first, before the listeners fund anything.
    dispute_debts.repay_debts(debts)
    if escrow:  # conversions may wait for it; nothing waits for a publisher's available balance
        announce_escrow_credit(deposit.owner_id, code, f"deposit-{deposit.id}")
    return True


def announce_escrow_credit(advertiser_id: int, currency: str, source: str) -> None:
    """Enqueue the credit listeners after the commit that put money in the escrow; `source`
    names what credited it (one job per source)."""
    for job in current_app.extensions.get(CREDIT_LISTENERS, ()):
        enqueue_after_commit(job, advertiser_id, currency,
                             job_id=f"escrow-credited-{job.__name__}-{source}")


def close_deposit(deposit: Deposit, status: DepositStatus, reason: str = "") -> bool:
    """A payment that failed or a Checkout that expired; False if nothing changed. A credited
    deposit stays credited, and a closed one stays as it was closed: Stripe's expiry of a
    session whose deposit we already marked failed (or the reverse) is news of nothing."""
    if deposit.status in CLOSED:
        return False
    changed = transition(deposit, status)
    deposit.failure_reason = reason[:300]
    return changed


def deposit_for_user(deposit_id: int, user: User) -> Deposit:
    """The user's own deposit (operators see all); anyone else's is Not Found."""
    deposit = db.session.get(Deposit, deposit_id)
    if deposit is None or (deposit.owner_id != user.id and not user.is_admin):
        raise NotFound()
    return deposit


def deposits_query(owner_id: int, status: str | None = None,
                   kind: AccountKind | None = AccountKind.ADVERTISER_ESCROW):
    """The owner's top-ups (of one account kind, or all with None), newest first: a select,
    for lists and pages."""
    query = select(Deposit).where(Deposit.owner_id == owner_id)
    if kind is not None:
        query = query.where(Deposit.account_kind == kind)
    if status:
        query = query.where(Deposit.status == status)
    return query.order_by(Deposit.id.desc())


def recent_deposits(owner_id: int, limit: int = 20,
                    kind: AccountKind = AccountKind.ADVERTISER_ESCROW) -> list[Deposit]:
    return list(db.session.scalars(deposits_query(owner_id, kind=kind).limit(limit)))


def open_deposits(owner_id: int, kind: AccountKind, currency: str) -> list[Deposit]:
    """The owner's top-ups of `kind` still waiting for the gateway (created or pending)."""
    return list(db.session.scalars(select(Deposit).where(
        Deposit.owner_id == owner_id, Deposit.account_kind == kind,
        Deposit.currency == currency, Deposit.status.in_((S.CREATED, S.PENDING)))
        .order_by(Deposit.id)))
