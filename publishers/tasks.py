"""Exchange jobs: release the money of sales whose guarantee period ended without a dispute."""

from cpa_network.extensions import db
from cpa_network.jobs import task
from cpa_network.schedule import PeriodicJob
from publishers import exchange


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


PERIODIC = (PeriodicJob("exchange-release", release_due_sales, every_s=300, queue="payouts"),)
