"""RQ wiring: named queues, enqueue-after-commit, the job transaction boundary, the worker.

Jobs are plain functions in `<package>/tasks.py` that take ids, re-read state and are safe to
run twice. They are enqueued only after the transaction that created their rows commits, so a
worker never looks for a row that is not there yet.
"""

import functools
import logging
import os

from flask import Flask, current_app
from redis import Redis
from rq import Queue, Retry, Worker
from sqlalchemy import event
from sqlalchemy.orm import Session

from cpa_network.extensions import db

log = logging.getLogger(__name__)

QUEUES = ("default", "tracking", "payouts", "notifications")
PENDING_KEY = "cpa_pending_jobs"


def redis_connection(app: Flask | None = None) -> Redis:
    """One Redis client per app (thread-safe pool), for queues and counters."""
    app = app or current_app
    client = app.extensions.get("cpa_redis")
    if client is None:
        client = Redis.from_url(app.config["REDIS_URL"], socket_connect_timeout=2,
                                socket_timeout=5, health_check_interval=30)
        app.extensions["cpa_redis"] = client
    return client


def get_queue(name: str = "default") -> Queue:
    if name not in QUEUES:
        raise ValueError(f"unknown queue {name!r}; known: {QUEUES}")
    return Queue(name, connection=redis_connection())


def enqueue_after_commit(func, *args, queue: str = "default", job_id: str | None = None,
                         retry: Retry | None = None, **kwargs) -> None:
    """Enqueue `func(*args)` once the current database transaction commits; drop it on rollback."""
    app = current_app._get_current_object()
    pending = db.session.info.setdefault(PENDING_KEY, [])
    pending.append((app, func, args, kwargs, queue, job_id, retry))


def _enqueue_now(app, func, args, kwargs, queue, job_id, retry) -> None:
    with app.app_context():
        try:
            get_queue(queue).enqueue(func, *args, job_id=job_id, retry=retry, **kwargs)
        except Exception:
            # The row is committed; scheduled reconcilers pick up what was not enqueued.
            log.exception("could not enqueue %s%r on %s", func.__name__, args, queue)


@event.listens_for(Session, "after_commit")
def _run_pending_enqueues(session: Session) -> None:
    for item in session.info.pop(PENDING_KEY, []):
        _enqueue_now(*item)


@event.listens_for(Session, "after_soft_rollback")
def _drop_pending_enqueues(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:  # the outermost transaction rolled back
        session.info.pop(PENDING_KEY, None)


def task(func):
    """A job's transaction boundary: commit once at the end, roll back on any exception."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            result = func(*args, **kwargs)
            db.session.commit()
            return result
        except BaseException:
            db.session.rollback()
            raise
        finally:
            db.session.remove()

    return wrapper


class AppWorker(Worker):
    """An RQ worker whose forked work-horse gets fresh database connections."""

    def perform_job(self, job, queue):
        if os.getpid() != self._parent_pid:
            # Connections inherited across fork() must not be shared with the parent.
            db.engine.dispose(close=False)
        return super().perform_job(job, queue)

    def work(self, *args, **kwargs):
        self._parent_pid = os.getpid()
        return super().work(*args, **kwargs)


def run_worker(burst: bool = False, queues: tuple[str, ...] = QUEUES, beat: bool = True) -> bool:
    """Run one worker with RQ's scheduler (delayed jobs, retries) and our periodic-job beat."""
    from cpa_network.schedule import Beat, enqueue_due

    connection = redis_connection()
    worker = AppWorker([Queue(name, connection=connection) for name in queues],
                       connection=connection)
    beat_thread = None
    if beat and burst:
        enqueue_due()  # one pass, so `worker --burst --beat` runs what is due and exits
    elif beat:
        beat_thread = Beat(current_app._get_current_object())
        beat_thread.start()
    try:
        return worker.work(burst=burst, with_scheduler=True, logging_level="INFO")
    finally:
        if beat_thread is not None:
            beat_thread.stop()
