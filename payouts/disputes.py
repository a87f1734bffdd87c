"""Card disputes (chargebacks) of deposits, mirrored in the ledger so the books keep matching
the money at Stripe.

When a card payment is disputed Stripe takes the disputed amount out of the platform's balance
at once; if the dispute is won it comes back, if lost it is gone. The deposit it paid for was
credited to its owner's balance (an advertiser's escrow, or a publisher's available), so:

    funds withdrawn   owner's balance -(what it has), network revenue -(the rest)
                      -> owner's `disputed` +amount                  dispute:<id>:withdrawn
    won (reinstated)  disputed -amount -> owner's balance +(taken + repaid),
                      network revenue +(what it still fronts)        dispute:<id>:settle
    lost              disputed -amount -> gateway clearing           dispute:<id>:settle

The balance may already be committed to held conversions; those still pay their publishers, so
what the balance lacks is fronted by the network (revenue, which may go negative) and owed by
the owner until repaid from their next money (payouts/dispute_debts.py). No account but
clearing and revenue goes below zero. Won and lost share one key: a dispute is decided once.

Stripe sends `charge.dispute.created` and `.funds_withdrawn` for the withdrawal, `.closed`
(won or lost) and `.funds_reinstated` for the outcome, in any order and repeatedly: every step
checks where the money is (`DisputeFunds`) under the dispute's row lock, and an outcome that
arrives first takes the withdrawal step before its own. An inquiry (`warning_*`) moves no money.
Stripe's dispute fee is the platform's cost and, like its processing fees, not in the ledger.
"""

import logging
from datetime import UTC, datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, select
from sqlalchemy.exc import IntegrityError

from cpa_network.accounts.models import User
from cpa_network.database import utcnow
from cpa_network.errors import DomainError
from cpa_network.extensions import db
from cpa_network.jobs import enqueue_after_commit
from cpa_network.notifications.services import MESSAGES, notify
from payouts import ledger
from payouts.currency import format_money
from payouts.deposits import announce_escrow_credit
from payouts.dispute_debts import refs_of
from payouts.dispute_models import (
    CHARGEBACK_STATUSES,
    CLOSED_STATUSES,
    DepositDispute,
    DisputeFunds,
)
from payouts.gateway import get_gateway
from payouts.ledger import Leg
from payouts.models import AccountKind, Deposit, DepositStatus

log = logging.getLogger(__name__)
K, F = AccountKind, DisputeFunds
WITHDRAWN_LISTENERS = "cpa_dispute_withdrawn_listeners"
MESSAGES.update({
    "dispute_opened": _l("The card payment of your deposit #%(id)s is disputed (a chargeback): "
                         "the card issuer took back %(amount)s, so it left your balance until "
                         "the dispute is decided."),
    "dispute_opened_short": _l(
        "The card payment of your deposit #%(id)s is disputed (a chargeback): the card issuer "
        "took back %(amount)s. Your balance had only %(taken)s not committed to conversions, so "
        "you owe %(owed)s; it is taken from your next deposit first. Offers your escrow no "
        "longer covers are paused."),
    "dispute_won": _l("The dispute of your deposit #%(id)s was decided for you: %(amount)s is "
                      "back in your balance."),
    "dispute_lost": _l("The dispute of your deposit #%(id)s was lost: the card issuer keeps "
                       "%(amount)s."),
    "dispute_lost_owed": _l("The dispute of your deposit #%(id)s was lost: the card issuer keeps "
                            "%(amount)s, and you still owe %(owed)s, taken from your next "
                            "deposit."),
    "dispute_opened_operator": _l("A card payment was disputed (%(reason)s): deposit #%(id)s of "
                                  "user %(owner)s, %(amount)s. Answer it in the Stripe dashboard; "
                                  "see the Disputes page."),
})


STATUS_LABELS = {
    "warning_needs_response": _l("inquiry: needs a response"),
    "warning_under_review": _l("inquiry: under review"),
    "warning_closed": _l("inquiry closed"),
    "needs_response": _l("needs a response"),
    "under_review": _l("under review"),
    "won": _l("won"),
    "lost": _l("lost"),
    "prevented": _l("prevented"),
    "charge_refunded": _l("closed: payment refunded"),
}
FUNDS_LABELS = {
    F.NONE: _l("nothing taken"),
    F.WITHDRAWN: _l("taken back, pending"),
    F.REINSTATED: _l("returned"),
    F.LOST: _l("kept by the card issuer"),
}


def status_label(status: str):
    return STATUS_LABELS.get(status, status.replace("_", " "))


def funds_label(funds: str):
    return FUNDS_LABELS.get(funds, funds)


class DepositNotCredited(DomainError):
    """The webhook answers an error, so the event is not stored and Stripe sends it again."""

    code = "deposit_not_credited"
    http_status = 503
    retry_after = 60
    default_message = _l("The disputed deposit is not credited yet: send the event later.")


def register_withdrawn_listener(app, job) -> None:
    """`job(advertiser_id, currency)` is enqueued after a dispute's withdrawal from an escrow
    commits: offers pauses what the escrow no longer covers, without payouts importing it.
    Registered in create_app."""
    app.extensions.setdefault(WITHDRAWN_LISTENERS, []).append(job)


def payment_intent_of(dispute: dict) -> str:
    """The payment intent a dispute is about: its own field, or its charge's (expanded in the
    event, or else asked of Stripe)."""
    intent = dispute.get("payment_intent")
    charge = dispute.get("charge")
    if not intent and isinstance(charge, dict):
        intent = charge.get("payment_intent")
    if isinstance(intent, dict):
        intent = intent.get("id")
    if not intent and isinstance(charge, str) and charge:
        intent = get_gateway().charge_payment_intent(charge)
    return str(intent or "")


def record_dispute(dispute: dict, event_type: str) -> str:
    """Mirror one dispute event; returns what happened (stored on the event row)."""
    deposit = _disputed_deposit(dispute)
    if deposit is None:
        return "unknown_deposit"
    row = _locked_row(dispute, deposit)
    _update_facts(row, dispute)
    status = row.status
    outcome = None
    if event_type == "charge.dispute.funds_reinstated" or (
            event_type == "charge.dispute.closed" and status == "won"):
        outcome = F.REINSTATED
    elif event_type == "charge.dispute.closed" and status == "lost":
        outcome = F.LOST
    moved = []
    if (outcome or event_type == "charge.dispute.funds_withdrawn"
            or status in CHARGEBACK_STATUSES) and withdraw(row):
        moved.append("withdrawn")
    if outcome is not None and row.funds == F.WITHDRAWN:
        (reinstate if outcome == F.REINSTATED else lose)(row)
        moved.append(outcome.value)
    elif outcome is not None and row.funds != outcome:
        log.error("dispute %s: %s after it was %s", row.stripe_dispute_id, event_type, row.funds)
    elif event_type == "charge.dispute.closed" and row.funds == F.WITHDRAWN:
        log.error("dispute %s closed as %s with its money still withdrawn: an operator must "
                  "look", row.stripe_dispute_id, status)
    if moved:
        return f"dispute_{moved[-1]}"
    return "dispute_recorded" if row.funds == F.NONE else f"already_{row.funds}"


def _disputed_deposit(dispute: dict) -> Deposit | None:
    """The credited deposit the dispute is about; None if none is (logged);
    `DepositNotCredited` if it is ours but its payment's own event has not credited it yet."""
    intent = payment_intent_of(dispute)
    deposit = db.session.scalar(select(Deposit).where(
        Deposit.payment_intent_id == intent, Deposit.gateway == "stripe")) if intent else None
    if deposit is None and intent:
        _refuse_if_not_credited_yet(intent, dispute.get("id"))
    if deposit is None:
        log.warning("dispute %s: no deposit was paid by payment intent %r", dispute.get("id"),
                    intent)
        return None
    currency, amount = str(dispute.get("currency", "")).upper(), dispute.get("amount")
    if currency != deposit.currency or type(amount) is not int or not 0 < amount <= deposit.amount:
        log.error("dispute %s (%s %s) does not match deposit %s", dispute.get("id"), amount,
                  currency, deposit.id)
        return None
    if deposit.status != DepositStatus.SUCCEEDED:
        # Paid at Stripe but not credited yet: its own event (or the reconciler) credits it.
        log.warning("dispute %s: deposit %s is %s", dispute.get("id"), deposit.id,
                    deposit.status)
        raise DepositNotCredited()
    return deposit


def _refuse_if_not_credited_yet(intent: str, dispute_id) -> None:
    """A dispute can overtake its payment's `checkout.session.completed` (which records the
    payment intent on the deposit): if Stripe's intent names a deposit of ours still waiting,
    refuse the event, so Stripe sends it again once the credit is booked."""
    deposit_id = (get_gateway().payment_intent_metadata(intent) or {}).get("deposit_id", "")
    waiting = db.session.get(Deposit, int(deposit_id)) if str(deposit_id).isdigit() else None
    if waiting is not None and waiting.gateway == "stripe" and waiting.payment_intent_id is None:
        log.warning("dispute %s: deposit %s is %s", dispute_id, waiting.id, waiting.status)
        raise DepositNotCredited()


def _locked_row(dispute: dict, deposit: Deposit) -> DepositDispute:
    """The dispute's row, created on its first event, locked until the transaction ends."""
    found = _lock(dispute["id"])
    if found is not None:
        return found
    try:
        with db.session.begin_nested():
            db.session.add(DepositDispute(
                stripe_dispute_id=dispute["id"], deposit_id=deposit.id, owner_id=deposit.owner_id,
                account_kind=deposit.account_kind, amount=dispute["amount"],
                currency=deposit.currency, status=str(dispute.get("status") or ""),
                reason="", funds=F.NONE.value, taken_amount=0, shortfall_amount=0,
                recovered_amount=0))
    except IntegrityError:  # a concurrent event of the same dispute created it first
        pass
    return _lock(dispute["id"])


def _lock(stripe_dispute_id: str) -> DepositDispute | None:
    return db.session.scalar(
        select(DepositDispute).where(DepositDispute.stripe_dispute_id == stripe_dispute_id)
        .with_for_update().execution_options(populate_existing=True))


def _update_facts(row: DepositDispute, dispute: dict) -> None:
    """Stripe's status, reason and evidence deadline; a late event never reopens a decided
    dispute."""
    status = str(dispute.get("status") or row.status)[:40]
    if row.status not in CLOSED_STATUSES or status in CLOSED_STATUSES:
        row.status = status
    row.reason = str(dispute.get("reason") or row.reason)[:60]
    due = (dispute.get("evidence_details") or {}).get("due_by")
    if isinstance(due, int):
        row.evidence_due_by = datetime.fromtimestamp(due, UTC)


def withdraw(row: DepositDispute) -> bool:
    """The issuer took the money: out of the owner's balance (what it has) and, for the rest,
    the network's revenue, into the owner's `disputed` account. False if already done."""
    if row.funds != F.NONE:
        return False
    kind, owner, code = K(row.account_kind), row.owner_id, row.currency
    source, revenue, held = (ledger.account(kind, owner, code),
                             ledger.network_account(K.NETWORK_REVENUE, code),
                             ledger.account(K.DISPUTED, owner, code))
    ledger.lock_accounts([source.id, revenue.id, held.id])  # the balance read stays true
    taken = min(row.amount, max(ledger.balance(kind, owner, code), 0))
    shortfall = row.amount - taken
    legs = [Leg(held, row.amount)]
    if taken:
        legs.append(Leg(source, -taken))
    if shortfall:
        legs.append(Leg(revenue, -shortfall))
    ledger.post_transaction(f"dispute:{row.id}:withdrawn", legs, "dispute_withdrawn",
                            {**refs_of(row), "taken": taken, "shortfall": shortfall})
    row.funds, row.taken_amount, row.shortfall_amount = F.WITHDRAWN.value, taken, shortfall
    row.withdrawn_at = utcnow()
    _notify_withdrawn(row)
    if kind == K.ADVERTISER_ESCROW:
        for job in current_app.extensions.get(WITHDRAWN_LISTENERS, ()):
            enqueue_after_commit(job, owner, code,
                                 job_id=f"dispute-withdrawn-{job.__name__}-{row.id}")
    return True


def reinstate(row: DepositDispute) -> None:
    """The dispute was won: the money is back. The owner gets what their balance gave and what
    they repaid since; the network gets back what it still fronts."""
    kind, owner, code = K(row.account_kind), row.owner_id, row.currency
    to_owner = row.taken_amount + row.recovered_amount
    to_network = row.shortfall_amount - row.recovered_amount
    legs = [Leg(ledger.account(K.DISPUTED, owner, code), -row.amount)]
    if to_owner:
        legs.append(Leg(ledger.account(kind, owner, code), to_owner))
    if to_network:
        legs.append(Leg(ledger.network_account(K.NETWORK_REVENUE, code), to_network))
    ledger.post_transaction(f"dispute:{row.id}:settle", legs, "dispute_won",
                            {**refs_of(row), "returned": to_owner})
    row.funds, row.closed_at = F.REINSTATED.value, utcnow()
    if kind == K.ADVERTISER_ESCROW and to_owner:  # conversions waiting for funds may fit now
        announce_escrow_credit(owner, code, f"dispute-{row.id}")
    notify(owner, "dispute_won", f"dispute_won:{row.id}", id=row.deposit_id,
           amount=format_money(to_owner, code))


def lose(row: DepositDispute) -> None:
    """The dispute was lost: the money left the platform for good. What the owner owes stays
    owed."""
    owner, code = row.owner_id, row.currency
    ledger.post_transaction(
        f"dispute:{row.id}:settle",
        ledger.transfer(ledger.account(K.DISPUTED, owner, code),
                        ledger.network_account(K.GATEWAY_CLEARING, code), row.amount),
        "dispute_lost", refs_of(row))
    row.funds, row.closed_at = F.LOST.value, utcnow()
    amount = format_money(row.amount, code)
    if row.owed:
        notify(owner, "dispute_lost_owed", f"dispute_lost:{row.id}", id=row.deposit_id,
               amount=amount, owed=format_money(row.owed, code))
    else:
        notify(owner, "dispute_lost", f"dispute_lost:{row.id}", id=row.deposit_id, amount=amount)


def _notify_withdrawn(row: DepositDispute) -> None:
    code = row.currency
    amount = format_money(row.amount, code)
    if row.shortfall_amount:
        notify(row.owner_id, "dispute_opened_short", f"dispute_opened:{row.id}",
               id=row.deposit_id, amount=amount, taken=format_money(row.taken_amount, code),
               owed=format_money(row.owed, code))
    else:
        notify(row.owner_id, "dispute_opened", f"dispute_opened:{row.id}", id=row.deposit_id,
               amount=amount)
    for admin_id in db.session.scalars(select(User.id).where(User.is_admin.is_(True))):
        notify(admin_id, "dispute_opened_operator", f"dispute_opened:{row.id}",
               id=row.deposit_id, owner=row.owner_id, amount=amount, reason=row.reason or "-")


def disputes_of(owner_id: int, kind: AccountKind, limit: int = 20) -> list[DepositDispute]:
    """The owner's disputes of deposits into `kind` (escrow: the balance page; available: the
    earnings page), newest first."""
    return list(db.session.scalars(
        select(DepositDispute).where(DepositDispute.owner_id == owner_id,
                                     DepositDispute.account_kind == AccountKind(kind).value)
        .order_by(DepositDispute.id.desc()).limit(limit)))


def disputes_of_deposit(deposit_id: int) -> list[DepositDispute]:
    return list(db.session.scalars(select(DepositDispute).where(
        DepositDispute.deposit_id == deposit_id).order_by(DepositDispute.id)))


def operator_disputes(limit: int = 200) -> list[DepositDispute]:
    """For the operator: open disputes first (oldest evidence deadline first), then decided
    ones still owed, then the rest, newest first."""
    rank = case((DepositDispute.is_open, 0), (DepositDispute.owed > 0, 1), else_=2)
    return list(db.session.scalars(
        select(DepositDispute).order_by(rank, DepositDispute.evidence_due_by.asc().nulls_last(),
                                        DepositDispute.id.desc()).limit(limit)))
