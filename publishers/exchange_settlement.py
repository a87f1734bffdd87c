"""After a purchase: the buyer's dispute, the operator's decision (refund or release), and the
release job's payment to the seller once the guarantee period is over. Money moves through
payouts.exchange_escrow.

A sale moves in_guarantee -> released | disputed; disputed -> released | refunded.
"""

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from cpa_network.accounts.models import User
from cpa_network.database import utcnow
from cpa_network.errors import NotFound, ValidationFailed
from cpa_network.extensions import db
from payouts import commissions, exchange_escrow
from publishers.exchange_core import (
    ExchangeError,
    lock_user,
    move_lot,
    move_sale,
    open_lot_of,
    record_event,
)
from publishers.exchange_models import (
    DISPUTED,
    IN_GUARANTEE,
    REFUNDED,
    RELEASED,
    WITHDRAWN,
    LotSale,
)


class NotDisputable(ExchangeError):
    code = "not_disputable"
    http_status = 409
    default_message = _l("This purchase cannot be disputed any more.")


class ReasonRequired(ValidationFailed):
    code = "reason_required"
    default_message = _l("Say what is wrong.")


class NotResolvable(ExchangeError):
    code = "not_resolvable"
    http_status = 409
    default_message = _l("This sale has no open dispute.")


class ReferralNotReturnable(ExchangeError):
    code = "referral_not_returnable"
    http_status = 409
    default_message = _l("The refund is refused: the referral can no longer go back to the "
                         "seller (it is not the buyer's any more, or the referral tree would "
                         "loop). Nothing has changed; release the sale or decide later.")


def sale_for(user: User, sale_id: int) -> LotSale:
    """A sale its buyer or seller may see (anyone else: not found)."""
    sale = db.session.get(LotSale, sale_id)
    if sale is None or user.id not in (sale.buyer_id, sale.seller_id):
        raise NotFound()
    return sale


def open_dispute(buyer: User, sale_id: int, reason: str, now: datetime | None = None) -> LotSale:
    """The buyer disputes a purchase within its guarantee period; the money stays in escrow
    until the operator decides."""
    now = now or utcnow()
    sale = db.session.get(LotSale, sale_id)
    if sale is None or sale.buyer_id != buyer.id:
        raise NotFound()
    reason = (reason or "").strip()
    if not reason:
        raise ReasonRequired(fields={"reason": [ReasonRequired.default_message]})
    if sale.status != IN_GUARANTEE or now >= sale.guarantee_until \
            or not move_sale(sale, IN_GUARANTEE, DISPUTED):
        raise NotDisputable()
    sale.dispute_reason, sale.disputed_at = reason[:1000], now
    for user_id, side in ((sale.buyer_id, "buyer"), (sale.seller_id, "seller")):
        record_event(user_id, side, sale.lot, sale, "disputed", 0, now, note=reason[:1000])
    db.session.flush()
    return sale


def resolve_dispute(operator: User, sale_id: int, decision: str, note: str = "",
                    now: datetime | None = None) -> LotSale:
    """The operator decides a dispute: `refund` (money back to the buyer, the referral back to
    the seller, the buyer's commissions through it reversed) or `release` (pay the seller)."""
    now = now or utcnow()
    sale = db.session.get(LotSale, sale_id)
    if sale is None:
        raise NotFound()
    if decision not in ("refund", "release"):
        raise ValidationFailed(fields={"decision": [_l("Choose refund or release.")]})
    target = REFUNDED if decision == "refund" else RELEASED
    if not move_sale(sale, DISPUTED, target):
        raise NotResolvable()
    sale.resolved_by_id, sale.resolution_note = operator.id, (note or "").strip()[:1000]
    if target == REFUNDED:
        _refund(sale, now)
    else:
        _release(sale, now)
    return sale


def _refund(sale: LotSale, now: datetime) -> None:
    # The referral first: a refund that cannot give it back must not pay the buyer back (they
    # would keep both), so it is refused before any money moves.
    referral = lock_user(sale.referral_id)
    if referral.referred_by_id != sale.buyer_id \
            or commissions.would_create_cycle(referral.id, sale.seller_id):
        raise ReferralNotReturnable()
    txn = exchange_escrow.refund_sale(sale.id, sale.lot_id, sale.buyer_id, sale.seller_id,
                                      sale.currency, sale.price)
    for row in commissions.unreversed_since(sale.buyer_id, sale.referral_id, sale.bought_at):
        exchange_escrow.reverse_commission(row, sale.id)
    referral.referred_by_id = sale.seller_id
    referral.referred_at = sale.seller_referred_at or now
    relisted = open_lot_of(referral.id)
    if relisted is not None and relisted.seller_id == sale.buyer_id \
            and move_lot(relisted, WITHDRAWN, now):
        record_event(sale.buyer_id, "seller", relisted, None, "withdrawn", 0, now,
                     note=str(_l("The purchase was refunded: the referral went back to its "
                                 "seller.")))
    sale.settled_at = now
    record_event(sale.buyer_id, "buyer", sale.lot, sale, "refunded", sale.price, now, txn.id,
                 note=sale.resolution_note)
    record_event(sale.seller_id, "seller", sale.lot, sale, "refunded", 0, now, txn.id,
                 note=sale.resolution_note)
    db.session.flush()


def _release(sale: LotSale, now: datetime) -> None:
    txn = exchange_escrow.release_sale(sale.id, sale.lot_id, sale.buyer_id, sale.seller_id,
                                       sale.currency, sale.price, sale.commission_bp)
    cut = exchange_escrow.exchange_cut(sale.price, sale.commission_bp)
    sale.settled_at, sale.exchange_fee, sale.seller_amount = now, cut, sale.price - cut
    record_event(sale.seller_id, "seller", sale.lot, sale, "released", sale.price - cut, now,
                 txn.id)
    record_event(sale.buyer_id, "buyer", sale.lot, sale, "released", 0, now, txn.id)
    db.session.flush()


def due_sale_ids(now: datetime | None = None) -> list[int]:
    return list(db.session.scalars(select(LotSale.id).where(
        LotSale.status == IN_GUARANTEE, LotSale.guarantee_until <= (now or utcnow()))
        .order_by(LotSale.id)))


def release_if_due(sale_id: int, now: datetime | None = None) -> bool:
    """Pay the seller once the guarantee period is over without a dispute; True if this call
    released it (a second call, or a sale disputed meanwhile, does nothing). A blocked seller
    is not paid: the sale goes to the operator's disputes page instead."""
    now = now or utcnow()
    sale = db.session.get(LotSale, sale_id)
    if sale is None or sale.status != IN_GUARANTEE or sale.guarantee_until > now:
        return False
    seller = lock_user(sale.seller_id)  # a block committing meanwhile is seen
    if seller.is_blocked:
        _hold_for_operator(sale, now)
        return False
    if not move_sale(sale, IN_GUARANTEE, RELEASED):
        return False
    _release(sale, now)
    return True


def _hold_for_operator(sale: LotSale, now: datetime) -> None:
    """A blocked seller's sale, due for release: disputed on the network's behalf, so the
    operator decides (refund the buyer, or release) and the money stays in escrow till then."""
    if not move_sale(sale, IN_GUARANTEE, DISPUTED):
        return
    reason = str(_l("The seller is blocked: the operator decides whether to refund the buyer "
                    "or pay the seller."))
    sale.dispute_reason, sale.disputed_at = reason, now
    for user_id, side in ((sale.buyer_id, "buyer"), (sale.seller_id, "seller")):
        record_event(user_id, side, sale.lot, sale, "disputed", 0, now, note=reason)
    db.session.flush()
