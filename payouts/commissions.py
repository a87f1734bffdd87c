"""The multi-level referral program: who earns what when a downline's conversion is approved.

The network pays uplines out of its own fee, never out of the publisher's payout or the
advertiser's escrow. Per level a share of the fee (`REFERRAL_COMMISSION_BP`, basis points;
default 1000,300,100 = 10 %, 3 %, 1 %) goes to the upline at that level, posted in the approval's
own ledger transaction (`escrow.approve_conversion(..., commissions=...)`). A blocked upline
earns nothing (the network keeps its share; the levels above still earn theirs).

Refback: an upline may return part (0-80 %) of the level-1 commission a direct referral earns
them to that referral; the setting belongs to the referral and survives a sale on the exchange.

Rounding: integer minor units, floored at each step: commission = fee * level_bp // 10000,
refback = commission * refback_bp // 10000; the upline keeps commission - refback. The network
keeps every remainder, so the postings always sum to zero to the unit.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from cpa_network.accounts.models import User
from cpa_network.accounts.services import locked_user
from cpa_network.database import utcnow
from cpa_network.errors import NotFound, ValidationFailed
from cpa_network.extensions import db
from payouts.commission_models import MAX_REFBACK_BP, Refback, ReferralCommission

BP = 10_000
MAX_CHAIN = 10_000  # a guard against walking a corrupt (cyclic) tree for ever


class RefbackOutOfRange(ValidationFailed):
    code = "refback_out_of_range"
    default_message = _l("A refback is between 0 % and 80 %.")


def level_rates() -> tuple[int, ...]:
    """Basis points of the network fee per level, level 1 first."""
    return tuple(current_app.config["REFERRAL_COMMISSION_BP"])


def upline_chain(user_id: int, depth: int) -> list[User]:
    """The user's uplines, nearest first, at most `depth` of them."""
    chain: list[User] = []
    user = db.session.get(User, user_id)
    while user is not None and user.referred_by_id is not None and len(chain) < depth:
        user = db.session.get(User, user.referred_by_id)
        chain.append(user)
    return chain


def ancestor_ids(user_id: int) -> list[int]:
    """Every upline of the user up to the root, nearest first."""
    found: list[int] = []
    current = db.session.scalar(select(User.referred_by_id).where(User.id == user_id))
    while current is not None and current not in found and len(found) < MAX_CHAIN:
        found.append(current)
        current = db.session.scalar(select(User.referred_by_id).where(User.id == current))
    return found


def would_create_cycle(referral_id: int, new_upline_id: int) -> bool:
    """True if making `new_upline_id` the upline of `referral_id` would close a loop."""
    return new_upline_id == referral_id or referral_id in ancestor_ids(new_upline_id)


@dataclass(frozen=True)
class Share:
    level: int
    upline_id: int
    via_id: int
    amount: int
    refback: int


def split(fee: int, rates: Iterable[int], refback_bp: int) -> list[tuple[int, int]]:
    """(commission, refback) per level for a fee: the rounding rule in one place."""
    shares = []
    for level, rate in enumerate(rates, start=1):
        amount = fee * rate // BP
        refback = amount * refback_bp // BP if level == 1 else 0
        shares.append((amount, refback))
    return shares


def refback_of(referral_id: int) -> int:
    """The referral's refback in basis points (0 if never set)."""
    return db.session.scalar(select(Refback.refback_bp).where(
        Refback.referral_id == referral_id)) or 0


def route(conversion_id: int, publisher_id: int, fee: int, currency: str,
          now: datetime | None = None) -> list[tuple[int, int]]:
    """Record the commissions of an approved conversion and return the ledger's
    (recipient id, amount) pairs: each upline's share less refback, and the refback to the
    publisher. Calling it again for the same conversion returns the same pairs."""
    rows = db.session.scalars(select(ReferralCommission).where(
        ReferralCommission.conversion_id == conversion_id)
        .order_by(ReferralCommission.level)).all()
    if not rows and fee > 0:
        rows = _record(conversion_id, publisher_id, fee, currency, now or utcnow())
    pairs = []
    for row in rows:
        if row.kept:
            pairs.append((row.upline_id, row.kept))
        if row.refback:
            pairs.append((row.via_id, row.refback))
    return pairs


def _record(conversion_id: int, publisher_id: int, fee: int, currency: str,
            now: datetime) -> list[ReferralCommission]:
    rates = level_rates()
    chain = upline_chain(publisher_id, len(rates))
    split_up = split(fee, rates[:len(chain)], refback_of(publisher_id))
    rows = []
    for level, (upline, (amount, refback)) in enumerate(zip(chain, split_up, strict=True),
                                                        start=1):
        if upline.is_blocked or amount <= 0:
            continue
        via_id = publisher_id if level == 1 else chain[level - 2].id
        rows.append(ReferralCommission(
            conversion_id=conversion_id, level=level, source_id=publisher_id, via_id=via_id,
            upline_id=upline.id, currency=currency.upper(), amount=amount, refback=refback,
            created_at=now))
    db.session.add_all(rows)
    db.session.flush()
    return rows


def set_refback(upline: User, referral_id: int, percent_bp: int) -> Refback:
    """The upline sets the refback of one of their direct referrals. The referral's row is
    locked first, so two saves of a first refback at once (a double click) update one row in
    turn rather than both inserting it."""
    referral = locked_user(referral_id)
    if referral is None or referral.referred_by_id != upline.id:
        raise NotFound()
    if not 0 <= percent_bp <= MAX_REFBACK_BP:
        raise RefbackOutOfRange(fields={"refback": [RefbackOutOfRange.default_message]})
    row = db.session.get(Refback, referral_id)
    if row is None:
        row = Refback(referral_id=referral_id, refback_bp=percent_bp, set_by_id=upline.id)
        db.session.add(row)
    else:
        row.refback_bp, row.set_by_id = percent_bp, upline.id
    db.session.flush()
    return row


def earned_by_source(upline_id: int, since: datetime | None = None) -> dict[int, int]:
    """{downline id: what its conversions earned this upline (kept, not reversed)}."""
    c = ReferralCommission
    query = (select(c.source_id, func.sum(c.amount - c.refback))
             .where(c.upline_id == upline_id, c.reversed_at.is_(None)).group_by(c.source_id))
    if since is not None:
        query = query.where(c.created_at >= since)
    return {source: int(total) for source, total in db.session.execute(query)}


def unreversed_since(upline_id: int, via_id: int, since: datetime) -> list[ReferralCommission]:
    """What an upline earned through one referral since a moment, still standing (for update)."""
    c = ReferralCommission
    return list(db.session.scalars(
        select(c).where(c.upline_id == upline_id, c.via_id == via_id, c.created_at >= since,
                        c.reversed_at.is_(None)).order_by(c.id).with_for_update()))
