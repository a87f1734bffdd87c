"""The conversion state machine and what each move does to money, caps, rollups and the
publisher's outgoing postback.

    pending --approve--> approved          ledger: hold -> publisher available, fee -> revenue
    pending --reject---> rejected          ledger: hold + fee -> back to escrow
    awaiting_funds --fund--> pending       ledger: escrow -> hold (the conversion's own key)
    awaiting_funds --reject--> rejected    nothing was held

Every move runs on a row locked with `SELECT ... FOR UPDATE` and checks the current status
under that lock, so two deciders (the advertiser, the hold-period job, the operator) end in
one outcome: the second gets `IllegalConversionTransition`. The ledger keys are fixed per
conversion (`conversion:<id>:hold`, `conversion:<id>:settle`), so money moves once even if a
caller retries after a crash.
"""

from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from cpa_network.database import utcnow
from cpa_network.errors import DomainError, NotFound
from cpa_network.extensions import db
from offers import caps, outgoing
from offers.conversion_models import (
    APPROVED,
    AWAITING_FUNDS,
    PENDING,
    REJECTED,
    Conversion,
)
from offers.stats import STATUS_COLUMNS, add_conversion_stats
from payouts import commissions, escrow

STATUS_LABELS = {PENDING: _l("pending"), APPROVED: _l("approved"), REJECTED: _l("rejected"),
                 AWAITING_FUNDS: _l("awaiting funds")}
TRANSITIONS: dict[str, frozenset[str]] = {
    PENDING: frozenset({APPROVED, REJECTED}),
    AWAITING_FUNDS: frozenset({PENDING, REJECTED}),
    APPROVED: frozenset(),
    REJECTED: frozenset(),
}


class IllegalConversionTransition(DomainError):
    code = "conversion_state"
    http_status = 409

    def __init__(self, current: str, target: str):
        super().__init__(_l("A conversion that is %(current)s cannot become %(target)s.",
                            current=STATUS_LABELS.get(current, current),
                            target=STATUS_LABELS.get(target, target)))
        self.current, self.target = current, target


class HeldForReview(DomainError):
    code = "held_for_review"
    http_status = 409
    default_message = _l("This conversion is held for the operator's fraud review.")


class ReasonRequired(DomainError):
    code = "reason_required"
    http_status = 422
    default_message = _l("Say why the conversion is rejected.")


def check_transition(current: str, target: str) -> None:
    if target not in TRANSITIONS.get(current, frozenset()):
        raise IllegalConversionTransition(current, target)


def lock_conversion(conversion_id: int) -> Conversion:
    """The conversion, locked until the transaction ends, with its latest committed state."""
    found = db.session.scalar(select(Conversion).where(Conversion.id == conversion_id)
                              .with_for_update().execution_options(populate_existing=True))
    if found is None:
        raise NotFound(_l("No such conversion."))
    return found


def stats_key(conversion: Conversion) -> dict:
    return {"link_id": conversion.link_id, "offer_id": conversion.offer_id,
            "publisher_id": conversion.publisher_id, "country": conversion.country,
            **conversion.subs}


def created_changes(status: str, payout: int) -> dict[str, int]:
    """What a new conversion adds to the rollups: the totals and its status's columns."""
    count, amount = STATUS_COLUMNS[status]
    return {"conversions": 1, "payout": payout, count: 1, amount: payout}


def count_created(conversion: Conversion) -> None:
    """The new conversion in the rollups."""
    add_conversion_stats(stats_key(conversion), conversion.created_at,
                         created_changes(conversion.status, conversion.payout))


def _count_move(conversion: Conversion, old: str, new: str) -> None:
    old_count, old_amount = STATUS_COLUMNS[old]
    new_count, new_amount = STATUS_COLUMNS[new]
    changes = {old_count: -1, old_amount: -conversion.payout, new_count: 1,
               new_amount: conversion.payout}
    if new == REJECTED:  # the totals count conversions that were not rejected
        changes |= {"conversions": -1, "payout": -conversion.payout}
    add_conversion_stats(stats_key(conversion), conversion.created_at, changes)


def _move(conversion: Conversion, target: str, *, actor_id: int | None, reason: str,
          now: datetime | None) -> Conversion:
    old = conversion.status
    conversion.status = target
    if target in (APPROVED, REJECTED):
        conversion.decided_at = now or utcnow()
        conversion.decided_by_id = actor_id
        conversion.decision_reason = reason.strip()[:500]
        conversion.held = False
    _count_move(conversion, old, target)
    if target in (APPROVED, REJECTED):
        outgoing.queue_event(conversion, target)
    db.session.flush()
    return conversion


def approve(conversion: Conversion, *, actor_id: int | None = None, reason: str = "",
            override_hold: bool = False, now: datetime | None = None) -> Conversion:
    """Pay a pending conversion: the publisher's payout becomes available, the fee revenue,
    and the uplines' commissions are paid out of that fee in the same ledger transaction."""
    check_transition(conversion.status, APPROVED)
    if conversion.held and not override_hold:
        raise HeldForReview()
    escrow.approve_conversion(conversion.id, commissions=commissions.route(
        conversion.id, conversion.publisher_id, conversion.fee, conversion.currency, now))
    return _move(conversion, APPROVED, actor_id=actor_id, reason=reason, now=now)


def reject(conversion: Conversion, *, actor_id: int | None = None, reason: str,
           now: datetime | None = None) -> Conversion:
    """Refuse a conversion: what was held returns to the advertiser's escrow. One held for
    fraud review may be rejected too: the hold stops paying, not refusing."""
    check_transition(conversion.status, REJECTED)
    if not reason.strip():
        raise ReasonRequired(fields={"reason": [ReasonRequired.default_message]})
    if conversion.status == PENDING:
        escrow.reject_conversion(conversion.id)
    caps.release_conversion(conversion)
    return _move(conversion, REJECTED, actor_id=actor_id, reason=reason, now=now)


def hold(conversion: Conversion, hold_days: int, now: datetime,
         account_ids: dict | None = None) -> None:
    """Commit escrow to the conversion (`InsufficientFunds` if it is short) and start its hold
    period. The hold's refs carry when the publisher's earnings become available."""
    until = now + timedelta(days=hold_days)
    escrow.hold_conversion(conversion.id, conversion.advertiser_id, conversion.publisher_id,
                           conversion.currency, conversion.payout, conversion.fee,
                           available_at=until, account_ids=account_ids)
    if conversion.hold_until != until:  # a new conversion was inserted with it: no UPDATE
        conversion.hold_until = until


def fund(conversion: Conversion, hold_days: int, now: datetime | None = None) -> Conversion:
    """A conversion that waited for funds is held now (`InsufficientFunds` if still short)."""
    check_transition(conversion.status, PENDING)
    hold(conversion, hold_days, now or utcnow())
    _move(conversion, PENDING, actor_id=None, reason="", now=now)
    return conversion
