"""Sign-up, login, logout, blocking and the invite link, as a visitor would use them."""

import pytest
from sqlalchemy import select

from cpa_network.accounts import services
from cpa_network.accounts.models import User
from cpa_network.extensions import db
from tests.factories import PASSWORD, make_user


def signup(client, email="new@example.com", roles=("publisher",), **extra):
    data = {"email": email, "password": PASSWORD, "confirm": PASSWORD, "roles": list(roles),
            **extra}
    return client.submit("/signup", data)


def test_signup_creates_account_with_roles_and_logs_in(client, app_context):
    response = signup(client, roles=("advertiser", "publisher"))
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/dashboard")
    user = db.session.scalar(select(User).where(User.email == "new@example.com"))
    assert user.roles == ["advertiser", "publisher"]
    assert user.password_hash != PASSWORD and user.password_hash.startswith("pbkdf2:")
    assert user.registered_at is not None and user.referral_code
    assert client.get("/dashboard").status_code == 200


def test_signup_shows_what_is_wrong_and_creates_nothing(client, app_context):
    make_user(email="taken@example.com")
    response = signup(client, email="taken@example.com")
    assert response.status_code == 200
    assert "An account with this email already exists." in response.get_data(as_text=True)
    response = client.submit("/signup", {"email": "a@example.com", "password": "short",
                                         "confirm": "short", "roles": ["publisher"]})
    assert "Field must be between 10 and 128 characters long." in response.get_data(as_text=True)
    response = signup(client, email="b@example.com", roles=())
    assert "Choose at least one role." in response.get_data(as_text=True)
    assert db.session.scalar(select(db.func.count(User.id))) == 1


def test_password_rules_refuse_guessable_passwords(app_context):
    with pytest.raises(services.WeakPassword):
        services.check_password_rules("aaaaaaaaaaaa", "x@example.com")
    with pytest.raises(services.WeakPassword):
        services.check_password_rules("johnsmith-secret", "johnsmith@example.com")
    services.check_password_rules("correct-horse-1", "john@example.com")


def test_invite_link_makes_the_inviter_upline(client, app_context):
    upline = make_user(email="upline@example.com")
    response = client.get(f"/r/{upline.referral_code}")
    assert response.headers["Location"].endswith("/signup")
    page = client.get("/signup").get_data(as_text=True)
    assert "They will be your upline." in page
    assert f'value="{upline.referral_code}"' in page
    signup(client, email="downline@example.com", referral_code=upline.referral_code)
    downline = db.session.scalar(select(User).where(User.email == "downline@example.com"))
    assert downline.referred_by_id == upline.id
    assert downline.referred_at is not None


def test_unknown_invite_code_is_refused_at_signup(client, app_context):
    response = signup(client, referral_code="nope")
    assert "This invite code does not exist." in response.get_data(as_text=True)
    assert db.session.scalar(select(db.func.count(User.id))) == 0


def test_login_logout_and_wrong_password(client, app_context):
    make_user(email="me@example.com")
    bad = client.login("me@example.com", "wrong-password-9")
    assert "Wrong email or password." in bad.get_data(as_text=True)
    assert client.get("/dashboard").status_code == 302
    ok = client.login("me@example.com")
    assert ok.status_code == 302
    assert client.get("/dashboard").status_code == 200
    client.submit("/logout", page="/dashboard")
    assert client.get("/dashboard").status_code == 302


def test_logout_invalidates_a_copied_session_cookie(app, app_context):
    make_user(email="me@example.com")
    from tests.conftest import Browser

    first, second = Browser(app.test_client()), Browser(app.test_client())
    first.login("me@example.com")
    cookie = first.get_cookie("session").value
    second.set_cookie("session", cookie)
    assert second.get("/dashboard").status_code == 200
    first.submit("/logout", page="/dashboard")
    assert second.get("/dashboard").status_code == 302  # the stolen copy is dead too


def test_login_next_never_redirects_off_site(client, app_context):
    make_user(email="me@example.com")
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        response = client.login("me@example.com", query_string={"next": target})
        assert response.headers["Location"] == "/dashboard", target
        client.submit("/logout", page="/dashboard")
    response = client.login("me@example.com", query_string={"next": "/account"})
    assert response.headers["Location"] == "/account"


def test_remember_me_sets_a_secure_httponly_cookie(client, app_context):
    make_user(email="me@example.com")
    response = client.submit("/login", {"email": "me@example.com", "password": PASSWORD,
                                        "remember": "y"})
    cookies = response.headers.getlist("Set-Cookie")
    remember = next(c for c in cookies if c.startswith("remember_token="))
    assert "HttpOnly" in remember and "SameSite=Lax" in remember
    session_cookie = next(c for c in cookies if c.startswith("session="))
    assert "HttpOnly" in session_cookie


def test_blocked_user_cannot_log_in_and_loses_sessions(client, app, app_context):
    user = make_user(email="bad@example.com")
    client.login("bad@example.com")
    assert client.get("/dashboard").status_code == 200
    services.block_user(db.session.get(User, user.id), "bot traffic")
    db.session.commit()
    assert client.get("/dashboard").status_code == 302
    response = client.login("bad@example.com")
    assert "This account is blocked." in response.get_data(as_text=True)


def test_admin_blocks_and_unblocks_from_the_users_page(client, app_context):
    make_user("admin", email="op@example.com")
    target = make_user(email="target@example.com")
    client.login("op@example.com")
    page = client.get("/admin/users?q=target").get_data(as_text=True)
    assert "target@example.com<br>" in page and "op@example.com<br>" not in page
    client.submit(f"/admin/users/{target.id}/block", {"reason": "fake clicks"},
                  page="/admin/users")
    db.session.expire_all()
    assert db.session.get(User, target.id).blocked_reason == "fake clicks"
    client.submit(f"/admin/users/{target.id}/unblock", page="/admin/users")
    db.session.expire_all()
    assert db.session.get(User, target.id).is_blocked is False


def test_non_admin_gets_403_on_operator_pages(client, app_context):
    make_user("advertiser", email="adv@example.com")
    client.login("adv@example.com")
    response = client.get("/admin/users")
    assert response.status_code == 403
    assert "You do not have access to this page." in response.get_data(as_text=True)


def test_profile_saves_language_and_timezone(client, app_context):
    user = make_user(email="me@example.com")
    client.login("me@example.com")
    response = client.submit("/account", {"display_name": "Me", "locale": "ru",
                                          "timezone": "Europe/Moscow"})
    assert response.status_code == 302
    db.session.expire_all()
    user = db.session.get(User, user.id)
    assert (user.locale, user.timezone, user.display_name) == ("ru", "Europe/Moscow", "Me")
    assert "Ваш аккаунт" in client.get("/account").get_data(as_text=True)


def test_last_seen_is_stamped_on_activity(client, app_context):
    user = make_user(email="me@example.com")
    client.login("me@example.com")
    user.last_seen_at = None
    db.session.commit()
    client.get("/dashboard")
    db.session.expire_all()
    assert db.session.get(User, user.id).last_seen_at is not None
