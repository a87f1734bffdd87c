"""The click path `GET /c/<token>` and public banner files. Thin: offers.clicks does the work.

Clicks that redirect are normally answered by offers.fastpath before Flask's request machinery;
this view answers the rest (the friendly pages) and anything the fast path hands over.
Never a 500 for a visitor: an unknown, paused or blocked link shows a friendly page (or sends
the visitor to the offer's fallback URL), and a failing store only loses the record, logged.
"""

import logging

from flask import Blueprint, current_app, render_template, request, send_from_directory
from werkzeug.wrappers import Response

from offers import clicks, creatives

bp = Blueprint("tracking", __name__)
log = logging.getLogger(__name__)


def visit_reader(req):
    """A function that reads the visitor from `req` once the route (its cookie name) is known."""

    def visit_for(route) -> clicks.Visit:
        headers = req.headers
        return clicks.Visit(req.remote_addr or "", headers.get("User-Agent", ""),
                            headers.get("Referer", ""), req.cookies.get(route.cookie_name))

    return visit_for


def cookie_options() -> dict:
    secure = current_app.config["SESSION_COOKIE_SECURE"]
    # SameSite=None lets the advertiser's pixel (a third-party request) read it over TLS.
    return {"httponly": True, "secure": secure, "samesite": "None" if secure else "Lax"}


@bp.route("/c/<token>")
def click(token: str):
    try:
        outcome = clicks.process_click(token, request.args, visit_reader(request))
    except Exception:
        log.exception("a click failed before its redirect")
        outcome = clicks.Outcome(None, "gone")
    if outcome.location is None:
        return render_template("offers/link_unavailable.html", reason=outcome.reason), 404
    # Every click must reach us: browsers and proxies must not cache the redirect.
    response = Response(status=302, headers={"Location": outcome.location,
                                             "Cache-Control": "no-store"})
    if outcome.cookie:
        name, value, max_age = outcome.cookie
        response.set_cookie(name, value, max_age=max_age, **cookie_options())
    return response


@bp.route("/creatives/<file_name>")
def creative_file(file_name: str):
    """A banner, served with the type found at upload and no way to run as a page."""
    creative = creatives.banner_by_file_name(file_name)
    if creative is None:
        return render_template("offers/link_unavailable.html", reason="gone"), 404
    response = send_from_directory(creatives.upload_dir(), creative.file_name,
                                   mimetype=creative.mime_type, max_age=86400)
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response
