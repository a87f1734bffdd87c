"""Queue health for the operator, read from RQ's own registries: what waits, runs, failed, and
which workers are alive; failed jobs can be inspected and requeued."""

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from rq import Queue, Worker
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job

from cpa_network.errors import DomainError, NotFound
from cpa_network.jobs import QUEUES, get_queue, redis_connection

FAILED_SHOWN = 50


class JobNotRequeueable(DomainError):
    code = "job_not_requeueable"
    http_status = 409
    default_message = _l("This job is no longer in the failed registry.")


@dataclass(frozen=True)
class QueueHealth:
    name: str
    queued: int
    started: int
    scheduled: int  # delayed jobs and retries waiting for their time
    deferred: int
    failed: int
    finished: int


@dataclass(frozen=True)
class FailedJob:
    queue: str
    id: str
    description: str
    ended_at: datetime | None
    error: str  # the exception's last line


def queue_health() -> list[QueueHealth]:
    found = []
    for name in QUEUES:
        queue = get_queue(name)
        found.append(QueueHealth(
            name, queue.count, queue.started_job_registry.count,
            queue.scheduled_job_registry.count, queue.deferred_job_registry.count,
            queue.failed_job_registry.count, queue.finished_job_registry.count))
    return found


def workers() -> list[Worker]:
    return sorted(Worker.all(connection=redis_connection()), key=lambda w: w.name)


def failed_jobs(limit: int = FAILED_SHOWN) -> list[FailedJob]:
    """The most recent failures of every queue, newest first."""
    found = []
    for name in QUEUES:
        queue = get_queue(name)
        ids = queue.failed_job_registry.get_job_ids(0, limit - 1, desc=True)
        for job in Job.fetch_many(ids, connection=queue.connection):
            if job is not None:
                found.append(FailedJob(name, job.id, job.description or job.func_name,
                                       job.ended_at, _last_line(job)))
    return sorted(found, key=lambda j: j.ended_at or datetime.min, reverse=True)[:limit]


def _last_line(job: Job) -> str:
    lines = [line for line in error_text(job).strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


def job_in(queue_name: str, job_id: str) -> tuple[Job, Queue]:
    """A job of a known queue, or Not Found."""
    if queue_name not in QUEUES:
        raise NotFound()
    queue = get_queue(queue_name)
    try:
        job = Job.fetch(job_id, connection=queue.connection)
    except NoSuchJobError:
        raise NotFound() from None
    if job.origin != queue_name:
        raise NotFound()
    return job, queue


def error_text(job: Job) -> str:
    result = job.latest_result()
    return (result.exc_string or "") if result is not None else ""


def requeue_failed(queue_name: str, job_id: str) -> Job:
    """Put a failed job back on its queue (RQ's own requeue: the same id, a fresh run)."""
    job, queue = job_in(queue_name, job_id)
    try:
        return queue.failed_job_registry.requeue(job)
    except InvalidJobOperation:
        raise JobNotRequeueable() from None
