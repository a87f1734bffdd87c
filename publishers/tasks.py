"""Publisher-side jobs on the worker's beat: the rating recompute, and the exchange's release of
sales whose guarantee period ended without a dispute."""

from cpa_network.extensions import db
from cpa_network.jobs import task
from cpa_network.schedule import PeriodicJob
from publishers import exchange, rating_jobs

RECOMPUTE_EVERY_S = 300


@task
def recompute_ratings() -> int:
    """Rewrite the rating snapshots from the rollups (safe to run twice: the same input gives
    the same rows, and an unchanged row is not written)."""
    return rating_jobs.recompute_ratings()


@task
def release_due_sales() -> int:
    """Pay every seller whose guarantee period is over; one sale per transaction, and a sale
    already released (by a parallel run) is skipped, so running it twice releases once."""
    released = 0
    for sale_id in exchange.due_sale_ids():
        if exchange.release_if_due(sale_id):
            released += 1
        db.session.commit()
    return released


PERIODIC = (PeriodicJob("recompute-ratings", recompute_ratings, every_s=RECOMPUTE_EVERY_S),
            PeriodicJob("exchange-release", release_due_sales, every_s=300, queue="payouts"))
