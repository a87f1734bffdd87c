"""Traffic for statistics and ratings tests, written through the real rollup path."""

import itertools
from datetime import datetime

from cpa_network.extensions import db
from offers.clickstore import add_to_rollups
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
