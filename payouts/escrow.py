"""Advertiser escrow and the conversion money flow, as ledger transactions.

A conversion's money stays the advertiser's until it is approved, so it is held in the
advertiser's own accounts: the payout in ADVERTISER_HOLD and the network's fee in
NETWORK_PENDING_FEE, with the publisher named in the transaction's refs. Counting it a second
time under the publisher would double it; a publisher's pending earnings are therefore the hold
postings that name them (`pending_earnings`).

    conversion (pending):  escrow -(payout + fee) -> hold +payout, pending fee +fee
    approval:              hold -payout -> publisher available +payout
                           pending fee -fee -> network revenue +fee
                           (upline commissions: network revenue -> upline's available)
    rejection:             hold -payout, pending fee -fee -> escrow +(payout + fee)

Each step has a fixed idempotency key, so a job that runs twice moves the money once. Approval and
rejection share one key (`conversion:<id>:settle`): a conversion is settled once, either way, and
the other outcome then raises `IdempotencyConflict`.
"""

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, literal_column, select

from cpa_network.database import is_postgres
from cpa_network.extensions import db
from payouts import ledger
from payouts.ledger import Leg
from payouts.models import AccountKind, LedgerAccount, LedgerTransaction, Posting

K = AccountKind


def escrow_balance(advertiser_id: int, currency: str) -> int:
    """Uncommitted prepaid money of an advertiser, in minor units."""
    return ledger.balance(K.ADVERTISER_ESCROW, advertiser_id, currency)


def on_hold(advertiser_id: int, currency: str) -> int:
    """Money committed to the advertiser's pending conversions (payouts and fees)."""
    return (ledger.balance(K.ADVERTISER_HOLD, advertiser_id, currency)
            + ledger.balance(K.NETWORK_PENDING_FEE, advertiser_id, currency))


def pending_earnings(publisher_id: int, currency: str) -> int:
    """A publisher's earnings on pending conversions: hold postings that name them."""
    total = db.session.scalar(
        select(func.coalesce(func.sum(Posting.amount), 0))
        .join(LedgerTransaction, Posting.transaction_id == LedgerTransaction.id)
        .join(LedgerAccount, Posting.account_id == LedgerAccount.id)
        .where(LedgerAccount.kind == K.ADVERTISER_HOLD, LedgerAccount.currency == currency.upper(),
               names_publisher(LedgerTransaction, publisher_id)))
    return int(total or 0)


def names_publisher(txn, publisher_id: int):
    """`txn`'s refs name the publisher. On PostgreSQL written as the expression index of
    migration 0017 has it (the key a literal, the id compared as text), so the index is used."""
    if is_postgres():
        return txn.refs.op("->>")(literal_column("'publisher'")) == str(publisher_id)
    return txn.refs["publisher"].as_integer() == publisher_id


def _refs(conversion_id: int, advertiser_id: int, publisher_id: int) -> dict:
    return {"conversion": conversion_id, "advertiser": advertiser_id, "publisher": publisher_id}


# The advertiser's accounts a conversion's hold touches.
HOLD_ACCOUNTS = (K.ADVERTISER_ESCROW, K.ADVERTISER_HOLD, K.NETWORK_PENDING_FEE)


def hold_conversion(conversion_id: int, advertiser_id: int, publisher_id: int, currency: str,
                    payout: int, fee: int, *, available_at: datetime | None = None,
                    account_ids: dict[K, int | None] | None = None) -> LedgerTransaction:
    """Commit escrow to a pending conversion; `InsufficientFunds` if the escrow cannot cover it.

    `available_at` (the end of the hold period) goes into the refs, for the publisher's pages.
    `account_ids`: the ids of the advertiser's HOLD_ACCOUNTS if the caller read them in this
    transaction (the postback path does, in the query it needs anyway), saving a query.
    """
    return ledger.post_transaction(*hold_request(
        conversion_id, advertiser_id, publisher_id, currency, payout, fee,
        available_at=available_at, account_ids=account_ids))


def hold_request(conversion_id: int, advertiser_id: int, publisher_id: int, currency: str,
                 payout: int, fee: int, *, available_at: datetime | None = None,
                 account_ids: dict[K, int | None] | None = None) -> tuple[str, list[Leg], str,
                                                                           dict]:
    """What a conversion's hold posts: its key, legs, reason and refs (`hold_conversion`)."""
    code = currency.upper()
    if account_ids and all(account_ids.get(kind) for kind in HOLD_ACCOUNTS):
        found = account_ids  # ids read in this transaction: no account objects needed
    else:
        accounts = ledger.accounts_of({(kind, advertiser_id, code) for kind in HOLD_ACCOUNTS})
        found = {kind: accounts[(kind, advertiser_id, code)] for kind in HOLD_ACCOUNTS}
    legs = [Leg(found[K.ADVERTISER_ESCROW], -(payout + fee)),
            Leg(found[K.ADVERTISER_HOLD], payout)]
    if fee:
        legs.append(Leg(found[K.NETWORK_PENDING_FEE], fee))
    refs = _refs(conversion_id, advertiser_id, publisher_id)
    if available_at is not None:
        refs["available_at"] = available_at.isoformat()
    return f"conversion:{conversion_id}:hold", legs, "conversion_hold", refs


def _held_amounts(conversion_id: int) -> tuple[LedgerTransaction, int, int]:
    hold = db.session.scalar(select(LedgerTransaction).where(
        LedgerTransaction.idempotency_key == f"conversion:{conversion_id}:hold"))
    if hold is None:
        raise ledger.InvalidTransaction(f"conversion {conversion_id} has no hold")
    payout = sum(p.amount for p in hold.postings if p.account.kind == K.ADVERTISER_HOLD)
    fee = sum(p.amount for p in hold.postings if p.account.kind == K.NETWORK_PENDING_FEE)
    return hold, payout, fee


def approve_conversion(conversion_id: int,
                       commissions: Iterable[tuple[int, int]] = ()) -> LedgerTransaction:
    """Release a held conversion: payout to the publisher, fee to the network.

    `commissions` are (upline publisher id, amount) paid by the network out of its revenue.
    """
    hold, payout, fee = _held_amounts(conversion_id)
    advertiser_id, publisher_id = hold.refs["advertiser"], hold.refs["publisher"]
    currency = hold.postings[0].currency
    legs = ledger.transfer(ledger.account(K.ADVERTISER_HOLD, advertiser_id, currency),
                           ledger.account(K.PUBLISHER_AVAILABLE, publisher_id, currency), payout)
    revenue = ledger.network_account(K.NETWORK_REVENUE, currency)
    if fee:
        legs += ledger.transfer(
            ledger.account(K.NETWORK_PENDING_FEE, advertiser_id, currency), revenue, fee)
    for upline_id, amount in commissions:
        if amount:
            legs += ledger.transfer(
                revenue, ledger.account(K.PUBLISHER_AVAILABLE, upline_id, currency), amount)
    return ledger.post_transaction(f"conversion:{conversion_id}:settle", legs,
                                   "conversion_approve", hold.refs)


def reject_conversion(conversion_id: int) -> LedgerTransaction:
    """Return a held conversion's payout and fee to the advertiser's escrow."""
    hold, payout, fee = _held_amounts(conversion_id)
    advertiser_id, currency = hold.refs["advertiser"], hold.postings[0].currency
    legs = [Leg(ledger.account(K.ADVERTISER_HOLD, advertiser_id, currency), -payout),
            Leg(ledger.account(K.ADVERTISER_ESCROW, advertiser_id, currency), payout + fee)]
    if fee:
        legs.append(Leg(ledger.account(K.NETWORK_PENDING_FEE, advertiser_id, currency), -fee))
    return ledger.post_transaction(f"conversion:{conversion_id}:settle", legs,
                                   "conversion_reject", hold.refs)
