"""The /api/v1 blueprint: CSRF-exempt (bearer keys, no cookies), authenticated before each call."""

from flask import Blueprint, jsonify

from cpa_network.api.auth import api_user, authenticate_request
from cpa_network.extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)
bp.before_request(authenticate_request)


@bp.route("/me")
def me():
    user = api_user()
    return jsonify(id=user.id, email=user.email, display_name=user.display_name,
                   roles=user.roles, referral_code=user.referral_code,
                   registered_at=user.registered_at.isoformat())
