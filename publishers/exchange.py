"""The referral exchange's rules: list a referral, withdraw a lot, buy one, dispute, resolve,
release. Money moves through payouts.exchange_escrow; each step also writes a history row for
the seller and one for the buyer.

States: lot listed -> sold | withdrawn; sale in_guarantee -> released | disputed;
disputed -> released | refunded. Every move is a conditional UPDATE on the current state, so
of two racing requests (two buyers, a dispute and the release job) exactly one wins.
"""

from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, select, update

from cpa_network.accounts.models import User
from cpa_network.accounts.services import locked_user
from cpa_network.database import utcnow
from cpa_network.errors import DomainError, NotFound, ValidationFailed
from cpa_network.extensions import db
from payouts import commissions, deposits, exchange_escrow, ledger
from payouts.currency import CURRENCIES, format_money
from publishers import exchange_stats
from publishers.exchange_models import (
    DISPUTED,
    IN_GUARANTEE,
    LISTED,
    REFUNDED,
    RELEASED,
    SOLD,
    WITHDRAWN,
    ExchangeEvent,
    ListingRefusal,
    Lot,
    LotSale,
)

LOGIN_DAYS, ACTIVITY_DAYS = 7, 30


class ExchangeError(DomainError):
    http_status = 422


class NotYourReferral(ExchangeError):
    code = "not_your_referral"
    http_status = 403
    default_message = _l("Only the referral's current upline can list it. This attempt was "
                         "recorded.")


class ReferralBlocked(ExchangeError):
    code = "referral_blocked"
    default_message = _l("This referral is blocked and cannot be sold.")


class ReferralNotLoggedIn(ExchangeError):
    code = "referral_inactive"
    default_message = _l("The referral has not logged in within the last 7 days.")


class ReferralIdle(ExchangeError):
    code = "referral_no_activity"
    default_message = _l("The referral has had no clicks or conversions in the last 30 days.")


class OwnedTooShort(ExchangeError):
    code = "owned_too_short"
    default_message = _l("You can list a referral only after you have had it for 7 days.")


class AlreadyListed(ExchangeError):
    code = "already_listed"
    http_status = 409
    default_message = _l("This referral is already listed.")


class PriceTooLow(ValidationFailed):
    code = "price_too_low"
    default_message = _l("The price is below the exchange's minimum.")


class CurrencyUnsupported(ValidationFailed):
    code = "currency_unsupported"
    default_message = _l("This currency is not supported.")


class PurchaseUnsettled(ExchangeError):
    code = "purchase_unsettled"
    http_status = 409
    default_message = _l("This referral's purchase is still in its guarantee period or disputed. "
                         "You can list it once the sale is settled.")


class LotNotAvailable(ExchangeError):
    code = "lot_not_available"
    http_status = 409
    default_message = _l("This lot is no longer for sale: someone else bought it or the seller "
                         "withdrew it. Your money was not touched.")


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


def settings() -> dict:
    config = current_app.config
    return {"min_price": config["EXCHANGE_MIN_PRICE"],
            "commission_bp": config["EXCHANGE_COMMISSION_BP"],
            "guarantee_days": config["EXCHANGE_GUARANTEE_DAYS"],
            "min_owned_days": config["EXCHANGE_MIN_OWNED_DAYS"]}


def listing_problems(seller_id: int, referral: User, now: datetime) -> list[ExchangeError]:
    """Why this referral cannot be listed by this seller now (empty: it can)."""
    if referral.referred_by_id != seller_id:
        return [NotYourReferral()]
    problems: list[ExchangeError] = []
    if referral.is_blocked:
        problems.append(ReferralBlocked())
    if referral.last_seen_at is None or referral.last_seen_at < now - timedelta(days=LOGIN_DAYS):
        problems.append(ReferralNotLoggedIn())
    if not exchange_stats.has_own_activity(referral.id, now - timedelta(days=ACTIVITY_DAYS)):
        problems.append(ReferralIdle())
    owned_days = settings()["min_owned_days"]
    if referral.referred_at is None or referral.referred_at > now - timedelta(days=owned_days):
        problems.append(OwnedTooShort(_l(
            "You can list a referral only after you have had it for %(days)s days.",
            days=owned_days)))
    if open_lot_of(referral.id) is not None:
        problems.append(AlreadyListed())
    if unsettled_sale_of(referral.id) is not None:
        problems.append(PurchaseUnsettled())
    return problems


def open_lot_of(referral_id: int) -> Lot | None:
    return db.session.scalar(select(Lot).where(Lot.referral_id == referral_id,
                                               Lot.status == LISTED))


def unsettled_sale_of(referral_id: int) -> LotSale | None:
    """A sale of the referral still in its guarantee period or disputed: a refund would take
    the referral back from its buyer, so the buyer may not sell it on until it is settled."""
    return db.session.scalar(select(LotSale).where(
        LotSale.referral_id == referral_id, LotSale.status.in_([IN_GUARANTEE, DISPUTED]))
        .order_by(LotSale.id.desc()).limit(1))


def list_referral(seller: User, referral_id: int, price: int, currency: str, note: str = "",
                  now: datetime | None = None) -> Lot:
    """Put a direct referral up for sale. Trying to list someone else's is refused and recorded
    (in its own transaction, so the record survives the refused request)."""
    now = now or utcnow()
    # Locked before the checks: of two identical listings at once the second waits here and
    # then finds the first one's lot (`already_listed`), not the unique index (a 500).
    referral = _lock_user(referral_id, missing_ok=True)
    if referral is None or referral.referred_by_id != seller.id:
        _record_refusal(seller.id, referral_id, referral.referred_by_id if referral else None, now)
        raise NotYourReferral()
    currency = (currency or "").upper()
    if currency not in CURRENCIES:
        raise CurrencyUnsupported(fields={"currency": [CurrencyUnsupported.default_message]})
    minimum = settings()["min_price"]
    if type(price) is not int or price < minimum:
        message = _l("The minimum price is %(amount)s.", amount=format_money(minimum, currency))
        raise PriceTooLow(message, fields={"price": [message]})
    problems = listing_problems(seller.id, referral, now)
    if problems:
        raise problems[0]
    lot = Lot(seller_id=seller.id, referral_id=referral.id, price=price, currency=currency,
              note=(note or "").strip()[:1000], status=LISTED, listed_at=now)
    db.session.add(lot)
    db.session.flush()
    _event(seller.id, "seller", lot, None, "listed", 0, now)
    return lot


def _record_refusal(user_id: int, referral_id: int, actual_upline_id: int | None,
                    now: datetime) -> None:
    with db.engine.begin() as connection:
        connection.execute(insert(ListingRefusal).values(
            user_id=user_id, referral_id=referral_id, actual_upline_id=actual_upline_id, at=now))


def withdraw_lot(seller: User, lot_id: int, now: datetime | None = None) -> Lot:
    lot = db.session.get(Lot, lot_id)
    if lot is None or lot.seller_id != seller.id:
        raise NotFound()
    now = now or utcnow()
    if not _move_lot(lot, WITHDRAWN, now):
        raise LotNotAvailable()
    _event(seller.id, "seller", lot, None, "withdrawn", 0, now)
    return lot


def _move_lot(lot: Lot, target: str, now: datetime) -> bool:
    moved = db.session.execute(
        update(Lot).where(Lot.id == lot.id, Lot.status == LISTED)
        .values(status=target, closed_at=now).execution_options(synchronize_session=False))
    db.session.expire(lot)
    return moved.rowcount == 1


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
    referral = _lock_user(referral_id)  # before the lot: see _lock_user
    if not _move_lot(lot, SOLD, now):
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
    _event(buyer.id, "buyer", lot, sale, "bought", -sale.price, now, txn.id)
    _event(seller_id, "seller", lot, sale, "sold", 0, now, txn.id)
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


def _lock_user(user_id: int, *, missing_ok: bool = False) -> User | None:
    """The user's row, re-read and locked (`locked_user`). Listing, buying, refunding and
    blocking (its UPDATE, then the block listener's) all take a user's row before any lot, so
    they cannot deadlock; a refused listing's record, in its own transaction, is not held up."""
    found = locked_user(user_id)
    if found is None and not missing_ok:
        raise NotFound()
    return found


def sale_for(user: User, sale_id: int) -> LotSale:
    """A sale its buyer or seller may see (anyone else: not found)."""
    sale = db.session.get(LotSale, sale_id)
    if sale is None or user.id not in (sale.buyer_id, sale.seller_id):
        raise NotFound()
    return sale


def _move_sale(sale: LotSale, source: str, target: str) -> bool:
    moved = db.session.execute(
        update(LotSale).where(LotSale.id == sale.id, LotSale.status == source)
        .values(status=target).execution_options(synchronize_session=False))
    db.session.expire(sale)
    return moved.rowcount == 1


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
            or not _move_sale(sale, IN_GUARANTEE, DISPUTED):
        raise NotDisputable()
    sale.dispute_reason, sale.disputed_at = reason[:1000], now
    for user_id, side in ((sale.buyer_id, "buyer"), (sale.seller_id, "seller")):
        _event(user_id, side, sale.lot, sale, "disputed", 0, now, note=reason[:1000])
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
    if not _move_sale(sale, DISPUTED, target):
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
    referral = _lock_user(sale.referral_id)
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
            and _move_lot(relisted, WITHDRAWN, now):
        _event(sale.buyer_id, "seller", relisted, None, "withdrawn", 0, now,
               note=str(_l("The purchase was refunded: the referral went back to its seller.")))
    sale.settled_at = now
    _event(sale.buyer_id, "buyer", sale.lot, sale, "refunded", sale.price, now, txn.id,
           note=sale.resolution_note)
    _event(sale.seller_id, "seller", sale.lot, sale, "refunded", 0, now, txn.id,
           note=sale.resolution_note)
    db.session.flush()


def _release(sale: LotSale, now: datetime) -> None:
    txn = exchange_escrow.release_sale(sale.id, sale.lot_id, sale.buyer_id, sale.seller_id,
                                       sale.currency, sale.price, sale.commission_bp)
    cut = exchange_escrow.exchange_cut(sale.price, sale.commission_bp)
    sale.settled_at, sale.exchange_fee, sale.seller_amount = now, cut, sale.price - cut
    _event(sale.seller_id, "seller", sale.lot, sale, "released", sale.price - cut, now, txn.id)
    _event(sale.buyer_id, "buyer", sale.lot, sale, "released", 0, now, txn.id)
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
    seller = _lock_user(sale.seller_id)  # a block committing meanwhile is seen
    if seller.is_blocked:
        _hold_for_operator(sale, now)
        return False
    if not _move_sale(sale, IN_GUARANTEE, RELEASED):
        return False
    _release(sale, now)
    return True


def _hold_for_operator(sale: LotSale, now: datetime) -> None:
    """A blocked seller's sale, due for release: disputed on the network's behalf, so the
    operator decides (refund the buyer, or release) and the money stays in escrow till then."""
    if not _move_sale(sale, IN_GUARANTEE, DISPUTED):
        return
    reason = str(_l("The seller is blocked: the operator decides whether to refund the buyer "
                    "or pay the seller."))
    sale.dispute_reason, sale.disputed_at = reason, now
    for user_id, side in ((sale.buyer_id, "buyer"), (sale.seller_id, "seller")):
        _event(user_id, side, sale.lot, sale, "disputed", 0, now, note=reason)
    db.session.flush()


def withdraw_lots_of_blocked(user: User) -> int:
    """A block listener: the lots the user sells, and the lot that sells them, leave the
    exchange in the blocking transaction. Returns how many were withdrawn."""
    now = utcnow()
    lots = db.session.scalars(select(Lot).where(
        Lot.status == LISTED, (Lot.seller_id == user.id) | (Lot.referral_id == user.id))
        .order_by(Lot.id)).all()
    note = str(_l("Withdrawn by the network: the seller or the referral is blocked."))
    withdrawn = 0
    for lot in lots:
        if _move_lot(lot, WITHDRAWN, now):
            _event(lot.seller_id, "seller", lot, None, "withdrawn", 0, now, note=note)
            withdrawn += 1
    db.session.flush()
    return withdrawn


def _event(user_id: int, side: str, lot: Lot, sale: LotSale | None, event: str, amount: int,
           now: datetime, transaction_id: int | None = None, note: str = "") -> None:
    db.session.add(ExchangeEvent(user_id=user_id, side=side, lot_id=lot.id,
                                 sale_id=sale.id if sale else None, event=event, amount=amount,
                                 currency=lot.currency, transaction_id=transaction_id,
                                 note=note, at=now))
