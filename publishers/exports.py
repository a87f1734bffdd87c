"""Statistics tables as CSV: the publisher's dashboard table and the advertiser's offers or
publishers table. A period of up to EXPORT_DIRECT_MAX_DAYS days is answered at once; a longer
one is written by a background job (the report is computed once, then written in batches)."""

from flask import current_app
from flask_babel import lazy_gettext as _l

from cpa_network.background.services import JobKind, append_csv, start_job
from cpa_network.csvfile import csv_text
from publishers import dashboards, reports
from publishers.reports import Audience, Period

PUBLISHER_KIND = "publisher_stats_csv"
ADVERTISER_KIND = "advertiser_stats_csv"


def streams_directly(period: Period) -> bool:
    return period.days <= current_app.config["EXPORT_DIRECT_MAX_DAYS"]


def _audience(kind: str, owner_id: int) -> Audience:
    if kind == PUBLISHER_KIND:
        return Audience(publisher_id=owner_id)
    return Audience(advertiser_id=owner_id)


def stats_csv_rows(kind: str, owner_id: int, period: Period, group: str, tz) -> list[tuple]:
    rows = reports.report(_audience(kind, owner_id), period.start, period.end, group, tz)
    return dashboards.csv_rows(rows)


def export_now(kind: str, owner_id: int, period: Period, group: str, tz) -> str:
    return csv_text(stats_csv_rows(kind, owner_id, period, group, tz), dashboards.CSV_HEADER)


def start_stats_export(kind: str, owner, period: Period, group: str, name: str):
    """Queue a stats export job for `owner` (the caller commits)."""
    return start_job(owner.id, kind, {"first": period.first.isoformat(),
                                      "last": period.last.isoformat(), "group": group,
                                      "tz": owner.timezone or "UTC"},
                     download_name=f"{name}.csv")


def _run(job, start: int):
    tz = reports.zone(job.params["tz"])
    period = reports.custom_period(job.params["first"], job.params["last"], tz)
    rows = stats_csv_rows(job.kind, job.owner_id, period, job.params["group"], tz)
    if job.progress_total != len(rows):
        job.progress_total = len(rows)
    if start == 0:
        append_csv(job, [], dashboards.CSV_HEADER)
    size = current_app.config["BACKGROUND_BATCH_SIZE"] * 5
    for first in range(start, len(rows), size):
        batch = rows[first:first + size]
        append_csv(job, batch)
        yield len(batch)


JOB_KINDS = (JobKind(PUBLISHER_KIND, _l("Statistics export"), None, _run),
             JobKind(ADVERTISER_KIND, _l("Statistics export"), None, _run))
