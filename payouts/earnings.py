"""Read models for the publisher's earnings page: every figure traced to ledger transactions.

- pending: the conversion holds that name the publisher and are not settled yet (the money is
  still in the advertiser's hold account, see payouts/escrow.py); the date each becomes
  available is shown when the hold transaction's refs carry it (`available_at`, ISO 8601);
- available, in flight, paid: the postings on the publisher's own accounts;
- in flight and paid, again, as payouts (each with its reserve and settle transactions).
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import selectinload

from cpa_network.extensions import db
from payouts import escrow
from payouts.currency import CURRENCIES
from payouts.models import AccountKind, LedgerAccount, LedgerTransaction, Payout, Posting

K = AccountKind
PUBLISHER_KINDS = (K.PUBLISHER_AVAILABLE, K.PAYOUT_IN_FLIGHT, K.PUBLISHER_PAID)


@dataclass(frozen=True)
class PendingEarning:
    transaction_id: int
    conversion_id: int | None
    amount: int
    currency: str
    held_at: datetime
    available_at: datetime | None  # None: decided by the advertiser's review or hold period


def pending_items(publisher_id: int, limit: int = 50) -> list[PendingEarning]:
    """Unsettled conversion holds naming the publisher, newest first."""
    hold, settle = LedgerTransaction, db.aliased(LedgerTransaction)
    rows = db.session.execute(
        select(hold, Posting.amount, Posting.currency)
        .join(Posting, Posting.transaction_id == hold.id)
        .join(LedgerAccount, Posting.account_id == LedgerAccount.id)
        .outerjoin(settle, settle.idempotency_key
                   == func.replace(hold.idempotency_key, ":hold", ":settle"))
        .where(hold.reason == "conversion_hold", LedgerAccount.kind == K.ADVERTISER_HOLD,
               escrow.names_publisher(hold, publisher_id), settle.id.is_(None))
        .order_by(hold.id.desc()).limit(limit))
    return [PendingEarning(txn.id, txn.refs.get("conversion"), amount, code, txn.created_at,
                           _parse_time(txn.refs.get("available_at")))
            for txn, amount, code in rows]


def _parse_time(value) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


def publisher_currencies(publisher_id: int) -> list[str]:
    """Currencies with any publisher account or pending hold, in the supported order."""
    used = set(db.session.scalars(select(LedgerAccount.currency).distinct().where(
        LedgerAccount.owner_id == publisher_id, LedgerAccount.kind.in_(PUBLISHER_KINDS))))
    used |= {item.currency for item in pending_items(publisher_id)}
    return [code for code in CURRENCIES if code in used]


def publisher_history(publisher_id: int):
    """Postings on the publisher's own accounts, newest first (a select for db.paginate)."""
    return (select(Posting).join(LedgerAccount, Posting.account_id == LedgerAccount.id)
            .where(LedgerAccount.owner_id == publisher_id,
                   LedgerAccount.kind.in_(PUBLISHER_KINDS))
            .options(selectinload(Posting.transaction)).order_by(Posting.id.desc()))


def payout_transactions(payout: Payout) -> list[LedgerTransaction]:
    """The payout's reserve and (once settled) settle transactions, and its reversals (found
    through the reason's index: there are few)."""
    keys = [f"payout:{payout.id}:reserve", f"payout:{payout.id}:settle"]
    reversals = and_(LedgerTransaction.reason == "payout_reversed",
                     LedgerTransaction.refs["payout"].as_integer() == payout.id)
    return list(db.session.scalars(select(LedgerTransaction).where(or_(
        LedgerTransaction.idempotency_key.in_(keys), reversals)).order_by(LedgerTransaction.id)))
