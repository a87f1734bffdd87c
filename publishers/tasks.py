"""Publisher-side jobs: the rating recompute, on the worker's beat."""

from cpa_network.jobs import task
from cpa_network.schedule import PeriodicJob
from publishers import rating_jobs

RECOMPUTE_EVERY_S = 300


@task
def recompute_ratings() -> int:
    """Rewrite the rating snapshots from the rollups (safe to run twice: the same input gives
    the same rows, and an unchanged row is not written)."""
    return rating_jobs.recompute_ratings()


PERIODIC = (PeriodicJob("recompute-ratings", recompute_ratings, every_s=RECOMPUTE_EVERY_S),)
