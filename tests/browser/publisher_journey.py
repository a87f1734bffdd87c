"""Journey 2, shared by the English test and the Russian one (journey 5).

A publisher signs up through an invite link, finds the offer in the catalog, builds a link with
sub-ids, copies it, downloads the QR code, follows the link (a click), sees the click and then
the conversion on the live statistics page, and withdraws once the hold passes.
"""

import re
import time
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import requests
from playwright.sync_api import expect
from sqlalchemy import select, update

from cpa_network.accounts.models import User
from cpa_network.config import Config
from cpa_network.database import utcnow
from cpa_network.extensions import db
from cpa_network.jobs import get_queue
from offers.conversion_models import Conversion
from offers.services import GoalData
from offers.tasks import approve_due_conversions
from offers.tracking_models import Click
from tests.browser.helpers import look, sign_up
from tests.browser.i18n_check import tr
from tests.factories import make_user
from tests.offers.helpers import make_offer

FRAUD_MIN_CLICK_SECONDS = Config.FRAUD_MIN_CLICK_SECONDS  # the live server's (not overridden)

VISITOR_IP = "203.0.113.7"  # a documentation address, only ever written in a header
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# A desktop browser's agent: headless chromium names itself, and the click path flags bots.
DESKTOP_AGENT = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                 "Chrome/130.0.0.0 Safari/537.36")


def wait_for(condition, timeout: float = 30, message: str = "condition"):
    """Poll the database (a real worker is doing the work) until `condition()` is truthy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.expire_all()
        if value := condition():
            db.session.rollback()
            return value
        db.session.rollback()
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {message}")


def set_up_network(live_server: str):
    """What the journey does not cover: a live offer that lands on this site, and the upline."""
    advertiser = make_user("advertiser", display_name="Acme Bank")
    # The payout is above the minimum payout, so one conversion can be withdrawn.
    offer = make_offer(advertiser, name="Acme credit card",
                       landing_url=f"{live_server}/?landed={{click_id}}&s={{sub1}}",
                       goals=(GoalData("registration", "fixed", 60_00, "Registration"),))
    upline = make_user("publisher", display_name="Rita Referrer")
    db.session.commit()
    return offer, upline


def run(new_page, live_server: str, locale: str, journey: str, check_page) -> None:
    """The publisher's journey in `locale`; `check_page(page)` runs on each main page."""
    t = lambda text: tr(text, locale)  # noqa: E731 - a short alias reads best in selectors
    offer, upline = set_up_network(live_server)
    page = new_page(user_agent=DESKTOP_AGENT)

    def menu(label: str):
        return page.get_by_role("navigation", name=t("Main")).get_by_role(
            "link", name=t(label), exact=True)

    page.goto("/")
    if locale != "en":  # the language switch in the footer
        page.get_by_role("button", name="Русский").click()
        expect(page.locator("html")).to_have_attribute("lang", locale)
    page.goto(f"/r/{upline.referral_code}")
    expect(page.locator("main")).to_contain_text("Rita Referrer")
    look(page, journey, "01-invited-signup")
    check_page(page)
    sign_up(page, "pia@example.com", ["publisher"], path=page.url, display_name="Pia")
    expect(page).to_have_url(re.compile("/dashboard"))
    look(page, journey, "02-dashboard")
    check_page(page)

    # The catalog: search, open the offer, get a link.
    menu("Offers").click()
    page.get_by_role("searchbox").fill("credit")
    page.get_by_role("button", name=t("Show")).click()
    look(page, journey, "03-catalog")
    check_page(page)
    page.get_by_role("link", name="Acme credit card").click()
    look(page, journey, "04-offer")
    check_page(page)
    page.locator("main form").get_by_role("button").click()
    look(page, journey, "05-link")
    check_page(page)

    # Sub-ids, then copy the built link.
    page.get_by_label("sub1").fill("spring")
    page.get_by_label("sub2").fill("banner-top")
    page.get_by_role("button", name=t("Build link")).click()
    link_field = page.get_by_label(t("Tracking link"), exact=True)
    expect(link_field).to_have_value(re.compile(r"sub1=spring"))
    tracking_link = link_field.input_value()
    assert "sub2=banner-top" in tracking_link
    expect(page.locator("nav [aria-current=page]")).to_have_count(1)  # one menu item is here
    link_field.locator("xpath=..").get_by_role("button", name=t("Copy")).click()
    assert page.evaluate("navigator.clipboard.readText()") == tracking_link
    look(page, journey, "06-link-built")

    # The QR code as a PNG file.
    with page.expect_download() as download_info:
        page.get_by_role("link", name=t("Download PNG")).click()
    with open(download_info.value.path(), "rb") as handle:
        assert handle.read(8) == PNG_MAGIC

    # A visitor follows the link: the click path redirects to the landing page.
    menu("Statistics").click()
    expect(page.locator("[data-live=clicks]")).to_have_text("0")
    look(page, journey, "07-stats-empty")
    check_page(page)
    # The visitor is someone else, elsewhere (the site trusts one proxy hop, as behind nginx):
    # a click from the publisher's own login address would be held as self-clicking.
    visitor = new_page(user_agent=DESKTOP_AGENT,
                       extra_http_headers={"X-Forwarded-For": VISITOR_IP})
    visitor.goto(tracking_link)
    clicked = time.monotonic()
    landed = parse_qs(urlsplit(visitor.url).query)
    assert landed["s"] == ["spring"], visitor.url
    click_id = landed["landed"][0]
    visitor.context.close()

    # The worker flushes the click; the open statistics page shows it without a reload.
    expect(page.locator("[data-live=clicks]")).to_have_text("1", timeout=30_000)
    expect(page.locator(".chart canvas").first).to_be_visible()
    look(page, journey, "08-stats-click")

    # Later the visitor registers at the advertiser, whose server sends the postback: after
    # FRAUD_MIN_CLICK_SECONDS, or it would be held as click injection. (The click's time is
    # its id's, which also names its monthly partition, so the test waits instead of
    # backdating it.)
    wait_for(lambda: db.session.scalar(select(Click.id).where(Click.id == click_id)),
             message="the click in the database")
    time.sleep(max(0.0, FRAUD_MIN_CLICK_SECONDS + 1 - (time.monotonic() - clicked)))
    answer = requests.get(f"{live_server}/postback", timeout=10, params={
        "click_id": click_id, "goal": "registration", "txid": "REG-1",
        "secret": offer.postback_secret})
    assert answer.json()["status"] == "ok", answer.text
    expect(page.locator("[data-live='conversions.total']")).to_have_text("1", timeout=30_000)
    look(page, journey, "09-stats-conversion")

    # Time passes: the hold ends and the hold-period job (on the real worker) approves it.
    db.session.execute(update(Conversion).where(Conversion.click_id == click_id)
                       .values(hold_until=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    get_queue().enqueue(approve_due_conversions)
    wait_for(lambda: db.session.scalar(select(Conversion.status)
                                       .where(Conversion.click_id == click_id)) == "approved",
             message="the conversion approved by the worker")

    # Connect a payout account (the sandbox connects at once) and withdraw.
    menu("Earnings").click()
    page.get_by_role("link", name=t("Payout settings")).first.click()
    page.get_by_role("button", name=t("Connect a payout account")).click()
    menu("Earnings").click()
    look(page, journey, "10-earnings")
    check_page(page)
    withdraw = page.get_by_role("region", name=t("Withdraw"), exact=True)
    withdraw.get_by_label(t("Amount")).fill("60")
    withdraw.get_by_role("button", name=t("Continue")).click()
    look(page, journey, "11-withdraw-confirm")
    check_page(page)
    page.get_by_role("button", name=t("Yes, withdraw")).click()
    expect(page.locator(".flash")).to_be_visible()
    look(page, journey, "12-withdrawn")
    check_page(page)
    pia = db.session.scalar(select(User).where(User.email == "pia@example.com"))
    assert pia.referred_by_id == upline.id
