"""The Redis side of the click path: one Lua call per click, and the flush's stream reading.

One round trip per click: the script decides unique-or-repeat (SET NX with the uniqueness
window), counts clicks per IP (the flood window), appends the click to the stream, arms the
next flush at most once per interval, and returns the link-cache generation so every process
notices an offer or link change without another round trip.
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
from offers.tracking import STREAM, utc_from_ms

log = logging.getLogger(__name__)

GROUP = "flush"
CONSUMER = "flusher"  # one name for every run: stale entries are reclaimed by idle time
GENERATION_KEY = "cpa:links:generation"
ARMED_KEY = "cpa:clicks:flush-armed"

RECORD_CLICK = """
local unique = '0'
if ARGV[1] ~= '0' and redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[1]) then unique = '1' end
local hits = redis.call('INCR', KEYS[3])
if hits == 1 then redis.call('EXPIRE', KEYS[3], ARGV[2]) end
local flags = ARGV[6]
if hits > tonumber(ARGV[3]) then
  if flags == '' then flags = 'flood' else flags = flags .. ',flood' end
end
local added = redis.pcall('XADD', KEYS[1], ARGV[4] .. '-*', 'id', ARGV[7], 'd', ARGV[8],
                         'u', unique, 'fl', flags)
if type(added) == 'table' and added.err then
  redis.call('XADD', KEYS[1], '*', 'id', ARGV[7], 'd', ARGV[8], 'u', unique, 'fl', flags)
end
local armed = 0
if redis.call('SET', KEYS[5], '1', 'NX', 'PX', ARGV[5]) then armed = 1 end
return {redis.call('GET', KEYS[4]) or '0', armed}
"""


def redis_for_clicks(app=None) -> Redis:
    """A client with short timeouts and no retries: the click path must not wait on Redis."""
    app = app or current_app
    client = app.extensions.get("cpa_click_redis")
    if client is None:
        url = app.config.get("CLICK_REDIS_URL") or app.config["REDIS_URL"]
        client = Redis.from_url(url, socket_connect_timeout=0.25, socket_timeout=1.0,
                                retry=Retry(NoBackoff(), 0), health_check_interval=30)
        app.extensions["cpa_click_redis"] = client
        app.extensions["cpa_click_script"] = client.register_script(RECORD_CLICK)
    return client


def record_click_script(app):
    """The click script as a callable(keys, args): on the lean client for plain redis:// URLs."""
    script = app.extensions.get("cpa_click_hot_script")
    if script is None:
        url = app.config.get("CLICK_REDIS_URL") or app.config["REDIS_URL"]
        if hotredis.supports(url):
            script = hotredis.HotScript(hotredis.HotRedis(url), RECORD_CLICK)
        else:
            redis_for_clicks(app)
            script = app.extensions["cpa_click_script"]
        app.extensions["cpa_click_hot_script"] = script
    return script


def encode_record(record: list) -> str:
    """A click as one JSON array (one Redis argument): id, ms, link, offer, publisher, sub1..5,
    ip hash, ip prefix, user agent, referer, country."""
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def decode_record(record: list, *, unique: bool, flags: str) -> dict:
    """A record (see encode_record) as a `clicks` row."""
    (click_id, ms, link_id, offer_id, publisher_id, sub1, sub2, sub3, sub4, sub5, ip_hash,
     prefix, user_agent, referer, country) = record
    return {"id": click_id, "clicked_at": utc_from_ms(int(ms)), "link_id": int(link_id),
            "offer_id": int(offer_id), "publisher_id": int(publisher_id), "sub1": sub1,
            "sub2": sub2, "sub3": sub3, "sub4": sub4, "sub5": sub5, "ip_hash": ip_hash,
            "ip_prefix": prefix, "user_agent": user_agent, "referer": referer,
            "country": country, "is_unique": unique, "flags": flags}


def decode_entry(fields: dict) -> dict | None:
    """A stream entry as a `clicks` row (None if it is malformed)."""
    try:
        return decode_record(json.loads(fields[b"d"]), unique=fields[b"u"] == b"1",
                             flags=fields[b"fl"].decode())
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
