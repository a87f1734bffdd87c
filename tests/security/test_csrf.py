"""CSRF: every state-changing route refuses a post without a valid token (from the URL map).

Every POST/PUT/PATCH/DELETE route is posted by a signed-in user holding every role, without a
token and with a forged one: the answer is 400 and Flask-WTF names the missing or invalid
token as the reason (so it is the CSRF check that refused, before any view ran). Routes that
Flask-WTF exempts must be listed in EXEMPT with how they authenticate instead; a new exempt
route without a reason fails. The API must not accept the browser's session cookie either.
"""

from flask_wtf.csrf import CSRFProtect
from sqlalchemy import func, select
from werkzeug.routing.converters import NumberConverter

from cpa_network.accounts.models import ApiKey, User
from cpa_network.extensions import csrf, db
from tests.conftest import Browser
from tests.factories import make_user

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# Exempt blueprints -> how their callers authenticate instead of a session cookie.
EXEMPT = {
    "api": "bearer API key in the Authorization header; cookies are ignored",
    "offers_api": "bearer API key",
    "publishers_api": "bearer API key",
    "conversions_api": "bearer API key",
    "postbacks": "the offer's postback secret or HMAC signature",
    "webhooks": "Stripe's signature over the body",
}


def _url(app, rule) -> str:
    values = {name: 1 if isinstance(conv, NumberConverter) else "x"
              for name, conv in rule._converters.items()}
    with app.test_request_context():
        return app.url_map.bind("localhost").build(rule.endpoint, values, force_external=False)


def _write_rules(app):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods & WRITE_METHODS):
            yield rule, method


def _exempt_blueprints(app) -> set[str]:
    return {name for name, blueprint in app.blueprints.items()
            if blueprint in csrf._exempt_blueprints}


def test_exemptions_are_classified(app):
    exempt = _exempt_blueprints(app)
    assert exempt == set(EXEMPT), f"classify (or stop exempting): {exempt ^ set(EXEMPT)}"
    assert not csrf._exempt_views, f"single exempt views need a class here: {csrf._exempt_views}"
    for rule, _method in _write_rules(app):
        blueprint = rule.endpoint.rpartition(".")[0]
        if rule.rule.startswith("/api/v1"):
            assert blueprint in exempt, f"{rule.rule} is API but not CSRF-exempt"


def _signed_in(app, email: str = "all@example.com") -> Browser:
    make_user("advertiser", "publisher", "admin", email=email)
    browser = Browser(app.test_client())
    assert browser.login(email).status_code == 302
    return browser


def test_every_state_changing_route_refuses_a_post_without_a_valid_token(app, app_context,
                                                                          monkeypatch):
    browser = _signed_in(app)
    exempt = _exempt_blueprints(app)
    checked, wrong, reasons = [], [], []
    refuse = CSRFProtect._error_response

    def spy(self, reason):
        reasons.append(reason)  # Flask-WTF's own words: "The CSRF token is missing." etc.
        refuse(self, reason)

    monkeypatch.setattr(CSRFProtect, "_error_response", spy)
    for rule, method in _write_rules(app):
        if rule.endpoint.rpartition(".")[0] in exempt:
            continue
        url = _url(app, rule)
        for token in (None, "forged-token"):
            reasons.clear()
            data = {"csrf_token": token} if token else {}
            response = browser.open(url, method=method, data=data)
            if response.status_code != 400 or not any("CSRF" in r for r in reasons):
                wrong.append((method, url, token, response.status_code, reasons))
        checked.append(rule.endpoint)
    assert wrong == []
    # A broken generator would check nothing: these must be among what it found.
    assert {"accounts.logout", "accounts.change_password", "admin.block",
            "i18n.switch_language"} <= set(checked), checked
    assert browser.get("/dashboard").status_code == 200  # still signed in: logout refused too


def test_a_token_from_another_session_is_refused(app, app_context):
    browser = _signed_in(app)
    other = Browser(app.test_client())
    stolen = other.csrf_token("/login")
    response = browser.post("/account", data={"csrf_token": stolen, "display_name": "Mallory",
                                              "locale": "en", "timezone": "UTC"})
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.scalar(select(User.display_name).where(
        User.email == "all@example.com")) != "Mallory"


def test_refused_posts_change_nothing(app, app_context):
    """Spot checks on state: profile, password, API keys, blocking a user, the session."""
    browser = _signed_in(app)
    victim = make_user("publisher", email="victim@example.com")
    before = db.session.scalar(select(User).where(User.email == "all@example.com"))
    name, password_hash, version = before.display_name, before.password_hash, \
        before.session_version
    posts = [
        ("/account", {"display_name": "Mallory", "locale": "ru", "timezone": "UTC"}),
        ("/account/password", {"current": "correct-horse-1", "new": "another-horse-2",
                               "confirm": "another-horse-2"}),
        ("/account/api-keys", {"name": "evil", "scopes": ["read", "write"]}),
        (f"/admin/users/{victim.id}/block", {"reason": "csrf"}),
        ("/language", {"locale": "ru"}),
        ("/logout", {}),
    ]
    for url, data in posts:
        assert browser.post(url, data=data).status_code == 400, url
    db.session.expire_all()
    after = db.session.get(User, before.id)
    assert (after.display_name, after.password_hash, after.session_version) == (
        name, password_hash, version)
    assert db.session.scalar(select(func.count()).select_from(ApiKey)) == 0
    assert db.session.get(User, victim.id).blocked_at is None
    html = browser.get("/dashboard").get_data(as_text=True)
    assert 'lang="en"' in html  # the language switch did not happen either


def test_the_api_ignores_the_session_cookie(app, app_context):
    """CSRF through the API: a signed-in browser's cookie authorizes no API call."""
    browser = _signed_in(app)
    calls = [(rule, method) for rule, method in _write_rules(app)
             if rule.rule.startswith("/api/v1")]
    assert calls
    for rule, method in calls:
        response = browser.open(_url(app, rule), method=method, json={"amount": 100})
        assert response.status_code == 401, (method, rule.rule, response.status_code)
        assert response.json["error"]["code"] == "unauthenticated"
    assert browser.get("/api/v1/me").status_code == 401
    assert db.session.scalar(select(func.count()).select_from(ApiKey)) == 0
