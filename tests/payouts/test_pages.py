"""The advertiser's balance page (sandbox), the operator's ledger page, and who sees what."""

from sqlalchemy import select, text

from cpa_network.extensions import db
from payouts import escrow
from payouts.models import Deposit, LedgerTransaction
from tests.conftest import Browser, run_worker_burst
from tests.factories import make_user
from tests.payouts.helpers import fund_escrow


def test_sandbox_deposit_asks_for_confirmation_before_money_moves(client, app_context):
    advertiser = make_user("advertiser", email="adv@example.com")
    client.login("adv@example.com")
    html = client.get("/balance").get_data(as_text=True)
    assert "Sandbox" in html and "No money has moved yet" in html

    confirm = client.submit("/balance/deposit", {"amount": "10000", "currency": "USD"})
    assert confirm.status_code == 200
    assert "Deposit $10,000.00?" in confirm.get_data(as_text=True)
    assert escrow.escrow_balance(advertiser.id, "USD") == 0  # nothing yet

    done = client.submit("/balance/deposit", {"amount": "10000", "currency": "USD",
                                              "confirmed": "yes"}, page="/balance")
    assert done.status_code == 302
    page = client.get("/balance").get_data(as_text=True)
    assert "$10,000.00 is in your escrow." in page
    assert "Deposit" in page and "+$10,000.00" in page  # the history line
    assert escrow.escrow_balance(advertiser.id, "USD") == 10_000_00


def test_bad_amounts_are_shown_next_to_the_field(client, app_context):
    make_user("advertiser", email="adv@example.com")
    client.login("adv@example.com")
    for amount, message in (("abc", "Enter an amount."), ("0.5", "from 1 to"),
                            ("10.123", "Use at most two decimals."),
                            # non-finite: a signalling NaN made the range check raise (a 500)
                            ("sNaN", "from 1 to"), ("NaN", "from 1 to"),
                            ("-Infinity", "from 1 to")):
        response = client.submit("/balance/deposit", {"amount": amount, "currency": "USD"},
                                 page="/balance")
        assert response.status_code == 422
        assert message in response.get_data(as_text=True), amount
    assert db.session.scalar(select(Deposit)) is None


def test_balances_and_history_are_shown_in_russian_formatting(client, app_context):
    advertiser = make_user("advertiser", email="adv@example.com", locale="ru")
    fund_escrow(advertiser.id, 1_234_567_89, "RUB")
    client.login("adv@example.com")
    html = client.get("/balance").get_data(as_text=True)
    assert "1\xa0234\xa0567,89\xa0₽" in html


def test_transaction_details_are_only_for_those_it_touches(app, client, app_context):
    advertiser = make_user("advertiser", email="adv@example.com")
    txn_id = fund_escrow(advertiser.id, 5_00).id
    make_user("advertiser", email="other@example.com")
    client.login("adv@example.com")
    assert client.get(f"/balance/transactions/{txn_id}").status_code == 200
    stranger = Browser(app.test_client())
    stranger.login("other@example.com")
    assert stranger.get(f"/balance/transactions/{txn_id}").status_code == 404


def test_a_deposit_page_of_another_advertiser_is_not_found(app, client, app_context):
    make_user("advertiser", email="adv@example.com")
    make_user("advertiser", email="other@example.com")
    client.login("adv@example.com")
    client.submit("/balance/deposit", {"amount": "20", "currency": "USD", "confirmed": "yes"},
                  page="/balance")
    deposit_id = db.session.scalar(select(Deposit.id))
    assert client.get(f"/balance/deposits/{deposit_id}").status_code == 200
    stranger = Browser(app.test_client())
    stranger.login("other@example.com")
    assert stranger.get(f"/balance/deposits/{deposit_id}").status_code == 404


def test_publishers_cannot_open_the_balance_page_or_the_ledger(client, app_context):
    make_user("publisher", email="pub@example.com")
    client.login("pub@example.com")
    assert client.get("/balance").status_code == 403
    assert client.get("/admin/ledger").status_code == 403


def test_operator_ledger_page_lists_accounts_transactions_and_invariants(client, app_context):
    advertiser = make_user("advertiser")
    fund_escrow(advertiser.id, 700_00)
    make_user("admin", email="ops@example.com")
    client.login("ops@example.com")
    html = client.get("/admin/ledger").get_data(as_text=True)
    assert "balanced" in html and "cached balances equal the sum of their postings" in html
    assert "$700.00" in html and "-$700.00" in html
    filtered = client.get("/admin/ledger?reason=conversion_hold").get_data(as_text=True)
    assert "No transactions match" in filtered
    txn_id = db.session.scalar(select(LedgerTransaction.id))
    detail = client.get(f"/admin/ledger/transactions/{txn_id}").get_data(as_text=True)
    assert "test-fund:" in detail  # the operator sees the idempotency key


def test_the_ledger_page_shows_the_last_check_and_checks_again_on_request(app, client,
                                                                          app_context):
    """The whole-ledger check reads every posting, so the page shows the last report (with
    its time) instead of re-running it at every load; "Check now" runs it in a worker."""
    fund_escrow(make_user("advertiser").id, 700_00)
    make_user("admin", email="ops@example.com")
    client.login("ops@example.com")
    assert "balanced" in client.get("/admin/ledger").get_data(as_text=True)  # none kept: ran
    db.session.execute(text("UPDATE ledger_accounts SET balance = balance + 1 "
                            "WHERE kind = 'advertiser_escrow'"))  # a cached balance drifts
    db.session.commit()
    kept = client.get("/admin/ledger").get_data(as_text=True)
    assert "balanced" in kept and "violations" not in kept and "Checked " in kept
    assert client.post("/admin/ledger/check").status_code == 400  # no CSRF token
    asked = client.submit("/admin/ledger/check", page="/admin/ledger")
    assert asked.status_code == 303
    assert run_worker_burst(app, "--no-beat", timeout=120).returncode == 0
    again = client.get("/admin/ledger").get_data(as_text=True)
    assert "violations" in again and "cached_balances" in again


def test_money_pages_have_no_inline_scripts(client, app_context):
    make_user("advertiser", "admin", email="ops@example.com")
    client.login("ops@example.com")
    for path in ("/balance", "/admin/ledger"):
        html = client.get(path).get_data(as_text=True)
        assert "<script>" not in html and "onclick=" not in html, path
    nav = client.get("/dashboard").get_data(as_text=True)
    assert 'href="/balance"' in nav and 'href="/admin/ledger"' in nav
