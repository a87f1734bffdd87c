"""Site sessions: loading the user, role guards, last-seen stamps."""

from functools import wraps

from flask import Flask, abort, current_app
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from cpa_network.accounts.models import User
from cpa_network.database import utcnow
from cpa_network.extensions import db, login_manager


def init_login(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please log in to open this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """A session names "user id:session version"; an old version is a dead session."""
    user_id, _, version = session_id.partition(":")
    if not user_id.isdigit() or not version.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or user.session_version != int(version) or user.is_blocked:
        return None
    return user


def role_required(*roles: str):
    """Guard a page: signed in and holding at least one of `roles`."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not any(current_user.has_role(r) for r in roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def touch_last_seen() -> None:
    """Stamp last_seen_at at most every few minutes: the exchange reads it, writes stay rare."""
    if not current_user.is_authenticated:
        return
    now = utcnow()
    stale_after = current_app.config["LAST_SEEN_RESOLUTION_S"]
    seen = current_user.last_seen_at
    if seen is None or (now - seen).total_seconds() >= stale_after:
        current_user.last_seen_at = now
        db.session.commit()
