"""The click path `GET /c/<token>` and public banner files. Thin: offers.clicks does the work.

Never a 500 for a visitor: an unknown, paused or blocked link shows a friendly page (or sends
the visitor to the offer's fallback URL), and a failing store only loses the record, logged.
"""

import logging
import time

from flask import Blueprint, current_app, render_template, request, send_from_directory
from werkzeug.wrappers import Response

from offers import clicks, creatives, routing
from offers.geo import country_of

bp = Blueprint("tracking", __name__)
log = logging.getLogger(__name__)


def _redirect(location: str) -> Response:
    # Every click must reach us: browsers and proxies must not cache the redirect.
    return Response(status=302, headers={"Location": location, "Cache-Control": "no-store"})


def _unavailable(reason: str = "gone"):
    return render_template("offers/link_unavailable.html", reason=reason), 404


@bp.route("/c/<token>")
def click(token: str):
    try:
        route = routing.lookup(token)
    except Exception:
        log.exception("route lookup failed for a click")
        return _unavailable()
    if route is None or not route.live:
        if route is not None and route.fallback_url:
            return _redirect(route.fallback_url)
        return _unavailable()
    ms = time.time_ns() // 1_000_000
    headers = request.headers
    visit = clicks.Visit(request.remote_addr or "", headers.get("User-Agent", ""),
                         headers.get("Referer", ""), request.cookies.get(route.cookie_name))
    subs = clicks.subs_from(request.args)
    country = country_of(visit.ip)
    decision, flags = clicks.decide(route, subs, request.args.get("dl"), country, ms)
    if not decision.location:
        return _unavailable("country")
    try:
        clicks.record(route, decision, visit, subs, country, flags, ms)
    except Exception:
        log.exception("click %s not recorded", decision.click_id)
    response = _redirect(decision.location)
    if not flags:
        secure = current_app.config["SESSION_COOKIE_SECURE"]
        # SameSite=None lets the advertiser's pixel (a third-party request) read it over TLS.
        response.set_cookie(route.cookie_name, decision.click_id, max_age=route.cookie_max_age,
                            httponly=True, secure=secure, samesite="None" if secure else "Lax")
    return response


@bp.route("/creatives/<file_name>")
def creative_file(file_name: str):
    """A banner, served with the type found at upload and no way to run as a page."""
    creative = creatives.banner_by_file_name(file_name)
    if creative is None:
        return _unavailable()
    response = send_from_directory(creatives.upload_dir(), creative.file_name,
                                   mimetype=creative.mime_type, max_age=86400)
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response
