"""Background jobs: kinds registered by the packages, starting one, reading its progress,
writing its file, and pruning old ones. The run loop is `cpa_network.background.tasks`."""

import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from flask import Flask, current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from cpa_network.background.models import DONE, FAILED, QUEUED, RUNNING, BackgroundJob
from cpa_network.csvfile import csv_text
from cpa_network.database import utcnow
from cpa_network.errors import NotFound
from cpa_network.extensions import db

KINDS_KEY = "cpa_job_kinds"


@dataclass(frozen=True)
class JobKind:
    """What a kind of job does. `run(job, start)` works through items from `start` on, yielding
    after each batch how many it finished (and updating `job.result`); the runner commits that
    batch together with the progress, so a rerun resumes where the last commit left off."""

    name: str
    label: object
    count: Callable[[BackgroundJob], int] | None
    run: Callable[[BackgroundJob, int], Iterator[int]]
    summary: Callable[[BackgroundJob], list] | None = None
    # `count` may be None when only `run` knows the total; it then sets job.progress_total.


def register_job_kinds(app: Flask, *kinds: JobKind) -> None:
    app.extensions.setdefault(KINDS_KEY, {}).update({kind.name: kind for kind in kinds})


def job_kind(name: str) -> JobKind:
    return current_app.extensions[KINDS_KEY][name]


def start_job(owner_id: int, kind: str, params: dict, download_name: str | None = None
              ) -> BackgroundJob:
    """A queued job, enqueued once the caller's transaction commits. The same request while an
    identical job is unfinished (a double click, a reload) returns that job instead."""
    from cpa_network.background.tasks import run_background_job
    from cpa_network.jobs import enqueue_after_commit

    job_kind(kind)  # an unknown kind fails here, not in the worker
    for unfinished in db.session.scalars(select(BackgroundJob).where(
            BackgroundJob.owner_id == owner_id, BackgroundJob.kind == kind,
            BackgroundJob.status.in_((QUEUED, RUNNING)))):
        if unfinished.params == params:
            return unfinished
    job = BackgroundJob(owner_id=owner_id, kind=kind, params=params, result={},
                        download_name=download_name)
    if download_name:
        job.file_name = f"{secrets.token_hex(12)}.csv"
    db.session.add(job)
    db.session.flush()
    enqueue_after_commit(run_background_job, job.id, job_id=f"background-{job.id}")
    return job


def owned_job(user, job_id: int) -> BackgroundJob:
    """The user's own job; anyone else's is "not found"."""
    job = db.session.get(BackgroundJob, job_id)
    if job is None or job.owner_id != user.id:
        raise NotFound(_l("No such job."))
    return job


def jobs_of(user, limit: int = 50) -> list[BackgroundJob]:
    return list(db.session.scalars(
        select(BackgroundJob).where(BackgroundJob.owner_id == user.id)
        .order_by(BackgroundJob.created_at.desc(), BackgroundJob.id.desc()).limit(limit)))


def export_dir() -> Path:
    path = Path(current_app.config["EXPORT_DIR"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def file_path(job: BackgroundJob) -> Path | None:
    return export_dir() / job.file_name if job.file_name else None


def append_csv(job: BackgroundJob, rows, header: tuple | None = None) -> None:
    """Append rows to the job's file where its last committed batch ended: a batch a crashed
    run wrote but never committed is cut off first, so a rerun writes each row once."""
    path = file_path(job)
    written = int(job.result.get("bytes", 0))
    with open(path, "a+b") as handle:
        handle.truncate(written)
        handle.seek(written)
        handle.write(csv_text(rows, header).encode("utf-8"))
        job.result = {**job.result, "bytes": handle.tell()}


def progress_of(job: BackgroundJob) -> dict:
    """What the progress page polls."""
    return {"id": job.id, "status": job.status, "done": job.progress_done,
            "total": job.progress_total, "percent": job.percent, "finished": job.finished}


def downloadable(job: BackgroundJob) -> bool:
    path = file_path(job)
    return job.status == DONE and path is not None and path.is_file()


def purge_jobs(keep_days: int, now: datetime | None = None) -> int:
    """Delete finished jobs older than `keep_days`, and their files; return how many."""
    cutoff = (now or utcnow()) - timedelta(days=keep_days)
    old = list(db.session.scalars(select(BackgroundJob).where(
        BackgroundJob.status.in_((DONE, FAILED)), BackgroundJob.finished_at < cutoff)))
    for job in old:
        path = file_path(job)
        if path is not None:
            path.unlink(missing_ok=True)
        db.session.delete(job)
    db.session.flush()
    return len(old)
