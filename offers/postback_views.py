"""The machine endpoints that report conversions: `GET|POST /postback` (server to server) and
`GET /p/<offer id>.gif` (the pixel). Thin: offers.postbacks and offers.pixels do the work, and
`postbacks.receive` is the transaction boundary that also writes the log line."""

from flask import Blueprint, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from cpa_network.extensions import csrf
from offers import pixels, postbacks
from offers.refusals import RequestTooLarge
from offers.tracking import find_click

bp = Blueprint("postbacks", __name__)
csrf.exempt(bp)  # machines authenticate with the offer's secret or signature, not a session


@bp.route("/postback", methods=["GET", "POST"])
def postback():
    try:
        params, refused = postbacks.read_params(request), None
    except RequestEntityTooLarge:
        # Refused before the body is read, and answered and logged as any refusal is, with
        # what the query string says (often the click and the offer).
        params = postbacks.limit_params(postbacks.query_params(request.query_string))
        refused = RequestTooLarge()

    def run(trace):
        if refused is not None:  # the log line goes to the offer of the click named, if any
            click = find_click(params.get("click_id", "").strip().upper())
            trace.offer_id = click.offer_id if click is not None else None
            raise refused
        return postbacks.ingest(params, trace)

    answer = postbacks.receive(run, params, source="postback", method=request.method,
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
