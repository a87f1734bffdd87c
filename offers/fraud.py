"""Fraud signals recorded on a conversion, the login addresses they compare with, and what
blocking a publisher does to their conversions.

Signals (any of them holds the conversion for the operator's fraud queue):

- `fast_conversion`: the conversion came less than FRAUD_MIN_CLICK_SECONDS after its click
  (click injection);
- `flagged_click`: its click was flagged (bot, flood);
- `self_referral`: the click came from an address or device the publisher logs in from;
- `ip_velocity`: FRAUD_IP_CONVERSIONS or more conversions of the offer from the click's address
  within 24 hours;
- `bot_agent`: the click's (or the pixel request's) user agent is a known bot or empty.

Login addresses: Flask-Login's `user_logged_in` signal (connected in create_app) records a
keyed hash of the address and of the device (network prefix + user agent) for every login, with
the same key as click addresses, so they compare equal without storing either address.
"""

from datetime import datetime, timedelta

from flask import Flask, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, exists, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from cpa_network.accounts.models import User
from cpa_network.database import utcnow
from cpa_network.extensions import db
from offers.clicks import BOT_UA_RE
from offers.conversion_models import AWAITING_FUNDS, PENDING, Conversion, LoginAddress
from offers.tracking import ClickInfo, hash_ip, ip_prefix

SIGNAL_LABELS = {
    "fast_conversion": _l("converted within seconds of the click"),
    "flagged_click": _l("from a flagged click (bot or flood)"),
    "self_referral": _l("from the publisher's own address or device"),
    "ip_velocity": _l("many conversions from one address"),
    "bot_agent": _l("bot or empty user agent"),
}
SIGNALS = tuple(SIGNAL_LABELS)
LOGIN_LOOKBACK_DAYS = 180
BLOCK_REASON = _l("The publisher is blocked.")


def device_hash(prefix: str, user_agent: str) -> str:
    """The same browser on the same network, as a keyed hash."""
    return hash_ip(f"{prefix}|{user_agent[:300]}")


def is_bot_agent(user_agent: str) -> bool:
    return not user_agent or BOT_UA_RE.search(user_agent) is not None


# Facts the signals need, as subqueries of the conversion's one "facts" query
# (offers.attribution), bound by `fact_params`.
SELF_REFERRAL = exists().where(
    LoginAddress.user_id == bindparam("publisher_id"),
    LoginAddress.last_seen_at >= bindparam("login_since"),
    or_(LoginAddress.ip_hash == bindparam("ip_hash"),
        LoginAddress.device_hash == bindparam("device_hash")))
# Read through the address's index (ix_conversions_ip_created), whatever the statistics say:
# `offer_id + 0` keeps the planner off the offer's index, which would read the offer's whole
# day for each postback wherever the statistics underestimate recent rows (it did on the
# benchmark's first seed, whose history had eight timestamps).
IP_CONVERSIONS = select(func.count()).select_from(Conversion).where(
    Conversion.ip_hash == bindparam("ip_hash"),
    (Conversion.offer_id + 0) == bindparam("offer_id"),
    Conversion.created_at > bindparam("velocity_since")).scalar_subquery()
NO_ADDRESS = "-"  # matches no stored hash: a promo-code conversion has no click address


def fact_params(click: ClickInfo | None, at: datetime) -> dict:
    return {"ip_hash": click.ip_hash or NO_ADDRESS if click else NO_ADDRESS,
            "device_hash": device_hash(click.ip_prefix, click.user_agent) if click
            else NO_ADDRESS,
            "login_since": at - timedelta(days=LOGIN_LOOKBACK_DAYS),
            "velocity_since": at - timedelta(hours=24)}


def signals_for(click: ClickInfo | None, at: datetime, *, self_referral: bool,
                ip_conversions: int, user_agent: str = "") -> list[str]:
    """Every signal that applies to a conversion of `click` (None: a promo code) at `at`,
    given the facts read with SELF_REFERRAL and IP_CONVERSIONS."""
    from flask import current_app

    config = current_app.config
    found = []
    if click is None:
        return ["bot_agent"] if user_agent and is_bot_agent(user_agent) else []
    if (at - click.clicked_at).total_seconds() < config["FRAUD_MIN_CLICK_SECONDS"]:
        found.append("fast_conversion")
    if {"bot", "flood"} & set(click.flags.split(",")):
        found.append("flagged_click")
    if self_referral:
        found.append("self_referral")
    if click.ip_hash and ip_conversions + 1 >= config["FRAUD_IP_CONVERSIONS"]:
        found.append("ip_velocity")
    if is_bot_agent(click.user_agent) or (user_agent and is_bot_agent(user_agent)):
        found.append("bot_agent")
    return found


def record_login(app: Flask, user: User, **_extra) -> None:
    """`user_logged_in` receiver: remember the login's address and device (hashed)."""
    ip = request.remote_addr or ""
    agent = request.headers.get("User-Agent", "")
    now = utcnow()
    values = {"user_id": user.id, "ip_hash": hash_ip(ip), "device_hash": device_hash(
        ip_prefix(ip), agent), "first_seen_at": now, "last_seen_at": now}
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(LoginAddress).values(values)
    statement = statement.on_conflict_do_update(
        index_elements=["user_id", "ip_hash", "device_hash"],
        set_={"last_seen_at": statement.excluded.last_seen_at})
    try:
        db.session.execute(statement)
        db.session.commit()  # its own small transaction: the login itself is committed already
    except Exception:
        db.session.rollback()
        app.logger.exception("could not record the login address of user %s", user.id)


def init_login_trace(app: Flask) -> None:
    from flask_login import user_logged_in

    user_logged_in.connect(record_login, app)


def reject_publisher_conversions(user: User) -> int:
    """Block listener: a blocked publisher's undecided conversions are rejected (their held
    money returns to the advertisers). Returns how many."""
    from offers import conversions

    if not user.is_publisher:
        return 0
    ids = list(db.session.scalars(select(Conversion.id).where(
        Conversion.publisher_id == user.id,
        Conversion.status.in_((PENDING, AWAITING_FUNDS))).order_by(Conversion.id)))
    for conversion_id in ids:
        conversion = conversions.lock_conversion(conversion_id)
        if conversion.status in (PENDING, AWAITING_FUNDS):
            conversions.reject(conversion, reason=str(BLOCK_REASON))
    return len(ids)
