"""Deciding conversions: the advertiser's review (one by one and in bulk), the hold-period
job that approves what is still pending, and the operator's fraud queue.

Who may decide: the advertiser, only conversions of their own offers (anyone else's is "not
found"), and may not approve one held for fraud review (rejecting it is theirs to do: the
money returns to their escrow); the operator, held ones too. Every decision locks
the conversion row and re-checks its status (offers.conversions), so the advertiser and the
hold-period job racing on one conversion end in one outcome.
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from cpa_network.accounts.models import User
from cpa_network.accounts.services import block_user
from cpa_network.database import usable_day, utcnow
from cpa_network.errors import DomainError, NotFound, ValidationFailed
from cpa_network.extensions import db
from offers import conversions
from offers.conversion_models import HELD_UNDECIDED, PENDING, STATUS_IS, Conversion
from offers.fraud import BLOCK_REASON

DECISIONS = ("approve", "reject")
MAX_BULK = 500


@dataclass(frozen=True)
class ReviewFilter:
    status: str = ""
    offer_id: int | None = None
    publisher_id: int | None = None
    since: date | None = None
    until: date | None = None  # inclusive
    sub: str = ""  # matches any of sub1..sub5
    held: bool = False


@dataclass
class BulkResult:
    done: list[int] = field(default_factory=list)
    skipped: dict[int, str] = field(default_factory=dict)  # id -> why


def _date(text: str | None) -> date | None:
    try:
        day = date.fromisoformat(text) if text else None
    except ValueError:
        return None
    return day if day is not None and usable_day(day) else None


def _id(text: str | None) -> int | None:
    return int(text) if text and text.isascii() and text.isdigit() and len(text) < 12 else None


# The query keys filter_from reads (and the page number): links back keep these, nothing else
# (templates/offers/_conversion.html lists the same for its links).
FILTER_KEYS = ("status", "offer_id", "publisher_id", "since", "until", "sub", "held", "page")


def filter_from(args) -> ReviewFilter:
    """A filter from query-string arguments (pages and the API); bad values are ignored."""
    return ReviewFilter(status=args.get("status", ""), offer_id=_id(args.get("offer_id")),
                        publisher_id=_id(args.get("publisher_id")),
                        since=_date(args.get("since")), until=_date(args.get("until")),
                        sub=(args.get("sub") or "").strip()[:100],
                        held=args.get("held") in ("1", "true", "on"))


def _filtered(query, f: ReviewFilter):
    if f.status in STATUS_IS:
        query = query.where(STATUS_IS[f.status])
    if f.offer_id:
        query = query.where(Conversion.offer_id == f.offer_id)
    if f.publisher_id:
        query = query.where(Conversion.publisher_id == f.publisher_id)
    if f.since:
        query = query.where(Conversion.created_at >= datetime.combine(f.since, time(), UTC))
    if f.until:
        query = query.where(Conversion.created_at < datetime.combine(
            f.until + timedelta(days=1), time(), UTC))
    if f.sub:
        query = query.where(or_(*(getattr(Conversion, f"sub{i}") == f.sub for i in range(1, 6))))
    if f.held:
        query = query.where(Conversion.held.is_(True))
    return query.order_by(Conversion.created_at.desc(), Conversion.id.desc())


def _listed():
    """Conversions with the offer and publisher each row shows, loaded with them."""
    return select(Conversion).options(joinedload(Conversion.offer),
                                      joinedload(Conversion.publisher))


def advertiser_query(advertiser_id: int, f: ReviewFilter):
    return _filtered(_listed().where(Conversion.advertiser_id == advertiser_id), f)


def publisher_query(publisher_id: int, f: ReviewFilter):
    return _filtered(_listed().where(Conversion.publisher_id == publisher_id), f)


def readable_conversion(user: User, conversion_id: int) -> Conversion:
    """The conversion if it is of the user's offers or earned by them; else "not found"."""
    found = db.session.get(Conversion, conversion_id)
    if found is None or user.id not in (found.advertiser_id, found.publisher_id):
        raise NotFound(_l("No such conversion."))
    return found


def advertiser_conversion(advertiser: User, conversion_id: int) -> Conversion:
    """A conversion of the advertiser's own offers; anyone else's is "not found"."""
    conversion = db.session.get(Conversion, conversion_id)
    if conversion is None or conversion.advertiser_id != advertiser.id:
        raise NotFound(_l("No such conversion."))
    return conversion


def _owned_locked(advertiser: User, conversion_id: int) -> Conversion:
    advertiser_conversion(advertiser, conversion_id)
    return conversions.lock_conversion(conversion_id)


def _apply(conversion: Conversion, decision: str, actor: User, reason: str,
           override_hold: bool = False) -> Conversion:
    if decision == "approve":
        return conversions.approve(conversion, actor_id=actor.id, reason=reason,
                                   override_hold=override_hold)
    if decision == "reject":
        return conversions.reject(conversion, actor_id=actor.id, reason=reason)
    raise ValidationFailed(fields={"decision": [_l("approve or reject")]})


def decide(advertiser: User, conversion_id: int, decision: str, reason: str = "") -> Conversion:
    """The advertiser approves or rejects one conversion of their own offers."""
    return _apply(_owned_locked(advertiser, conversion_id), decision, advertiser, reason)


def decide_many(advertiser: User, conversion_ids: list[int], decision: str,
                reason: str = "") -> BulkResult:
    """Bulk review: each conversion in a savepoint, so one refusal skips only itself."""
    if decision == "reject" and not reason.strip():
        raise conversions.ReasonRequired(
            fields={"reason": [conversions.ReasonRequired.default_message]})
    result = BulkResult()
    for conversion_id in sorted(set(conversion_ids))[:MAX_BULK]:
        try:
            with db.session.begin_nested():
                decide(advertiser, conversion_id, decision, reason)
        except DomainError as error:
            result.skipped[conversion_id] = str(error.message)
        else:
            result.done.append(conversion_id)
    return result


def approve_due(now: datetime | None = None, batch: int = 500) -> int:
    """The hold-period job: approve pending conversions whose hold ended (not held for fraud
    review). Rows another transaction is deciding right now are skipped (`SKIP LOCKED`) and
    the status is re-checked under the lock, so running twice approves once. A blocked
    publisher's conversion is rejected instead: one recorded while the block was committing
    escaped the block's own rejections."""
    now = now or utcnow()
    approved = 0
    rows = list(db.session.scalars(
        select(Conversion).where(Conversion.status == PENDING, Conversion.held.is_(False),
                                 Conversion.hold_until <= now)
        .order_by(Conversion.hold_until, Conversion.id).limit(batch)
        .with_for_update(skip_locked=True).execution_options(populate_existing=True)))
    blocked = set(db.session.scalars(select(User.id).where(
        User.id.in_({c.publisher_id for c in rows}), User.blocked_at.is_not(None))))
    for conversion in rows:
        if conversion.status != PENDING or conversion.held:
            continue
        if conversion.publisher_id in blocked:
            conversions.reject(conversion, reason=str(BLOCK_REASON), now=now)
            continue
        conversions.approve(conversion, now=now)
        approved += 1
    return approved


def fraud_queue(limit: int = 200) -> list[Conversion]:
    """Undecided conversions held for review, oldest first."""
    return list(db.session.scalars(
        select(Conversion).where(*HELD_UNDECIDED).order_by(Conversion.created_at).limit(limit)))


def operator_decide(operator: User, conversion_id: int, decision: str,
                    reason: str = "") -> Conversion:
    """The operator clears (approves) or rejects a held conversion, or blocks its publisher
    (which rejects every undecided conversion of theirs through the block listener)."""
    conversion = conversions.lock_conversion(conversion_id)
    if decision == "block":
        block_user(db.session.get(User, conversion.publisher_id),
                   reason.strip() or str(_l("fraud")))
        return conversion
    return _apply(conversion, decision, operator, reason or str(_l("fraud review")),
                  override_hold=True)
