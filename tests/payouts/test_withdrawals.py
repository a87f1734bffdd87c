"""Withdrawal requests: every refusal named, the money moved in one transaction, and never an
overdraft however many requests race."""

import pytest
from sqlalchemy import func, select

from cpa_network.accounts.models import User
from cpa_network.accounts.services import AccountBlocked
from cpa_network.database import utcnow
from cpa_network.errors import Forbidden
from cpa_network.extensions import db
from cpa_network.jobs import get_queue
from payouts import connect, ledger, withdrawals
from payouts.connect import PayoutAccountIncomplete, PayoutAccountMissing, ThresholdTooLow
from payouts.deposits import AmountInvalid, CurrencyUnsupported
from payouts.invariants import check_ledger
from payouts.models import AccountKind, Payout
from payouts.withdrawals import BelowThreshold, ExceedsAvailable
from tests.factories import make_user
from tests.payouts.helpers import connect_stripe_account, connected_publisher, earn
from tests.payouts.test_ledger_concurrency import run_in_threads

K = AccountKind


def payouts_count() -> int:
    return db.session.scalar(select(func.count(Payout.id)))


def test_a_withdrawal_moves_available_into_flight_and_queues_its_job(app_context):
    publisher = connected_publisher(earned=120_00)
    payout = withdrawals.request_withdrawal(publisher, 70_00, "usd")
    assert get_queue("payouts").count == 0  # not before the commit
    db.session.commit()
    assert (payout.status, payout.amount, payout.currency) == ("requested", 70_00, "USD")
    assert payout.destination == f"sandbox_acct_{publisher.id}" and payout.gateway == "sandbox"
    assert ledger.balance(K.PUBLISHER_AVAILABLE, publisher.id, "USD") == 50_00
    assert ledger.balance(K.PAYOUT_IN_FLIGHT, publisher.id, "USD") == 70_00
    job = get_queue("payouts").jobs[0]
    assert job.id == f"payout-{payout.id}" and job.args == (payout.id,)
    assert job.timeout == 180 and job.retries_left == 5
    assert check_ledger().ok


@pytest.mark.parametrize("amount, error, message", [
    (120_01, ExceedsAvailable, "You can withdraw at most $120.00."),
    (49_99, BelowThreshold, "The minimum payout is $50.00."),
    (10, AmountInvalid, "between"),
    ("50", AmountInvalid, "between"),
])
def test_refused_amounts_move_nothing(app_context, amount, error, message):
    publisher = connected_publisher(earned=120_00)
    with pytest.raises(error) as refused:
        withdrawals.request_withdrawal(publisher, amount, "USD")
    assert message in str(refused.value.fields["amount"][0])
    db.session.rollback()
    assert payouts_count() == 0
    assert ledger.balance(K.PUBLISHER_AVAILABLE, publisher.id, "USD") == 120_00


def test_every_other_refusal_has_its_own_error(app_context, stripe_fake):
    with pytest.raises(Forbidden):
        withdrawals.request_withdrawal(make_user("advertiser"), 60_00, "USD")
    blocked = make_user("publisher", blocked_at=utcnow(), blocked_reason="bots")
    with pytest.raises(AccountBlocked) as error:
        withdrawals.request_withdrawal(blocked, 60_00, "USD")
    assert error.value.code == "account_blocked"
    with pytest.raises(CurrencyUnsupported):
        withdrawals.request_withdrawal(make_user("publisher"), 60_00, "XYZ")
    with pytest.raises(PayoutAccountMissing):
        withdrawals.request_withdrawal(make_user("publisher"), 60_00, "USD")
    onboarding = make_user("publisher")
    connect.start_onboarding(onboarding, "http://x/r", "http://x/b")  # not finished at Stripe
    db.session.commit()
    with pytest.raises(PayoutAccountIncomplete):
        withdrawals.request_withdrawal(onboarding, 60_00, "USD")
    ready = make_user("publisher")
    connect_stripe_account(ready, stripe_fake)
    earn(ready.id, 60_00)
    assert withdrawals.request_withdrawal(ready, 60_00, "USD").gateway == "stripe"


def test_a_sandbox_account_is_not_usable_once_stripe_is_configured(app_context, stripe_fake):
    publisher = make_user("publisher")
    account = connect.settings_for(publisher.id)
    account.gateway, account.external_id = "sandbox", f"sandbox_acct_{publisher.id}"
    account.payouts_enabled = True
    db.session.add(account)
    db.session.commit()
    with pytest.raises(PayoutAccountMissing):
        withdrawals.request_withdrawal(publisher, 60_00, "USD")


def test_the_publishers_own_minimum_applies_and_cannot_go_below_the_networks(app_context):
    publisher = connected_publisher(earned=300_00)
    with pytest.raises(ThresholdTooLow):
        connect.save_settings(publisher.id, 49, automatic=False)
    connect.save_settings(publisher.id, 200, automatic=True)
    db.session.commit()
    with pytest.raises(BelowThreshold) as refused:
        withdrawals.request_withdrawal(publisher, 150_00, "USD")
    assert "$200.00" in str(refused.value.fields["amount"][0])
    db.session.rollback()
    assert withdrawals.request_withdrawal(publisher, 200_00, "USD").amount == 200_00


def test_the_network_minimum_is_a_setting(app_context, test_side_app, monkeypatch):
    monkeypatch.setitem(test_side_app.config, "PAYOUT_MINIMUM", "20.00")
    publisher = connected_publisher(earned=30_00)
    assert withdrawals.request_withdrawal(publisher, 25_00, "USD").amount == 25_00
    assert withdrawals.network_minimum("EUR") == 20_00


def test_ten_concurrent_withdrawals_from_one_balance_never_overdraw_it(app, app_context):
    publisher = connected_publisher(earned=200_00)
    publisher_id = publisher.id

    def withdraw(_):
        return withdrawals.request_withdrawal(db.session.get(User, publisher_id), 60_00,
                                              "USD").id

    results = run_in_threads(app, 10, withdraw)
    made = [r for r in results if isinstance(r, int)]
    refused = [r for r in results if isinstance(r, ExceedsAvailable)]
    assert len(made) == 3 and len(refused) == 7, results
    db.session.expire_all()
    assert ledger.balance(K.PUBLISHER_AVAILABLE, publisher_id, "USD") == 20_00
    assert ledger.balance(K.PAYOUT_IN_FLIGHT, publisher_id, "USD") == 180_00
    assert payouts_count() == 3 and get_queue("payouts").count == 3
    assert check_ledger().ok


def test_the_state_machine_refuses_a_move_back(app_context):
    publisher = connected_publisher(earned=60_00)
    payout = withdrawals.request_withdrawal(publisher, 60_00, "USD")
    withdrawals.transition(payout, withdrawals.S.SUBMITTING)
    with pytest.raises(withdrawals.PayoutTransitionRefused):
        withdrawals.transition(payout, withdrawals.S.REQUESTED)
    with pytest.raises(withdrawals.PayoutTransitionRefused):
        withdrawals.transition(payout, withdrawals.S.PAID)  # not without a transfer first
