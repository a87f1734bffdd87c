"""`POST /api/v1/offers/<id>/links`: the publisher's tracking link and promo code for an offer."""

from flask import Blueprint, jsonify, request

from cpa_network.api.auth import api_user, authenticate_request, requires_role
from cpa_network.extensions import csrf, db
from publishers import services

bp = Blueprint("publishers_api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)
bp.before_request(authenticate_request)


@bp.post("/offers/<int:offer_id>/links")
@requires_role("publisher")
def create_link(offer_id: int):
    """Idempotent: the same publisher and offer always get the same token and promo code.
    Optional body: {"sub1".."sub5": str, "deep_link": "/path"} to build the returned url."""
    body = request.get_json(silent=True)
    params = {k: v for k, v in (body or {}).items() if isinstance(v, str)} \
        if isinstance(body, dict) else {}
    built = services.build_link(api_user(), offer_id, params)
    db.session.commit()
    return jsonify(token=built.link.token, url=built.url, promo_code=built.link.promo_code,
                   offer_id=built.offer.id), 200
