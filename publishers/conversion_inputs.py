"""What the ratings need from conversions beyond the rollups: fraud rejections and hold times.

Read by the scheduled recompute only (one grouped query each), never on a page view.
"""

from datetime import datetime


def fraud_counts(edges: list[datetime], country: str | None = None,
                 offer_id: int | None = None) -> dict[tuple[int, int, int], int]:
    """(publisher, offer, segment) -> conversions rejected with fraud signals."""
    return {}


def average_hold_hours(since: datetime) -> dict[int, float]:
    """offer -> average hours from a conversion to its decision, over decided conversions."""
    return {}


def fraud_by_offer(advertiser_id: int, start: datetime, end: datetime) -> dict[int, int]:
    """offer -> the advertiser's conversions rejected for fraud signals in [start, end)."""
    return {}


def fraud_queue_size() -> int:
    """Conversions held for the operator's fraud review."""
    return 0
