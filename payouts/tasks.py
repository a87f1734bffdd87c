"""Money jobs: take ids, re-read state, safe to run twice."""

from rq import Retry

from cpa_network.jobs import task
from payouts import refunds

# Transient gateway failures (5xx, timeouts) retry with backoff; the money waits in flight.
REFUND_RETRY = Retry(max=5, interval=[10, 60, 300, 900, 3600])


@task
def send_refund(refund_id: int) -> None:
    """Ask the gateway to refund one escrow refund row, then book the outcome."""
    refunds.send_to_gateway(refund_id)
