"""Card top-ups clear before they can be withdrawn (payouts/top_up_clearing.py): spendable at
once, withdrawable after TOP_UP_CLEARING_DAYS, while earnings stay withdrawable as before."""

import threading
from datetime import timedelta

import pytest

from cpa_network.database import utcnow
from cpa_network.extensions import db
from payouts import deposits, ledger, top_up_clearing, withdrawals
from payouts.automatic import run_automatic_payouts
from payouts.models import AccountKind, Deposit, PayoutAccount
from tests.factories import make_api_key
from tests.payouts.helpers import (
    ask_and_confirm,
    connected_publisher,
    run_together,
    the_payout,
)
from tests.payouts.test_dispute_debt_locking import waiting_for_a_lock
from tests.payouts.test_disputes import assert_ledger_ok, charged_back, usd_balances

K = AccountKind


def top_up(publisher, amount: int, *, gateway: str = "stripe", days_ago: float = 0,
           intent: str | None = None) -> Deposit:
    """A top-up credited `days_ago` (a card payment through Stripe unless told otherwise)."""
    deposit = deposits.create_deposit(publisher, amount, "USD", kind=K.PUBLISHER_AVAILABLE)
    deposit.gateway, deposit.payment_intent_id = gateway, intent or f"pi_{deposit.id}"
    deposits.credit_deposit(deposit)
    deposit.credited_at = utcnow() - timedelta(days=days_ago)
    db.session.commit()
    return deposit


def available(publisher) -> int:
    db.session.expire_all()
    return ledger.balance(K.PUBLISHER_AVAILABLE, publisher.id, "USD")


def test_a_card_top_up_is_withdrawable_only_once_it_has_cleared(client, app_context):
    publisher = connected_publisher(earned=80_00)
    deposit = top_up(publisher, 100_00)
    assert top_up_clearing.withdrawable(publisher.id, "USD") == 80_00

    with pytest.raises(withdrawals.TopUpClearing) as refused:
        withdrawals.withdraw(publisher, 100_00, "USD")
    db.session.rollback()
    (why,) = refused.value.fields["amount"]
    assert "at most $80.00 now: $100.00 of your balance is card top-ups" in str(why)
    assert refused.value.code == "top_up_clearing" and available(publisher) == 180_00

    payout, _made = withdrawals.withdraw(publisher, 80_00, "USD")  # the earnings go out
    db.session.commit()
    assert payout.amount == 80_00 and available(publisher) == 100_00
    row = usd_balances(client, publisher)
    assert (row["available"], row["top_up_clearing"], row["withdrawable"]) == (100_00, 100_00, 0)
    answer = client.post("/api/v1/withdrawals", json={"amount": 50_00, "currency": "USD"},
                         headers={"Authorization": f"Bearer {make_api_key(publisher)}"})
    assert answer.status_code == 409 and answer.json["error"]["code"] == "top_up_clearing"
    assert "at most $0.00 now" in answer.json["error"]["fields"]["amount"][0]

    deposit.credited_at = utcnow() - timedelta(days=30, minutes=1)  # cleared
    db.session.commit()
    assert top_up_clearing.held(publisher.id, "USD") == 0
    withdrawals.withdraw(publisher, 100_00, "USD")
    db.session.commit()
    assert available(publisher) == 0
    assert_ledger_ok()


def test_a_sandbox_top_up_or_one_charged_back_holds_nothing(app_context):
    publisher = connected_publisher()
    top_up(publisher, 60_00, gateway="sandbox")  # no card: nothing to charge back
    assert top_up_clearing.withdrawable(publisher.id, "USD") == 60_00
    top_up(publisher, 40_00, intent="pi_taken")
    assert top_up_clearing.held(publisher.id, "USD") == 40_00
    assert charged_back("pi_taken", 40_00) == "dispute_withdrawn"  # its money already left
    assert top_up_clearing.held(publisher.id, "USD") == 0
    assert top_up_clearing.withdrawable(publisher.id, "USD") == 60_00 == available(publisher)


def test_the_earnings_page_shows_what_clears_and_refuses_with_the_date(client, app_context):
    publisher = connected_publisher(email="pub@example.com", earned=80_00)
    deposit = top_up(publisher, 100_00, days_ago=10)
    client.login("pub@example.com")
    page = client.get("/earnings").get_data(as_text=True)
    assert "Top-ups clearing" in page and "Withdrawable now" in page
    clears = (deposit.credited_at + timedelta(days=30)).strftime("%b %-d, %Y")
    assert clears in page

    refused = ask_and_confirm(client, "/earnings/withdraw", "150.00", "/earnings")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 409 and "You can withdraw at most $80.00 now" in html
    assert clears in html and available(publisher) == 180_00
    done = ask_and_confirm(client, "/earnings/withdraw", "80.00", "/earnings")
    assert done.status_code == 302 and the_payout().amount == 80_00


def test_automatic_payouts_leave_clearing_top_ups_in_the_balance(app_context):
    publisher = connected_publisher(earned=80_00)
    top_up(publisher, 100_00)
    db.session.get(PayoutAccount, publisher.id).automatic = True
    db.session.commit()
    assert run_automatic_payouts()["requested"] == 1
    assert the_payout().amount == 80_00 and available(publisher) == 100_00
    assert_ledger_ok()


def test_a_top_up_credited_during_a_withdrawal_is_not_withdrawn(app, app_context):
    """The withdrawal reads what is clearing after the balance's lock, which a credit holds
    until it commits: the new top-up counts in both or in neither."""
    publisher = connected_publisher(earned=50_00)
    deposit = deposits.create_deposit(publisher, 100_00, "USD", kind=K.PUBLISHER_AVAILABLE)
    deposit.gateway, deposit.payment_intent_id = "stripe", "pi_during"
    db.session.commit()
    credited, outcome = threading.Event(), []

    def card_payment_confirmed() -> None:
        with app.app_context():
            deposits.credit_deposit(db.session.get(Deposit, deposit.id))  # holds the lock
            credited.set()
            assert waiting_for_a_lock()  # the withdrawal waits for it
            db.session.commit()
            db.session.remove()

    def withdrawal() -> None:
        with app.app_context():
            credited.wait(10)
            try:
                withdrawals.withdraw(db.session.get(type(publisher), publisher.id), 100_00, "USD")
                db.session.commit()
                outcome.append("paid out")
            except withdrawals.TopUpClearing:
                db.session.rollback()
                outcome.append("top_up_clearing")
            finally:
                db.session.remove()

    run_together(card_payment_confirmed, withdrawal)
    assert outcome == ["top_up_clearing"] and available(publisher) == 150_00
    assert_ledger_ok()
