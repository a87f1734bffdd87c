"""The two-node test's worker app: wsgi's app plus a periodic job every BEAT_TICK_S seconds
that records each run, so the test sees whether any slot fired twice across both beats (both
workers tick within every slot and race to claim it)."""

from rq import get_current_job

from cpa_network import app as factory
from cpa_network.jobs import redis_connection
from cpa_network.schedule import BEAT_TICK_S, PeriodicJob, register_periodic

TICKS = "test:periodic-runs"


def record_run() -> None:
    redis_connection().rpush(TICKS, get_current_job().id)


def create_app():
    """Found by `flask --app tests.faults.node_app` (importing this module builds no app)."""
    app = factory.create_app()
    register_periodic(app, PeriodicJob("test-tick", record_run, every_s=BEAT_TICK_S))
    return app
