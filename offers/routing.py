"""Where a tracking token leads: a precompiled route, cached in-process.

A route is read from the database once per process (one Core query, no ORM) and kept for
CLICK_ROUTE_CACHE_TTL_S. Any committed change to an offer, a link, an access grant or a
user's block bumps a generation number in Redis; about once a second each process reads it in
the same round trip that appends a click, and drops its cache when it moved.
"""

import re
import time
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from flask import current_app
from sqlalchemy import event, inspect, text
from sqlalchemy.orm import Session

from cpa_network.accounts.models import User
from cpa_network.extensions import db
from offers import status as st
from offers.models import Offer, OfferAccess
from offers.tracking_models import TrackingLink

MACRO_RE = re.compile(r"\{([a-z0-9_]+)\}")
MAX_CACHED = 200_000
CHANGED_KEY = "cpa_links_changed"

ROUTE_QUERY = text("""
SELECT l.id, l.offer_id, l.publisher_id, o.status, o.visibility, o.landing_url,
       o.fallback_url, o.allowed_countries, o.attribution_window_days,
       u.blocked_at IS NOT NULL AS blocked,
       EXISTS (SELECT 1 FROM offer_access a
               WHERE a.offer_id = o.id AND a.publisher_id = l.publisher_id) AS invited
FROM tracking_links l
JOIN offers o ON o.id = l.offer_id
JOIN users u ON u.id = l.publisher_id
WHERE l.token = :token
""")


class Template:
    """A URL with {macros}, split once so filling it is a join of URL-encoded values."""

    __slots__ = ("parts",)

    def __init__(self, url: str):
        self.parts = MACRO_RE.split(url)  # literal, name, literal, name, ..., literal

    def fill(self, values: dict[str, str]) -> str:
        parts = self.parts
        out = [parts[0]]
        for i in range(1, len(parts), 2):
            name = parts[i]
            value = values.get(name)
            out.append(f"{{{name}}}" if value is None else quote(value, safe=""))
            out.append(parts[i + 1])
        return "".join(out)


@dataclass(frozen=True, slots=True)
class Route:
    link_id: int
    offer_id: int
    publisher_id: int
    live: bool  # the offer is active, the publisher not blocked and allowed to see it
    landing: Template
    landing_origin: str  # scheme://host[:port] of the landing URL: deep links stay on it
    landing_query: Template | None  # the landing URL's query, appended to deep links
    fallback_url: str
    countries: frozenset[str]  # empty: every country
    cookie_name: str
    cookie_max_age: int

    def deep_target(self, path_and_query: str, values: dict[str, str]) -> str:
        """The advertiser's own page at `path_and_query`, with the landing URL's macros."""
        url = self.landing_origin + path_and_query
        if self.landing_query is not None:
            url += ("&" if "?" in path_and_query else "?") + self.landing_query.fill(values)
        return url


def origin_of(landing_url: str) -> str:
    """scheme://host[:port] of a landing URL: the site its deep links must stay on."""
    parts = urlsplit(landing_url)
    return f"{parts.scheme}://{parts.netloc}"


def _build(row) -> Route:
    parts = urlsplit(row.landing_url)
    live = (row.status == st.ACTIVE and not row.blocked
            and (row.visibility == "public" or bool(row.invited)))
    return Route(
        link_id=row.id, offer_id=row.offer_id, publisher_id=row.publisher_id, live=live,
        landing=Template(row.landing_url),
        landing_origin=origin_of(row.landing_url),
        landing_query=Template(parts.query) if parts.query else None,
        fallback_url=row.fallback_url if row.status in st.FALLBACK_APPROVED else "",
        countries=frozenset(row.allowed_countries.split()),
        cookie_name=f"cpa_o{row.offer_id}",
        cookie_max_age=row.attribution_window_days * 86400,
    )


_cache: dict[str, tuple[Route | None, float]] = {}
_state = {"generation": None}


def lookup(token: str) -> Route | None:
    """The route for `token` (None: no such link), from the cache or the database."""
    now = time.monotonic()
    hit = _cache.get(token)
    if hit is not None and hit[1] > now:
        return hit[0]
    if len(token) > 64:
        return None
    with db.engine.connect() as conn:
        row = conn.execute(ROUTE_QUERY, {"token": token}).first()
    route = _build(row) if row is not None else None
    if len(_cache) >= MAX_CACHED:
        _cache.clear()
    _cache[token] = (route, now + current_app.config["CLICK_ROUTE_CACHE_TTL_S"])
    return route


def note_generation(generation: bytes | str | int) -> bool:
    """Called with the generation read beside a click: drop the cache if it moved (True)."""
    if generation == _state["generation"]:
        return False
    _cache.clear()
    _state["generation"] = generation
    return True


def forget_all() -> None:
    _cache.clear()


def _touches_routes(session: Session) -> bool:
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Offer | TrackingLink | OfferAccess):
            return True
        if isinstance(obj, User) and inspect(obj).attrs.blocked_at.history.has_changes():
            return True
    return False


@event.listens_for(Session, "before_flush")
def _note_route_changes(session: Session, _context, _instances) -> None:
    if not session.info.get(CHANGED_KEY) and _touches_routes(session):
        session.info[CHANGED_KEY] = True


@event.listens_for(Session, "after_commit")
def _publish_route_changes(session: Session) -> None:
    if session.info.pop(CHANGED_KEY, False):
        from offers.stream import bump_generation

        forget_all()
        bump_generation()


@event.listens_for(Session, "after_soft_rollback")
def _drop_route_changes(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:
        session.info.pop(CHANGED_KEY, None)
