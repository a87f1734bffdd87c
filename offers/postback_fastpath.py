"""The postback's fast lane: WSGI middleware that answers `GET /postback` from a server before
Flask's per-request machinery (request object, session, login, i18n, after-request hooks), which
a server-to-server postback never uses. It runs the same `postbacks.receive` and `ingest` as the
Flask view, in an app context, and sends the same JSON, status, headers and log line. On
PostgreSQL it first tries offers.postback_direct, the same rules in three round trips, which
hands a call it cannot write itself over to the full path before writing anything.

A caller that sends cookies or asks for a language (a browser, someone testing by hand) gets
the Flask view, which answers in that language; so does a POST. If the lane fails for any
reason, Flask answers instead: a postback is idempotent (the same offer + goal + txid is
recorded once), so running it again is safe.
"""

import logging

from flask import Flask
from werkzeug.http import HTTP_STATUS_CODES

from cpa_network.extensions import db
from offers import postback_direct, postbacks
from offers.fastpath import security_headers
from offers.postbacks import query_params

log = logging.getLogger(__name__)
PATH = "/postback"


class PostbackFastPath:
    def __init__(self, app: Flask, wsgi_app):
        self.app, self.wsgi_app = app, wsgi_app
        self._headers: list[tuple[str, str]] | None = None
        # No cookie and no Accept-Language: the Flask view would answer in the default language
        # too (cpa_network.i18n); knowing it saves Flask-Babel's locale selection (about 2 % of
        # a postback).
        self._locale = app.config["BABEL_DEFAULT_LOCALE"]
        self._direct = postback_direct.available(app)

    def _json(self, body: dict) -> bytes:
        """The body exactly as `jsonify` writes it, without building a Response (about 1.5 % of
        a postback): compact, unless the provider says otherwise, then through jsonify itself."""
        provider = self.app.json
        if (provider.compact is None and self.app.debug) or provider.compact is False:
            return provider.response(body).get_data()
        return f"{provider.dumps(body, separators=(',', ':'))}\n".encode()

    def _fixed_headers(self) -> list[tuple[str, str]]:
        """The app's security headers (computed once, by the app's own after-request hook)."""
        if self._headers is None:
            self._headers = [*security_headers(), ("Cache-Control", "no-store"),
                             ("Content-Type", "application/json")]
        return self._headers

    def _receive(self, params: dict[str, str], remote_ip: str) -> postbacks.Answer:
        """In three round trips where it can (offers.postback_direct), else the full path."""
        counted = False
        if self._direct:
            try:
                return postback_direct.receive(self.app, params, remote_ip=remote_ip,
                                               locale=self._locale)
            except postback_direct.FullPath as handed_over:
                counted = handed_over.counted
        # The answer is made before the commit and nothing reads the session's objects after
        # it: expiring them all at the commit cost about 2 % of a postback.
        db.session().expire_on_commit = False
        return postbacks.receive(
            lambda trace: postbacks.ingest(params, trace, counted=counted), params,
            source="postback", method="GET", remote_ip=remote_ip, locale=self._locale)

    def __call__(self, environ, start_response):
        if (environ.get("PATH_INFO") != PATH or environ.get("REQUEST_METHOD") != "GET"
                or environ.get("HTTP_COOKIE") or environ.get("HTTP_ACCEPT_LANGUAGE")):
            return self.wsgi_app(environ, start_response)
        try:
            with self.app.app_context():
                params = postbacks.limit_params(query_params(  # WSGI: latin-1 text of the bytes
                    environ.get("QUERY_STRING", "").encode("latin-1")))
                answer = self._receive(params, environ.get("REMOTE_ADDR", ""))
                body = self._json(answer.body())
                headers = self._fixed_headers()
        except Exception:
            log.exception("the postback fast path failed; Flask answers instead")
            return self.wsgi_app(environ, start_response)
        headers = [*headers, ("Content-Length", str(len(body)))]
        if answer.retry_after:
            headers.append(("Retry-After", str(answer.retry_after)))
        code = answer.http_status  # the status line as werkzeug writes it for the Flask view
        start_response(f"{code} {HTTP_STATUS_CODES.get(code, 'unknown').upper()}", headers)
        return [body]
