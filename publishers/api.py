"""`POST /api/v1/offers/<id>/links`: the publisher's tracking link and promo code for an offer."""

from flask import Blueprint, jsonify, request

from cpa_network.api.auth import api_user, authenticate_request, requires_role
from cpa_network.api.openapi import document
from cpa_network.extensions import csrf, db
from offers.api_docs import ERROR, LINK, LINK_REQUEST
from publishers import services

bp = Blueprint("publishers_api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)
bp.before_request(authenticate_request)


@bp.post("/offers/<int:offer_id>/links")
@document("Get a tracking link", roles=("publisher",), request=LINK_REQUEST,
          tags=("offers",),
          description="One link per publisher and offer: the same token and promo code every "
                      "time. Sub-ids and a deep link in the body shape the returned url.",
          responses={200: ("The link.", LINK), 404: ("`not_found`.", ERROR),
                     422: ("`deep_link_refused`: not on the offer's own host.", ERROR)})
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
