import pytest

from tests.faults.servers import Processes


@pytest.fixture
def processes():
    """Processes the test starts; every one is killed (with its process group) at the end."""
    with Processes() as started:
        yield started


# The Stripe fake wired into the apps and worker processes (shared with the payout tests).
from tests.payouts.conftest import (  # noqa: E402, F401
    _no_stray_workers,
    fast_retries,
    stripe_fake,
    stripe_workers,
)
