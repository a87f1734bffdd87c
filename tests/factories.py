"""Factories: build rows through the same services the site uses."""

import itertools

from cpa_network.accounts import services
from cpa_network.accounts.models import User
from cpa_network.extensions import db

PASSWORD = "correct-horse-1"
_counter = itertools.count(1)


def make_user(*roles: str, email: str | None = None, password: str = PASSWORD,
              upline: User | None = None, **attrs) -> User:
    """A committed user with `roles` (default publisher)."""
    number = next(_counter)
    user = services.register_user(services.SignUp(
        email=email or f"user{number}@example.com",
        password=password,
        roles=roles or ("publisher",),
        display_name=attrs.pop("display_name", f"User {number}"),
        referral_code=upline.referral_code if upline else None,
    ))
    for name, value in attrs.items():
        setattr(user, name, value)
    db.session.commit()
    return user


def make_api_key(user: User, scopes: str = "read write") -> str:
    issued = services.create_api_key(user, "test", scopes)
    db.session.commit()
    return issued.secret


def tampered(secret: str) -> str:
    """`secret` with its last character replaced by a different one: always a wrong secret
    (a fixed replacement such as `secret[:-1] + "0"` is the same secret when it already ends so)."""
    return secret[:-1] + ("1" if secret[-1] == "0" else "0")
