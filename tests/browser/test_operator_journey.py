"""Journey 4, in a real browser: the operator moderates an offer, works the fraud queue, blocks
a publisher and reads the ledger check."""

import re
from datetime import timedelta

import requests
from playwright.sync_api import expect

from cpa_network.extensions import db
from offers import services
from tests.browser.helpers import log_in, look, visit
from tests.factories import make_user
from tests.offers.conversion_helpers import stored_click
from tests.offers.helpers import make_link, make_offer, offer_data
from tests.payouts.helpers import fund_escrow

J = "4-operator"


def held_conversion(live_server: str, offer, publisher, txid: str) -> None:
    """A conversion reported seconds after its click: the fraud checks hold it for review."""
    click_id = stored_click(make_link(offer, publisher), ago=timedelta(seconds=2))
    answer = requests.get(f"{live_server}/postback", timeout=10, params={
        "click_id": click_id, "goal": "registration", "txid": txid,
        "secret": offer.postback_secret})
    assert answer.json()["status"] == "fraud_suspected", answer.text


def test_operator_journey(new_page, live_server, app_context):
    make_user("admin", email="op@example.com", display_name="Olga Operator")
    advertiser = make_user("advertiser", display_name="Nova Games")
    services.create_offer(advertiser, offer_data(name="Nova Games trial"), submit=True)
    db.session.commit()
    fund_escrow(advertiser.id, 100_00, "USD")
    live = make_offer(name="Acme loans")
    held_conversion(live_server, live, make_user("publisher", display_name="Fred Fast",
                                                 email="fred@example.com"), "FAST-1")
    held_conversion(live_server, live, make_user("publisher", display_name="Gina Good"),
                    "FAST-2")

    page = new_page()
    log_in(page, "op@example.com")
    look(page, J, "01-dashboard", axe=True)

    # Moderation: the new offer is waiting; approve it.
    visit(page, "/admin/offers/", J, "02-moderation", axe=True)
    card = page.locator("section.card", has_text="Nova Games trial")
    card.get_by_role("button", name="Approve").click()
    expect(page.locator(".flash")).to_contain_text("approved and live")

    # The fraud queue: both conversions came seconds after their clicks.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Fraud").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Fraud queue")
    look(page, J, "03-fraud-queue", axe=True)
    cards = page.locator("section.card")
    expect(cards).to_have_count(2)
    expect(cards.first).to_contain_text("converted within seconds of the click")
    gina = cards.filter(has_text="Gina Good")
    gina.get_by_role("textbox").fill("Called the customer: real")
    gina.get_by_role("button", name="Approve").click()
    expect(page.locator("section.card")).to_have_count(1)
    fred = page.locator("section.card", has_text="Fred Fast")
    fred.get_by_role("textbox").fill("Clicks and sign-ups from a script")
    fred.get_by_role("button", name="Reject").click()
    expect(page.locator("section.card")).to_have_count(0)
    look(page, J, "04-fraud-queue-worked")

    # Block the publisher whose traffic was scripted.
    visit(page, "/admin/users", J, "05-users", axe=True)
    page.get_by_role("searchbox").fill("fred@")
    page.get_by_role("button", name="Filter").click()
    row = page.locator("tbody tr", has_text="fred@example.com")
    row.get_by_label("Reason").fill("Scripted sign-ups")
    row.get_by_role("button", name="Block").click()
    expect(page.locator("tbody tr", has_text="fred@example.com")).to_contain_text("blocked")
    look(page, J, "06-blocked")

    # The ledger check: every invariant holds after all of this.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Ledger").click()
    expect(page.get_by_role("region", name=re.compile("Invariants"))).to_contain_text(
        "balanced")
    expect(page.locator("ul.checks li.fail")).to_have_count(0)
    expect(page.locator("ul.checks li.ok").first).to_be_visible()
    look(page, J, "07-ledger", axe=True)
    visit(page, "/admin/stats", J, "08-operator-stats", axe=True)
