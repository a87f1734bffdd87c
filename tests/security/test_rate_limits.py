"""Rate limits: login and sign-up per IP and per account, postbacks per offer, the API per key.

Each is answered 429 with `Retry-After`; the limits are made small here through the app's
config, read at each request.
"""

import pytest
from sqlalchemy import select

from cpa_network.accounts.models import ApiKey, User
from cpa_network.extensions import db
from offers.conversion_models import PostbackLog
from tests.conftest import Browser
from tests.factories import make_api_key, make_user
from tests.offers.conversion_helpers import conversions, live_setup, postback_url, stored_click
from tests.offers.helpers import make_link


def _retry_after(response) -> int:
    value = response.headers.get("Retry-After")
    assert value is not None and value.isdigit(), response.headers
    return int(value)


def test_login_per_ip_answers_429_with_retry_after(client, app_context, monkeypatch, app):
    monkeypatch.setitem(app.config, "RATELIMIT_LOGIN", "3 per minute")
    make_user(email="me@example.com")
    statuses = [client.login("me@example.com", "wrong-password-9").status_code
                for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = client.login("me@example.com")
    assert refused.status_code == 429 and 0 < _retry_after(refused) <= 60
    assert client.get("/dashboard").status_code == 302  # the right password did not get in


def test_login_per_account_holds_across_addresses(client, app_context, monkeypatch, app):
    """A botnet spreading guesses over many IPs still meets the per-account limit."""
    monkeypatch.setitem(app.config, "RATELIMIT_LOGIN", "3 per minute")
    make_user(email="victim@example.com")
    statuses = [client.login("victim@example.com", "wrong-password-9",
                             environ_base={"REMOTE_ADDR": f"198.51.100.{n}"}).status_code
                for n in range(1, 5)]
    assert statuses == [200, 200, 200, 429]
    # Another account from a fresh address is not affected.
    make_user(email="other@example.com")
    assert client.login("other@example.com",
                        environ_base={"REMOTE_ADDR": "198.51.100.99"}).status_code == 302


def test_signup_per_ip(client, app_context, monkeypatch, app):
    monkeypatch.setitem(app.config, "RATELIMIT_SIGNUP", "2 per minute")
    statuses = []
    for n in range(3):
        browser = Browser(app.test_client())  # a new visitor each time, from the same address
        statuses.append(browser.submit("/signup", {
            "email": f"new{n}@example.com", "password": "correct-horse-1",
            "confirm": "correct-horse-1", "roles": "publisher"}).status_code)
    assert statuses == [302, 302, 429]
    assert db.session.scalar(select(User).where(User.email == "new2@example.com")) is None


def test_postbacks_are_limited_per_offer(client, app_context, monkeypatch, app):
    monkeypatch.setitem(app.config, "RATELIMIT_POSTBACK", "3 per minute")
    offer, _link, click_id = live_setup()
    other, _other_link, other_click = live_setup()
    answers = [client.get(postback_url(offer, click_id, txid=f"T-{n}")) for n in range(4)]
    assert [a.json["status"] for a in answers] == ["ok", "ok", "ok", "rate_limited"]
    refused = answers[-1]
    assert refused.status_code == 429 and 0 < _retry_after(refused) <= 60
    assert set(refused.json) >= {"status", "message", "conversion_id"}
    assert len(conversions()) == 3
    # The log tells the advertiser why the call was refused.
    db.session.expire_all()
    last = db.session.scalars(select(PostbackLog).order_by(PostbackLog.id.desc())).first()
    assert (last.code, last.http_status, last.offer_id) == ("rate_limited", 429, offer.id)
    # Another offer has its own budget.
    assert client.get(postback_url(other, other_click)).json["status"] == "ok"


def test_unauthenticated_postbacks_do_not_spend_the_offers_quota(client, app_context,
                                                                 monkeypatch, app):
    monkeypatch.setitem(app.config, "RATELIMIT_POSTBACK", "2 per minute")
    offer, _link, click_id = live_setup()
    for n in range(5):
        forged = client.get(postback_url(offer, click_id, txid=f"F-{n}", secret="guess"))
        assert forged.json["status"] == "bad_signature"
    assert client.get(postback_url(offer, stored_click(make_link(offer)))).status_code == 200


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_api_is_limited_per_key_not_per_address(client, app_context, monkeypatch, app, method):
    monkeypatch.setitem(app.config, "RATELIMIT_API", "3 per minute")
    user = make_user("publisher")
    key = make_api_key(user)
    headers = {"Authorization": f"Bearer {key}"}
    url = "/api/v1/me" if method == "GET" else "/api/v1/withdrawals"
    statuses = [client.open(url, method=method, json={}, headers=headers,
                            environ_base={"REMOTE_ADDR": f"203.0.113.{n}"}).status_code
                for n in range(1, 5)]
    assert 429 not in statuses[:3] and statuses[3] == 429
    refused = client.get("/api/v1/me", headers=headers)
    assert refused.status_code == 429 and 0 < _retry_after(refused) <= 60
    assert refused.json["error"]["code"] == "rate_limited"
    # A second key of the same user has its own budget.
    other = make_api_key(user)
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {other}"}
                      ).status_code == 200
    assert db.session.scalar(select(db.func.count()).select_from(ApiKey)) == 2


def test_openapi_documents_429_with_retry_after_on_every_operation(client):
    spec = client.get("/api/v1/openapi.json").json
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if operation.get("security") == []:
                continue  # public, not keyed
            response = operation["responses"].get("429")
            assert response, f"{method.upper()} {path} does not document 429"
            assert "Retry-After" in response.get("headers", {}), f"{method.upper()} {path}"
