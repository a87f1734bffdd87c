"""Journey 5: journey 2 in Russian, switched to by the footer's language switch; every page says
`<html lang="ru">` and shows no English phrase of the catalogue left untranslated."""

from playwright.sync_api import expect

from tests.browser import publisher_journey
from tests.browser.i18n_check import PO, untranslated_on

MO = PO.with_suffix(".mo")


def check_russian(page) -> None:
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    assert untranslated_on(page) == [], page.url


def test_publisher_journey_in_russian(new_page, live_server, app_context):
    assert MO.exists(), f"compile the catalogue first (make test does): {MO}"
    publisher_journey.run(new_page, live_server, "ru", "5-russian", check_russian)
