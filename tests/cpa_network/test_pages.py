"""Site-wide behaviour: error pages, CSRF, security headers, the language switch."""

from babel import Locale

from cpa_network import i18n
from tests.factories import make_user


def test_404_page_in_site_style(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "This page does not exist." in html and "cpa-network" in html


def test_api_404_is_json(client, app_context):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"


def test_form_post_without_csrf_token_is_refused(client, app_context):
    make_user(email="me@example.com")
    response = client.post("/login", data={"email": "me@example.com",
                                           "password": "correct-horse-1"})
    assert response.status_code == 400
    assert "The request could not be understood." in response.get_data(as_text=True)
    assert client.get("/dashboard").status_code == 302


def test_logout_without_csrf_token_does_nothing(client, app_context):
    make_user(email="me@example.com")
    client.login("me@example.com")
    assert client.post("/logout").status_code == 400
    assert client.get("/dashboard").status_code == 200


def test_security_headers(client):
    headers = client.get("/").headers
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"


def test_no_inline_scripts_on_pages(client, app_context):
    make_user("advertiser", "publisher", "admin", email="me@example.com")
    client.login("me@example.com")
    for path in ("/", "/dashboard", "/account", "/account/api-keys", "/admin/users",
                 "/notifications"):
        html = client.get(path).get_data(as_text=True)
        assert "<script>" not in html and "onclick=" not in html, path


def test_language_switch_to_russian_and_back(client):
    response = client.submit("/language", {"locale": "ru"}, page="/",
                             headers={"Referer": "http://localhost/login"})
    assert response.headers["Location"] == "/login"
    html = client.get("/login").get_data(as_text=True)
    assert 'lang="ru"' in html and "Войти" in html
    client.submit("/language", {"locale": "en"}, page="/")
    assert "Log in" in client.get("/login").get_data(as_text=True)


def test_language_switch_never_redirects_off_site(client):
    response = client.submit("/language", {"locale": "ru"}, page="/",
                             headers={"Referer": "https://evil.example/phish"})
    assert response.headers["Location"] == "/"


def test_browser_language_is_used_for_visitors(client):
    html = client.get("/", headers={"Accept-Language": "ru-RU,ru;q=0.9"}).get_data(as_text=True)
    assert 'lang="ru"' in html


def test_each_language_is_parsed_once(app):
    """The locale selector hands Flask-Babel a parsed Locale, the same one for each language."""
    with app.test_request_context("/", headers={"Accept-Language": "ru"}):
        russian = i18n.select_locale()
    with app.test_request_context("/", headers={"Accept-Language": "ru-RU,ru;q=0.9"}):
        again = i18n.select_locale()
    with app.app_context():  # outside a request: the default language
        default = i18n.select_locale()
    assert isinstance(russian, Locale) and str(russian) == "ru" and again is russian
    assert str(default) == app.config["BABEL_DEFAULT_LOCALE"]


def test_rate_limit_on_login_answers_429(client, app_context):
    make_user(email="me@example.com")
    statuses = [client.login("me@example.com", "wrong-password-9").status_code
                for _ in range(12)]
    assert statuses[:10] == [200] * 10
    assert statuses[-1] == 429
