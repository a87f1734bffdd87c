"""The click path's fast lane: WSGI middleware that answers `GET /c/<token>` redirects before
Flask's per-request machinery (sessions, login, rate-limit bookkeeping, i18n, teardown), which a
click never uses. It runs the same `process_click` as the Flask view, inside an app context,
and sends the same security headers; anything that needs a page (unknown or paused links, a
country the offer refuses) or fails is handed to Flask unchanged.
"""

import gc
import logging
from urllib.parse import parse_qsl

from flask import Flask
from werkzeug.urls import iri_to_uri
from werkzeug.wrappers import Response

from offers.click_views import cookie_options
from offers.clicks import Visit, process_click
from offers.geo import preload

log = logging.getLogger(__name__)
PREFIX = "/c/"


def cookie_value(header: str, name: str) -> str | None:
    """One cookie's value from a Cookie header (ours hold plain ASCII: a click id and a link id)."""
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value.strip('"')
    return None


def security_headers() -> list[tuple[str, str]]:
    """The app's security headers, as its own after-request hook sets them (for answers made
    ahead of Flask: computed once per process by each lane)."""
    from cpa_network.security import add_security_headers

    sample = add_security_headers(Response())
    return [(k, v) for k, v in sample.headers.items() if k not in ("Content-Type",
                                                                    "Content-Length")]


def environ_visit(environ):
    def visit_for(route) -> Visit:
        return Visit(environ.get("REMOTE_ADDR", ""), environ.get("HTTP_USER_AGENT", ""),
                     environ.get("HTTP_REFERER", ""),
                     cookie_value(environ.get("HTTP_COOKIE", ""), route.cookie_name))

    return visit_for


class ClickFastPath:
    def __init__(self, app: Flask, wsgi_app):
        self.app, self.wsgi_app = app, wsgi_app
        self._headers: list[tuple[str, str]] | None = None
        self._cookie = ""  # the attribution cookie's attributes after its Max-Age

    def _fixed_headers(self) -> list[tuple[str, str]]:
        """The app's security headers (computed once, by the app's own after-request hook)."""
        if self._headers is None:
            # Once per process: load the GeoIP tables, then move them out of the garbage
            # collector's reach (wsgi.py froze the app already; an app built elsewhere, by the
            # tests for one, is frozen here). A full collection otherwise walks them, about 50 ms,
            # and shows up as the click path's p99.
            preload()
            gc.freeze()
            options = cookie_options()
            self._cookie = "; Path=/; HttpOnly" + ("; Secure" if options["secure"] else "") \
                + f"; SameSite={options['samesite']}"
            self._headers = [*security_headers(), ("Cache-Control", "no-store"),
                             ("Content-Length", "0")]
        return self._headers

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if not path.startswith(PREFIX) or environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return self.wsgi_app(environ, start_response)
        token = path[len(PREFIX):]
        if not token or "/" in token:
            return self.wsgi_app(environ, start_response)
        try:
            with self.app.app_context():
                # Read the environ directly: a werkzeug Request costs more than the whole rest.
                args = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
                outcome = process_click(token, args, environ_visit(environ))
                headers = self._fixed_headers()
        except Exception:
            log.exception("the click fast path failed; Flask answers instead")
            return self.wsgi_app(environ, start_response)
        if outcome.location is None:
            return self.wsgi_app(environ, start_response)  # the friendly page
        location = outcome.location if outcome.location.isascii() else iri_to_uri(
            outcome.location)
        headers = [*headers, ("Location", location)]
        if outcome.cookie:
            name, value, max_age = outcome.cookie  # our own ASCII name and click id
            headers.append(("Set-Cookie", f"{name}={value}; Max-Age={max_age}{self._cookie}"))
        start_response("302 FOUND", headers)
        return [b""]
