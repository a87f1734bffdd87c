"""The /api/v1 blueprint: CSRF-exempt (bearer keys, no cookies), authenticated before each call."""

from flask import Blueprint, jsonify

from cpa_network.api.auth import api_user, authenticate_request
from cpa_network.api.openapi import build_spec, document, register_schema
from cpa_network.extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)
bp.before_request(authenticate_request)

ME = register_schema("Me", {
    "type": "object",
    "required": ["id", "email", "display_name", "roles", "referral_code", "registered_at"],
    "properties": {
        "id": {"type": "integer"},
        "email": {"type": "string"},
        "display_name": {"type": "string"},
        "roles": {"type": "array", "items": {"enum": ["advertiser", "publisher", "admin"]}},
        "referral_code": {"type": "string"},
        "registered_at": {"type": "string", "format": "date-time"},
    },
})


@bp.route("/openapi.json")
@document("This document", responses={200: ("The OpenAPI 3.1 document.", {"type": "object"})})
def openapi():
    return jsonify(build_spec())


@bp.route("/me")
@document("Who the key belongs to", responses={200: ("The key's owner.", ME)})
def me():
    user = api_user()
    return jsonify(id=user.id, email=user.email, display_name=user.display_name,
                   roles=user.roles, referral_code=user.referral_code,
                   registered_at=user.registered_at.isoformat())
