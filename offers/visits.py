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
  out of time order) nor retries change the answer.
"""

from zlib import crc32

from flask import current_app

from offers.stream import redis_for_clicks


def _ms(row: dict) -> int:
    return round(row["clicked_at"].timestamp() * 1000)  # int() could land a millisecond early


def decide(rows: list[dict]) -> None:
    """Set `is_unique` and add the `flood` flag on stream rows (in place); drops `repeat`."""
    if not rows:
        return
    config = current_app.config
    unique_s, flood_s = config["CLICK_UNIQUE_WINDOW_S"], config["CLICK_FLOOD_WINDOW_S"]
    pipe = redis_for_clicks().pipeline(transaction=False)
    flood_keys = []
    for row in rows:
        if not row["repeat"]:
            key = f"cpa:u:{row['link_id']}:{row['ip_hash']}:{crc32(row['user_agent'].encode()):x}"
            pipe.set(key, row["id"], nx=True, get=True, ex=unique_s)  # Redis >= 7.0
        ms = _ms(row)
        flood_keys.append(f"cpa:f:{row['ip_hash']}:{ms // (flood_s * 1000)}")
        pipe.zadd(flood_keys[-1], {row["id"]: ms})
        pipe.expire(flood_keys[-1], flood_s * 2)
    for row, flood_key in zip(rows, flood_keys, strict=True):
        pipe.zrank(flood_key, row["id"])  # clicks before it; ties ordered by click id
    replies = iter(pipe.execute())
    for row in rows:
        if not row.pop("repeat"):
            first = next(replies)
            row["is_unique"] = first is None or first.decode() == row["id"]
        else:
            row["is_unique"] = False
        _added, _expiry = next(replies), next(replies)
    for row in rows:
        if next(replies) + 1 > config["CLICK_FLOOD_LIMIT"]:
            row["flags"] = f"{row['flags']},flood" if row["flags"] else "flood"
