"""Secrets: API keys stored hashed; every secret, signature or token compared in constant time.

Postback secrets stay readable on purpose: the advertiser's integration page shows the offer's
`postback_secret` again (it is the HMAC key their server signs with), so it cannot be hashed.
"""

import ast
import hmac
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from cpa_network.accounts import services
from cpa_network.accounts.models import ApiKey
from cpa_network.extensions import db
from offers import postbacks
from tests.conftest import PROJECT_ROOT
from tests.factories import make_api_key, make_user, tampered
from tests.offers.helpers import make_offer

SECRET_NAME = re.compile(r"secret|signature|signed|digest|token|key_hash|password|csrf", re.I)
PACKAGES = ("cpa_network", "offers", "publishers", "payouts")


def _names(node: ast.AST) -> list[str]:
    """The variable, attribute and call names an expression is made of."""
    found = []
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            found.append(sub.id)
        elif isinstance(sub, ast.Attribute):
            found.append(sub.attr)
        elif isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            found.append("")  # a literal is not a secret
    return found


def _is_column(node: ast.AST) -> bool:
    """`Model.column` in a SQL expression (compared by the database, not in Python)."""
    return (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
            and node.value.id[:1].isupper())


def test_no_secret_is_compared_with_equals():
    offenders = []
    for package in PACKAGES:
        for path in Path(PROJECT_ROOT, package).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if not isinstance(node, ast.Compare):
                    continue
                if not any(isinstance(op, ast.Eq | ast.NotEq) for op in node.ops):
                    continue
                sides = [node.left, *node.comparators]
                if any(_is_column(side) for side in sides):
                    continue
                if any(SECRET_NAME.search(name) for side in sides for name in _names(side)):
                    offenders.append(f"{path.relative_to(PROJECT_ROOT)}:{node.lineno}")
    assert offenders == [], "compare secrets with hmac.compare_digest"


def test_api_keys_are_stored_as_sha256_and_checked_in_constant_time(app_context, monkeypatch):
    user = make_user("publisher")
    secret = make_api_key(user)
    stored = db.session.scalar(select(ApiKey).where(ApiKey.user_id == user.id))
    assert secret not in (stored.key_hash, stored.prefix, stored.name)
    assert re.fullmatch(r"[0-9a-f]{64}", stored.key_hash)
    calls = []
    real = hmac.compare_digest
    monkeypatch.setattr(hmac, "compare_digest", lambda a, b: calls.append(1) or real(a, b))
    assert services.user_for_api_key(secret)[0].id == user.id
    assert services.user_for_api_key(tampered(secret)) is None
    assert len(calls) == 2


def test_postback_secret_and_signature_are_checked_in_constant_time(app_context, monkeypatch):
    offer = make_offer()
    params = {"click_id": "X", "goal": "registration", "txid": "T"}
    calls = []
    real = hmac.compare_digest
    monkeypatch.setattr(hmac, "compare_digest", lambda a, b: calls.append(1) or real(a, b))
    postbacks.authenticate(offer, {**params, "secret": offer.postback_secret})
    postbacks.authenticate(offer, {**params, "signature": postbacks.sign(offer.postback_secret,
                                                                         params)})
    for wrong in ({"secret": tampered(offer.postback_secret)}, {"signature": "0" * 64}, {}):
        with pytest.raises(postbacks.BadSignature):
            postbacks.authenticate(offer, {**params, **wrong})
    assert len(calls) == 4  # every attempt that carried a secret or signature


def test_an_unknown_email_costs_a_password_check_too(app_context, monkeypatch):
    """No timing oracle for which addresses have accounts."""
    make_user(email="me@example.com")
    checked = []
    real = services.check_password_hash
    monkeypatch.setattr(services, "check_password_hash",
                        lambda stored, given: checked.append(stored) or real(stored, given))
    for email in ("me@example.com", "nobody@example.com"):
        with pytest.raises(services.InvalidCredentials):
            services.authenticate(email, "wrong-password-9")
    assert len(checked) == 2 and checked[0] != checked[1]
