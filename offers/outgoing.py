"""Outgoing postbacks: a publisher's URL template, called when their conversion is created,
approved or rejected.

A conversion event inserts one delivery row (unique per conversion and event, so a retried
transaction or job never calls twice for the same event) and, after commit, enqueues
`offers.tasks.deliver_postback` on the `notifications` queue. The job calls the URL with GET,
a timeout, no redirects and an `X-CPA-Signature: t=<unix time>,v1=<hex>` header, where v1 is
HMAC-SHA256 of "<t>.<url>" under the publisher's postback secret. A failure (network error,
timeout, non-2xx) is recorded on the row and retried with backoff by RQ; after the last attempt
the row is `failed`. Addresses in private, loopback and link-local networks are refused
(OUTGOING_POSTBACK_ALLOW_PRIVATE lifts that for development and tests).
"""

import hashlib
import hmac
import ipaddress
import re
import secrets
import socket
import time
from urllib.parse import quote, urlsplit

import requests
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from cpa_network.database import utcnow
from cpa_network.errors import ValidationFailed
from cpa_network.extensions import db
from offers.conversion_models import Conversion, PostbackDelivery, PublisherPostback
from payouts.currency import to_major

MACROS = ("click_id", "sub1", "sub2", "sub3", "sub4", "sub5", "payout", "currency", "status",
          "conversion_id", "offer_id", "goal", "event")
MACRO_RE = re.compile(r"\{([^{}]*)\}")
EVENTS = ("created", "approved", "rejected")
USER_AGENT = "cpa-network-postback/1"
_http = {"session": None}


class PostbackUrlInvalid(ValidationFailed):
    code = "postback_url_invalid"
    default_message = _l("Enter a full http(s) address; macros: %(macros)s.",
                         macros=", ".join(f"{{{m}}}" for m in MACROS))


def settings_for(publisher_id: int) -> PublisherPostback | None:
    return db.session.scalar(select(PublisherPostback).where(
        PublisherPostback.publisher_id == publisher_id))


def check_template(url: str) -> None:
    """An absolute http(s) URL whose macros are all known; else `PostbackUrlInvalid`."""
    unknown = [m for m in MACRO_RE.findall(url) if m not in MACROS]
    parts = urlsplit(MACRO_RE.sub("x", url))
    if (len(url) > 1000 or any(ch.isspace() for ch in url) or unknown
            or parts.scheme not in ("http", "https") or not parts.hostname or parts.username):
        raise PostbackUrlInvalid(fields={"url_template": [PostbackUrlInvalid.default_message]})


def save_settings(publisher_id: int, url_template: str, *, on_created: bool, on_approved: bool,
                  on_rejected: bool) -> PublisherPostback:
    """Set (or, with an empty URL, switch off) the publisher's outgoing postback."""
    url_template = url_template.strip()
    if url_template:
        check_template(url_template)
    found = settings_for(publisher_id)
    if found is None:
        found = PublisherPostback(publisher_id=publisher_id, secret=secrets.token_hex(24))
        db.session.add(found)
    found.url_template = url_template
    found.on_created, found.on_approved, found.on_rejected = on_created, on_approved, on_rejected
    db.session.flush()
    return found


def fill(template: str, conversion: Conversion, event: str) -> str:
    """The template with its macros replaced, each value URL-encoded."""
    values = {
        "click_id": conversion.click_id or "", **conversion.subs,
        "payout": str(to_major(conversion.payout, conversion.currency)),
        "currency": conversion.currency, "status": conversion.status,
        "conversion_id": str(conversion.id), "offer_id": str(conversion.offer_id),
        "goal": conversion.goal_code, "event": event,
    }
    return MACRO_RE.sub(lambda m: quote(values.get(m.group(1), ""), safe=""), template)


def queue_event(conversion: Conversion, event: str) -> None:
    """Record a delivery for the publisher's postback, if they want this event; it is sent
    after the current transaction commits."""
    found = settings_for(conversion.publisher_id)
    if found is None or not found.wants(event):
        return
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    delivery_id = db.session.execute(
        dialect.insert(PostbackDelivery).values(
            conversion_id=conversion.id, publisher_id=conversion.publisher_id, event=event,
            url=fill(found.url_template, conversion, event)[:2000], state="pending", attempts=0,
            last_error="", created_at=utcnow())
        .on_conflict_do_nothing().returning(PostbackDelivery.id)).scalar()
    if delivery_id is not None:
        from cpa_network.jobs import enqueue_after_commit
        from offers.tasks import deliver_postback, delivery_retry

        enqueue_after_commit(deliver_postback, delivery_id, queue="notifications",
                             job_id=f"postback-delivery-{delivery_id}", retry=delivery_retry())


def signature(secret: str, timestamp: int, url: str) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.{url}".encode(), hashlib.sha256).hexdigest()


def _address_allowed(url: str) -> bool:
    if current_app.config["OUTGOING_POSTBACK_ALLOW_PRIVATE"]:
        return True
    parts = urlsplit(url)
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return False
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global or address.is_multicast:
            return False
    return True


def _session() -> requests.Session:
    if _http["session"] is None:
        _http["session"] = requests.Session()
    return _http["session"]


def attempt_delivery(delivery_id: int) -> PostbackDelivery | None:
    """Call the publisher's URL once and record the answer; returns the row (None if gone)."""
    delivery = db.session.scalar(select(PostbackDelivery).where(
        PostbackDelivery.id == delivery_id).with_for_update())
    if delivery is None or delivery.state in ("delivered", "failed"):
        return delivery
    found = settings_for(delivery.publisher_id)
    delivery.attempts += 1
    delivery.last_attempt_at = utcnow()
    status, error = None, ""
    if found is None or not _address_allowed(delivery.url):
        error = "address not allowed (private network or unresolvable)"
    else:
        timestamp = int(time.time())
        signed = signature(found.secret, timestamp, delivery.url)
        headers = {"User-Agent": USER_AGENT, "X-CPA-Signature": f"t={timestamp},v1={signed}"}
        try:
            response = _session().get(delivery.url, headers=headers, allow_redirects=False,
                                      timeout=current_app.config["OUTGOING_POSTBACK_TIMEOUT_S"])
            status = response.status_code
            response.close()
        except requests.RequestException as exc:
            error = f"{type(exc).__name__}: {exc}"[:300]
    delivery.last_status_code, delivery.last_error = status, error
    if status is not None and 200 <= status < 300:
        delivery.state, delivery.delivered_at = "delivered", utcnow()
    elif delivery.attempts >= max_attempts():
        delivery.state = "failed"
        delivery.last_error = error or f"HTTP {status}"
    else:
        delivery.state = "retrying"
        delivery.last_error = error or f"HTTP {status}"
    db.session.flush()
    return delivery


def retry_intervals() -> list[int]:
    return [int(s) for s in str(current_app.config["OUTGOING_POSTBACK_RETRY_S"]).split(",")
            if s.strip()]


def max_attempts() -> int:
    return len(retry_intervals()) + 1


def deliveries_of(publisher_id: int, limit: int = 100) -> list[PostbackDelivery]:
    return list(db.session.scalars(
        select(PostbackDelivery).where(PostbackDelivery.publisher_id == publisher_id)
        .order_by(PostbackDelivery.id.desc()).limit(limit)))
