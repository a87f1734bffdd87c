"""What every step of the referral exchange shares: its settings, the errors more than one step
raises, the row lock each step takes first, the guarded state moves and the history rows.

Every move is a conditional UPDATE on the current state, so of two racing requests (two
buyers, a dispute and the release job) exactly one wins.
"""

from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from cpa_network.accounts.models import User
from cpa_network.accounts.services import locked_user
from cpa_network.errors import DomainError, NotFound
from cpa_network.extensions import db
from publishers.exchange_models import LISTED, ExchangeEvent, Lot, LotSale


class ExchangeError(DomainError):
    http_status = 422


class ReferralBlocked(ExchangeError):
    code = "referral_blocked"
    default_message = _l("This referral is blocked and cannot be sold.")


class LotNotAvailable(ExchangeError):
    code = "lot_not_available"
    http_status = 409
    default_message = _l("This lot is no longer for sale: someone else bought it or the seller "
                         "withdrew it. Your money was not touched.")


def settings() -> dict:
    config = current_app.config
    return {"min_price": config["EXCHANGE_MIN_PRICE"],
            "commission_bp": config["EXCHANGE_COMMISSION_BP"],
            "guarantee_days": config["EXCHANGE_GUARANTEE_DAYS"],
            "min_owned_days": config["EXCHANGE_MIN_OWNED_DAYS"]}


def open_lot_of(referral_id: int) -> Lot | None:
    return db.session.scalar(select(Lot).where(Lot.referral_id == referral_id,
                                               Lot.status == LISTED))


def lock_user(user_id: int, *, missing_ok: bool = False) -> User | None:
    """The user's row, re-read and locked (`locked_user`). Listing, a refback change, buying,
    refunding and blocking (its UPDATE, then the block listener's) all take a user's row
    before any lot, so they cannot deadlock; a refused listing's record, in its own
    transaction, is not held up."""
    found = locked_user(user_id)
    if found is None and not missing_ok:
        raise NotFound()
    return found


def move_lot(lot: Lot, target: str, now: datetime) -> bool:
    """Close a listed lot (sold or withdrawn); False if it was not listed any more."""
    moved = db.session.execute(
        update(Lot).where(Lot.id == lot.id, Lot.status == LISTED)
        .values(status=target, closed_at=now).execution_options(synchronize_session=False))
    db.session.expire(lot)
    return moved.rowcount == 1


def move_sale(sale: LotSale, source: str, target: str) -> bool:
    """Move a sale from `source` to `target`; False if it had left `source` meanwhile."""
    moved = db.session.execute(
        update(LotSale).where(LotSale.id == sale.id, LotSale.status == source)
        .values(status=target).execution_options(synchronize_session=False))
    db.session.expire(sale)
    return moved.rowcount == 1


def record_event(user_id: int, side: str, lot: Lot, sale: LotSale | None, event: str,
                 amount: int, now: datetime, transaction_id: int | None = None,
                 note: str = "") -> None:
    """One row of a side's exchange history (seller or buyer)."""
    db.session.add(ExchangeEvent(user_id=user_id, side=side, lot_id=lot.id,
                                 sale_id=sale.id if sale else None, event=event, amount=amount,
                                 currency=lot.currency, transaction_id=transaction_id,
                                 note=note, at=now))
