"""Sessions: cookie flags in production, a new session at login, and sessions that can die
(logout, password change, block) even if someone copied the cookie."""

import pytest
from sqlalchemy import select

from cpa_network.accounts import services
from cpa_network.accounts.models import User
from cpa_network.app import create_app
from cpa_network.extensions import db
from tests.conftest import Browser
from tests.factories import make_api_key, make_user

HTTPS = "https://localhost"


@pytest.fixture
def production_app(app):
    """The production configuration over the suite's database and Redis."""
    prod = create_app("production", SECRET_KEY="production-test-key",
                      SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                      REDIS_URL=app.config["REDIS_URL"],
                      RATELIMIT_STORAGE_URI=app.config["REDIS_URL"])
    yield prod
    with prod.app_context():
        db.session.remove()
        db.engine.dispose()


def _set_cookies(response) -> dict[str, str]:
    return {header.split("=", 1)[0]: header for header in response.headers.getlist("Set-Cookie")}


def _attributes(header: str) -> set[str]:
    return {part.strip().lower() for part in header.split(";")[1:]}


def test_production_cookies_are_secure_httponly_and_samesite_lax(production_app, app_context):
    make_user(email="me@example.com")
    browser = Browser(production_app.test_client())
    html = browser.get("/login", base_url=HTTPS).get_data(as_text=True)
    csrf = html.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    response = browser.post("/login", base_url=HTTPS, headers={"Referer": f"{HTTPS}/login"},
                            data={"csrf_token": csrf, "email": "me@example.com",
                                  "password": "correct-horse-1", "remember": "y"})
    assert response.status_code == 302
    cookies = _set_cookies(response)
    assert {"session", "remember_token"} <= set(cookies)
    for name in ("session", "remember_token"):
        assert {"secure", "httponly", "samesite=lax"} <= _attributes(cookies[name]), name
    headers = response.headers
    assert headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_no_hsts_outside_production(client):
    assert "Strict-Transport-Security" not in client.get("/").headers


def test_login_issues_a_new_session_and_the_old_cookie_is_not_signed_in(client, app, app_context):
    """Session fixation: a cookie planted before login never becomes a signed-in session."""
    make_user(email="me@example.com")
    client.get("/login")
    planted = client.get_cookie("session").value
    # Flask-WTF's secret itself: the tokens made from it are timestamped, so two differ anyway.
    with client.session_transaction() as session:
        secret_before = session["csrf_token"]
    assert client.login("me@example.com").status_code == 302
    assert client.get_cookie("session").value != planted
    client.csrf_token("/account")  # a form makes the new session's secret
    with client.session_transaction() as session:
        assert session["csrf_token"] != secret_before  # the CSRF secret was rotated too
    attacker = app.test_client()
    attacker.set_cookie("session", planted)
    assert attacker.get("/dashboard").status_code == 302


def test_logout_kills_a_copied_session_and_remember_cookie(client, app, app_context):
    make_user(email="me@example.com")
    client.submit("/login", {"email": "me@example.com", "password": "correct-horse-1",
                             "remember": "y"})
    copied = {name: client.get_cookie(name).value for name in ("session", "remember_token")}
    thief = app.test_client()
    for name, value in copied.items():
        thief.set_cookie(name, value)
    assert thief.get("/dashboard").status_code == 200
    assert client.submit("/logout", page="/account").status_code == 302
    assert thief.get("/dashboard").status_code == 302
    only_remember = app.test_client()
    only_remember.set_cookie("remember_token", copied["remember_token"])
    assert only_remember.get("/dashboard").status_code == 302


def test_password_change_ends_other_sessions_but_not_this_one(client, app, app_context):
    make_user(email="me@example.com")
    other = Browser(app.test_client())
    other.login("me@example.com")
    client.login("me@example.com")
    response = client.submit("/account/password", {
        "current": "correct-horse-1", "new": "another-horse-2", "confirm": "another-horse-2"},
        page="/account")
    assert response.status_code == 302
    assert client.get("/dashboard").status_code == 200
    assert other.get("/dashboard").status_code == 302


def test_a_blocked_users_session_and_api_keys_die(client, app, app_context):
    user = make_user("publisher", email="me@example.com")
    key = make_api_key(user)
    client.login("me@example.com")
    assert client.get("/dashboard").status_code == 200
    services.block_user(db.session.get(User, user.id), "fraud")
    db.session.commit()
    assert client.get("/dashboard").status_code == 302
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {key}"}
                      ).status_code in (401, 403)
    assert client.login("me@example.com").status_code != 302  # and cannot log in again
    assert db.session.scalar(select(User.blocked_at).where(User.id == user.id)) is not None
