import pytest

from tests.faults.servers import Processes


@pytest.fixture
def processes():
    """Processes the test starts; every one is killed (with its process group) at the end."""
    with Processes() as started:
        yield started
