"""A confirmation page's "Yes, withdraw" sent twice (a double click, a browser resend after a
slow answer) moves the money once: the page carries a one-time token, the request key of what it
confirms, and the second submission is sent to what the first one made."""

from sqlalchemy import func, select

from cpa_network.accounts.models import User
from cpa_network.extensions import db
from payouts import deposits, escrow, ledger, refunds, withdrawals
from payouts.gateway import SandboxGateway
from payouts.invariants import check_ledger
from payouts.models import AccountKind, EscrowRefund, Payout
from tests.factories import make_user
from tests.payouts.helpers import confirmation_form, connected_publisher
from tests.payouts.test_ledger_concurrency import run_in_threads


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_double_submitted_payout_confirmation_makes_one_payout(client, app_context):
    publisher = connected_publisher(email="pub@example.com", earned=300_00)
    client.login("pub@example.com")
    form = confirmation_form(client, "/earnings/withdraw", "100", "/earnings")
    assert form["confirmed"] == "yes" and form["amount"] == "100"
    first = client.post("/earnings/withdraw", data=form)
    second = client.post("/earnings/withdraw", data=form)
    assert count(Payout) == 1, "one confirmation of $100 made two payouts"
    payout = db.session.scalar(select(Payout))
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"] \
        == f"/earnings/payouts/{payout.id}"
    assert payout.request_key == f"web:{publisher.id}:{form['request_token']}"
    page = client.get(second.headers["Location"]).get_data(as_text=True)
    assert "You already confirmed this withdrawal: this is the payout it made." in page
    assert ledger.balance(AccountKind.PUBLISHER_AVAILABLE, publisher.id, "USD") == 200_00
    assert ledger.balance(AccountKind.PAYOUT_IN_FLIGHT, publisher.id, "USD") == 100_00
    assert check_ledger().ok


def test_a_double_submitted_escrow_withdrawal_refunds_once(client, app_context):
    advertiser = make_user("advertiser", email="adv@example.com")
    client.login("adv@example.com")
    client.submit("/balance/deposit", {"amount": "1000", "currency": "USD",
                                       "confirmed": "yes"}, page="/balance")  # sandbox: credited
    form = confirmation_form(client, "/balance/withdraw", "100", "/balance")
    first = client.post("/balance/withdraw", data=form)
    second = client.post("/balance/withdraw", data=form)
    assert count(EscrowRefund) == 1, "one confirmation of $100 made two refunds"
    assert first.status_code == second.status_code == 302
    assert "You already confirmed this withdrawal; it is listed below." in client.get(
        "/balance").get_data(as_text=True)
    assert escrow.escrow_balance(advertiser.id, "USD") == 900_00
    assert check_ledger().ok


def test_two_confirmations_are_two_withdrawals(client, app_context):
    publisher = connected_publisher(email="pub@example.com", earned=300_00)
    client.login("pub@example.com")
    for _time in range(2):  # the same amount, asked and confirmed twice on purpose
        form = confirmation_form(client, "/earnings/withdraw", "100", "/earnings")
        assert client.post("/earnings/withdraw", data=form).status_code == 302
    assert count(Payout) == 2
    assert ledger.balance(AccountKind.PUBLISHER_AVAILABLE, publisher.id, "USD") == 100_00


def test_a_tampered_token_moves_nothing(client, app_context):
    connected_publisher(email="pub@example.com", earned=300_00)
    client.login("pub@example.com")
    form = confirmation_form(client, "/earnings/withdraw", "100", "/earnings")
    assert client.post("/earnings/withdraw",
                       data=dict(form, request_token="x' OR 1=1")).status_code == 422
    assert count(Payout) == 0


def test_concurrent_submissions_of_one_payout_confirmation_make_one_payout(app, app_context):
    publisher = connected_publisher(earned=1000_00)
    publisher_id = publisher.id

    def submit(_i):
        payout, made = withdrawals.withdraw(db.session.get(User, publisher_id), 100_00, "USD",
                                            f"web:{publisher_id}:the-one-confirmation-token")
        return payout.id, made

    results = run_in_threads(app, 8, submit)
    assert all(isinstance(r, tuple) for r in results), results
    assert len({payout_id for payout_id, _made in results}) == 1
    assert sorted(made for _id, made in results) == [False] * 7 + [True]
    assert count(Payout) == 1
    assert ledger.balance(AccountKind.PAYOUT_IN_FLIGHT, publisher_id, "USD") == 100_00


def test_concurrent_submissions_of_one_escrow_withdrawal_refund_once(app, app_context):
    advertiser = make_user("advertiser")
    for cents in (100_00, 50_00):  # the withdrawal spans both deposits
        made = deposits.create_deposit(advertiser, cents, "USD", gateway=SandboxGateway())
        deposits.open_checkout(made, "", "", gateway=SandboxGateway())
    db.session.commit()
    advertiser_id = advertiser.id

    def submit(_i):
        made, first = refunds.withdraw_escrow_once(advertiser_id, 120_00, "USD",
                                                   f"web:{advertiser_id}:one-token-for-all")
        return sorted(r.id for r in made), first

    results = run_in_threads(app, 8, submit)
    assert all(isinstance(r, tuple) for r in results), results
    assert len({tuple(ids) for ids, _first in results}) == 1
    assert sorted(first for _ids, first in results) == [False] * 7 + [True]
    assert count(EscrowRefund) == 2
    assert escrow.escrow_balance(advertiser_id, "USD") == 30_00
    assert check_ledger().ok


def test_a_confirmation_without_the_pages_token_only_asks_again(client, app_context):
    connected_publisher(email="pub@example.com", earned=300_00)
    client.login("pub@example.com")
    forged = client.submit("/earnings/withdraw", {"amount": "100", "currency": "USD",
                                                  "confirmed": "yes"}, page="/earnings")
    assert forged.status_code == 200 and 'class="confirm-actions"' in forged.get_data(
        as_text=True)
    assert count(Payout) == 0
