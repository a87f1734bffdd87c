"""Statistics served from the hourly rollups (`traffic_hourly`), for any period, grouping and
audience, with days cut in the reader's time zone.

The rollups are hourly in UTC. A grouping by day asks the database for hours and folds them into
the reader's local days here (at most 24 x 366 rows), which works on PostgreSQL and SQLite alike
and for every zone; an hour belongs to the local day its start falls in (zones with a half-hour
offset see a day edge at the nearest UTC hour). Money is never summed across currencies: every
row is keyed by its offers' currency too.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from cpa_network.accounts.models import User
from cpa_network.database import FIRST_DAY, LAST_DAY, usable_day
from cpa_network.errors import ValidationFailed
from cpa_network.extensions import db
from offers.models import Offer
from offers.stats import STATUS_COLUMNS
from offers.tracking_models import SUB_IDS, TrackingLink, TrafficHourly

STATUSES = tuple(STATUS_COLUMNS)  # pending, approved, rejected, awaiting_funds
CLICK_COLUMNS = ("clicks", "unique_clicks", "flagged_clicks")
COLUMNS = (*CLICK_COLUMNS, *(c for pair in STATUS_COLUMNS.values() for c in pair))
GROUPS = ("day", "offer", "link", *SUB_IDS, "country")
ADVERTISER_GROUPS = ("day", "offer", "publisher", "country")
MAX_ROWS = 1000


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """The UTC instant a local day starts (DST-safe: local midnight, then converted)."""
    return datetime.combine(day, time(), tzinfo=tz).astimezone(ZoneInfo("UTC"))


def day_range(first: date, last: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) in UTC covering local days `first`..`last` inclusive."""
    return local_midnight(first, tz), local_midnight(last + timedelta(days=1), tz)


PERIODS = {"today": 1, "7d": 7, "30d": 30, "90d": 90}
MAX_DAYS = 366


class BadDate(ValidationFailed):
    code = "bad_date"


class BadRange(ValidationFailed):
    code = "bad_range"


@dataclass(frozen=True)
class Period:
    """Local days `first`..`last` (inclusive) and the UTC instants [start, end) they cover."""

    code: str
    first: date
    last: date
    start: datetime
    end: datetime

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def period_of(code: str, tz: ZoneInfo, now: datetime) -> Period:
    """today / 7d / 30d / 90d ending with the reader's local today (unknown codes: 7d)."""
    code = code if code in PERIODS else "7d"
    today = now.astimezone(tz).date()
    first = today - timedelta(days=PERIODS[code] - 1)
    return Period(code, first, today, *day_range(first, today, tz))


def parse_day(value: str, name: str) -> date:
    try:
        day = date.fromisoformat(value)
    except (TypeError, ValueError):
        raise BadDate(_l("Dates are YYYY-MM-DD."),
                      fields={name: [_l("Dates are YYYY-MM-DD.")]}) from None
    if not usable_day(day):
        problem = _l("Dates from %(first)s to %(last)s.", first=FIRST_DAY.isoformat(),
                     last=LAST_DAY.isoformat())
        raise BadDate(problem, fields={name: [problem]})
    return day


def custom_period(first_text: str, last_text: str, tz: ZoneInfo) -> Period:
    """`from`..`to` as local dates, inclusive; at most MAX_DAYS days."""
    first, last = parse_day(first_text, "from"), parse_day(last_text, "to")
    if last < first:
        raise BadRange(_l("`to` is before `from`."), fields={"to": [_l("`to` is before `from`.")]})
    if (last - first).days >= MAX_DAYS:
        raise BadRange(_l("At most 366 days at a time."),
                       fields={"from": [_l("At most 366 days at a time.")]})
    return Period("custom", first, last, *day_range(first, last, tz))


@dataclass(frozen=True)
class Audience:
    """Whose numbers: one publisher's, one advertiser's offers', or the whole network (None)."""

    publisher_id: int | None = None
    advertiser_id: int | None = None


@dataclass
class StatsRow:
    key: str
    currency: str
    key_id: int | None = None
    values: dict = field(default_factory=lambda: dict.fromkeys(COLUMNS, 0))

    def add(self, other: dict) -> None:
        for name in COLUMNS:
            self.values[name] += int(other.get(name) or 0)

    def __getattr__(self, name):
        values = self.__dict__.get("values", {})
        if name in values:
            return values[name]
        raise AttributeError(name)

    @property
    def valid_clicks(self) -> int:
        return self.values["clicks"] - self.values["flagged_clicks"]

    def count(self, status: str) -> int:
        return self.values[STATUS_COLUMNS[status][0]]

    def earned(self, status: str) -> int:
        return self.values[STATUS_COLUMNS[status][1]]

    @property
    def conversions(self) -> int:
        """Conversions that still count: everything but rejected."""
        return sum(self.count(s) for s in STATUSES if s != "rejected")

    @property
    def earnings(self) -> int:
        """Pending + approved payout (what the clicks earned, unless rejected later)."""
        return self.earned("pending") + self.earned("approved")

    @property
    def cr(self) -> float | None:
        return self.conversions / self.valid_clicks if self.valid_clicks > 0 else None

    @property
    def epc(self) -> float | None:
        """Minor units earned per valid click."""
        return self.earnings / self.valid_clicks if self.valid_clicks > 0 else None

    @property
    def rejected_share(self) -> float | None:
        decided = self.count("approved") + self.count("rejected")
        return self.count("rejected") / decided if decided else None


def sum_of(name: str):
    """SUM of a rollup column (0 when empty)."""
    return func.coalesce(func.sum(TrafficHourly.__table__.c[name]), 0)


def _key(group_by: str):
    t = TrafficHourly
    return {"day": (t.hour, None), "hour": (t.hour, None), "offer": (Offer.name, t.offer_id),
            "link": (TrackingLink.token, t.link_id), "publisher": (User.display_name,
                                                                    t.publisher_id),
            "country": (t.country, None)}.get(group_by) or (getattr(t, group_by), None)


def report(audience: Audience, start: datetime, end: datetime, group_by: str = "day",
           tz: ZoneInfo | None = None, offer_id: int | None = None,
           country: str | None = None) -> list[StatsRow]:
    """Rows of `group_by` x currency over [start, end), biggest first (days in order)."""
    t = TrafficHourly
    key, key_id = _key(group_by)
    selected = [key, key_id if key_id is not None else key, Offer.currency,
                *(sum_of(c) for c in COLUMNS)]
    query = (select(*selected).join(Offer, Offer.id == t.offer_id)
             .where(t.hour >= start, t.hour < end))
    if group_by == "link":
        query = query.join(TrackingLink, TrackingLink.id == t.link_id)
    if group_by == "publisher":
        query = query.join(User, User.id == t.publisher_id)
    if audience.publisher_id is not None:
        query = query.where(t.publisher_id == audience.publisher_id)
    if audience.advertiser_id is not None:
        query = query.where(Offer.advertiser_id == audience.advertiser_id)
    if offer_id is not None:
        query = query.where(t.offer_id == offer_id)
    if country:
        query = query.where(t.country == country)
    group = [key, Offer.currency] + ([key_id] if key_id is not None else [])
    query = query.group_by(*group)
    rows: dict[tuple, StatsRow] = {}
    for found_key, found_id, currency, *numbers in db.session.execute(query):
        if group_by in ("day", "hour"):
            local = found_key.astimezone(tz or ZoneInfo("UTC"))
            found_key = local.date().isoformat() if group_by == "day" else \
                local.strftime("%Y-%m-%d %H:00")
            found_id = None
        label = str(found_key if found_key is not None else "")
        row = rows.setdefault((label, currency, found_id if key_id is not None else None),
                              StatsRow(label, currency, found_id if key_id is not None
                                       else None))
        row.add(dict(zip(COLUMNS, numbers, strict=True)))
    ordered = list(rows.values())
    if group_by in ("day", "hour"):
        ordered.sort(key=lambda r: (r.key, r.currency))
    else:
        ordered.sort(key=lambda r: (-r.values["clicks"], -r.conversions, r.key))
    return ordered[:MAX_ROWS]


def totals(rows: list[StatsRow]) -> dict[str, StatsRow]:
    """One row per currency summing `rows` (clicks are counted once, across currencies too,
    under the key "" when more than one currency appears)."""
    by_currency: dict[str, StatsRow] = defaultdict(lambda: StatsRow("", ""))
    for row in rows:
        total = by_currency[row.currency]
        total.currency = row.currency
        total.add(row.values)
    return dict(by_currency)


def overall(rows: list[StatsRow]) -> StatsRow:
    """Everything summed, for counts (money in it mixes currencies: do not show it)."""
    total = StatsRow("", "")
    for row in rows:
        total.add(row.values)
    return total


def series(rows: list[StatsRow], first: date, last: date, hourly: bool = False) -> dict:
    """Per local day (or hour of a one-day period), every slot present and zeros filled: the
    chart's data as plain lists. `rows` come from `report(..., "day" | "hour")`."""
    if hourly:
        slots = [f"{first.isoformat()} {h:02d}:00" for h in range(24)]
    else:
        slots = [(first + timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]
    index = {d: i for i, d in enumerate(slots)}
    data = {name: [0] * len(slots) for name in ("clicks", "unique_clicks", "flagged_clicks",
                                                "conversions", "approved")}
    for row in rows:
        i = index.get(row.key)
        if i is None:
            continue
        for name in ("clicks", "unique_clicks", "flagged_clicks"):
            data[name][i] += row.values[name]
        data["conversions"][i] += row.conversions
        data["approved"][i] += row.count("approved")
    return {"days": slots, **data}
