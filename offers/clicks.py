"""The click path's work: decide where the visitor goes and record the click.

The request does the least possible: a cached route, a click id, a keyed IP hash, an offline
GeoIP lookup and one Redis call (offers.stream). If Redis is unavailable the click is written
straight to the database by the same code the flush uses (slower, not lost), and Redis is left
alone for CLICK_REDIS_RETRY_S so a dead server costs one failed connect, not one per click.
"""

import logging
import re
import time
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit
from zlib import crc32

from flask import current_app
from redis.exceptions import RedisError
from sqlalchemy import exists, func, select

from cpa_network.extensions import db
from offers import routing, stream
from offers.tracking import STREAM, click_ms, hash_ip, ip_prefix, is_click_id, new_click_id
from offers.tracking_models import SUB_IDS, SUB_MAX_LENGTH, Click

log = logging.getLogger(__name__)

BOT_UA_RE = re.compile(
    r"bot|crawl|spider|slurp|curl|wget|python|java/|go-http|httpclient|okhttp|libwww|"
    r"headless|phantomjs|scrapy|facebookexternalhit|preview|monitor|scan", re.IGNORECASE)
DOWN_KEY = "cpa_click_redis_down_until"


@dataclass(frozen=True, slots=True)
class Visit:
    """What the request tells about the visitor."""

    ip: str
    user_agent: str
    referer: str
    cookie_click_id: str | None  # the attribution cookie already set for this offer, if any


@dataclass(frozen=True, slots=True)
class Decision:
    click_id: str
    location: str


def check_deep_link(route: routing.Route, deep_link: str) -> str | None:
    """The path and query of `deep_link` if it is on the landing URL's own host, else None."""
    deep_link = deep_link.strip()
    if not deep_link or len(deep_link) > 1000 or any(c.isspace() for c in deep_link):
        return None
    parts = urlsplit(deep_link.replace("\\", "/"))
    if parts.scheme or parts.netloc:
        origin = urlsplit(route.landing_origin)
        if (parts.scheme not in ("http", "https") or parts.username or parts.password
                or parts.hostname != origin.hostname or parts.port != origin.port):
            return None
    path = parts.path or "/"
    if not path.startswith("/") or path.startswith("//"):
        return None
    return path + (f"?{parts.query}" if parts.query else "")


def subs_from(args) -> dict[str, str]:
    return {name: args.get(name, "")[:SUB_MAX_LENGTH] for name in SUB_IDS}


def decide(route: routing.Route, subs: dict[str, str], deep_link: str | None,
           country: str, ms: int) -> tuple[Decision, str]:
    """Where the click goes and the flags the route itself sets (geo)."""
    click_id = new_click_id(ms)
    if route.countries and country not in route.countries:
        return Decision(click_id, route.fallback_url), "geo"
    values = dict(subs, click_id=click_id, publisher_id=str(route.publisher_id),
                  offer_id=str(route.offer_id))
    path = check_deep_link(route, deep_link) if deep_link else None
    location = route.deep_target(path, values) if path else route.landing.fill(values)
    return Decision(click_id, location), ""


def record(route: routing.Route, decision: Decision, visit: Visit, subs: dict[str, str],
           country: str, flags: str, ms: int) -> None:
    """Append the click to the stream (one Redis call), or store it directly if Redis is down."""
    config = current_app.config
    ua = visit.user_agent[:300]
    if not ua or BOT_UA_RE.search(ua):
        flags = f"{flags},bot" if flags else "bot"
    ip_hash = hash_ip(visit.ip)
    window = config["CLICK_UNIQUE_WINDOW_S"]
    repeat = (visit.cookie_click_id is not None and is_click_id(visit.cookie_click_id)
              and 0 <= ms - click_ms(visit.cookie_click_id) < window * 1000)
    fields = ("id", decision.click_id, "t", ms, "l", route.link_id, "o", route.offer_id,
              "p", route.publisher_id, "s1", subs["sub1"], "s2", subs["sub2"],
              "s3", subs["sub3"], "s4", subs["sub4"], "s5", subs["sub5"], "ih", ip_hash,
              "ip", ip_prefix(visit.ip), "ua", ua, "rf", visit.referer[:500], "cc", country)
    app = current_app._get_current_object()
    if time.monotonic() >= app.extensions.get(DOWN_KEY, 0.0):
        try:
            generation, armed = stream.record_click_script(app)(
                keys=[STREAM, f"cpa:u:{route.link_id}:{ip_hash}:{crc32(ua.encode()):x}",
                      f"cpa:f:{ip_hash}", stream.GENERATION_KEY, stream.ARMED_KEY],
                args=[0 if repeat else window, config["CLICK_FLOOD_WINDOW_S"],
                      config["CLICK_FLOOD_LIMIT"], ms,
                      int(config["CLICK_FLUSH_INTERVAL_S"] * 1000), flags, *fields])
        except RedisError:
            app.extensions[DOWN_KEY] = time.monotonic() + config["CLICK_REDIS_RETRY_S"]
            log.warning("Redis is unavailable: clicks go straight to the database")
        else:
            routing.note_generation(generation)
            if armed:
                stream.schedule_flush(config["CLICK_FLUSH_INTERVAL_S"])
            return
    record_in_database(dict(zip(fields[::2], fields[1::2], strict=True)), repeat, flags)


def record_in_database(fields: dict, repeat: bool, flags: str) -> None:
    """Redis is down: decide unique and flood from the database and store the click now."""
    from offers.clickstore import store_clicks

    config = current_app.config
    at = stream.utc_from_ms(fields["t"])
    unique = not repeat and not db.session.scalar(select(exists().where(
        Click.link_id == fields["l"], Click.ip_hash == fields["ih"],
        Click.user_agent == fields["ua"],
        Click.clicked_at > at - timedelta(seconds=config["CLICK_UNIQUE_WINDOW_S"]))))
    recent = db.session.scalar(select(func.count()).select_from(Click).where(
        Click.ip_hash == fields["ih"],
        Click.clicked_at > at - timedelta(seconds=config["CLICK_FLOOD_WINDOW_S"])))
    if recent + 1 > config["CLICK_FLOOD_LIMIT"]:
        flags = f"{flags},flood" if flags else "flood"
    row = stream.decode_entry({k.encode(): str(v).encode() for k, v in
                               dict(fields, u="1" if unique else "0", fl=flags).items()})
    try:
        store_clicks([row])
        db.session.commit()
    except Exception:
        db.session.rollback()
        # Both stores are down: the log line keeps the click recoverable by hand.
        log.exception("click NOT stored: %r", row)
