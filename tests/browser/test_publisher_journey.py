"""Journey 2 in English, in a real browser (the steps: tests/browser/publisher_journey.py)."""

from tests.browser import publisher_journey
from tests.browser.helpers import check_accessibility_once


def test_publisher_journey(new_page, live_server, app_context):
    publisher_journey.run(new_page, live_server, "en", "2-publisher",
                          check_accessibility_once)
