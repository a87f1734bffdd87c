"""Concurrent posts on PostgreSQL under READ COMMITTED: row locks and the unique key hold."""

import threading
import time

from cpa_network.extensions import db
from payouts import escrow, ledger
from payouts.invariants import check_ledger
from payouts.ledger import IdempotencyConflict, InsufficientFunds
from payouts.models import AccountKind, LedgerAccount, LedgerTransaction
from tests.factories import make_user
from tests.payouts.helpers import fund_escrow, run_together

THREADS = 20


def run_in_threads(app, count: int, work) -> list:
    """Run `work(i)` in `count` threads, each in its own app context, released together."""
    results: list = [None] * count
    barrier = threading.Barrier(count)

    def runner(i):
        with app.app_context():
            barrier.wait()
            try:
                results[i] = work(i)
                db.session.commit()
            except Exception as error:
                db.session.rollback()
                results[i] = error
            finally:
                db.session.remove()

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_twenty_threads_spending_one_escrow_never_overdraw_it(app, app_context):
    advertiser_id, publisher_id = make_user("advertiser").id, make_user("publisher").id
    fund_escrow(advertiser_id, 10_00)  # 10.00: room for 14 conversions of 0.70

    def spend(i):
        return escrow.hold_conversion(i, advertiser_id, publisher_id, "USD", payout=60, fee=10).id

    results = run_in_threads(app, THREADS, spend)
    spent = [r for r in results if isinstance(r, int)]
    refused = [r for r in results if isinstance(r, InsufficientFunds)]
    assert len(spent) == 14 and len(refused) == 6, results
    db.session.expire_all()
    assert escrow.escrow_balance(advertiser_id, "USD") == 10_00 - 14 * 70
    assert escrow.on_hold(advertiser_id, "USD") == 14 * 70
    recorded = db.session.query(LedgerTransaction).filter_by(reason="conversion_hold").count()
    assert recorded == len(set(spent)) == 14
    assert check_ledger().ok


def test_concurrent_posts_of_one_key_make_one_transaction(app, app_context):
    advertiser_id, publisher_id = make_user("advertiser").id, make_user("publisher").id
    fund_escrow(advertiser_id, 1_00)  # exactly one conversion's worth

    def post(_):
        return escrow.hold_conversion(77, advertiser_id, publisher_id, "USD", payout=90, fee=10).id

    results = run_in_threads(app, 8, post)
    assert len(set(results)) == 1 and isinstance(results[0], int), results
    db.session.expire_all()
    assert escrow.escrow_balance(advertiser_id, "USD") == 0
    assert db.session.query(LedgerTransaction).filter_by(reason="conversion_hold").count() == 1


def test_a_concurrent_conflicting_post_of_one_key_loses_on_the_unique_index(app, app_context):
    """Disjoint accounts (another currency), so no lock orders them: the unique index does,
    and the loser re-reads the winner after its savepoint rolled back."""
    first_id, second_id = make_user("advertiser").id, make_user("advertiser").id
    fund_escrow(first_id, 5_00)
    fund_escrow(second_id, 5_00, "EUR")
    winner_inserted, outcomes = threading.Event(), {}

    def winner():
        with app.app_context():
            fund_escrow_uncommitted(first_id, "USD")
            winner_inserted.set()
            time.sleep(0.3)  # the loser is now blocked on the key's index entry
            db.session.commit()
            outcomes["winner"] = "committed"
            db.session.remove()

    def loser():
        with app.app_context():
            winner_inserted.wait(5)
            try:
                fund_escrow_uncommitted(second_id, "EUR")
            except IdempotencyConflict as error:
                outcomes["loser"] = error.code
            db.session.rollback()
            db.session.remove()

    threads = [threading.Thread(target=winner), threading.Thread(target=loser)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert outcomes == {"winner": "committed", "loser": "idempotency_conflict"}
    db.session.expire_all()
    assert escrow.escrow_balance(first_id, "USD") == 6_00
    assert escrow.escrow_balance(second_id, "EUR") == 5_00


def fund_escrow_uncommitted(advertiser_id: int, currency: str):
    return ledger.post_transaction(
        "shared-key",
        ledger.transfer(ledger.network_account(AccountKind.GATEWAY_CLEARING, currency),
                        ledger.account(AccountKind.ADVERTISER_ESCROW, advertiser_id, currency),
                        1_00),
        "deposit")


def test_two_concurrent_reversals_of_one_transaction_make_one(app, app_context):
    """Different keys, so only the unique index on reverses_id can refuse the second; the
    loser's savepoint rolls back and its own transaction stays usable."""
    advertiser_id = make_user("advertiser").id
    original_id = fund_escrow(advertiser_id, 3_00).id

    def reverse(i):
        original = db.session.get(LedgerTransaction, original_id)
        reversal = ledger.reverse_transaction(original, f"undo:{i}")
        time.sleep(0.2)  # hold the row until the other thread has tried too
        return reversal.id

    results = run_in_threads(app, 2, reverse)
    assert sorted(type(r).__name__ for r in results) == ["AlreadyReversed", "int"], results
    db.session.expire_all()
    assert escrow.escrow_balance(advertiser_id, "USD") == 0
    assert check_ledger().ok


def test_a_debit_that_waited_for_a_credit_spends_the_credited_money(app, app_context):
    """50.00 available; a credit of 100.00 holds the account's lock while a debit of 60.00
    waits for it. Once the credit commits the debit goes through on 150.00: the new balance is
    computed from the locked row, not from the debit's older snapshot (on which PostgreSQL
    checked the balance CHECK first and refused -10.00, migration 0026)."""
    publisher = make_user("publisher")
    account = ledger.account(AccountKind.PUBLISHER_AVAILABLE, publisher.id, "USD")
    clearing = ledger.network_account(AccountKind.GATEWAY_CLEARING, "USD")
    revenue = ledger.network_account(AccountKind.NETWORK_REVENUE, "USD")
    ledger.post_transaction("earned", ledger.transfer(clearing, account, 50_00), "deposit", {})
    db.session.commit()
    ids = account.id, clearing.id, revenue.id
    credited, outcome = threading.Event(), []

    def credit() -> None:
        with app.app_context():
            source, destination = (db.session.get(LedgerAccount, ids[1]),
                                   db.session.get(LedgerAccount, ids[0]))
            ledger.post_transaction("top-up", ledger.transfer(source, destination, 100_00),
                                    "deposit", {})
            credited.set()
            time.sleep(1.0)  # the debit is waiting for this transaction's lock meanwhile
            db.session.commit()
            db.session.remove()

    def debit() -> None:
        with app.app_context():
            credited.wait(10)
            try:
                ledger.post_transaction("spent", ledger.transfer(
                    db.session.get(LedgerAccount, ids[0]),
                    db.session.get(LedgerAccount, ids[2]), 60_00), "test_spend", {})
                db.session.commit()
                outcome.append("posted")
            except Exception as error:
                db.session.rollback()
                outcome.append(error)
            finally:
                db.session.remove()

    run_together(credit, debit)
    assert outcome == ["posted"]
    db.session.expire_all()
    assert ledger.balance(AccountKind.PUBLISHER_AVAILABLE, publisher.id, "USD") == 90_00
    report = check_ledger()
    assert report.ok, [(c.name, c.problems) for c in report.checks if not c.ok]
