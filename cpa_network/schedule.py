"""Periodic jobs that fire once per time slot, however many workers or nodes run the beat.

Every worker process runs a small beat thread. For each registered job it computes the current
slot (`now // every_s`) and claims it with Redis `SET NX`; only the claimant enqueues the job,
with a job id naming the slot. So two nodes never run the same slot twice, and a slot missed
while no worker ran is simply skipped (jobs look at the state of the world, not at the clock).
"""

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, current_app

log = logging.getLogger(__name__)

BEAT_TICK_S = 5


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    func: Callable  # an importable job function taking no arguments
    every_s: int
    queue: str = "default"


def register_periodic(app: Flask, *jobs: PeriodicJob) -> None:
    app.extensions.setdefault("cpa_periodic", {}).update({job.name: job for job in jobs})


def periodic_jobs(app: Flask | None = None) -> list[PeriodicJob]:
    return list((app or current_app).extensions.get("cpa_periodic", {}).values())


def enqueue_due(now: float | None = None) -> list[str]:
    """Enqueue every periodic job whose current slot nobody has claimed yet; return job ids."""
    from cpa_network.jobs import get_queue, redis_connection

    now = time.time() if now is None else now
    redis = redis_connection()
    enqueued = []
    for job in periodic_jobs():
        slot = int(now // job.every_s)
        claim = f"cpa:periodic:{job.name}:{slot}"
        if redis.set(claim, "1", nx=True, ex=job.every_s * 2 + 60):
            job_id = f"periodic-{job.name}-{slot}"
            get_queue(job.queue).enqueue(job.func, job_id=job_id, result_ttl=job.every_s * 4)
            enqueued.append(job_id)
    return enqueued


class Beat(threading.Thread):
    """A daemon thread in the worker process that enqueues due periodic jobs."""

    def __init__(self, app: Flask, tick_s: float = BEAT_TICK_S):
        super().__init__(name="cpa-beat", daemon=True)
        self.app = app
        self.tick_s = tick_s
        self.stopped = threading.Event()

    def run(self) -> None:
        with self.app.app_context():
            while not self.stopped.is_set():
                try:
                    enqueue_due()
                except Exception:
                    log.exception("beat: could not enqueue periodic jobs (will retry)")
                self.stopped.wait(self.tick_s)

    def stop(self) -> None:
        self.stopped.set()
