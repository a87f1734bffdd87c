"""Every user string is escaped where it is shown; Markdown is sanitized; CSV cells cannot be
formulas; templates mark nothing a user wrote as safe.

One network is built with a script payload in every field people type or machines send (names,
descriptions, goal names, sub ids, transaction ids, postback parameters, notifications, lot
notes, dispute reasons, API key names, text ads); then the pages that show them are opened as
each role. No page may contain the payload as markup, and each field must show up escaped on
at least one page (so the test cannot pass by not rendering it).
"""

import csv
import io
import re
from datetime import timedelta
from pathlib import Path

from cpa_network.accounts import services as accounts
from cpa_network.database import utcnow
from cpa_network.extensions import db
from cpa_network.notifications.services import notify
from offers import creatives
from offers.clickstore import hour_of, upsert_rollups
from offers.services import GoalData
from publishers import exchange
from publishers.dashboards import to_csv
from tests.conftest import PROJECT_ROOT, Browser
from tests.factories import make_user
from tests.offers.conversion_helpers import postback_url, stored_click
from tests.offers.helpers import make_link, make_offer
from tests.publishers.exchange_helpers import fund_available, make_referral

RAW = ("<script>xss_", "<img src=x onerror", "javascript:xss", 'onclick="xss')


def payload(tag: str) -> str:
    return f'<script>xss_{tag}</script><img src=x onerror=xss_{tag}>"\''


def escaped(tag: str) -> str:
    return f"&lt;script&gt;xss_{tag}&lt;/script&gt;"


DESCRIPTION = ("Earn with **desc_ok** <script>xss_desc</script> <img src=x onerror=xss_desc> "
               "[click](javascript:xss_desc) <a href=\"https://a.example\" onclick=\"xss_desc\">"
               "a</a> <iframe src=\"https://evil.example\"></iframe>")


def _build_network():
    """The network with payloads; returns {role: (email, [pages])} and the tags to find."""
    advertiser = make_user("advertiser", email="adv@example.com", display_name=payload("adv"))
    publisher = make_user("publisher", email="pub@example.com", display_name=payload("pub"))
    make_user("admin", email="admin@example.com")
    offer = make_offer(advertiser, name=payload("offer")[:120], description_md=DESCRIPTION,
                       goals=(GoalData("registration", "fixed", 10_00, payload("goal")[:120]),))
    creatives.add_text_ad(offer, payload("adhead")[:120], payload("adbody"), "ad")
    link = make_link(offer, publisher)
    subs = (payload("sub")[:100], "", "", "", "")
    click_id = stored_click(link, ago=timedelta(hours=1), subs=subs)
    upsert_rollups([{"hour": hour_of(utcnow() - timedelta(hours=1)), "link_id": link.id,
                     "offer_id": offer.id, "publisher_id": publisher.id, "country": "",
                     "sub1": subs[0], "sub2": "", "sub3": "", "sub4": "", "sub5": "",
                     "clicks": 3, "unique_clicks": 3, "flagged_clicks": 0, "conversions": 0,
                     "payout": 0}],
                   ("clicks", "unique_clicks", "flagged_clicks", "conversions", "payout"))
    db.session.commit()
    postbacks = [postback_url(offer, click_id, txid=payload("txid")[:100]),
                 postback_url(offer, click_id, txid="T-2", goal=payload("pbgoal"))]
    notify(publisher.id, "new_referral", "xss", name=payload("notif"))
    seller_referral = make_referral(publisher)
    lot = exchange.list_referral(publisher, seller_referral.id, 30_00, "USD")
    db.session.commit()
    buyer = make_user("publisher", email="buyer@example.com")
    fund_available(buyer.id, 30_00)
    sale = exchange.buy_lot(buyer, lot.id)
    db.session.commit()
    other_referral = make_referral(publisher)
    listed = exchange.list_referral(publisher, other_referral.id, 40_00, "USD", payload("lot"))
    exchange.open_dispute(buyer, sale.id, payload("dispute"))
    accounts.create_api_key(publisher, payload("key")[:80], "read")
    blocked = make_user("publisher", display_name="Blocked one")
    accounts.block_user(blocked, payload("blockreason"))
    db.session.commit()
    pages = {
        "adv@example.com": ["/dashboard", "/advertiser/offers/", f"/advertiser/offers/{offer.id}",
                            f"/advertiser/offers/{offer.id}/postbacks",
                            "/advertiser/conversions", "/advertiser/stats",
                            "/advertiser/stats?group_by=sub1"],
        "pub@example.com": ["/dashboard", "/catalog", f"/catalog/{offer.id}",
                            f"/catalog/{offer.id}/link", "/links", "/stats",
                            "/stats?group_by=sub1", "/conversions", "/notifications",
                            "/exchange/mine", f"/exchange/sales/{sale.id}",
                            "/account/api-keys", "/referrals", "/ratings"],
        "buyer@example.com": ["/exchange", f"/exchange/lots/{listed.id}",
                              f"/exchange/sales/{sale.id}"],
        "admin@example.com": ["/admin/users", "/admin/offers/", "/admin/exchange",
                              "/admin/fraud/", "/admin/stats"],
    }
    return postbacks, pages, offer


TAGS = ("adv", "pub", "offer", "goal", "adhead", "adbody", "sub", "txid", "pbgoal", "notif",
        "lot", "dispute", "key", "blockreason")


def test_user_strings_are_escaped_on_every_page_that_shows_them(app, app_context):
    postbacks, pages, offer = _build_network()
    client = Browser(app.test_client())
    for url in postbacks:
        assert client.get(url).status_code < 500
    found, raw = set(), []
    for email, paths in pages.items():
        browser = Browser(app.test_client())
        assert browser.login(email).status_code == 302, email
        for path in paths:
            response = browser.get(path)
            assert response.status_code == 200, (email, path, response.status_code)
            html = response.get_data(as_text=True)
            raw += [(email, path, marker) for marker in RAW if marker in html]
            found |= {tag for tag in TAGS if escaped(tag) in html}
            if path == f"/catalog/{offer.id}":
                assert "<strong>desc_ok</strong>" in html  # the Markdown did render
    assert raw == []
    assert sorted(set(TAGS) - found) == [], "never shown, so not tested: add a page"


def test_markdown_is_sanitized_when_saved(app_context):
    offer = make_offer(description_md=DESCRIPTION)
    html = offer.description_html
    assert "<strong>desc_ok</strong>" in html
    for bad in ("<script", "onerror", "javascript:", "onclick", "<iframe", "xss_desc</"):
        assert bad not in html.lower(), bad
    links = re.findall(r"<a [^>]*>", html)
    assert links and all('rel="nofollow noopener"' in a for a in links), links


def test_csv_cells_cannot_be_formulas():
    hostile = ["=HYPERLINK(\"http://evil\")", "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1",
               "plain", "=cmd|' /C calc'!A0"]
    body = to_csv(("key", "n"), [(cell, -5) for cell in hostile])
    rows = list(csv.reader(io.StringIO(body)))[1:]
    for (cell, number), original in zip(rows, hostile, strict=True):
        if original == "plain":
            assert cell == "plain"
        else:
            assert cell[0] not in "=+-@\t\r", cell
            assert cell.endswith(original.lstrip("\t\r")) or cell == "'" + original
        assert number == "-5"  # numbers stay numbers


def test_csv_export_of_a_sub_id_formula_is_neutralised(app, app_context):
    publisher = make_user("publisher", email="pub@example.com")
    offer = make_offer()
    link = make_link(offer, publisher)
    upsert_rollups([{"hour": hour_of(utcnow() - timedelta(hours=1)), "link_id": link.id,
                     "offer_id": offer.id, "publisher_id": publisher.id, "country": "",
                     "sub1": "=HYPERLINK(\"http://evil\")", "sub2": "", "sub3": "", "sub4": "",
                     "sub5": "", "clicks": 1, "unique_clicks": 1, "flagged_clicks": 0,
                     "conversions": 0, "payout": 0}],
                   ("clicks", "unique_clicks", "flagged_clicks", "conversions", "payout"))
    db.session.commit()
    browser = Browser(app.test_client())
    browser.login("pub@example.com")
    body = browser.get("/stats/export.csv?group_by=sub1").get_data(as_text=True)
    keys = [row[0] for row in csv.reader(io.StringIO(body))][1:]
    assert keys == ["'=HYPERLINK(\"http://evil\")"]


# Every `|safe` and `Markup(` in the code, with why it is safe. A new one fails until added here.
SAFE_USES = {
    ("templates/offers/detail.html", "offer.description_html|safe"):
        "rendered from Markdown and sanitized with nh3 when saved (offers/text.py)",
    ("templates/offers/moderation.html", "offer.description_html|safe"):
        "the same sanitized HTML",
    ("templates/publishers/offer.html", "offer.description_html|safe"):
        "the same sanitized HTML",
    ("cpa_network/navigation.py", "Markup('<input type="):
        "a constant with the CSRF token escaped into it",
}
SAFE_RE = re.compile(r"[^\s{(]*\|\s*safe\b|Markup\(['\"][^'\" ]{0,12} ?[a-z]*=?")


def test_every_safe_marking_is_justified():
    found = set()
    for root in ("templates", "cpa_network", "offers", "publishers", "payouts"):
        for path in Path(PROJECT_ROOT, root).rglob("*"):
            if path.suffix not in (".html", ".py") or "translations" in path.parts:
                continue
            text = path.read_text(encoding="utf-8")
            if "{% autoescape false" in text:
                found.add((str(path.relative_to(PROJECT_ROOT)), "autoescape false"))
            for match in SAFE_RE.finditer(text):
                found.add((str(path.relative_to(PROJECT_ROOT)), match.group(0).replace(" ", "")))
    justified = {(path, snippet.replace(" ", "")) for path, snippet in SAFE_USES}
    assert found == justified
