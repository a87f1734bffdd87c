"""The background-job runner and the nightly prune.

Unlike other jobs, the runner commits once per batch: each batch's work (decisions, rows
written) commits in the same short transaction as the progress that counts it, so the page
sees progress move and a rerun after a crash resumes exactly after the last committed batch.
"""

import logging

from flask import current_app

from cpa_network.background import services
from cpa_network.background.models import DONE, FAILED, QUEUED, RUNNING, BackgroundJob
from cpa_network.database import utcnow
from cpa_network.extensions import db
from cpa_network.jobs import task
from cpa_network.schedule import PeriodicJob

log = logging.getLogger(__name__)


def _locked(job_id: int) -> BackgroundJob | None:
    return db.session.get(BackgroundJob, job_id, with_for_update=True, populate_existing=True)


def run_background_job(job_id: int) -> None:
    """Run a job from its last committed batch to the end; a finished job is left alone."""
    try:
        job = _locked(job_id)
        if job is None or job.finished:
            db.session.rollback()
            return
        kind = services.job_kind(job.kind)
        if job.status == QUEUED:
            job.status, job.started_at = RUNNING, utcnow()
        if job.progress_total is None and kind.count is not None:
            job.progress_total = kind.count(job)
        db.session.commit()
        for finished in kind.run(job, job.progress_done):
            job.progress_done += finished
            db.session.commit()
        job = _locked(job_id)
        job.status, job.finished_at = DONE, utcnow()
        db.session.commit()
    except Exception as error:
        db.session.rollback()
        log.exception("background job %s failed", job_id)
        job = db.session.get(BackgroundJob, job_id)
        if job is not None:
            job.status, job.finished_at, job.error = FAILED, utcnow(), str(error)[:1000]
            db.session.commit()
    finally:
        db.session.remove()


@task
def purge_background_jobs() -> int:
    """Daily: finished jobs and their files older than EXPORT_KEEP_DAYS go."""
    return services.purge_jobs(current_app.config["EXPORT_KEEP_DAYS"])


PERIODIC = (PeriodicJob("purge-background-jobs", purge_background_jobs, 24 * 3600),)
