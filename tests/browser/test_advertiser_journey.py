"""Journey 1, in a real browser: an advertiser signs up, creates an offer with two goals,
deposits in the sandbox, sees it approved by the operator, reads the postback instructions,
sends a test postback and approves a conversion a real postback reported."""

import re

import requests
from playwright.sync_api import expect
from sqlalchemy import select

from cpa_network.accounts.models import User
from cpa_network.extensions import db
from offers.models import Offer
from tests.browser.helpers import confirm_if_asked, log_in, look, shoot, sign_up, visit
from tests.factories import make_user
from tests.offers.conversion_helpers import stored_click
from tests.offers.helpers import make_link

J = "1-advertiser"


def test_advertiser_journey(new_page, live_server, app_context):
    # CSRF protection is on for this server: the browser's posts below pass because its forms
    # carry the token, and a post without one is refused.
    assert requests.post(f"{live_server}/signup", timeout=10,
                         data={"email": "x@example.com"}).status_code == 400
    page = new_page()
    visit(page, "/", J, "01-home", axe=True)
    visit(page, "/signup", J, "02-signup", axe=True)
    sign_up(page, "ada@example.com", ["advertiser"], display_name="Ada Shop")
    look(page, J, "03-dashboard", axe=True)

    # An offer with two goals, sent to moderation.
    page.goto("/advertiser/offers/new")
    look(page, J, "04-new-offer", axe=True)
    page.get_by_label("Offer name").fill("Ada's shop")
    page.get_by_label("Landing page").fill("https://shop.example.com/?click={click_id}")
    codes, names = page.get_by_label("Code", exact=True), page.get_by_label("Name", exact=True)
    payouts = page.get_by_label("Payout", exact=True)
    codes.nth(0).fill("registration")
    names.nth(0).fill("Registration")
    payouts.nth(0).fill("5.00")
    codes.nth(1).fill("first_payment")
    names.nth(1).fill("First payment")
    payouts.nth(1).fill("20.00")
    page.get_by_role("button", name="Send to moderation").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Ada's shop")
    expect(page.locator("main")).to_contain_text("first_payment")
    look(page, J, "05-offer-pending", axe=True)
    offer_url = page.url

    # A sandbox deposit, confirmed before money moves.
    page.get_by_role("link", name="Balance").first.click()
    look(page, J, "06-balance", axe=True)
    deposit = page.locator("form", has=page.get_by_role("button", name="Continue")).first
    deposit.get_by_label("Amount").fill("500")
    deposit.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Deposit")
    look(page, J, "07-deposit-confirm", axe=True)
    page.get_by_role("button", name=re.compile("Yes, deposit")).click()
    expect(page.locator("main")).to_contain_text("500.00")
    look(page, J, "08-deposited")

    # The operator approves the offer in their own browser.
    make_user("admin", email="op@example.com")
    operator = new_page()
    log_in(operator, "op@example.com")
    visit(operator, "/admin/offers/", J, "09-moderation", axe=True)
    card = operator.locator("section.card", has_text="Ada's shop")
    card.get_by_role("button", name="Approve").click()
    expect(operator.locator(".flash")).to_contain_text("approved and live")

    page.goto(offer_url)
    expect(page.locator("h1 .badge")).to_have_text(re.compile("active|live", re.I))
    look(page, J, "10-offer-live")

    # The postback instructions: the endpoint, the goal codes, the secret.
    integration = page.locator("#integration")
    expect(integration).to_contain_text("click_id")
    expect(integration.locator("textarea").first).to_have_value(re.compile(r"/postback"))
    secret = page.get_by_label("Postback secret").input_value()
    assert len(secret) >= 16
    integration.scroll_into_view_if_needed()
    shoot(page, J, "11-postback-instructions")

    # A publisher's click (set up directly: journey 2 covers the publisher's side).
    offer = db.session.scalar(select(Offer).where(Offer.name == "Ada's shop"))
    publisher = make_user("publisher", display_name="Pat Publisher")
    click_id = stored_click(make_link(offer, publisher))

    page.get_by_role("link", name="Postback log and test tool").click()
    look(page, J, "12-postback-log", axe=True)
    page.get_by_label("Click id").fill(click_id)
    page.get_by_label("Goal").select_option("registration")
    page.get_by_label("Transaction id").fill("TEST-1")
    page.get_by_role("button", name=re.compile("Send")).click()
    expect(page.locator(".flash")).to_contain_text("Test postback: ok")
    look(page, J, "13-test-postback")

    # The advertiser's server reports the conversion for real.
    answer = requests.get(f"{live_server}/postback", timeout=10, params={
        "click_id": click_id, "goal": "registration", "txid": "ORDER-1", "secret": secret})
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "ok", answer.text

    page.get_by_role("link", name="Conversions").first.click()
    look(page, J, "14-conversions", axe=True)
    row = page.locator("tbody tr", has_text="ORDER-1")
    row.get_by_role("checkbox").check()
    page.get_by_role("button", name="Approve selected").click()
    confirm_if_asked(page)
    # A bulk decision runs as a job: its page shows the progress, then what it did.
    expect(page.get_by_text("1 conversion approved.")).to_be_visible(timeout=60_000)
    look(page, J, "15-approved")
    page.get_by_role("link", name="Conversions").first.click()
    expect(page.locator("tbody tr", has_text="ORDER-1")).to_contain_text(re.compile("approved",
                                                                                    re.I))
    db.session.expire_all()
    assert db.session.scalar(select(User).where(User.email == "ada@example.com")).is_advertiser
