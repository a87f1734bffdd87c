"""The publisher's pages: earnings traced to the ledger, settings, Stripe Connect onboarding,
the withdrawal form with its confirmation and an error for every refusal."""

import re

from sqlalchemy import select

from cpa_network.extensions import db
from payouts import connect, escrow, ledger
from payouts.models import AccountKind, LedgerTransaction, Payout, PayoutAccount
from tests.conftest import Browser
from tests.factories import make_user
from tests.payouts.conftest import deliver
from tests.payouts.helpers import (
    ask_and_confirm,
    connected_publisher,
    earn,
    fund_escrow,
    the_payout,
)


def withdraw(client, amount: str, confirmed: bool = True):
    if confirmed:
        return ask_and_confirm(client, "/earnings/withdraw", amount, "/earnings")
    return client.submit("/earnings/withdraw", {"amount": amount, "currency": "USD"},
                         page="/earnings")


def test_earnings_show_each_figure_with_what_it_is_made_of(client, app_context):
    publisher = connected_publisher(email="pub@example.com", earned=120_00)
    advertiser = make_user("advertiser")
    fund_escrow(advertiser.id, 100_00, key="page-fund")
    escrow.hold_conversion(4242, advertiser.id, publisher.id, "USD", 45_00, 5_00)
    db.session.commit()
    client.login("pub@example.com")
    html = client.get("/earnings").get_data(as_text=True)
    assert "Sandbox" in html and "payouts are recorded here" in html
    assert "$45.00" in html and "#4242" in html  # pending, with its conversion
    assert "after the advertiser's review" in html  # no hold date in the refs yet
    assert "$120.00" in html and "Conversion approved" in html  # available and its history
    assert "Minimum payout: $50.00." in html and "the network's default" in html
    hold_id = db.session.scalar(select(LedgerTransaction.id).where(
        LedgerTransaction.reason == "conversion_hold", LedgerTransaction.refs["conversion"]
        .as_integer() == 4242))
    assert f"#{hold_id}" in html


def test_a_hold_that_names_its_date_shows_when_it_becomes_available(client, app_context):
    publisher = make_user("publisher", email="pub@example.com")
    advertiser = make_user("advertiser")
    fund_escrow(advertiser.id, 50_00, key="dated-fund")
    ledger.post_transaction(
        "conversion:77:hold",
        ledger.transfer(ledger.account(AccountKind.ADVERTISER_ESCROW, advertiser.id, "USD"),
                        ledger.account(AccountKind.ADVERTISER_HOLD, advertiser.id, "USD"),
                        30_00),
        "conversion_hold", {"conversion": 77, "advertiser": advertiser.id,
                            "publisher": publisher.id, "available_at": "2031-05-04T10:00:00+00:00"})
    db.session.commit()
    client.login("pub@example.com")
    html = client.get("/earnings").get_data(as_text=True)
    assert "5/4/31" in html and "$30.00" in html


def test_a_withdrawal_is_confirmed_first_then_followed_on_its_page(client, app_context):
    publisher = connected_publisher(email="pub@example.com", earned=120_00)
    client.login("pub@example.com")
    confirm = withdraw(client, "70", confirmed=False)
    assert confirm.status_code == 200
    assert "Withdraw $70.00 to your payout account?" in confirm.get_data(as_text=True)
    assert db.session.scalar(select(Payout)) is None  # nothing yet
    done = withdraw(client, "70")
    payout = the_payout()
    assert done.status_code == 302 and done.headers["Location"] == \
        f"/earnings/payouts/{payout.id}"
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "$70.00 is on its way to your payout account." in page
    assert "Payout requested" in page and "requested" in page
    assert ledger.balance(AccountKind.PAYOUT_IN_FLIGHT, publisher.id, "USD") == 70_00
    reserve = db.session.scalar(select(LedgerTransaction.id).where(
        LedgerTransaction.reason == "payout_requested"))
    detail = client.get(f"/balance/transactions/{reserve}").get_data(as_text=True)
    assert f'href="/earnings/payouts/{payout.id}"' in detail  # the ledger names the payout


def test_every_refusal_is_shown(app, client, app_context):
    connected_publisher(email="pub@example.com", earned=120_00)
    client.login("pub@example.com")
    for amount, message in (("200", "You can withdraw at most $120.00."),
                            ("49.99", "The minimum payout is $50.00."),
                            ("abc", "Enter an amount.")):
        response = withdraw(client, amount)
        html = response.get_data(as_text=True)
        assert response.status_code in (409, 422) and message in html, amount
        assert re.search(r'name="confirmed" type="hidden" value=""', html), "asks again"
    make_user("publisher", email="new@example.com")
    newcomer = Browser(app.test_client())
    newcomer.login("new@example.com")
    assert "Connect a payout account before you withdraw." in \
        newcomer.get("/earnings").get_data(as_text=True)
    withdraw(newcomer, "60")
    assert "Connect a payout account first" in newcomer.get("/earnings").get_data(as_text=True)
    assert db.session.scalar(select(Payout)) is None


def test_settings_save_the_minimum_and_weekly_payouts(client, app_context):
    publisher = connected_publisher(email="pub@example.com")
    client.login("pub@example.com")
    page = client.get("/earnings/settings").get_data(as_text=True)
    assert "The network's minimum payout is $50.00" in page
    refused = client.submit("/earnings/settings", {"minimum_major": "20"})
    assert refused.status_code == 422
    assert "minimum is 50.00; leave the field empty to use it." in refused.get_data(as_text=True)
    saved = client.submit("/earnings/settings", {"minimum_major": "100", "automatic": "y"})
    assert saved.status_code == 302
    account = db.session.get(PayoutAccount, publisher.id)
    db.session.refresh(account)
    assert account.minimum_major == 100 and account.automatic
    assert "Minimum payout: $100.00." in client.get("/earnings").get_data(as_text=True)


def test_sandbox_onboarding_connects_at_once(client, app_context):
    publisher = make_user("publisher", email="pub@example.com")
    client.login("pub@example.com")
    response = client.submit("/earnings/connect", {}, page="/earnings/settings")
    assert response.status_code == 302 and response.headers["Location"] == "/earnings/settings"
    assert "Sandbox payout account connected" in client.get("/earnings/settings").get_data(
        as_text=True)
    account = db.session.get(PayoutAccount, publisher.id)
    assert account.external_id == f"sandbox_acct_{publisher.id}" and account.payouts_enabled


def test_stripe_connect_onboarding_and_the_account_updated_webhook(client, app_context,
                                                                   stripe_fake):
    publisher = make_user("publisher", email="pub@example.com")
    client.login("pub@example.com")
    response = client.submit("/earnings/connect", {}, page="/earnings/settings")
    account = db.session.get(PayoutAccount, publisher.id)
    assert response.status_code == 302
    onboarding_url = f"{stripe_fake.url}/setup/e/{account.external_id}/"
    assert response.headers["Location"].startswith(onboarding_url)
    (created,) = stripe_fake.received("POST", "/v1/accounts")
    assert created.params["type"] == "express" and created.params["email"] == "pub@example.com"
    assert created.params["capabilities"] == {"transfers": {"requested": "true"}}
    (link,) = stripe_fake.received("POST", "/v1/account_links")
    assert link.params["return_url"].endswith("/earnings/connect/return")
    assert link.params["refresh_url"].endswith("/earnings/connect/refresh")
    # Back too early: Stripe has not enabled payouts yet.
    client.get("/earnings/connect/return")
    assert "has not enabled payouts" in client.get("/earnings/settings").get_data(as_text=True)
    # The expired-link refresh makes a new link for the same account.
    again = client.get("/earnings/connect/refresh")
    assert again.status_code == 302 and len(stripe_fake.received("POST", "/v1/accounts")) == 1

    updated = stripe_fake.complete_onboarding(account.external_id)
    answer = deliver(client, stripe_fake.event("account.updated", updated))
    assert answer.json["outcome"] == "payouts_enabled"
    db.session.refresh(account)
    assert account.payouts_enabled and account.details_submitted and account.refreshed_at
    assert "ready" in client.get("/earnings").get_data(as_text=True)
    disabled = dict(updated, payouts_enabled=False)
    assert deliver(client, stripe_fake.event("account.updated", disabled)).json["outcome"] == \
        "payouts_disabled"


def test_publisher_pages_are_for_publishers(client, app_context):
    make_user("advertiser", email="adv@example.com")
    client.login("adv@example.com")
    for path in ("/earnings", "/earnings/settings"):
        assert client.get(path).status_code == 403
    nav = client.get("/dashboard").get_data(as_text=True)
    assert 'href="/earnings"' not in nav


def test_money_pages_have_no_inline_scripts(client, app_context):
    publisher = connected_publisher(email="pub@example.com", earned=80_00)
    earn(publisher.id, 10_00)
    client.login("pub@example.com")
    withdraw(client, "60")
    for path in ("/earnings", "/earnings/settings", f"/earnings/payouts/{the_payout().id}"):
        html = client.get(path).get_data(as_text=True)
        assert "<script>" not in html and "onclick=" not in html, path
    assert 'href="/earnings"' in client.get("/dashboard").get_data(as_text=True)


def test_connect_events_may_come_signed_by_their_own_endpoint(client, app, test_side_app,
                                                              app_context, stripe_fake,
                                                              monkeypatch):
    for instance in (app, test_side_app):
        monkeypatch.setitem(instance.config, "STRIPE_CONNECT_WEBHOOK_SECRET", "whsec_connect")
    publisher = make_user("publisher")
    connect.start_onboarding(publisher, "http://x/r", "http://x/b")
    db.session.commit()
    account_id = db.session.get(PayoutAccount, publisher.id).external_id
    event = stripe_fake.event("account.updated", stripe_fake.complete_onboarding(account_id))
    assert deliver(client, event, secret="whsec_other").status_code == 400
    answer = deliver(client, event, secret="whsec_connect")
    assert answer.status_code == 200 and answer.json["outcome"] == "payouts_enabled"
    assert deliver(client, stripe_fake.event("account.updated", {"id": "acct_unknown"})).json[
        "outcome"] == "unknown_account"  # the platform's own secret still verifies
