"""Journey 3, in a real browser: a buyer inspects lots on the exchange, sorts by payback, opens
one, reads every statistic, buys it and sees the referral in their tree."""

import re

from playwright.sync_api import expect

from cpa_network.extensions import db
from publishers import exchange
from tests.browser.helpers import confirm_if_asked, log_in, look, visit
from tests.factories import make_user
from tests.publishers.exchange_helpers import approve, fund_available, make_referral

J = "3-buyer"


def list_lot(seller_name: str, referral_name: str, price: int, fees: list[int]) -> None:
    """A seller's referral that earned the seller commissions (`fees`), listed at `price`."""
    seller = make_user("publisher", display_name=seller_name)
    referral = make_referral(seller, display_name=referral_name)
    for fee in fees:
        approve(referral.id, fee)
    exchange.list_referral(seller, referral.id, price, "USD", note="Steady traffic")
    db.session.commit()


def test_buyer_journey(new_page, app_context):
    # Two lots: the cheap one pays back faster (the same commissions, a quarter of the price).
    list_lot("Sam Seller", "Quick Payback", 20_00, [30_00, 30_00])
    list_lot("Sue Seller", "Slow Payback", 80_00, [30_00, 30_00])
    buyer = make_user("publisher", email="bo@example.com", display_name="Bo Buyer")
    fund_available(buyer.id, 100_00)

    page = new_page()
    log_in(page, "bo@example.com")
    visit(page, "/exchange", J, "01-exchange", axe=True)
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(2)

    page.get_by_label("Sort by").select_option("payback")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile("sort=payback"))
    names = [rows.nth(i).get_by_role("link").first.inner_text() for i in range(2)]
    assert names == ["Quick Payback", "Slow Payback"]  # the fastest payback first
    look(page, J, "02-sorted-by-payback")

    page.get_by_role("link", name="Quick Payback").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Lot: Quick Payback")
    look(page, J, "03-lot", axe=True)
    # Every statistic a careful buyer reads is there, with a value.
    facts = {"Asking price": r"\$20\.00", "Commission it produces a month": r"\$",
             "Fair price": "\\$.*\u2013.*\\$", "Payback at this price": r"month|never",
             "Seller": "Sam Seller", "Last seen": r"\d|never", "Own conversions, 30 days": r"\d",
             "Own approved earnings, 30 days": r"\$", "Lots sold": r"\d",
             "Disputes lost": r"\d", "Rating": r"\w", "Referral registered": r"\d",
             "Last activity": r"\d|never"}
    for term, value in facts.items():
        definition = page.locator(f"dt:text-is('{term}') + dd")
        expect(definition).to_have_text(re.compile(value))
    for heading in ("Risk signals", "1. The seller's activity", "2. When the seller registered",
                    "3. When the lot was listed", "4. The lot's statistics",
                    "5. Its own referrals"):
        expect(page.get_by_role("heading", name=heading)).to_be_visible()
    month_rows = page.locator("table", has=page.get_by_role("columnheader", name="Month"))
    expect(month_rows.locator("tbody tr").first).to_be_visible()
    page.get_by_role("heading", name="4. The lot's statistics").scroll_into_view_if_needed()
    look(page, J, "04-lot-statistics")

    page.get_by_role("button", name=re.compile("^Buy")).click()
    confirm_if_asked(page)
    expect(page.locator(".flash").first).to_be_visible()
    look(page, J, "05-bought", axe=True)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Referrals").click()
    tree = page.locator("table", has=page.get_by_role("columnheader", name="Referral"))
    expect(tree.locator("tbody tr", has_text="Quick Payback")).to_be_visible()
    look(page, J, "06-referral-tree", axe=True)
