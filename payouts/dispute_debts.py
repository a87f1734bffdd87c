"""What an owner owes for a chargeback their balance could not cover, and its repayment.

When the issuer takes back a deposit, the owner's balance (escrow, or a publisher's available)
gives what it has; the rest of it was already committed to conversions, which still pay their
publishers, so the network fronts it from its revenue (payouts/disputes.py). That shortfall is
the owner's debt, repaid from the next money that reaches the same balance, before anything
else may use it:

    repaid:   owner's balance -> network revenue        dispute:<id>:repaid:<running total>

A deposit's credit repays first (`deposits.credit_deposit`, before the offers package funds
waiting conversions), and so do a withdrawal of escrow or earnings and the funding of waiting
conversions; a periodic job sweeps up money that came back another way (a rejected conversion).

Lock order: a transaction locks the owner's owed disputes before any ledger account (the
dispute handler does the same), so a repayment and a dispute event never wait on each other
in a circle.
"""

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from cpa_network.extensions import db
from cpa_network.notifications.services import MESSAGES, notify
from payouts import escrow, ledger
from payouts.currency import format_money
from payouts.dispute_models import DepositDispute, DisputeFunds
from payouts.models import AccountKind

K = AccountKind
MESSAGES.update({
    "dispute_debt_repaid": _l("%(amount)s of what you owe for the disputed deposit #%(id)s was "
                              "taken from your balance; %(owed)s is still owed."),
})
_OWED = (DepositDispute.owed > 0,)


def lock_debts(owner_id: int, kind: AccountKind, currency: str) -> list[DepositDispute]:
    """The owner's disputes with something still owed from `kind` in `currency`, oldest first,
    locked. Call it before the transaction touches a ledger account (see the module's lock
    order)."""
    return list(db.session.scalars(
        select(DepositDispute).where(DepositDispute.owner_id == owner_id,
                                     DepositDispute.account_kind == AccountKind(kind).value,
                                     DepositDispute.currency == currency.upper(), *_OWED)
        .order_by(DepositDispute.id).with_for_update()
        .execution_options(populate_existing=True)))


def repay_debts(debts: list[DepositDispute]) -> int:
    """Repay `debts` (locked, one owner, kind and currency) from what the balance holds now,
    oldest first; returns how much was repaid."""
    if not debts:
        return 0
    kind, owner, code = K(debts[0].account_kind), debts[0].owner_id, debts[0].currency
    source = ledger.account(kind, owner, code)
    revenue = ledger.network_account(K.NETWORK_REVENUE, code)
    ledger.lock_accounts([source.id, revenue.id])  # the balance read below stays true
    left = ledger.balance(kind, owner, code)
    repaid = 0
    for dispute in debts:
        part = min(dispute.owed, left)
        if part <= 0:
            break
        total = dispute.recovered_amount + part
        ledger.post_transaction(
            f"dispute:{dispute.id}:repaid:{total}", ledger.transfer(source, revenue, part),
            "dispute_repaid", {**refs_of(dispute), "repaid_total": total})
        dispute.recovered_amount = total
        left -= part
        repaid += part
        notify(owner, "dispute_debt_repaid", f"dispute_debt_repaid:{dispute.id}:{total}",
               id=dispute.deposit_id, amount=format_money(part, code),
               owed=format_money(dispute.owed, code))
    return repaid


def settle_debts(owner_id: int, kind: AccountKind, currency: str) -> int:
    """Lock and repay the owner's debts in `kind` and `currency`; how much was repaid."""
    return repay_debts(lock_debts(owner_id, kind, currency))


def lock_accounts_with(debts: list[DepositDispute], accounts) -> None:
    """For a transaction that repays `debts` (locked) and also posts on `accounts`: lock them
    all at once, in id order, with what the repayment takes (the debts' balance and revenue).
    Taken in two steps, a concurrent post that holds one of them (a postback's hold has the
    pending fee) and waits for one of ours would wait on us while we wait on it."""
    if not debts:
        return
    kind, owner, code = K(debts[0].account_kind), debts[0].owner_id, debts[0].currency
    ledger.lock_accounts([*(account.id for account in accounts),
                          ledger.account(kind, owner, code).id,
                          ledger.network_account(K.NETWORK_REVENUE, code).id])


def settle_escrow_debts_before_holds(advertiser_id: int, currency: str) -> int:
    """Repay the advertiser's escrow debts ahead of holds for conversions in this transaction
    (which post on escrow, hold and pending fee); how much was repaid."""
    debts = lock_debts(advertiser_id, K.ADVERTISER_ESCROW, currency)
    if debts:
        code = currency.upper()
        lock_accounts_with(debts, ledger.accounts_of(
            {(kind, advertiser_id, code) for kind in escrow.HOLD_ACCOUNTS}).values())
    return repay_debts(debts)


def owed_total(owner_id: int, kind: AccountKind, currency: str) -> int:
    """What the owner still owes from `kind` in `currency` (0 when nothing)."""
    return _total(DepositDispute.owed, owner_id, kind, currency, *_OWED)


def disputed_total(owner_id: int, kind: AccountKind, currency: str) -> int:
    """What the issuer holds of the owner's `kind` deposits in `currency` while their disputes
    are undecided (the owner's share of the `disputed` account)."""
    return _total(DepositDispute.amount, owner_id, kind, currency,
                  DepositDispute.funds == DisputeFunds.WITHDRAWN)


def _total(column, owner_id: int, kind: AccountKind, currency: str, *conditions) -> int:
    """The sum of `column` over the owner's disputes of `kind` deposits in `currency`."""
    total = db.session.scalar(
        select(func.coalesce(func.sum(column), 0))
        .where(DepositDispute.owner_id == owner_id,
               DepositDispute.account_kind == AccountKind(kind).value,
               DepositDispute.currency == currency.upper(), *conditions))
    return int(total or 0)


def owners_in_debt() -> list[tuple[int, str, str]]:
    """(owner id, account kind, currency) of every debt still open."""
    return [tuple(row) for row in db.session.execute(
        select(DepositDispute.owner_id, DepositDispute.account_kind, DepositDispute.currency)
        .where(*_OWED).distinct().order_by(DepositDispute.owner_id))]


def settle_all_debts() -> int:
    """The periodic sweep: repay every open debt from what its balance holds; one transaction
    per owner, kind and currency. Returns how much was repaid."""
    repaid = 0
    for owner_id, kind, code in owners_in_debt():
        repaid += settle_debts(owner_id, K(kind), code)
        db.session.commit()
    return repaid


def refs_of(dispute: DepositDispute) -> dict:
    """A dispute's ledger refs: the dispute, its deposit, and its owner in their role."""
    role = "advertiser" if dispute.account_kind == K.ADVERTISER_ESCROW else "publisher"
    return {"dispute": dispute.id, "deposit": dispute.deposit_id, role: dispute.owner_id,
            "stripe_dispute": dispute.stripe_dispute_id}
