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

from flask import current_app
from redis.exceptions import RedisError
from sqlalchemy import exists, func, select

from cpa_network.extensions import db
from offers import routing, stream
from offers.geo import country_of
from offers.tracking import (
    attribution_cookie,
    click_ms,
    has_control_characters,
    hash_ip,
    ip_prefix,
    is_click_id,
    new_click_id,
    printable,
    read_attribution_cookie,
)
from offers.tracking_models import SUB_IDS, SUB_MAX_LENGTH, Click

log = logging.getLogger(__name__)

BOT_UA_RE = re.compile(
    r"bot|crawl|spider|slurp|curl|wget|python|java/|go-http|httpclient|okhttp|libwww|"
    r"headless|phantomjs|scrapy|facebookexternalhit|preview|monitor|scan", re.IGNORECASE)
DOWN_KEY = "cpa_click_redis_down_until"
STATE_KEY = "cpa_click_state_due"
DEAD_STATE_KEY = "cpa_click_dead_state_due"  # the generation check of links that lead nowhere
DEEP_LINK_PARAM = "dl"  # /c/<token>?dl=/path: a page on the landing URL's own host


@dataclass(frozen=True, slots=True)
class Visit:
    """What the request tells about the visitor."""

    ip: str
    user_agent: str
    referer: str
    cookie: str | None  # the attribution cookie already set for this offer, if any


@dataclass(frozen=True, slots=True)
class Decision:
    click_id: str
    location: str


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the visitor gets: a redirect (and maybe a cookie), or the 'unavailable' page."""

    location: str | None  # None: show the friendly page for `reason`
    reason: str = ""  # "gone" or "country"
    cookie: tuple[str, str, int] | None = None  # name, click id, max-age in seconds


def process_click(token: str, args, visit_for) -> Outcome:
    """The whole click: route, decision, record. `visit_for(route)` reads the request."""
    route = routing.lookup(token)
    if route is None or not route.live:
        route = _recheck_dead_route(token, route)
    if route is None or not route.live:
        if route is not None and route.fallback_url:
            return Outcome(route.fallback_url)
        return Outcome(None, "gone")
    ms = time.time_ns() // 1_000_000
    visit = visit_for(route)
    subs = subs_from(args)
    country = country_of(visit.ip)
    decision, flags = decide(route, subs, args.get(DEEP_LINK_PARAM), country, ms)
    if not decision.location:
        return Outcome(None, "country")
    try:
        record(route, decision, visit, subs, country, flags, ms)
    except Exception:  # the visitor still gets where they were going
        log.exception("click %s not recorded", decision.click_id)
    cookie = None if flags else (route.cookie_name,
                                 attribution_cookie(decision.click_id, route.link_id),
                                 route.cookie_max_age)
    return Outcome(decision.location, cookie=cookie)


def _recheck_dead_route(token: str, route: routing.Route | None) -> routing.Route | None:
    """A link that leads nowhere is cached like a live one, and only a recorded click reads the
    generation: read it here too (at most once a second per process), so a resumed offer or a
    new link works within a second, not after the cache's TTL."""
    app = current_app._get_current_object()
    now = time.monotonic()
    if now < app.extensions.get(DEAD_STATE_KEY, 0.0) or now < app.extensions.get(DOWN_KEY, 0.0):
        return route
    app.extensions[DEAD_STATE_KEY] = now + stream.STATE_EVERY_S
    try:
        moved = routing.note_generation(stream.read_generation(app))
    except RedisError:
        return route  # the TTL still bounds how stale it is
    return routing.lookup(token) if moved else route


def check_deep_link(landing_origin: str, deep_link: str) -> str | None:
    """The path and query of `deep_link` if it is on the landing URL's own host, else None."""
    deep_link = deep_link.strip()
    if (not deep_link or len(deep_link) > 1000 or any(c.isspace() for c in deep_link)
            or has_control_characters(deep_link)):  # a control character breaks Location
        return None
    try:  # a port out of range or not a number, an unclosed [IPv6: not a page of the site
        parts = urlsplit(deep_link.replace("\\", "/"))
        if parts.scheme or parts.netloc:
            origin = urlsplit(landing_origin)
            if (parts.scheme not in ("http", "https") or parts.username or parts.password
                    or parts.hostname != origin.hostname or parts.port != origin.port):
                return None
    except ValueError:
        return None
    path = parts.path or "/"
    if not path.startswith("/") or path.startswith("//"):
        return None
    return path + (f"?{parts.query}" if parts.query else "")


def subs_from(args) -> dict[str, str]:
    return {name: printable(args.get(name, ""))[:SUB_MAX_LENGTH] for name in SUB_IDS}


def decide(route: routing.Route, subs: dict[str, str], deep_link: str | None,
           country: str, ms: int) -> tuple[Decision, str]:
    """Where the click goes and the flags the route itself sets (geo)."""
    click_id = new_click_id(ms)
    if route.countries and country not in route.countries:
        return Decision(click_id, route.fallback_url), "geo"
    values = dict(subs, click_id=click_id, publisher_id=str(route.publisher_id),
                  offer_id=str(route.offer_id))
    path = check_deep_link(route.landing_origin, deep_link) if deep_link else None
    location = route.deep_target(path, values) if path else route.landing.fill(values)
    return Decision(click_id, location), ""


def record(route: routing.Route, decision: Decision, visit: Visit, subs: dict[str, str],
           country: str, flags: str, ms: int) -> None:
    """Append the click to the stream (one round trip), or store it directly if Redis is down."""
    app = current_app._get_current_object()
    config = app.config
    ua = printable(visit.user_agent)[:300]
    if not ua or BOT_UA_RE.search(ua):
        flags = f"{flags},bot" if flags else "bot"
    cookie_click, cookie_link = read_attribution_cookie(visit.cookie)
    repeat = (cookie_link == route.link_id and is_click_id(cookie_click)
              and 0 <= ms - click_ms(cookie_click) < config["CLICK_UNIQUE_WINDOW_S"] * 1000)
    record = [decision.click_id, ms, route.link_id, route.offer_id, route.publisher_id,
              subs["sub1"], subs["sub2"], subs["sub3"], subs["sub4"], subs["sub5"],
              hash_ip(visit.ip, app), ip_prefix(visit.ip), ua, printable(visit.referer)[:500],
              country, flags, 1 if repeat else 0]
    now = time.monotonic()
    if now >= app.extensions.get(DOWN_KEY, 0.0):
        with_state = now >= app.extensions.get(STATE_KEY, 0.0)
        try:
            state = stream.append_click(app, decision.click_id, ms, stream.encode_record(record),
                                        with_state)
        except RedisError:
            app.extensions[DOWN_KEY] = now + config["CLICK_REDIS_RETRY_S"]
            log.warning("Redis is unavailable: clicks go straight to the database")
        else:
            if state is not None:
                app.extensions[STATE_KEY] = now + stream.STATE_EVERY_S
                generation, armed = state
                routing.note_generation(generation)
                if armed:
                    stream.schedule_flush(config["CLICK_FLUSH_INTERVAL_S"])
            return
    record_in_database(record)


def record_in_database(record: list) -> None:
    """Redis is down: decide unique and flood from the database and store the click now."""
    from offers.clickstore import store_clicks

    config = current_app.config
    row = stream.decode_record(record)
    at = row["clicked_at"]
    # Both windows are bounded on both sides, so PostgreSQL reads one or two monthly partitions.
    row["is_unique"] = not row.pop("repeat") and not db.session.scalar(select(exists().where(
        Click.link_id == row["link_id"], Click.ip_hash == row["ip_hash"],
        Click.user_agent == row["user_agent"], Click.clicked_at <= at,
        Click.clicked_at > at - timedelta(seconds=config["CLICK_UNIQUE_WINDOW_S"]))))
    recent = db.session.scalar(select(func.count()).select_from(Click).where(
        Click.ip_hash == row["ip_hash"], Click.clicked_at <= at,
        Click.clicked_at > at - timedelta(seconds=config["CLICK_FLOOD_WINDOW_S"])))
    if recent + 1 > config["CLICK_FLOOD_LIMIT"]:
        row["flags"] = f"{row['flags']},flood" if row["flags"] else "flood"
    try:
        store_clicks([row])
        db.session.commit()
    except Exception:
        db.session.rollback()
        # Both stores are down: the log line keeps the click recoverable by hand.
        log.exception("click NOT stored: %r", row)
