"""Buying a lot: in one transaction the lot is claimed, the price goes from the buyer's
available balance into the sale's escrow (payouts.exchange_escrow), and the buyer becomes the
referral's upline. The sale then waits in its guarantee period (exchange_settlement).
"""

from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from cpa_network.accounts.models import User
from cpa_network.database import utcnow
from cpa_network.errors import NotFound
from cpa_network.extensions import db
from payouts import commissions, deposits, exchange_escrow, ledger
from payouts.currency import format_money
from publishers.exchange_core import (
    ExchangeError,
    LotNotAvailable,
    ReferralBlocked,
    lock_user,
    move_lot,
    record_event,
    settings,
)
from publishers.exchange_models import IN_GUARANTEE, LISTED, SOLD, WITHDRAWN, Lot, LotSale


class TopUpFirst(ledger.InsufficientFunds):
    """The buyer's available balance is short of the price: a top-up (deposit) comes first."""

    def __init__(self, available: int, price: int, currency: str):
        top_up = deposits.top_up_amount(price - available)
        super().__init__(message=_l(
            "Your available balance of %(available)s is %(short)s short of the price %(price)s. "
            "Top up at least %(top_up)s first, then buy.",
            available=format_money(available, currency),
            short=format_money(price - available, currency),
            price=format_money(price, currency), top_up=format_money(top_up, currency)),
            fields={"amount": [_l(
                "Deposit at least %(minor)s minor units of %(currency)s to your available "
                "balance (POST /api/v1/deposits), then buy again.",
                minor=top_up, currency=currency)]})


class AlreadyBought(ExchangeError):
    """This buyer already bought the lot (a retried or double-submitted purchase): callers
    answer with `sale`, the purchase that went through; nothing was charged twice."""

    code = "already_bought"
    http_status = 409
    default_message = _l("You have already bought this lot.")

    def __init__(self, sale: LotSale):
        super().__init__()
        self.sale = sale


class SellerBlocked(ExchangeError):
    code = "seller_blocked"
    default_message = _l("The seller is blocked: this lot is not for sale.")


class OwnLot(ExchangeError):
    code = "own_lot"
    default_message = _l("You cannot buy your own referral.")


class BuyingYourself(ExchangeError):
    code = "buying_yourself"
    default_message = _l("You cannot buy yourself.")


class ReferralCycle(ExchangeError):
    code = "referral_cycle"
    default_message = _l("You cannot buy your own upline or anyone above you: the referral "
                         "tree would loop.")


def buy_lot(buyer: User, lot_id: int, now: datetime | None = None) -> LotSale:
    """In one transaction: claim the lot, pay from the buyer's available balance into the
    sale's escrow, and make the buyer the referral's upline. `InsufficientFunds` (top up
    first) leaves everything as it was; `AlreadyBought` if this buyer bought it already (a
    retry), carrying that purchase."""
    now = now or utcnow()
    lot = db.session.get(Lot, lot_id)
    if lot is None or (lot.status == WITHDRAWN and lot.seller_id != buyer.id):
        raise NotFound()
    if lot.status != LISTED:
        raise _why_not_available(buyer, lot)
    if buyer.id == lot.seller_id:
        raise OwnLot()
    if buyer.id == lot.referral_id:
        raise BuyingYourself()
    _refuse_blocked(lot.seller, lot.referral)
    if commissions.would_create_cycle(lot.referral_id, buyer.id):
        raise ReferralCycle()
    seller_id, referral_id = lot.seller_id, lot.referral_id
    referral = lock_user(referral_id)  # before the lot: see lock_user
    if not move_lot(lot, SOLD, now):
        raise _why_not_available(buyer, lot)  # nothing of ours was written
    _refuse_blocked(db.session.get(User, seller_id), referral)
    if referral.referred_by_id != seller_id:
        raise LotNotAvailable()
    if commissions.would_create_cycle(referral_id, buyer.id):
        raise ReferralCycle()
    conf = settings()
    sale = LotSale(lot_id=lot.id, buyer_id=buyer.id, seller_id=seller_id,
                   referral_id=referral_id, price=lot.price, currency=lot.currency,
                   commission_bp=conf["commission_bp"], status=IN_GUARANTEE, bought_at=now,
                   guarantee_until=now + timedelta(days=conf["guarantee_days"]),
                   seller_referred_at=referral.referred_at)
    db.session.add(sale)
    db.session.flush()
    try:
        txn = exchange_escrow.pay_for_lot(sale.id, lot.id, buyer.id, seller_id, lot.currency,
                                          lot.price)
    except ledger.InsufficientFunds as short:
        raise TopUpFirst(max(short.available, 0), lot.price, lot.currency) from short
    referral.referred_by_id, referral.referred_at = buyer.id, now
    record_event(buyer.id, "buyer", lot, sale, "bought", -sale.price, now, txn.id)
    record_event(seller_id, "seller", lot, sale, "sold", 0, now, txn.id)
    db.session.flush()
    return sale


def _refuse_blocked(seller: User, referral: User) -> None:
    if seller.is_blocked:
        raise SellerBlocked()
    if referral.is_blocked:
        raise ReferralBlocked()


def _why_not_available(buyer: User, lot: Lot) -> ExchangeError:
    """The error for a lot that is no longer listed, read after it closed: this buyer's own
    purchase (a retry), a blocked party, or someone else's purchase or a withdrawal."""
    sale = db.session.scalar(select(LotSale).where(LotSale.lot_id == lot.id))
    if sale is not None and sale.buyer_id == buyer.id:
        return AlreadyBought(sale)
    if sale is None and lot.status == WITHDRAWN:  # withdrawn while we waited: a block?
        blocked = set(db.session.scalars(select(User.id).where(
            User.id.in_([lot.seller_id, lot.referral_id]), User.blocked_at.is_not(None))))
        if lot.seller_id in blocked:
            return SellerBlocked()
        if lot.referral_id in blocked:
            return ReferralBlocked()
    return LotNotAvailable()
