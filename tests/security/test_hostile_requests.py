"""Hostile or unusual requests get a clear answer, never a 500, and change nothing: NUL in a
query, dates at the calendar's ends, a link too long for a QR code; and a few holes found by
review (a GET that created a payout account, an unchecked redirect, unlimited password guesses)."""

import pytest
from sqlalchemy import select

from cpa_network.accounts import services as account_services
from cpa_network.extensions import db
from payouts.models import PayoutAccount
from tests.factories import make_api_key, make_user
from tests.offers.helpers import make_link, make_offer


@pytest.fixture
def no_propagation(app):
    """Answer exceptions as the production app does (a 500 page), not by raising."""
    old = app.config["PROPAGATE_EXCEPTIONS"]
    app.config["PROPAGATE_EXCEPTIONS"] = False
    yield
    app.config["PROPAGATE_EXCEPTIONS"] = old


# NUL (%00, valid UTF-8) cannot be stored as PostgreSQL text: a clear refusal, not a 500.
@pytest.mark.parametrize("url", [
    "/catalog?q=%00", "/catalog?category=%00", "/catalog?country=%00", "/catalog?currency=%00",
    "/ratings?country=%00", "/admin/users?q=%00", "/admin/ledger?currency=%00",
])
def test_nul_byte_in_query_is_not_a_500(url, client, app_context, no_propagation):
    user = make_user("publisher", email="p@example.com")
    account_services.set_roles(user, ["publisher", "admin"])
    db.session.commit()
    client.login("p@example.com")
    response = client.get(url)
    assert response.status_code == 422, (url, response.status_code)
    assert "NUL" in response.get_data(as_text=True)


def test_nul_byte_in_offer_postback_log_code_is_not_a_500(client, app_context, no_propagation):
    advertiser = make_user("advertiser", email="a@example.com")
    offer = make_offer(advertiser)
    client.login("a@example.com")
    response = client.get(f"/advertiser/offers/{offer.id}/postbacks?code=%00")
    assert response.status_code == 422


def test_nul_byte_in_api_catalog_search_is_a_4xx_json_error(client, app_context, no_propagation):
    key = make_api_key(make_user("publisher"))
    response = client.get("/api/v1/offers?scope=catalog&q=%00",
                          headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 422
    assert response.json["error"]["code"] == "validation_failed"


# A date at the calendar's end is ignored by the conversion filters, as other bad dates are.
@pytest.mark.parametrize("role,url", [
    ("advertiser", "/advertiser/conversions?until=9999-12-31"),
    ("publisher", "/conversions?until=9999-12-31"),
])
def test_conversions_until_max_date_is_not_a_500(role, url, client, app_context, no_propagation):
    make_user(role, email="u@example.com")
    client.login("u@example.com")
    response = client.get(url)
    assert response.status_code == 200, response.status_code


def test_api_conversions_until_max_date_is_not_a_500(client, app_context, no_propagation):
    key = make_api_key(make_user("advertiser"))
    response = client.get("/api/v1/conversions?until=9999-12-31",
                          headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200, response.status_code


# Stripe's refresh URL is a GET (no CSRF token): it renews a started account's link only.
def test_connect_refresh_get_does_not_create_a_payout_account(client, app_context):
    publisher = make_user("publisher", email="p@example.com")
    client.login("p@example.com")
    response = client.get("/earnings/connect/refresh")
    assert response.status_code == 302 and response.headers["Location"].endswith(
        "/earnings/settings")
    db.session.expire_all()
    created = db.session.scalar(select(PayoutAccount).where(
        PayoutAccount.user_id == publisher.id))
    assert created is None, "a plain GET (a link on any site) connected a payout account"


# /ratings/invite goes back only to a page of the site.
def test_ratings_invite_back_stays_on_site(client, app_context):
    advertiser = make_user("advertiser", email="a@example.com")
    make_offer(advertiser, visibility="private")
    make_user("publisher")
    client.login("a@example.com")
    response = client.submit("/ratings/invite", {"back": "https://evil.example/phish"},
                             page="/account")
    assert response.status_code == 302
    assert "evil.example" not in response.headers["Location"], response.headers["Location"]


# A link longer than a QR code holds is refused with a message.
@pytest.mark.parametrize("query", [
    "&".join(f"sub{i}=" + "%E4%BD%A0" * 255 for i in range(1, 6)),
])
def test_qr_code_of_a_long_link_is_not_a_500(query, client, app_context, no_propagation):
    offer = make_offer()
    publisher = make_user("publisher", email="p@example.com")
    make_link(offer, publisher)
    client.login("p@example.com")
    response = client.get(f"/catalog/{offer.id}/qr.png?{query}")
    assert response.status_code == 422, response.status_code
    assert "too long for a QR code" in response.get_data(as_text=True)


# Guesses at the current password on /account/password are limited like logins.
def test_change_password_guesses_are_rate_limited(client, app_context):
    make_user("publisher", email="p@example.com")
    client.login("p@example.com")
    token = client.csrf_token("/account")
    statuses = [client.post("/account/password", data={
        "csrf_token": token, "current": f"guess-number-{i}", "new": "another-horse-9",
        "confirm": "another-horse-9"}).status_code for i in range(30)]
    assert 429 in statuses, statuses
