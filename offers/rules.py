"""Rules a conversion must pass (used by the conversion path, issue 5): country and caps.

Caps are hard: over a cap no more conversions are paid. `check_caps` takes the usage so far
from a `usage` function; the default counts from the hourly rollups, and the conversion path
may pass its own count taken under a lock.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from cpa_network.errors import DomainError
from cpa_network.extensions import db
from offers.models import Offer, OfferCap
from offers.tracking_models import TrafficHourly


class GeoNotAllowed(DomainError):
    code = "geo_not_allowed"
    http_status = 403
    default_message = _l("The offer does not accept visitors from this country.")


class CapReached(DomainError):
    code = "cap_reached"
    http_status = 409
    default_message = _l("The offer's cap is reached: no more conversions are paid now.")


@dataclass(frozen=True)
class Usage:
    conversions: int
    payout: int  # minor units of the offer's currency


Counter = Callable[[Offer, int | None, datetime], Usage]


def country_allowed(offer: Offer, country: str) -> bool:
    """Every country if the offer lists none; else only those listed (unknown is not listed)."""
    countries = offer.country_list
    return not countries or country in countries


def check_country(offer: Offer, country: str) -> None:
    if not country_allowed(offer, country):
        raise GeoNotAllowed()


def period_start(period: str, at: datetime) -> datetime:
    """The start of the cap's day or month containing `at` (UTC)."""
    day = at.replace(hour=0, minute=0, second=0, microsecond=0)
    return day if period == "day" else day.replace(day=1)


def usage_from_rollups(offer: Offer, publisher_id: int | None, since: datetime) -> Usage:
    """Conversions and payout counted in traffic_hourly since `since`."""
    query = select(func.coalesce(func.sum(TrafficHourly.conversions), 0),
                   func.coalesce(func.sum(TrafficHourly.payout), 0)).where(
        TrafficHourly.offer_id == offer.id, TrafficHourly.hour >= since)
    if publisher_id is not None:
        query = query.where(TrafficHourly.publisher_id == publisher_id)
    conversions, payout = db.session.execute(query).one()
    return Usage(int(conversions), int(payout))


def cap_room(cap: OfferCap, usage: Usage, payout: int) -> bool:
    """True if one more conversion paying `payout` stays within `cap`."""
    if cap.metric == "conversions":
        return usage.conversions + 1 <= cap.cap_limit
    return usage.payout + payout <= cap.cap_limit


def check_caps(offer: Offer, publisher_id: int, payout: int, at: datetime,
               usage: Counter = usage_from_rollups) -> None:
    """Refuse a conversion that would go over any of the offer's caps."""
    for cap in offer.caps:
        scope_publisher = publisher_id if cap.scope == "publisher" else None
        if not cap_room(cap, usage(offer, scope_publisher, period_start(cap.period, at)), payout):
            raise CapReached()
