"""Operator CLI: users create, users api-key, demo load."""

from sqlalchemy import func, select

from cpa_network.accounts.models import User
from cpa_network.extensions import db
from tests.factories import make_user


def test_users_create_with_role_and_referrer(app, app_context):
    upline = make_user()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "create", "Cli@Example.com", "--role", "advertiser",
                                 "--role", "publisher", "--password", "long-password-1",
                                 "--referrer", upline.referral_code])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "cli@example.com"))
    assert user.roles == ["advertiser", "publisher"] and user.referred_by_id == upline.id


def test_users_create_refuses_bad_input_with_a_message(app, app_context):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "create", "x@example.com", "--role", "publisher",
                                 "--password", "short"])
    assert result.exit_code == 1
    assert "Use at least 10 characters." in result.output
    result = runner.invoke(args=["users", "create", "x@example.com", "--role", "king",
                                 "--password", "long-password-1"])
    assert result.exit_code == 2
    assert db.session.scalar(select(func.count(User.id))) == 0


def test_users_api_key_prints_a_working_key(app, client, app_context):
    make_user(email="me@example.com")
    result = app.test_cli_runner().invoke(args=["users", "api-key", "me@example.com"])
    assert result.exit_code == 0
    key = result.output.strip().splitlines()[-1]
    assert key.startswith("cpa_")
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {key}"})
    assert me.json["email"] == "me@example.com"


def test_demo_load_builds_a_referral_tree_and_refuses_to_load_twice(app, app_context):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    assert "admin@example.com" in result.output
    users = db.session.scalars(select(User)).all()
    advertisers = [u for u in users if u.is_advertiser]
    publishers = [u for u in users if u.is_publisher]
    assert len(advertisers) == 5 and len(publishers) == 40

    def depth(user):
        return 0 if user.referred_by is None else 1 + depth(user.referred_by)

    assert max(depth(p) for p in publishers) == 3
    # Conversions of the demo clicks, in every state, and books that balance.
    from offers.conversion_models import Conversion
    from payouts.invariants import check_ledger

    statuses = set(db.session.scalars(select(Conversion.status)))
    assert statuses == {"pending", "approved", "rejected", "awaiting_funds"}
    assert db.session.scalar(select(func.count(Conversion.id)).where(Conversion.held))
    assert check_ledger().ok
    again = runner.invoke(args=["demo", "load"])
    assert again.exit_code == 1 and "not empty" in again.output
    quiet = runner.invoke(args=["demo", "load", "--if-empty"])
    assert quiet.exit_code == 0 and "nothing loaded" in quiet.output
    assert db.session.scalar(select(func.count(User.id))) == len(users)
