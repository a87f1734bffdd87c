"""The advertiser's conversions as CSV (the review page's filters): streamed at once for a
short date range, else written by a background job in committed batches with progress."""

from dataclasses import asdict
from datetime import date
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from cpa_network.accounts.models import User
from cpa_network.background.services import JobKind, append_csv, start_job
from cpa_network.csvfile import csv_text
from cpa_network.extensions import db
from offers import review
from offers.conversion_models import Conversion

KIND = "conversions_csv"
HEADER = ("id", "created_at", "offer_id", "offer", "goal", "publisher_id", "txid", "status",
          "held", "currency", "sale_minor", "payout_minor", "fee_minor",
          "sub1", "sub2", "sub3", "sub4", "sub5", "country", "decision_reason")


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def streams_directly(f: review.ReviewFilter) -> bool:
    """A bounded range of at most EXPORT_DIRECT_MAX_DAYS days is small enough to answer now."""
    if f.since is None or f.until is None:
        return False
    return (f.until - f.since).days + 1 <= current_app.config["EXPORT_DIRECT_MAX_DAYS"]


def _row(c: Conversion, tz: ZoneInfo) -> tuple:
    return (c.id, c.created_at.astimezone(tz).isoformat(timespec="seconds"), c.offer_id,
            c.offer.name, c.goal_code, c.publisher_id, c.txid, c.status, int(c.held),
            c.currency, c.amount, c.payout, c.fee, c.sub1, c.sub2, c.sub3, c.sub4, c.sub5,
            c.country, c.decision_reason)


def export_now(advertiser: User, f: review.ReviewFilter) -> str:
    """The whole export as CSV text (a short range)."""
    tz = _zone(advertiser.timezone)
    rows = db.session.scalars(review.advertiser_query(advertiser.id, f))
    return csv_text((_row(c, tz) for c in rows), HEADER)


def download_name(f: review.ReviewFilter) -> str:
    return f"conversions-{f.since or 'start'}-{f.until or date.today()}.csv"


def _filter_params(f: review.ReviewFilter) -> dict:
    params = asdict(f)
    params["since"] = f.since.isoformat() if f.since else None
    params["until"] = f.until.isoformat() if f.until else None
    return params


def _filter_of(params: dict) -> review.ReviewFilter:
    return review.ReviewFilter(**{**params, "since": review._date(params["since"]),
                                  "until": review._date(params["until"])})


def start_export(advertiser: User, f: review.ReviewFilter):
    """Queue the export job; conversions recorded after this moment are left out."""
    last_id = db.session.scalar(select(func.max(Conversion.id)).where(
        Conversion.advertiser_id == advertiser.id)) or 0
    return start_job(advertiser.id, KIND, {"filter": _filter_params(f), "last_id": last_id,
                                           "tz": advertiser.timezone or "UTC"},
                     download_name=download_name(f))


def _query(job):
    f = _filter_of(job.params["filter"])
    query = review.advertiser_query(job.owner_id, f).order_by(None)
    return query.where(Conversion.id <= job.params["last_id"])


def _count(job) -> int:
    return db.session.scalar(select(func.count()).select_from(
        _query(job).order_by(None).subquery()))


def _run(job, start: int):
    tz = _zone(job.params["tz"])
    size = current_app.config["BACKGROUND_BATCH_SIZE"] * 5
    if start == 0:
        append_csv(job, [], HEADER)
    after = job.result.get("after_id", 0)
    while True:
        rows = list(db.session.scalars(_query(job).where(Conversion.id > after)
                                       .order_by(Conversion.id).limit(size)))
        if not rows:
            return
        append_csv(job, [_row(c, tz) for c in rows])
        after = rows[-1].id
        job.result = {**job.result, "after_id": after}
        yield len(rows)


EXPORT_KIND = JobKind(KIND, _l("Conversions export"), _count, _run)
