"""Unique-or-repeat and flood flags, decided by the flush for a batch of clicks, in one round
trip, idempotently (a flush that runs twice decides the same):

- unique: the first click of a visitor (IP hash + user agent) on a link within
  CLICK_UNIQUE_WINDOW_S; `SET key <click id> NX GET` keeps the first click's id, so a retried
  flush sees its own id and still says unique. A visitor whose attribution cookie for the offer
  is younger than the window is a repeat already at the click.
- flood: more than CLICK_FLOOD_LIMIT clicks from one IP hash in a fixed window of
  CLICK_FLOOD_WINDOW_S; each click is a sorted-set member scored by its millisecond and counts
  the clicks up to its own place in (millisecond, click id) order, its rank once the whole batch
  is added, so neither the batch's order (clicks of several processes reach the stream slightly
  out of time order) nor retries change the answer. A click that reaches a later flush than
  clicks after it (another process's, a crashed run's) moves those one place down: the flush
  flags the stored ones it pushes past the limit (flag_stored_floods), so the flags end up the
  same however the clicks were split between flushes (offers.tasks runs one flush at a time).
"""

from collections import defaultdict
from zlib import crc32

from flask import current_app
from sqlalchemy import case, tuple_, update

from cpa_network.extensions import db
from offers.clickstore import ROLLUP_KEY, hour_of, upsert_rollups
from offers.stream import redis_for_clicks
from offers.tracking import utc_from_ms
from offers.tracking_models import SUB_IDS, Click


def _ms(row: dict) -> int:
    return round(row["clicked_at"].timestamp() * 1000)  # int() could land a millisecond early


def decide(rows: list[dict]) -> list[tuple[str, int]]:
    """Set `is_unique` and add the `flood` flag on stream rows (in place); drops `repeat`.
    Returns (id, ms) of clicks behind one of the batch's that rank past the limit: stored ones
    among them may have been decided before it arrived (see flag_stored_floods)."""
    if not rows:
        return []
    config = current_app.config
    unique_s, flood_s = config["CLICK_UNIQUE_WINDOW_S"], config["CLICK_FLOOD_WINDOW_S"]
    limit = config["CLICK_FLOOD_LIMIT"]
    pipe = redis_for_clicks().pipeline(transaction=False)
    flood_keys, earliest = [], {}
    for row in rows:
        if not row["repeat"]:
            key = f"cpa:u:{row['link_id']}:{row['ip_hash']}:{crc32(row['user_agent'].encode()):x}"
            pipe.set(key, row["id"], nx=True, get=True, ex=unique_s)  # Redis >= 7.0
        ms = _ms(row)
        flood_keys.append(f"cpa:f:{row['ip_hash']}:{ms // (flood_s * 1000)}")
        pipe.zadd(flood_keys[-1], {row["id"]: ms})
        pipe.expire(flood_keys[-1], flood_s * 2)
        earliest[flood_keys[-1]] = min(earliest.get(flood_keys[-1], (ms, row["id"])),
                                       (ms, row["id"]))
    for row, flood_key in zip(rows, flood_keys, strict=True):
        pipe.zrank(flood_key, row["id"])  # clicks before it; ties ordered by click id
    # Every click after the batch's earliest, not just the next few places: clicks a crashed
    # run added may come back split over several batches. In time order this is the batch.
    for flood_key, (ms, _click_id) in earliest.items():
        pipe.zrange(flood_key, ms, "+inf", byscore=True, withscores=True)
    replies = iter(pipe.execute())
    for row in rows:
        if not row.pop("repeat"):
            first = next(replies)
            row["is_unique"] = first is None or first.decode() == row["id"]
        else:
            row["is_unique"] = False
        _added, _expiry = next(replies), next(replies)
    ranks = {}
    for row in rows:
        ranks[row["id"]] = next(replies)
        if ranks[row["id"]] + 1 > limit:
            row["flags"] = f"{row['flags']},flood" if row["flags"] else "flood"
    pushed = []
    for _first_ms, first_id in earliest.values():
        members = [(member.decode(), int(ms)) for member, ms in next(replies)]
        after = [member for member, _ms in members].index(first_id) + 1
        for rank, (member, ms) in enumerate(members[after:], start=ranks[first_id] + 1):
            if rank >= limit and member not in ranks:
                pushed.append((member, ms))
    return pushed


def flag_stored_floods(clicks: list[tuple[str, int]]) -> int:
    """Flag as floods the stored clicks among `clicks` (decide's (id, ms)) not flagged so yet,
    moving each clean one from its rollup's unique count to its flagged count; returns how many
    changed. Not every one is new (a flood's later clicks were floods already); the UPDATE
    tells, and a click not stored yet is decided by its own flush."""
    if not clicks:
        return 0
    table = Click.__table__
    flags = table.c.flags
    changed = db.session.execute(
        update(table)
        .where(tuple_(table.c.id, table.c.clicked_at).in_(
                   [(click_id, utc_from_ms(ms)) for click_id, ms in clicks]),
               flags.not_like("%flood%"))
        .values(flags=case((flags == "", "flood"), else_=flags + ",flood"))
        .returning(table.c.clicked_at, table.c.link_id, table.c.country,
                   *(table.c[s] for s in SUB_IDS), table.c.offer_id, table.c.publisher_id,
                   table.c.is_unique, flags)).all()
    deltas: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for c in changed:
        if c.flags != "flood":
            continue  # flagged already (bot, geo): counted as flagged, never as unique
        delta = deltas[(hour_of(c.clicked_at), c.link_id, c.country,
                        *(c._mapping[s] for s in SUB_IDS))]
        delta[0] -= 1 if c.is_unique else 0
        delta[1] += 1
        delta[2], delta[3] = c.offer_id, c.publisher_id
    upsert_rollups([dict(zip(ROLLUP_KEY, key, strict=True),
                         unique_clicks=d[0], flagged_clicks=d[1], offer_id=d[2],
                         publisher_id=d[3])
                    for key, d in sorted(deltas.items())],  # key order: no deadlocks
                   ("unique_clicks", "flagged_clicks"))
    return len(changed)
