"""Money, numbers and times on pages follow the reader's language and time zone."""

from datetime import UTC, datetime

from cpa_network.background.models import DONE, BackgroundJob
from cpa_network.extensions import db
from payouts.deposits import create_deposit, open_checkout
from payouts.gateway import SandboxGateway
from tests.factories import make_user

NBSP = "\xa0"


def _funded(currency: str, locale: str):
    advertiser = make_user("advertiser")
    advertiser.locale = locale
    open_checkout(create_deposit(advertiser, 1_234_56, currency, gateway=SandboxGateway()),
                  "", "", gateway=SandboxGateway())
    db.session.commit()
    return advertiser


def test_money_in_russian_and_english(client, app_context):
    client.login(_funded("RUB", "ru").email)
    page = client.get("/balance").get_data(as_text=True)
    assert f"1{NBSP}234,56{NBSP}₽" in page
    client.submit("/logout", page="/balance")
    client.login(_funded("USD", "en").email)
    assert "$1,234.56" in client.get("/balance").get_data(as_text=True)


def test_times_show_in_the_readers_zone(client, app_context):
    user = make_user("advertiser")
    user.timezone, user.locale = "Europe/Moscow", "ru"
    db.session.add(BackgroundJob(owner_id=user.id, kind="conversions_csv", params={},
                                 result={}, status=DONE,
                                 created_at=datetime(2026, 1, 15, 9, 5, tzinfo=UTC)))
    db.session.commit()
    client.login(user.email)
    page = client.get("/jobs").get_data(as_text=True)
    assert "15.01.2026, 12:05" in page and "09:05" not in page  # UTC+3


def test_signup_keeps_the_browsers_time_zone(client, app_context):
    from sqlalchemy import select

    from cpa_network.accounts.models import User

    page = client.get("/signup").get_data(as_text=True)
    assert 'name="timezone" type="hidden"' in page or 'type="hidden" name="timezone"' in page
    for email, zone, kept in (("msk@example.com", "Europe/Moscow", "Europe/Moscow"),
                              ("odd@example.com", "Mars/Olympus", "UTC")):
        client.submit("/signup", {"email": email, "password": "correct-horse-1",
                                  "confirm": "correct-horse-1", "roles": "publisher",
                                  "timezone": zone})
        client.submit("/logout", page="/dashboard")
        assert db.session.scalar(select(User.timezone).where(User.email == email)) == kept
