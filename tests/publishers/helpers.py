"""Traffic for statistics and ratings tests, written through the real rollup path."""

import itertools
from datetime import datetime, timedelta

from cpa_network.extensions import db
from offers.clickstore import add_to_rollups
from offers.conversion_models import Conversion
from offers.stats import STATUS_COLUMNS, add_conversion_stats
from offers.tracking_models import SUB_IDS

_ids = itertools.count(1)


def add_clicks(link, at: datetime, count: int = 1, *, flags: str = "", unique: bool = True,
               country: str = "RU", **subs) -> None:
    """`count` clicks on `link` at `at`, added to the hourly rollups exactly as the click flush
    adds the clicks it stored (offers.clickstore.add_to_rollups)."""
    add_to_rollups([{"id": f"T{next(_ids):025d}", "clicked_at": at, "link_id": link.id,
                     "offer_id": link.offer_id, "publisher_id": link.publisher_id,
                     "country": country, "is_unique": unique, "flags": flags,
                     **{s: subs.get(s, "") for s in SUB_IDS}} for _ in range(count)])
    db.session.commit()


def add_conversions(link, at: datetime, status: str, count: int = 1, payout: int = 10_00,
                    country: str = "RU") -> None:
    """`count` conversions of `status` created at `at`, added to the rollups with the conversion
    path's own function (offers.stats.add_conversion_stats), net of their status moves."""
    count_column, amount_column = STATUS_COLUMNS[status]
    changes = {count_column: count, amount_column: payout * count}
    if status != "rejected":  # the totals count conversions that were not rejected
        changes |= {"conversions": count, "payout": payout * count}
    add_conversion_stats({"link_id": link.id, "offer_id": link.offer_id,
                          "publisher_id": link.publisher_id, "country": country}, at, changes)
    db.session.commit()


def add_conversion_rows(link, at: datetime, status: str, count: int = 1, *,
                        fraud_signals: str = "", decided_after: timedelta | None = None,
                        payout: int = 10_00) -> None:
    """Conversion rows (for what the rollups do not carry: fraud signals, hold times), and the
    same conversions in the rollups."""
    for _ in range(count):
        db.session.add(Conversion(
            offer_id=link.offer_id, goal_code="registration", advertiser_id=link.offer
            .advertiser_id, publisher_id=link.publisher_id, link_id=link.id, source="postback",
            txid=f"T{next(_ids)}", currency="USD", payout=payout, fee=0, status=status,
            fraud_signals=fraud_signals, country="RU", created_at=at,
            decided_at=at + decided_after if decided_after else None))
    db.session.commit()
    add_conversions(link, at, status, count, payout)
