"""The machine endpoints that report conversions: `GET|POST /postback` (server to server) and
`GET /p/<offer id>.gif` (the pixel). Thin: offers.postbacks and offers.pixels do the work, and
`postbacks.receive` is the transaction boundary that also writes the log line."""

from flask import Blueprint, jsonify, request
from werkzeug.wrappers import Response

from cpa_network.extensions import csrf
from offers import pixels, postbacks

bp = Blueprint("postbacks", __name__)
csrf.exempt(bp)  # machines authenticate with the offer's secret or signature, not a session


@bp.route("/postback", methods=["GET", "POST"])
def postback():
    params = postbacks.read_params(request)
    answer = postbacks.receive(lambda trace: postbacks.ingest(params, trace), params,
                               source="postback", method=request.method,
                               remote_ip=request.remote_addr or "")
    response = jsonify(answer.body())
    response.status_code = answer.http_status
    response.headers["Cache-Control"] = "no-store"
    if answer.retry_after:
        response.headers["Retry-After"] = str(answer.retry_after)
    return response


@bp.route("/p/<int:offer_id>.gif")
def pixel(offer_id: int):
    params = postbacks.query_params(request.query_string)
    agent = request.headers.get("User-Agent", "")
    cookie = request.cookies.get(pixels.cookie_name(offer_id))
    address = request.remote_addr or ""
    answer = postbacks.receive(
        lambda trace: pixels.ingest(offer_id, cookie, params, agent, trace, remote_ip=address),
        params, source="pixel", remote_ip=address)
    # An image either way; the status and a header say what happened.
    response = Response(pixels.GIF, status=answer.http_status, mimetype="image/gif")
    response.headers["Cache-Control"] = "no-store"
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    response.headers["X-Conversion-Status"] = answer.code
    if answer.retry_after:
        response.headers["Retry-After"] = str(answer.retry_after)
    return response
