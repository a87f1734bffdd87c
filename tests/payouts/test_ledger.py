"""The ledger as worked examples: money moves, idempotency, reversals (PostgreSQL)."""

import pytest
from sqlalchemy import text

from cpa_network.extensions import db
from payouts import escrow, ledger
from payouts.invariants import check_ledger
from payouts.ledger import (
    AlreadyReversed,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidTransaction,
    Leg,
)
from payouts.models import NETWORK_OWNER, AccountKind, LedgerTransaction
from tests.factories import make_user
from tests.payouts.helpers import balances, fund_escrow

K = AccountKind


def test_accounts_the_session_holds_see_their_new_balance_before_the_commit(app_context):
    """A post updates the balances in one statement, not through the ORM: the account objects
    the session already holds are brought up to date with it, so none reads a stale balance."""
    advertiser = make_user("advertiser")
    fund_escrow(advertiser.id, 100_00)
    escrow_account = ledger.account(K.ADVERTISER_ESCROW, advertiser.id, "USD")
    clearing = ledger.network_account(K.GATEWAY_CLEARING, "USD")
    assert (escrow_account.balance, clearing.balance) == (100_00, -100_00)  # loaded now
    ledger.post_transaction("test-more", ledger.transfer(clearing, escrow_account, 25_00),
                            "deposit", {"advertiser": advertiser.id})
    assert (escrow_account.balance, clearing.balance) == (125_00, -125_00)  # no refresh, no commit
    stored = db.session.execute(text("SELECT balance FROM ledger_accounts WHERE id = :a"),
                                {"a": escrow_account.id}).scalar_one()
    assert stored == 125_00
    db.session.commit()


def test_deposit_hold_approve_the_publisher_sees_payout_and_the_network_its_fee(app_context):
    advertiser, publisher = make_user("advertiser"), make_user("publisher")
    # The advertiser deposits 10,000.00: the money enters through gateway clearing.
    fund_escrow(advertiser.id, 10_000_00)
    assert escrow.escrow_balance(advertiser.id, "USD") == 10_000_00
    assert ledger.balance(K.GATEWAY_CLEARING, None, "USD") == -10_000_00

    # A conversion paying 270.00 to the publisher plus a 30.00 network fee is held.
    escrow.hold_conversion(1, advertiser.id, publisher.id, "USD", payout=270_00, fee=30_00)
    db.session.commit()
    assert escrow.escrow_balance(advertiser.id, "USD") == 9_700_00
    assert escrow.on_hold(advertiser.id, "USD") == 300_00
    assert escrow.pending_earnings(publisher.id, "USD") == 270_00

    # The advertiser approves it: the publisher has 270.00 available, the network 30.00.
    escrow.approve_conversion(1)
    db.session.commit()
    assert balances(advertiser.id) == {"advertiser_escrow": 9_700_00}
    assert balances(publisher.id) == {"publisher_available": 270_00}
    assert ledger.balance(K.NETWORK_REVENUE, NETWORK_OWNER, "USD") == 30_00
    assert escrow.pending_earnings(publisher.id, "USD") == 0
    assert check_ledger().ok


def test_rejected_conversion_returns_payout_and_fee_to_escrow(app_context):
    advertiser, publisher = make_user("advertiser"), make_user("publisher")
    fund_escrow(advertiser.id, 1_000_00)
    escrow.hold_conversion(7, advertiser.id, publisher.id, "USD", payout=90_00, fee=10_00)
    escrow.reject_conversion(7)
    db.session.commit()
    assert balances(advertiser.id) == {"advertiser_escrow": 1_000_00}
    assert balances(publisher.id) == {}
    # Settled once: approving after the rejection is refused, replaying the rejection is not.
    with pytest.raises(IdempotencyConflict):
        escrow.approve_conversion(7)
    assert escrow.reject_conversion(7).reason == "conversion_reject"


def test_upline_commission_comes_out_of_network_revenue(app_context):
    advertiser, upline = make_user("advertiser"), make_user("publisher")
    publisher = make_user("publisher", upline=upline)
    fund_escrow(advertiser.id, 500_00)
    escrow.hold_conversion(3, advertiser.id, publisher.id, "USD", payout=100_00, fee=20_00)
    escrow.approve_conversion(3, commissions=[(upline.id, 5_00)])
    db.session.commit()
    assert ledger.balance(K.PUBLISHER_AVAILABLE, upline.id, "USD") == 5_00
    assert ledger.balance(K.NETWORK_REVENUE, None, "USD") == 15_00


def test_a_conversion_the_escrow_cannot_cover_is_refused_and_nothing_moves(app_context):
    advertiser, publisher = make_user("advertiser"), make_user("publisher")
    fund_escrow(advertiser.id, 50_00)
    with pytest.raises(InsufficientFunds) as refused:
        escrow.hold_conversion(9, advertiser.id, publisher.id, "USD", payout=45_00, fee=10_00)
    assert refused.value.code == "insufficient_funds" and refused.value.needed == 55_00
    assert "$55.00 needed, $50.00 available" in str(refused.value.message)
    db.session.commit()
    assert escrow.escrow_balance(advertiser.id, "USD") == 50_00
    assert db.session.query(LedgerTransaction).count() == 1


def test_replaying_a_key_returns_the_original_transaction(app_context):
    advertiser = make_user("advertiser")
    first = fund_escrow(advertiser.id, 100_00, key="deposit:1")
    again = fund_escrow(advertiser.id, 100_00, key="deposit:1")
    assert again.id == first.id
    assert escrow.escrow_balance(advertiser.id, "USD") == 100_00
    assert db.session.query(LedgerTransaction).count() == 1


def test_same_key_with_different_postings_is_a_conflict(app_context):
    advertiser = make_user("advertiser")
    fund_escrow(advertiser.id, 100_00, key="deposit:1")
    with pytest.raises(IdempotencyConflict) as conflict:
        fund_escrow(advertiser.id, 999_00, key="deposit:1")
    assert conflict.value.code == "idempotency_conflict"
    assert escrow.escrow_balance(advertiser.id, "USD") == 100_00


def test_a_replay_is_answered_even_after_the_money_was_spent(app_context):
    advertiser, publisher = make_user("advertiser"), make_user("publisher")
    fund_escrow(advertiser.id, 100_00)
    hold = escrow.hold_conversion(1, advertiser.id, publisher.id, "USD", payout=100_00, fee=0)
    db.session.commit()
    assert escrow.escrow_balance(advertiser.id, "USD") == 0
    replay = escrow.hold_conversion(1, advertiser.id, publisher.id, "USD", payout=100_00, fee=0)
    assert replay.id == hold.id


def test_reversal_mirrors_the_original_and_a_second_reversal_is_refused(app_context):
    advertiser = make_user("advertiser")
    original = fund_escrow(advertiser.id, 300_00)
    reversal = ledger.reverse_transaction(original, "fix:1", description="entered twice")
    db.session.commit()
    assert reversal.reverses_id == original.id and reversal.refs["reverses"] == original.id
    assert sorted((p.account_id, p.amount) for p in reversal.postings) == sorted(
        (p.account_id, -p.amount) for p in original.postings)
    assert escrow.escrow_balance(advertiser.id, "USD") == 0
    assert ledger.reverse_transaction(original, "fix:1").id == reversal.id  # a replay
    with pytest.raises(AlreadyReversed):
        ledger.reverse_transaction(original, "fix:2")
    with pytest.raises(InvalidTransaction):
        ledger.reverse_transaction(reversal, "fix:3")
    assert check_ledger().ok


def test_reversing_a_deposit_whose_money_was_spent_is_refused(app_context):
    advertiser, publisher = make_user("advertiser"), make_user("publisher")
    deposit = fund_escrow(advertiser.id, 100_00)
    escrow.hold_conversion(1, advertiser.id, publisher.id, "USD", payout=60_00, fee=0)
    with pytest.raises(InsufficientFunds):
        ledger.reverse_transaction(deposit, "undo-deposit")


@pytest.mark.parametrize("legs, message", [
    (lambda a, b: [Leg(a, 100)], "at least two postings"),
    (lambda a, b: [Leg(a, 100), Leg(b, -99)], "sum to zero"),
    (lambda a, b: [Leg(a, 0), Leg(b, 0)], "non-zero integers"),
    (lambda a, b: [Leg(a, 1.5), Leg(b, -1.5)], "non-zero integers"),
])
def test_malformed_transactions_are_refused_before_the_database(app_context, legs, message):
    clearing = ledger.network_account(K.GATEWAY_CLEARING, "USD")
    revenue = ledger.network_account(K.NETWORK_REVENUE, "USD")
    with pytest.raises(InvalidTransaction, match=message):
        ledger.post_transaction("bad", legs(clearing, revenue), "test")


def test_currencies_never_mix(app_context):
    advertiser = make_user("advertiser")
    fund_escrow(advertiser.id, 100_00, "EUR")
    usd = ledger.account(K.ADVERTISER_ESCROW, advertiser.id, "USD")
    eur = ledger.account(K.ADVERTISER_ESCROW, advertiser.id, "EUR")
    with pytest.raises(InvalidTransaction, match="per currency"):
        ledger.post_transaction("fx", [Leg(eur, -100), Leg(usd, 100)], "test")
    assert escrow.escrow_balance(advertiser.id, "EUR") == 100_00
    assert escrow.escrow_balance(advertiser.id, "USD") == 0


def test_account_is_get_or_create(app_context):
    first = ledger.account(K.ADVERTISER_ESCROW, 42, "usd")
    assert ledger.account("advertiser_escrow", 42, "USD").id == first.id
    assert first.currency == "USD" and first.balance == 0
    assert ledger.balance(K.PUBLISHER_AVAILABLE, 42, "USD") == 0
