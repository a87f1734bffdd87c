"""The Redis side of the click path: one XADD per click, and the flush's stream reading.

A click is one stream entry, appended with one command in one round trip. Work that needs
state (is the visitor unique? too many clicks from one address?) is decided by the flush, in
bulk (offers.visits). About once a second per process the same round trip also arms the next
flush and reads the link-cache generation, so every process notices offer and link changes.
"""

import json
import logging
from datetime import timedelta

from flask import current_app
from redis import Redis
from redis.backoff import NoBackoff
from redis.exceptions import RedisError, ResponseError
from redis.retry import Retry

from offers import hotredis
from offers.tracking import STREAM, printable, utc_from_ms

log = logging.getLogger(__name__)

GROUP = "flush"
CONSUMER = "flusher"  # one name for every run: stale entries are reclaimed by idle time
GENERATION_KEY = "cpa:links:generation"
ARMED_KEY = "cpa:clicks:flush-armed"
STATE_EVERY_S = 1.0  # how often a process arms the flush and reads the generation


def redis_for_clicks(app=None) -> Redis:
    """A client with short timeouts and no retries: the click path must not wait on Redis."""
    app = app or current_app
    client = app.extensions.get("cpa_click_redis")
    if client is None:
        url = app.config.get("CLICK_REDIS_URL") or app.config["REDIS_URL"]
        client = Redis.from_url(url, socket_connect_timeout=0.25, socket_timeout=1.0,
                                retry=Retry(NoBackoff(), 0), health_check_interval=30)
        app.extensions["cpa_click_redis"] = client
    return client


def _send(app, commands: list[tuple]) -> list:
    """Send commands in one round trip; error replies come back as ResponseError values."""
    client = app.extensions.get("cpa_click_hot")
    if client is None:
        url = app.config.get("CLICK_REDIS_URL") or app.config["REDIS_URL"]
        client = hotredis.HotRedis(url) if hotredis.supports(url) else redis_for_clicks(app)
        app.extensions["cpa_click_hot"] = client
    if isinstance(client, hotredis.HotRedis):
        return client.call_many(commands)
    pipe = client.pipeline(transaction=False)
    for command in commands:
        pipe.execute_command(*command)
    return pipe.execute(raise_on_error=False)


def append_click(app, click_id: str, ms: int, data: str, with_state: bool) -> tuple | None:
    """XADD the click (its id carries the click's millisecond, so `find_click` knows where to
    look); with `with_state`, also arm the flush and read the generation: (generation, armed)."""
    commands = [(b"XADD", STREAM, f"{ms}-*", b"id", click_id, b"d", data)]
    if with_state:
        interval_ms = int(app.config["CLICK_FLUSH_INTERVAL_S"] * 1000)
        commands += [(b"SET", ARMED_KEY, b"1", b"NX", b"PX", interval_ms),
                     (b"GET", GENERATION_KEY)]
    replies = _send(app, commands)
    if isinstance(replies[0], ResponseError):  # an entry with a later time is already there
        added = _send(app, [(b"XADD", STREAM, b"*", b"id", click_id, b"d", data)])[0]
        if isinstance(added, Exception):
            raise added
    if not with_state:
        return None
    return replies[2] or b"0", replies[1] is not None


def read_generation(app) -> bytes:
    """The link-cache generation alone, for a click that records nothing (offers.clicks)."""
    reply = _send(app, [(b"GET", GENERATION_KEY)])[0]
    if isinstance(reply, Exception):
        raise reply
    return reply or b"0"


def encode_record(record: list) -> str:
    """A click as one JSON array: id, ms, link, offer, publisher, sub1..5, ip hash, ip prefix,
    user agent, referer, country, flags known at the click (bot, geo), and 1 if the visitor's
    attribution cookie already made it a repeat."""
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def decode_record(record: list) -> dict:
    """A record (see encode_record) as a `clicks` row; `is_unique` still to be decided. The
    visitor's texts are cleaned again: a record an older release wrote with a control character
    must not block its batch."""
    (click_id, ms, link_id, offer_id, publisher_id, sub1, sub2, sub3, sub4, sub5, ip_hash,
     prefix, user_agent, referer, country, flags, repeat) = record
    return {"id": click_id, "clicked_at": utc_from_ms(int(ms)), "link_id": int(link_id),
            "offer_id": int(offer_id), "publisher_id": int(publisher_id),
            "sub1": printable(sub1), "sub2": printable(sub2), "sub3": printable(sub3),
            "sub4": printable(sub4), "sub5": printable(sub5), "ip_hash": ip_hash,
            "ip_prefix": prefix, "user_agent": printable(user_agent),
            "referer": printable(referer),
            "country": country, "is_unique": not repeat, "flags": flags, "repeat": bool(repeat)}


def decode_entry(fields: dict) -> dict | None:
    """A stream entry as a `clicks` row (None if it is malformed)."""
    try:
        return decode_record(json.loads(fields[b"d"]))
    except (KeyError, ValueError, TypeError, UnicodeDecodeError):
        return None


def ensure_group(client: Redis) -> None:
    try:
        client.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
    except ResponseError as error:
        if "BUSYGROUP" not in str(error):
            raise


def read_batch(count: int, *, reclaim_idle_ms: int | None = None) -> tuple[list, list]:
    """Entry ids and decoded records: stale entries of crashed runs first, then new ones."""
    client = redis_for_clicks()
    ensure_group(client)
    if reclaim_idle_ms is not None:
        _next, entries, *_deleted = client.xautoclaim(STREAM, GROUP, CONSUMER,
                                                      min_idle_time=reclaim_idle_ms,
                                                      start_id="0-0", count=count)
    else:
        reply = client.xreadgroup(GROUP, CONSUMER, {STREAM: ">"}, count=count)
        entries = reply[0][1] if reply else []
    ids, records = [], []
    for entry_id, fields in entries:
        ids.append(entry_id)
        record = decode_entry(fields) if fields else None
        if record is None:
            log.error("dropping a malformed click entry %s: %r", entry_id, fields)
        else:
            records.append(record)
    return ids, records


def ack(entry_ids: list) -> None:
    """Done with these entries: acknowledged and deleted, so the stream holds only the unflushed."""
    if not entry_ids:
        return
    pipe = redis_for_clicks().pipeline(transaction=True)
    pipe.xack(STREAM, GROUP, *entry_ids)
    pipe.xdel(STREAM, *entry_ids)
    pipe.execute()


def backlog() -> int:
    """Clicks waiting in the stream (new and unacknowledged)."""
    return redis_for_clicks().xlen(STREAM)


def schedule_flush(delay_s: float) -> None:
    """Enqueue a flush on the `tracking` queue (run by `flask worker`, which has the scheduler)."""
    from cpa_network.jobs import get_queue
    from offers.tasks import flush_clicks

    try:
        queue = get_queue("tracking")
        if delay_s <= 0:
            queue.enqueue(flush_clicks)
        else:
            queue.enqueue_in(timedelta(seconds=delay_s), flush_clicks)
    except RedisError:
        log.warning("could not schedule a click flush; the next click re-arms it")


def bump_generation() -> None:
    """Tell every process that links or offers changed (their route caches drop stale entries)."""
    try:
        redis_for_clicks().incr(GENERATION_KEY)
    except RedisError:
        log.warning("could not bump the link generation; caches expire by TTL")
