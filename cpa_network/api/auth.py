"""Bearer API keys: `Authorization: Bearer <key>`; scopes `read` and `write`."""

from functools import wraps

from flask import current_app, g, request
from flask_babel import lazy_gettext as _l

from cpa_network.accounts import services
from cpa_network.accounts.models import User
from cpa_network.database import utcnow
from cpa_network.errors import DomainError, Forbidden
from cpa_network.extensions import db
from cpa_network.ratelimits import enforce

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
PUBLIC_ENDPOINTS = {"api.openapi"}


class Unauthenticated(DomainError):
    code = "unauthenticated"
    http_status = 401
    default_message = _l("Send a valid API key: Authorization: Bearer <key>.")


class InsufficientScope(Forbidden):
    code = "insufficient_scope"
    default_message = _l("This API key may only read.")


def authenticate_request() -> None:
    """Resolve the bearer key to a user before any API view runs."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthenticated()
    found = services.user_for_api_key(secret.strip())
    if found is None:
        raise Unauthenticated(_l("This API key is not valid or was revoked."))
    user, api_key = found
    g.api_user, g.api_key = user, api_key
    # Per key, not per address: one client behind many IPs shares its budget.
    enforce(current_app.config["RATELIMIT_API"], "api", str(api_key.id))
    if request.method not in SAFE_METHODS:
        require_scope("write")
    now = utcnow()
    if api_key.last_used_at is None or (now - api_key.last_used_at).total_seconds() > 60:
        api_key.last_used_at = now
        user.last_seen_at = now
        db.session.commit()  # a stamp at most once a minute, before the call's own work


def api_user() -> User:
    return g.api_user


def require_scope(scope: str) -> None:
    if scope not in g.api_key.scope_set:
        raise InsufficientScope()


def requires_role(*roles: str):
    """Refuse the call unless the key's owner holds one of `roles`."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not any(api_user().has_role(r) for r in roles):
                raise Forbidden(_l("This needs the %(roles)s role.", roles=" or ".join(roles)))
            return view(*args, **kwargs)

        return wrapped

    return decorator
