"""Putting a referral up for sale and taking it down: the listing rules, listing, withdrawing,
the block listener that withdraws a blocked user's lots, and the refback a listed referral
keeps until its lot closes.

A lot moves listed -> sold (exchange_buying) | withdrawn (here).
"""

from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, select

from cpa_network.accounts.models import User
from cpa_network.database import utcnow
from cpa_network.errors import NotFound, ValidationFailed
from cpa_network.extensions import db
from payouts import commissions
from payouts.commission_models import MAX_REFBACK_BP, Refback
from payouts.currency import CURRENCIES, format_money
from publishers import exchange_stats
from publishers.exchange_core import (
    ExchangeError,
    LotNotAvailable,
    ReferralBlocked,
    lock_user,
    move_lot,
    open_lot_of,
    record_event,
    settings,
)
from publishers.exchange_models import (
    DISPUTED,
    IN_GUARANTEE,
    LISTED,
    WITHDRAWN,
    ListingRefusal,
    Lot,
    LotSale,
)

LOGIN_DAYS, ACTIVITY_DAYS = 7, 30


class NotYourReferral(ExchangeError):
    code = "not_your_referral"
    http_status = 403
    default_message = _l("Only the referral's current upline can list it. This attempt was "
                         "recorded.")


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


class ReferralListed(ExchangeError):
    code = "referral_listed"
    http_status = 409
    default_message = _l("This referral is listed on the exchange, and buyers see its lot with "
                         "the refback it has now. Withdraw the lot first, then change the "
                         "refback.")


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
    referral = lock_user(referral_id, missing_ok=True)
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
    record_event(seller.id, "seller", lot, None, "listed", 0, now)
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
    if not move_lot(lot, WITHDRAWN, now):
        raise LotNotAvailable()
    record_event(seller.id, "seller", lot, None, "withdrawn", 0, now)
    return lot


def set_refback(upline: User, referral_id: int, percent_bp: int) -> Refback:
    """The upline changes a direct referral's refback (commissions.set_refback), unless the
    referral is listed: buyers see the lot, its price and its figures with the refback it has
    now, and a buyer must get what they paid for. The same value again is no change."""
    # The row list_referral locks first: a listing committing meanwhile is seen here, and one
    # starting meanwhile waits for this change (and lists with the new refback).
    referral = lock_user(referral_id, missing_ok=True)
    mine = referral is not None and referral.referred_by_id == upline.id
    in_range = 0 <= percent_bp <= MAX_REFBACK_BP  # else commissions' own errors, not ours
    if mine and in_range and percent_bp != commissions.refback_of(referral_id) \
            and open_lot_of(referral_id) is not None:
        raise ReferralListed()
    return commissions.set_refback(upline, referral_id, percent_bp)


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
        if move_lot(lot, WITHDRAWN, now):
            record_event(lot.seller_id, "seller", lot, None, "withdrawn", 0, now, note=note)
            withdrawn += 1
    db.session.flush()
    return withdrawn
