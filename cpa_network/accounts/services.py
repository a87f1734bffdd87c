"""Account rules: sign-up, login, blocking, API keys. Services flush; the caller commits."""

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from cpa_network.accounts.models import ROLES, ApiKey, User
from cpa_network.database import utcnow
from cpa_network.errors import DomainError, NotFound, ValidationFailed
from cpa_network.extensions import db

PASSWORD_MIN_LENGTH = 10
PASSWORD_MAX_LENGTH = 128
API_KEY_PREFIX = "cpa_"
BLOCK_LISTENERS = "cpa_block_listeners"


class EmailTaken(DomainError):
    code = "email_taken"
    http_status = 409
    default_message = _l("An account with this email already exists.")


class WeakPassword(ValidationFailed):
    code = "weak_password"


class InvalidCredentials(DomainError):
    code = "invalid_credentials"
    http_status = 401
    default_message = _l("Wrong email or password.")


class AccountBlocked(DomainError):
    code = "account_blocked"
    http_status = 403
    default_message = _l("This account is blocked.")


class UnknownReferrer(ValidationFailed):
    code = "unknown_referrer"
    default_message = _l("This invite code does not exist.")


def normalize_email(email: str) -> str:
    return email.strip().lower()


def check_password_rules(password: str, email: str = "") -> None:
    """Length beats composition rules (NIST 800-63B); refuse the obvious."""
    if len(password) < PASSWORD_MIN_LENGTH:
        raise WeakPassword(_l("Use at least %(n)d characters.", n=PASSWORD_MIN_LENGTH))
    if len(password) > PASSWORD_MAX_LENGTH:
        raise WeakPassword(_l("Use at most %(n)d characters.", n=PASSWORD_MAX_LENGTH))
    local_part = normalize_email(email).split("@")[0]
    if len(set(password)) < 4 or (local_part and local_part in password.lower()):
        raise WeakPassword(_l("This password is too easy to guess."))


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def _decoy_hash() -> str:
    """A hash of a random password with the configured method, made once per app."""
    cached = current_app.extensions.get("cpa_decoy_hash")
    if cached is None:
        cached = current_app.extensions["cpa_decoy_hash"] = hash_password(secrets.token_hex(16))
    return cached


def new_referral_code() -> str:
    """A short, unambiguous, unguessable invite code."""
    while True:
        code = secrets.token_urlsafe(6).replace("-", "x").replace("_", "y")
        if db.session.scalar(select(User.id).where(User.referral_code == code)) is None:
            return code


def user_by_referral_code(code: str) -> User | None:
    return db.session.scalar(select(User).where(User.referral_code == code.strip()))


@dataclass(frozen=True)
class SignUp:
    email: str
    password: str
    roles: tuple[str, ...]
    display_name: str = ""
    referral_code: str | None = None
    locale: str | None = None
    timezone: str | None = None  # the browser's zone (static/js/app.js); unknown ones: UTC


def _known_zone(name: str | None) -> str:
    from zoneinfo import available_timezones

    return name if name and name in available_timezones() else "UTC"


def register_user(data: SignUp) -> User:
    """Create an account; a valid invite code makes its owner the new user's upline for life."""
    email = normalize_email(data.email)
    roles = [r for r in data.roles if r in ROLES]
    if not roles:
        raise ValidationFailed(_l("Choose at least one role."), fields={"roles": [_l("Required.")]})
    check_password_rules(data.password, email)
    if db.session.scalar(select(User.id).where(User.email == email)) is not None:
        raise EmailTaken()
    upline = None
    if data.referral_code:
        upline = user_by_referral_code(data.referral_code)
        if upline is None:
            raise UnknownReferrer()
    now = utcnow()
    user = User(
        email=email,
        password_hash=hash_password(data.password),
        display_name=data.display_name.strip() or email.split("@")[0],
        referral_code=new_referral_code(),
        referred_by=upline,
        referred_at=now if upline else None,
        locale=data.locale,
        timezone=_known_zone(data.timezone),
        registered_at=now,
        **{f"is_{role}": True for role in roles},
    )
    db.session.add(user)
    db.session.flush()
    return user


def authenticate(email: str, password: str) -> User:
    """The user with these credentials; a blocked account cannot log in."""
    user = db.session.scalar(select(User).where(User.email == normalize_email(email)))
    # An unknown address costs one hash check too, so timing does not tell which emails exist.
    stored = user.password_hash if user is not None else _decoy_hash()
    if not check_password_hash(stored, password) or user is None:
        raise InvalidCredentials()
    if user.is_blocked:
        raise AccountBlocked()
    user.last_login_at = user.last_seen_at = utcnow()
    return user


def change_password(user: User, current: str, new: str) -> None:
    if not check_password_hash(user.password_hash, current):
        raise InvalidCredentials(_l("The current password is wrong."))
    check_password_rules(new, user.email)
    user.password_hash = hash_password(new)
    user.session_version += 1


def end_sessions(user: User) -> None:
    """Invalidate every session and remember-me cookie this user has."""
    user.session_version += 1


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_l("No such user."))
    return user


def locked_user(user_id: int) -> User | None:
    """The user's row, re-read and locked FOR NO KEY UPDATE (inserts that only reference the
    user, in another transaction, are not held up); None if there is no such user."""
    return db.session.scalars(select(User).where(User.id == user_id)
                              .with_for_update(key_share=True)
                              .execution_options(populate_existing=True)).one_or_none()


def register_block_listener(app, listener) -> None:
    """`listener(user)` runs inside `block_user`'s transaction; higher layers register theirs in
    create_app (offers rejects a blocked publisher's undecided conversions)."""
    app.extensions.setdefault(BLOCK_LISTENERS, []).append(listener)


def block_user(user: User, reason: str) -> None:
    """A blocked user cannot log in or use the API; their links stop (offers.routing) and the
    registered block listeners run (offers rejects their undecided conversions and pauses
    their offers, the exchange withdraws their lots)."""
    if user.is_admin:
        raise DomainError(_l("An operator account cannot be blocked."))
    user.blocked_at = utcnow()
    user.blocked_reason = reason.strip()[:500]
    end_sessions(user)
    db.session.flush()
    for listener in current_app.extensions.get(BLOCK_LISTENERS, ()):
        listener(user)


def unblock_user(user: User) -> None:
    user.blocked_at = None
    user.blocked_reason = ""


def set_roles(user: User, roles: list[str]) -> None:
    for role in ROLES:
        setattr(user, f"is_{role}", role in roles)


def hash_api_key(key: str) -> str:
    # Keys are 32 random bytes: a fast hash is enough, a slow KDF would only slow the API.
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedApiKey:
    api_key: ApiKey
    secret: str  # the only time the full key exists outside the client


def create_api_key(user: User, name: str = "", scopes: str = "read write") -> IssuedApiKey:
    prefix = secrets.token_hex(4)
    secret = f"{API_KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    api_key = ApiKey(user=user, name=name.strip()[:80], prefix=prefix,
                     key_hash=hash_api_key(secret), scopes=scopes)
    db.session.add(api_key)
    db.session.flush()
    return IssuedApiKey(api_key, secret)


def revoke_api_key(user: User, key_id: int) -> None:
    api_key = db.session.get(ApiKey, key_id)
    if api_key is None or api_key.user_id != user.id:
        raise NotFound(_l("No such API key."))
    api_key.revoked_at = api_key.revoked_at or utcnow()


def user_for_api_key(secret: str) -> tuple[User, ApiKey] | None:
    """The active key's owner, or None; compared in constant time."""
    if not secret.startswith(API_KEY_PREFIX) or secret.count("_") < 2:
        return None
    prefix = secret[len(API_KEY_PREFIX):].split("_", 1)[0]
    api_key = db.session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    if api_key is None or api_key.revoked_at is not None:
        return None
    if not hmac.compare_digest(api_key.key_hash, hash_api_key(secret)):
        return None
    if api_key.user.is_blocked:
        raise AccountBlocked()
    return api_key.user, api_key
