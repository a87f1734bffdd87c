"""The database itself refuses bad ledger rows: raw SQL that bypasses the ORM and the service."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

from cpa_network.extensions import db
from payouts import ledger, ledger_postgres
from payouts.models import AccountKind
from tests.factories import make_user
from tests.payouts.helpers import fund_escrow


@pytest.fixture
def accounts(app_context):
    """A funded escrow and the clearing account, committed; returns their ids."""
    advertiser = make_user("advertiser")
    fund_escrow(advertiser.id, 100_00)
    escrow_id = ledger.account(AccountKind.ADVERTISER_ESCROW, advertiser.id, "USD").id
    clearing_id = ledger.network_account(AccountKind.GATEWAY_CLEARING, "USD").id
    db.session.commit()
    return escrow_id, clearing_id


def insert_transaction(key: str) -> int:
    return db.session.execute(text(
        "INSERT INTO ledger_transactions (idempotency_key, reason, description, refs, "
        "fingerprint, created_at) VALUES (:key, 'test', '', '{}', 'x', now()) RETURNING id"),
        {"key": key}).scalar_one()


def insert_posting(txn_id: int, account_id: int, amount: int, currency: str = "USD") -> None:
    db.session.execute(text(
        "INSERT INTO ledger_postings (transaction_id, account_id, currency, amount) "
        "VALUES (:t, :a, :c, :m)"), {"t": txn_id, "a": account_id, "c": currency, "m": amount})


def test_an_unbalanced_transaction_is_refused_at_commit(accounts):
    escrow_id, clearing_id = accounts
    txn = insert_transaction("raw-unbalanced")
    insert_posting(txn, escrow_id, 500)
    insert_posting(txn, clearing_id, -499)
    db.session.flush()  # the rows are in: the deferred trigger waits for the commit
    with pytest.raises(IntegrityError, match="does not balance: USD postings sum to 1"):
        db.session.commit()
    db.session.rollback()


def test_a_balanced_raw_transaction_commits(accounts):
    escrow_id, clearing_id = accounts
    txn = insert_transaction("raw-balanced")
    insert_posting(txn, clearing_id, -500)
    insert_posting(txn, escrow_id, 500)
    db.session.commit()  # the trigger is not a blanket ban: balanced rows pass


def clearing_pair(currency: str) -> tuple[int, int]:
    """Two network accounts in `currency` that may take raw postings of either sign."""
    first = ledger.network_account(AccountKind.GATEWAY_CLEARING, currency).id
    second = ledger.network_account(AccountKind.NETWORK_REVENUE, currency).id
    db.session.commit()
    return first, second


def test_sums_that_cancel_across_currencies_are_refused(app_context):
    """A zero total is not enough: each currency must sum to zero (the check's one-currency
    shortcut must not take this transaction)."""
    usd, eur = clearing_pair("USD")[0], clearing_pair("EUR")[0]
    txn = insert_transaction("raw-cross-currency")
    insert_posting(txn, usd, 500)
    insert_posting(txn, eur, -500, "EUR")
    with pytest.raises(IntegrityError, match="does not balance: EUR postings sum to -500"):
        db.session.commit()
    db.session.rollback()


def test_a_transaction_balanced_in_two_currencies_commits(app_context):
    (usd_a, usd_b), (eur_a, eur_b) = clearing_pair("USD"), clearing_pair("EUR")
    txn = insert_transaction("raw-two-currencies")
    for account_id, amount, currency in ((usd_a, 300, "USD"), (usd_b, -300, "USD"),
                                         (eur_a, -70, "EUR"), (eur_b, 70, "EUR")):
        insert_posting(txn, account_id, amount, currency)
    db.session.commit()
    assert db.session.scalar(text("SELECT count(*) FROM ledger_postings WHERE "
                                  "transaction_id = :t"), {"t": txn}) == 4


def test_a_posting_added_later_to_a_committed_transaction_is_refused(accounts):
    escrow_id, clearing_id = accounts
    txn = insert_transaction("raw-then-more")
    insert_posting(txn, clearing_id, -500)
    insert_posting(txn, escrow_id, 500)
    db.session.commit()
    insert_posting(txn, clearing_id, -1)
    with pytest.raises(IntegrityError, match="does not balance: USD postings sum to -1"):
        db.session.commit()
    db.session.rollback()


def test_a_transaction_with_one_posting_or_none_is_refused(accounts):
    insert_transaction("raw-empty")
    with pytest.raises(IntegrityError, match="at least two are needed"):
        db.session.commit()
    db.session.rollback()


def test_a_zero_amount_posting_is_refused(accounts):
    escrow_id, _ = accounts
    txn = insert_transaction("raw-zero")
    with pytest.raises(IntegrityError, match="ck_ledger_postings_amount_not_zero"):
        insert_posting(txn, escrow_id, 0)
    db.session.rollback()


def test_a_posting_in_another_currency_than_its_account_is_refused(accounts):
    escrow_id, _ = accounts
    txn = insert_transaction("raw-currency")
    with pytest.raises(IntegrityError, match="fk_ledger_postings_account_currency"):
        insert_posting(txn, escrow_id, 100, currency="EUR")
    db.session.rollback()


@pytest.mark.parametrize("statement", [
    "UPDATE ledger_postings SET amount = amount * 2",
    "DELETE FROM ledger_postings",
    "UPDATE ledger_transactions SET reason = 'edited'",
    "DELETE FROM ledger_transactions",
])
def test_postings_and_transactions_are_append_only(accounts, statement):
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(text(statement))
    db.session.rollback()


def test_a_duplicate_idempotency_key_is_refused(accounts):
    insert_transaction("raw-dup")
    with pytest.raises(IntegrityError, match="uq_ledger_transactions_idempotency_key"):
        insert_transaction("raw-dup")
    db.session.rollback()


def test_a_second_reversal_is_refused_by_the_unique_index(accounts):
    original = db.session.execute(text("SELECT min(id) FROM ledger_transactions")).scalar_one()
    insert = text(
        "INSERT INTO ledger_transactions (idempotency_key, reason, description, refs, "
        "fingerprint, created_at, reverses_id) VALUES (:k, 'reversal', '', '{}', 'x', now(), :o)")
    db.session.execute(insert, {"k": "raw-rev-1", "o": original})
    with pytest.raises(IntegrityError, match="uq_ledger_transactions_reverses_id"):
        db.session.execute(insert, {"k": "raw-rev-2", "o": original})
    db.session.rollback()


def test_a_negative_escrow_balance_is_refused_but_clearing_may_go_negative(accounts):
    escrow_id, clearing_id = accounts
    with pytest.raises(IntegrityError, match="ck_ledger_accounts_balance_not_negative"):
        db.session.execute(text("UPDATE ledger_accounts SET balance = -1 WHERE id = :a"),
                           {"a": escrow_id})
    db.session.rollback()
    db.session.execute(text("UPDATE ledger_accounts SET balance = -5 WHERE id = :a"),
                       {"a": clearing_id})
    db.session.rollback()


def test_an_unknown_account_kind_is_refused(app_context):
    with pytest.raises(IntegrityError, match="ck_ledger_accounts_kind_known"):
        db.session.execute(text(
            "INSERT INTO ledger_accounts (kind, owner_id, currency, balance, created_at) "
            "VALUES ('free_money', 1, 'USD', 0, now())"))
    db.session.rollback()


def test_a_publishers_pending_earnings_are_found_through_the_index(app_context):
    """Pending earnings are found by the publisher their holds name (refs ->> 'publisher'):
    the clause must match migration 0017's expression index, so a large ledger is not read
    whole (at 300,000 holds: ~5 ms instead of ~120 ms a currency)."""
    from sqlalchemy import select

    from payouts import earnings, escrow
    from payouts.models import LedgerTransaction

    advertiser, publisher, other = (make_user("advertiser"), make_user("publisher"),
                                    make_user("publisher"))
    fund_escrow(advertiser.id, 1_000_00)
    escrow.hold_conversion(901, advertiser.id, publisher.id, "USD", payout=70_00, fee=7_00)
    escrow.hold_conversion(902, advertiser.id, other.id, "USD", payout=50_00, fee=5_00)
    db.session.commit()
    assert escrow.pending_earnings(publisher.id, "USD") == 70_00
    assert [item.conversion_id for item in earnings.pending_items(publisher.id)] == [901]

    statement = select(LedgerTransaction.id).where(
        escrow.names_publisher(LedgerTransaction, publisher.id))
    db.session.execute(text("SET LOCAL enable_seqscan = off"))  # tiny tables: can it use it?
    compiled = statement.compile(db.engine, compile_kwargs={"literal_binds": True})
    plan = "\n".join(db.session.execute(text(f"EXPLAIN {compiled}")).scalars())
    assert "ix_ledger_transactions_publisher_ref" in plan, plan
    db.session.rollback()


@pytest.mark.parametrize("values, literal", [([1, -20, 3], "{1,-20,3}"), ([], "{}")])
def test_ledger_post_gets_its_integer_arrays_as_literals(values, literal):
    assert ledger_postgres.int_array(values) == literal


@pytest.mark.parametrize("value", ["1,2", "1}", 1.5, None])
def test_nothing_but_an_integer_goes_into_an_array_literal(value):
    """A string cannot add an element or close the literal: it is refused, not written."""
    with pytest.raises(TypeError):
        ledger_postgres.int_array([7, value])
