"""A paid payout's transfer taken back at Stripe (`transfer.reversed`, e.g. from the dashboard):
the ledger mirrors it once per amount, whatever the repetition and order of the events."""

from sqlalchemy import func, select

from cpa_network.extensions import db
from cpa_network.notifications.models import Notification
from payouts import ledger, transfers, withdrawals
from payouts.gateway import gateway_named
from payouts.invariants import check_ledger
from payouts.models import AccountKind, LedgerTransaction
from payouts.transfers import process_payouts
from tests.factories import make_user
from tests.payouts.conftest import deliver
from tests.payouts.helpers import connect_stripe_account, earn, the_payout

K = AccountKind


def paid_payout(stripe_fake) -> tuple[int, dict]:
    """pub@example.com earned 100.00 and was paid 60.00 through the fake: (payout id, transfer)."""
    publisher = make_user("publisher", email="pub@example.com")
    connect_stripe_account(publisher, stripe_fake)
    earn(publisher.id, 100_00)
    payout = withdrawals.request_withdrawal(publisher, 60_00, "USD")
    db.session.commit()
    assert process_payouts([payout.id]) == {payout.id: "paid"}
    db.session.commit()
    (transfer,) = stripe_fake.transfers(payout.id)
    return payout.id, transfer


def balances(publisher_id: int) -> tuple[int, int]:
    db.session.expire_all()
    return (ledger.balance(K.PUBLISHER_AVAILABLE, publisher_id, "USD"),
            ledger.balance(K.PUBLISHER_PAID, publisher_id, "USD"))


def reversed_event(stripe_fake, transfer: dict, total: int) -> dict:
    return stripe_fake.event("transfer.reversed", {**transfer, "amount_reversed": total,
                                                   "reversed": total == transfer["amount"]})


def test_a_partial_then_a_full_reversal_each_move_money_back_once(client, app_context,
                                                                  stripe_fake):
    payout_id, transfer = paid_payout(stripe_fake)
    publisher_id = the_payout(payout_id).publisher_id
    assert balances(publisher_id) == (40_00, 60_00)

    partial = reversed_event(stripe_fake, transfer, 25_00)
    outcomes = [deliver(client, partial).json["outcome"] for _ in range(3)]
    assert outcomes == ["reversed", "duplicate", "duplicate"]
    assert balances(publisher_id) == (65_00, 35_00)
    assert the_payout(payout_id).reversed_amount == 25_00

    full = deliver(client, reversed_event(stripe_fake, transfer, 60_00))
    assert full.json["outcome"] == "reversed"
    assert balances(publisher_id) == (100_00, 0)
    payout = the_payout(payout_id)
    assert (payout.status, payout.reversed_amount) == ("paid", 60_00)
    keys = db.session.scalars(select(LedgerTransaction.idempotency_key).where(
        LedgerTransaction.reason == "payout_reversed").order_by(LedgerTransaction.id)).all()
    assert keys == [f"payout:{payout_id}:reversed:2500", f"payout:{payout_id}:reversed:6000"]
    assert db.session.scalar(select(func.count(Notification.id)).where(
        Notification.kind == "payout_reversed")) == 2
    assert check_ledger().ok

    client.login("pub@example.com")
    page = client.get(f"/earnings/payouts/{payout_id}").get_data(as_text=True)
    assert "$60.00 came back" in page
    assert page.count("Payout reversed at the gateway, money returned") == 2


def test_a_reversal_of_a_transfer_not_recorded_yet_is_refused_until_it_is(
        client, app_context, stripe_fake):
    publisher = make_user("publisher", email="pub@example.com")
    connect_stripe_account(publisher, stripe_fake)
    earn(publisher.id, 100_00)
    payout_id = withdrawals.request_withdrawal(publisher, 60_00, "USD", enqueue=False).id
    db.session.commit()
    # The transfer is made, but its worker stops before recording it.
    transfers.claim([payout_id])
    db.session.commit()
    gateway_named("stripe").create_transfer(the_payout(payout_id))
    (transfer,) = stripe_fake.transfers(payout_id)
    event = reversed_event(stripe_fake, transfer, 20_00)
    refused = deliver(client, event)
    assert refused.status_code == 503
    assert refused.json["error"]["code"] == "transfer_not_recorded"
    assert refused.headers["Retry-After"] == "60"
    # The retry finds the transfer and books it; Stripe's next delivery of the same event counts.
    assert process_payouts([payout_id]) == {payout_id: "paid"}
    db.session.commit()
    assert deliver(client, event).json["outcome"] == "reversed"
    assert balances(publisher.id) == (40_00 + 20_00, 60_00 - 20_00)
    assert check_ledger().ok


def test_an_older_total_arriving_late_moves_nothing(client, app_context, stripe_fake):
    payout_id, transfer = paid_payout(stripe_fake)
    publisher_id = the_payout(payout_id).publisher_id
    older = reversed_event(stripe_fake, transfer, 10_00)
    newer = reversed_event(stripe_fake, transfer, 30_00)
    assert deliver(client, newer).json["outcome"] == "reversed"
    assert deliver(client, older).json["outcome"] == "already_reversed"
    assert balances(publisher_id) == (70_00, 30_00)
    assert check_ledger().ok


def test_a_transfer_that_is_not_ours_changes_nothing(client, app_context, stripe_fake):
    payout_id, transfer = paid_payout(stripe_fake)
    publisher_id = the_payout(payout_id).publisher_id
    other_id = {**transfer, "id": "tr_someone_else"}
    assert deliver(client, reversed_event(stripe_fake, other_id, 60_00)).json["outcome"] \
        == "unknown_payout"
    no_metadata = {**transfer, "metadata": {}}
    assert deliver(client, reversed_event(stripe_fake, no_metadata, 60_00)).json["outcome"] \
        == "unknown_payout"
    assert balances(publisher_id) == (40_00, 60_00)
    assert check_ledger().ok


def test_the_ledger_check_sees_a_reversal_booked_without_its_payout(client, app_context,
                                                                    stripe_fake):
    """`payout_accounts`: paid out = paid payouts less what was reversed, per publisher."""
    payout_id, transfer = paid_payout(stripe_fake)
    deliver(client, reversed_event(stripe_fake, transfer, 20_00))
    payout = the_payout(payout_id)
    payout.reversed_amount = 0  # the payout forgets the reversal the ledger booked
    db.session.commit()
    failing = [check.name for check in check_ledger().checks if not check.ok]
    assert failing == ["payout_accounts"]
