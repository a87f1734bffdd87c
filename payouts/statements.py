"""Read models for pages and the API: balances per currency, and history of ledger postings."""

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from cpa_network.extensions import db
from payouts import dispute_debts, escrow, ledger, top_up_clearing
from payouts.currency import CURRENCIES
from payouts.models import USER_KINDS, AccountKind, LedgerAccount, LedgerTransaction, Posting

K = AccountKind

KIND_LABELS = {
    K.ADVERTISER_ESCROW: _l("Escrow"),
    K.ADVERTISER_HOLD: _l("On hold: payouts"),
    K.NETWORK_PENDING_FEE: _l("On hold: network fee"),
    K.PUBLISHER_AVAILABLE: _l("Available"),
    K.PAYOUT_IN_FLIGHT: _l("Payout in flight"),
    K.REFUND_IN_FLIGHT: _l("Refund in flight"),
    K.PUBLISHER_PAID: _l("Paid out"),
    K.EXCHANGE_ESCROW: _l("Exchange escrow"),
    K.DISPUTED: _l("In dispute (chargeback)"),
    K.NETWORK_REVENUE: _l("Network revenue"),
    K.GATEWAY_CLEARING: _l("Gateway clearing"),
}
REASON_LABELS = {
    "deposit": _l("Deposit"),
    "conversion_hold": _l("Held for a conversion"),
    "conversion_approve": _l("Conversion approved"),
    "conversion_reject": _l("Conversion rejected, money returned"),
    "escrow_withdrawal": _l("Withdrawal requested"),
    "escrow_refunded": _l("Refund sent"),
    "refund_failed": _l("Refund failed, money returned"),
    "payout_requested": _l("Payout requested"),
    "payout_paid": _l("Payout sent"),
    "payout_failed": _l("Payout failed, money returned"),
    "payout_reversed": _l("Payout reversed at the gateway, money returned"),
    "reversal": _l("Correction (reversal)"),
    "lot_purchase": _l("Referral bought on the exchange (held in escrow)"),
    "lot_release": _l("Referral sale paid out"),
    "lot_refund": _l("Referral purchase refunded"),
    "commission_reversal": _l("Referral commission reversed"),
    "dispute_withdrawn": _l("Card payment disputed, taken back by the card issuer"),
    "dispute_won": _l("Dispute won, money returned"),
    "dispute_lost": _l("Dispute lost, kept by the card issuer"),
    "dispute_repaid": _l("Owed for a disputed payment, repaid"),
}


def kind_label(kind: str):
    return KIND_LABELS.get(kind, kind)


def reason_label(reason: str):
    return REASON_LABELS.get(reason, reason.replace("_", " "))


def owner_currencies(owner_id: int) -> list[str]:
    """Currencies in which the user has any account, in the supported order."""
    used = set(db.session.scalars(select(LedgerAccount.currency).distinct().where(
        LedgerAccount.owner_id == owner_id, LedgerAccount.kind.in_(USER_KINDS))))
    return [code for code in CURRENCIES if code in used]


def spent(advertiser_id: int, currency: str) -> int:
    """What approved conversions took from the advertiser: payouts and fees released."""
    total = db.session.scalar(
        select(func.coalesce(func.sum(Posting.amount), 0))
        .join(LedgerAccount, Posting.account_id == LedgerAccount.id)
        .join(LedgerTransaction, Posting.transaction_id == LedgerTransaction.id)
        .where(LedgerAccount.owner_id == advertiser_id, LedgerAccount.currency == currency,
               LedgerAccount.kind.in_([K.ADVERTISER_HOLD, K.NETWORK_PENDING_FEE]),
               LedgerTransaction.reason == "conversion_approve"))
    return -int(total or 0)


def advertiser_balances(advertiser_id: int, currency: str) -> dict:
    return {"escrow": escrow.escrow_balance(advertiser_id, currency),
            "on_hold": escrow.on_hold(advertiser_id, currency),
            "refunding": ledger.balance(K.REFUND_IN_FLIGHT, advertiser_id, currency),
            "spent": spent(advertiser_id, currency),
            "disputed": dispute_debts.disputed_total(advertiser_id, K.ADVERTISER_ESCROW,
                                                     currency),
            "owed": dispute_debts.owed_total(advertiser_id, K.ADVERTISER_ESCROW, currency)}


def publisher_balances(publisher_id: int, currency: str) -> dict:
    available = ledger.balance(K.PUBLISHER_AVAILABLE, publisher_id, currency)
    owed = dispute_debts.owed_total(publisher_id, K.PUBLISHER_AVAILABLE, currency)
    clearing = top_up_clearing.held(publisher_id, currency)
    return {"pending": escrow.pending_earnings(publisher_id, currency),
            "available": available,
            "in_flight": ledger.balance(K.PAYOUT_IN_FLIGHT, publisher_id, currency),
            "paid": ledger.balance(K.PUBLISHER_PAID, publisher_id, currency),
            # a card top-up charged back: taken while undecided, and what available lacked
            "top_up_disputed": dispute_debts.disputed_total(publisher_id, K.PUBLISHER_AVAILABLE,
                                                            currency),
            "top_up_owed": owed,
            # card top-ups not withdrawable yet, and what a withdrawal could take now
            "top_up_clearing": clearing,
            "withdrawable": top_up_clearing.free(available, owed, clearing)}


def owner_history(owner_id: int):
    """Postings on the user's own accounts, newest first (a select for db.paginate)."""
    return (select(Posting).join(LedgerAccount, Posting.account_id == LedgerAccount.id)
            .where(LedgerAccount.owner_id == owner_id, LedgerAccount.kind.in_(USER_KINDS))
            .options(selectinload(Posting.transaction)).order_by(Posting.id.desc()))


def transaction_for_owner(transaction_id: int, owner_id: int) -> LedgerTransaction | None:
    """The transaction if it touches one of the user's own accounts."""
    txn = db.session.get(LedgerTransaction, transaction_id)
    if txn is None:
        return None
    mine = any(p.account.owner_id == owner_id and p.account.kind in USER_KINDS
               for p in txn.postings)
    return txn if mine else None
