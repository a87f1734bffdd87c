"""Caps under concurrency: counter rows locked by the conversion that counts in them.

Each (offer, publisher or 0 for the whole offer, day or month, period start) has one
`cap_usage` row. A conversion of an offer with caps locks the rows of its periods
(`SELECT ... FOR UPDATE`, in id order so concurrent conversions never deadlock), checks every
cap against them with `offers.rules.cap_room`, and adds itself, all in its own transaction:
a concurrent conversion waits for the lock and then sees the new count, so no more conversions
are paid than a cap allows. A row is created on first use, seeded from the hourly rollups (a
cap added mid-period counts what came before it); `ON CONFLICT DO NOTHING` lets concurrent
first uses agree on one row. A rejected conversion is taken back out of the rows it counts in.
"""

from datetime import datetime

from sqlalchemy import and_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from cpa_network.extensions import db
from offers import rules
from offers.conversion_models import CapUsage, Conversion
from offers.models import Offer

WHOLE_OFFER = 0


def _periods(at: datetime) -> dict[str, datetime]:
    return {period: rules.period_start(period, at) for period in ("day", "month")}


def _row_filter(offer_id: int, publisher_id: int, at: datetime):
    starts = _periods(at)
    return and_(CapUsage.offer_id == offer_id,
                CapUsage.publisher_id.in_((WHOLE_OFFER, publisher_id)),
                or_(*(and_(CapUsage.period == p, CapUsage.period_start == s)
                      for p, s in starts.items())))


def _lock_rows(offer_id: int, publisher_id: int, at: datetime) -> list[CapUsage]:
    return list(db.session.scalars(
        select(CapUsage).where(_row_filter(offer_id, publisher_id, at))
        .order_by(CapUsage.id).with_for_update().execution_options(populate_existing=True)))


def _create_rows(offer: Offer, keys: set[tuple[int, str]], at: datetime) -> None:
    """Rows for (publisher or 0, period) not counted yet, seeded from the rollups."""
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    starts = _periods(at)
    for publisher_id, period in sorted(keys):
        seed = rules.usage_from_rollups(offer, publisher_id or None, starts[period])
        db.session.execute(dialect.insert(CapUsage).values(
            offer_id=offer.id, publisher_id=publisher_id, period=period,
            period_start=starts[period], conversions=seed.conversions, payout=seed.payout,
        ).on_conflict_do_nothing())


def count_conversion(offer: Offer, publisher_id: int, payout: int, at: datetime) -> None:
    """Count one conversion paying `payout` against the offer's caps; `CapReached` if it
    would go over one (the caller's transaction then rolls back)."""
    if not offer.caps:
        return
    wanted = {(publisher_id if cap.scope == "publisher" else WHOLE_OFFER, cap.period)
              for cap in offer.caps}
    rows = _lock_rows(offer.id, publisher_id, at)
    missing = wanted - {(row.publisher_id, row.period) for row in rows}
    if missing:
        _create_rows(offer, missing, at)
        rows = _lock_rows(offer.id, publisher_id, at)
    by_key = {(row.publisher_id, row.period): row for row in rows}
    for cap in offer.caps:
        row = by_key[(publisher_id if cap.scope == "publisher" else WHOLE_OFFER, cap.period)]
        if not rules.cap_room(cap, rules.Usage(row.conversions, row.payout), payout):
            raise rules.CapReached()
    for row in rows:  # every row of these periods counts it, so a rejection can take it back
        row.conversions += 1
        row.payout += payout


def release_conversion(conversion: Conversion) -> None:
    """A rejected conversion no longer counts against the caps of its periods."""
    db.session.execute(
        update(CapUsage).where(_row_filter(conversion.offer_id, conversion.publisher_id,
                                           conversion.created_at))
        .values(conversions=CapUsage.conversions - 1,
                payout=CapUsage.payout - conversion.payout)
        .execution_options(synchronize_session=False))
