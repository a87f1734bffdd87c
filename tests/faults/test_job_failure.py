"""A money job raises mid-way: its transaction rolls back whole, RQ retries it, and the retry
completes exactly once. Real burst workers run the weekly run's batch payout job against the
Stripe fake; a trigger the test creates makes the second payout's ledger settlement fail once."""

import time

from rq.registry import ScheduledJobRegistry
from sqlalchemy import func, select, text

from cpa_network.extensions import db
from cpa_network.jobs import get_queue
from payouts import ledger, withdrawals
from payouts.invariants import check_ledger
from payouts.models import AccountKind, LedgerTransaction
from payouts.tasks import enqueue_payout_batches
from tests.conftest import run_worker_burst
from tests.factories import make_user
from tests.payouts.helpers import connect_stripe_account, earn, the_payout

K = AccountKind
FAULT = """
CREATE SEQUENCE test_fault_settles;
CREATE FUNCTION test_fault_settle() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Sequences ignore rollbacks: the 2nd settlement ever attempted fails, and only that one.
    IF nextval('test_fault_settles') = 2 THEN
        RAISE EXCEPTION 'injected fault: settling %', NEW.idempotency_key;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER test_fault_settle BEFORE INSERT ON ledger_transactions FOR EACH ROW
    WHEN (NEW.reason = 'payout_paid') EXECUTE FUNCTION test_fault_settle();
"""
UNFAULT = """
DROP TRIGGER IF EXISTS test_fault_settle ON ledger_transactions;
DROP FUNCTION IF EXISTS test_fault_settle();
DROP SEQUENCE IF EXISTS test_fault_settles;
"""


def paid_settlements() -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(select(LedgerTransaction.idempotency_key).where(
        LedgerTransaction.reason == "payout_paid")))


def run_sql(script: str) -> None:
    db.session.remove()  # DDL waits for every lock on the table: the test's own too
    with db.engine.begin() as conn:
        conn.execute(text(script))


def test_a_batch_payout_job_failing_mid_settlement_rolls_back_and_its_retry_pays_once(
        app, app_context, test_side_app, stripe_workers, monkeypatch):
    ids = []
    for _ in range(3):
        publisher = make_user("publisher")
        connect_stripe_account(publisher, stripe_workers)
        earn(publisher.id, 50_00)
        ids.append(withdrawals.request_withdrawal(publisher, 50_00, "USD", enqueue=False).id)
        db.session.commit()
    # One retry, a second after the failure: the test looks at the state in between.
    monkeypatch.setitem(test_side_app.config, "PAYOUT_RETRY_INTERVALS", [1])
    enqueue_payout_batches(ids)
    db.session.commit()
    run_sql(FAULT)
    try:
        first = run_worker_burst(app, "--queue", "payouts")
        assert first.returncode == 0, first.stderr
        assert "injected fault" in first.stderr + first.stdout
        # The transfers were made and recorded (their own commits); the settlement of all
        # three is one transaction, and the fault at the second undid the first one too.
        assert len(stripe_workers.transfers()) == 3
        assert [the_payout(i).status for i in ids] == ["submitted"] * 3
        assert paid_settlements() == []
        assert [ledger.balance(K.PAYOUT_IN_FLIGHT, the_payout(i).publisher_id, "USD")
                for i in ids] == [50_00] * 3
        assert check_ledger().ok
        retry = ScheduledJobRegistry(queue=get_queue("payouts"))
        assert retry.get_job_ids() == [f"payouts-{ids[0]}-{ids[-1]}"]
        time.sleep(1.1)
        second = run_worker_burst(app, "--queue", "payouts")
        assert second.returncode == 0, second.stderr
    finally:
        run_sql(UNFAULT)
    assert retry.get_job_ids() == [] and get_queue("payouts").count == 0
    assert [the_payout(i).status for i in ids] == ["paid"] * 3
    assert sorted(paid_settlements()) == sorted(f"payout:{i}:settle" for i in ids)
    assert len(stripe_workers.transfers()) == 3  # the retry found them: no second transfer
    assert len(stripe_workers.received("POST", "/v1/transfers")) == 3
    assert db.session.scalar(select(func.count()).select_from(LedgerTransaction).where(
        LedgerTransaction.reason == "payout_paid")) == 3
    assert [ledger.balance(K.PUBLISHER_PAID, the_payout(i).publisher_id, "USD")
            for i in ids] == [50_00] * 3
    assert check_ledger().ok
