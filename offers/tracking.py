"""The tracking engine's public helpers: click ids, IP pseudonymisation, and `find_click`,
which finds a click in PostgreSQL or still waiting in the Redis stream (for conversions)."""

import functools
import hashlib
import os
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app
from redis.exceptions import RedisError
from sqlalchemy import bindparam, literal_column, null, select

from cpa_network.extensions import db
from cpa_network.fastsql import Statement
from offers.offer_cache import version_of
from offers.partitions import add_months, month_start, timestamp_literal
from offers.tracking_models import Click

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CLICK_ID_RE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")
_DECODE = {ch: i for i, ch in enumerate(CROCKFORD)}
STREAM = "cpa:clicks"
# How far after its own time a click's stream entry can be (the entry id is the click's
# millisecond when possible, else Redis's clock).
FIND_WINDOW_MS = 10_000


_last = [0, 0]  # the previous id's millisecond and random part, in this process


_CONTROL_CHARACTERS = dict.fromkeys([*range(0x20), 0x7F])


def printable(text: str) -> str:
    """`text` without control characters: what a visitor puts in a sub-id, user agent or
    referer is stored as text, and PostgreSQL refuses NUL in text (a click with `sub1=%00`
    would fail its whole flush batch, again at every retry)."""
    return text if text.isprintable() else text.translate(_CONTROL_CHARACTERS)


def has_control_characters(text: str) -> bool:
    return printable(text) != text


def new_click_id(ms: int | None = None, random_bits: int | None = None) -> str:
    """A ULID: 48 bits of milliseconds then 80 random bits, in Crockford base32 (26 chars).

    Within one millisecond a process increments the random part (ULID's monotonic mode), so
    its ids sort in the order they were made.
    """
    if ms is None:
        ms = time.time_ns() // 1_000_000
    if random_bits is None:
        if ms == _last[0] and _last[1] < (1 << 80) - 1:
            random_bits = _last[1] + 1
        else:
            random_bits = int.from_bytes(os.urandom(10), "big")
        _last[0], _last[1] = ms, random_bits
    value = (ms << 80) | random_bits
    out = []
    for _ in range(26):
        out.append(CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(out))


# The last millisecond a click id may name, with room for the lookup's time slack.
LAST_MS = int(datetime(9999, 1, 1, tzinfo=UTC).timestamp() * 1000)


def click_ms(click_id: str) -> int:
    """The millisecond a click id was made at."""
    value = 0
    for ch in click_id[:10]:
        value = (value << 5) | _DECODE[ch]
    return value


def attribution_cookie(click_id: str, link_id: int) -> str:
    """The attribution cookie's value: the click, and its link, which tells a visitor coming back
    through the same link (a repeat) from one clicking another publisher's link of the offer."""
    return f"{click_id}.{link_id}"


def read_attribution_cookie(value: str | None) -> tuple[str | None, int | None]:
    """(click id, link id) from the cookie; a cookie set before the link was added holds only
    the click id."""
    if not value:
        return None, None
    click_id, _, link = value.partition(".")
    return click_id, int(link) if link.isascii() and link.isdigit() and len(link) < 19 else None


def is_click_id(value: str) -> bool:
    """The shape of a click id, and a time `datetime` can hold: a well-formed id past the year
    9999 is unknown, not an error."""
    return bool(value) and CLICK_ID_RE.match(value) is not None and click_ms(value) < LAST_MS


def _ip_key(app) -> bytes:
    key = app.extensions.get("cpa_ip_key")
    if key is None:
        key = hashlib.sha256(b"cpa-click-ip:" + app.config["SECRET_KEY"].encode()).digest()
        app.extensions["cpa_ip_key"] = key
    return key


def hash_ip(ip: str, app=None) -> str:
    """A keyed hash of an IP address: equal addresses compare equal, the address is not stored.

    Keyed with a secret derived from SECRET_KEY, so the 2^32 IPv4 addresses cannot be
    enumerated to reverse it without the key. Issue 5 compares it with login addresses.
    """
    return hashlib.blake2b(ip.encode(), key=_ip_key(app or current_app),
                           digest_size=16).hexdigest()


def ip_prefix(ip: str) -> str:
    """The network, not the host: /24 for IPv4, /48 for IPv6."""
    if "." in ip and ":" not in ip:
        head, _, _ = ip.rpartition(".")
        return f"{head}.0/24" if head.count(".") == 2 else ""
    try:
        import ipaddress

        return str(ipaddress.ip_network(f"{ip}/48", strict=False))
    except ValueError:
        return ""


@dataclass(frozen=True)
class ClickInfo:
    """A click as a conversion sees it, wherever it is stored right now."""

    id: str
    clicked_at: datetime
    link_id: int
    offer_id: int
    publisher_id: int
    subs: tuple[str, str, str, str, str]
    ip_hash: str
    ip_prefix: str
    user_agent: str
    referer: str
    country: str
    is_unique: bool
    flags: str
    # False while the click waits in the Redis stream: then `flags` holds only what the click
    # itself showed (bot, geo) and `is_unique` only the cookie's answer; the flush decides the
    # rest (offers.visits) and stores it.
    stored: bool
    # The version of the click's offer read with a stored click on PostgreSQL (its row's xmin,
    # see offers.offer_cache): the postback's offer cache needs no query of its own.
    offer_version: str | None = None

    @property
    def is_flagged(self) -> bool:
        return bool(self.flags)


def _from_row(row) -> ClickInfo:
    return ClickInfo(row.id, row.clicked_at, row.link_id, row.offer_id, row.publisher_id,
                     (row.sub1, row.sub2, row.sub3, row.sub4, row.sub5), row.ip_hash,
                     row.ip_prefix, row.user_agent, row.referer, row.country, row.is_unique,
                     row.flags, True, row.offer_version)


def _from_record(record: dict) -> ClickInfo:
    return ClickInfo(record["id"], record["clicked_at"], record["link_id"], record["offer_id"],
                     record["publisher_id"], tuple(record[f"sub{i}"] for i in range(1, 6)),
                     record["ip_hash"], record["ip_prefix"], record["user_agent"],
                     record["referer"], record["country"], record["is_unique"],
                     record["flags"], False)


ID_TIME_SLACK = timedelta(seconds=1)


@functools.lru_cache(maxsize=64)
def _click_by_id(dialect_name: str, months: tuple[datetime, datetime] | None) -> Statement:
    """Built once per dialect and month span; columns, not the entity (a postback reads a
    click, it never changes one). The time range comes from the id itself (clicked_at is the
    id's millisecond), so PostgreSQL looks in one monthly partition instead of every one.

    On PostgreSQL the months the range falls in are also written into the statement as
    constants. With the range only in parameters, the planner cannot leave any partition out
    of a plan made once for every call, so it planned the query again at every call (about
    0.1 ms of the database's CPU per postback). With the months as constants, the plan made
    once covers only that month's partition, and PostgreSQL keeps it. The click's offer's
    version comes with it: a postback's offer cache then needs no query of its own."""
    offer_version = version_of(Click.offer_id) if dialect_name == "postgresql" else null()
    columns = [*Click.__table__.c, offer_version.label("offer_version")]
    where = [Click.id == bindparam("click_id"), Click.clicked_at >= bindparam("after"),
             Click.clicked_at <= bindparam("before")]
    if months is not None:
        first, after_last = (literal_column(timestamp_literal(month)) for month in months)
        where += [Click.clicked_at >= first, Click.clicked_at < after_last]
    return Statement(select(*columns).where(*where))


def click_time_range(click_id: str) -> tuple[datetime, datetime]:
    """The narrow `clicked_at` range a click with this id was stored with."""
    at = utc_from_ms(click_ms(click_id))
    return at - ID_TIME_SLACK, at + ID_TIME_SLACK


def _stored(click_id: str, connection=None) -> ClickInfo | None:
    after, before = click_time_range(click_id)
    dialect_name = db.engine.dialect.name
    months = ((month_start(after), add_months(month_start(before), 1))
              if dialect_name == "postgresql" else None)
    row = _click_by_id(dialect_name, months).first(
        {"click_id": click_id, "after": after, "before": before}, connection)
    return _from_row(row) if row is not None else None


def find_click(click_id: str, connection=None) -> ClickInfo | None:
    """The click with this id from the database, or from the stream if not flushed yet.
    `connection`: one to read on instead of the session's (see fastsql.Statement.rows).

    Order matters: the flush commits before it deletes from the stream, so looking in the
    database, then the stream, then the database again cannot miss a click in between.
    """
    if not is_click_id(click_id):
        return None
    found = _stored(click_id, connection)
    if found is not None:
        return found
    from offers.stream import decode_entry, redis_for_clicks

    start = click_ms(click_id)
    cursor, end = f"{start}-0", f"{start + FIND_WINDOW_MS}-0"
    needle = click_id.encode()
    try:
        client = redis_for_clicks()
        while True:
            entries = client.xrange(STREAM, min=cursor, max=end, count=500)
            for _entry_id, fields in entries:
                if fields.get(b"id") == needle:
                    record = decode_entry(fields)
                    return _from_record(record) if record else None
            if len(entries) < 500:
                break
            cursor = "(" + entries[-1][0].decode()
    except RedisError:
        pass
    return _stored(click_id, connection)


def utc_from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)
