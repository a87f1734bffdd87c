"""No open redirects: every redirect that takes a URL from the request stays on this site
(login `next`, the language switch's Referer, the conversions page's `back`) or on the offer's
own landing host (the click's deep link `dl`)."""

from urllib.parse import quote, urlsplit

import pytest

from cpa_network.security import safe_local_url
from tests.conftest import Browser
from tests.factories import make_user
from tests.offers.helpers import make_link, make_offer

HOSTILE = [
    "//evil.com", "//evil.com/path", "https://evil.com", "http://evil.com/x", "/\\evil.com",
    "\\\\evil.com", "/\\/evil.com", "javascript:alert(1)", "JavaScript:alert(1)",
    "data:text/html,<script>alert(1)</script>", " //evil.com", "/\t/evil.com", "/\n/evil.com",
    "https:evil.com", "///evil.com", "http:/\\evil.com", "evil.com", "@evil.com",
]


def _lands_on_site(location: str) -> bool:
    parts = urlsplit(location)
    return (parts.scheme in ("", "http") and parts.netloc in ("", "localhost")
            and location.startswith("/") and not location.startswith(("//", "/\\"))
            and not any(c.isspace() or ord(c) < 32 for c in location))


@pytest.mark.parametrize("target", HOSTILE)
def test_safe_local_url_refuses(target):
    assert safe_local_url(target, "/fallback") == "/fallback"


def test_safe_local_url_keeps_local_paths():
    assert safe_local_url("/offers?page=2#top", "/x") == "/offers?page=2#top"


def test_login_next_never_leaves_the_site(app, app_context, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_LOGIN", "1000 per minute")
    make_user(email="me@example.com")
    for target in HOSTILE:
        browser = Browser(app.test_client())
        token = browser.csrf_token("/login")
        response = browser.post("/login?next=" + quote(target, safe=""), data={
            "csrf_token": token, "email": "me@example.com", "password": "correct-horse-1"})
        assert response.status_code == 302
        assert _lands_on_site(response.headers["Location"]), (target, response.headers)


def test_login_next_to_a_local_page_is_followed(client, app_context):
    make_user(email="me@example.com")
    token = client.csrf_token("/login")
    response = client.post("/login?next=%2Faccount", data={
        "csrf_token": token, "email": "me@example.com", "password": "correct-horse-1"})
    assert response.headers["Location"] == "/account"


def test_language_switch_ignores_a_foreign_referer(client):
    for referer in ("https://evil.com/", "http://evil.com/login", "http://localhost.evil.com/",
                    "//evil.com/", "http://localhost@evil.com/", "javascript:alert(1)",
                    "http://localhost/\\evil.com", "http://localhost//evil.com"):
        response = client.submit("/language", {"locale": "ru"}, page="/",
                                 headers={"Referer": referer})
        assert _lands_on_site(response.headers["Location"]), (referer, response.headers)


def test_bulk_decisions_go_back_only_to_the_conversions_pages(client, app_context):
    make_user("advertiser", email="adv@example.com")
    client.login("adv@example.com")
    for back in HOSTILE:
        response = client.submit("/advertiser/conversions/bulk", {"back": back},
                                 page="/advertiser/conversions")
        assert response.status_code == 302
        location = response.headers["Location"]
        assert _lands_on_site(location), (back, location)
        assert location.startswith("/advertiser/conversions"), (back, location)


def test_click_deep_link_never_leaves_the_landing_host(client, app_context):
    link = make_link(make_offer())
    for deep_link in HOSTILE:
        response = client.get(f"/c/{link.token}?dl=" + quote(deep_link, safe=""))
        assert response.status_code == 302
        location = response.headers["Location"]
        assert urlsplit(location).netloc == "shop.example.com", (deep_link, location)
