"""The payout package's periodic jobs: weekly automatic payouts, the nightly ledger check that
alerts every operator, and the reconciler, all on the beat."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, text

from cpa_network.database import utcnow
from cpa_network.extensions import db
from cpa_network.jobs import get_queue
from cpa_network.notifications.models import Notification
from cpa_network.notifications.services import render_message
from cpa_network.schedule import enqueue_due, periodic_jobs
from payouts import automatic, connect, ledger
from payouts.models import AccountKind, Payout
from payouts.tasks import check_ledger_nightly, pay_automatically
from tests.conftest import run_worker_burst
from tests.factories import make_user
from tests.payouts.helpers import connected_publisher, earn

MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def payouts() -> list[tuple[int, int, bool]]:
    db.session.expire_all()
    return [(p.publisher_id, p.amount, p.automatic)
            for p in db.session.scalars(select(Payout).order_by(Payout.id))]


def test_the_beat_schedules_the_payout_jobs(app, app_context):
    jobs = {job.name: (job.every_s, job.queue) for job in periodic_jobs(app)}
    assert jobs["payout_reconciler"] == (600, "payouts")
    assert jobs["automatic_payouts"] == (3600, "payouts")
    assert jobs["ledger_check"] == (86400, "default")
    assert {"periodic-payout_reconciler", "periodic-ledger_check"} <= {
        job_id.rsplit("-", 1)[0] for job_id in enqueue_due()}


def test_weekly_payouts_pay_each_opted_in_publisher_once_a_week(app_context):
    weekly = connected_publisher(earned=130_00)
    connect.save_settings(weekly.id, None, automatic=True)
    earn(weekly.id, 20_00, "EUR")  # below the minimum in euros: stays
    manual = connected_publisher(earned=500_00)  # did not opt in
    db.session.commit()
    assert automatic.run_automatic_payouts(now=MONDAY) == {"requested": 1}
    assert automatic.run_automatic_payouts(now=MONDAY + timedelta(days=3)) == {}
    assert payouts() == [(weekly.id, 130_00, True)]
    assert ledger.balance(AccountKind.PUBLISHER_AVAILABLE, manual.id, "USD") == 500_00
    earn(weekly.id, 60_00)
    assert automatic.run_automatic_payouts(now=MONDAY + timedelta(days=7)) == {"requested": 1}
    assert payouts()[-1] == (weekly.id, 60_00, True)
    key = db.session.scalar(select(Payout.request_key).order_by(Payout.id.desc()))
    assert key == f"auto:{weekly.id}:USD:2026-W49"


def test_weekly_payouts_respect_the_publishers_minimum_and_blocks(app_context):
    saver = connected_publisher(earned=150_00)
    connect.save_settings(saver.id, 200, automatic=True)
    blocked = connected_publisher(earned=300_00)
    connect.save_settings(blocked.id, None, automatic=True)
    blocked.blocked_at = utcnow()
    db.session.commit()
    assert automatic.run_automatic_payouts(now=MONDAY) == {"skipped_account": 1}
    assert payouts() == []


def test_the_automatic_payouts_job_runs_in_a_worker_and_pays(app, app_context):
    publisher = connected_publisher(earned=90_00)
    connect.save_settings(publisher.id, None, automatic=True)
    db.session.commit()
    get_queue("payouts").enqueue(pay_automatically)
    assert run_worker_burst(app, "--queue", "payouts").returncode == 0
    assert ledger.balance(AccountKind.PUBLISHER_PAID, publisher.id, "USD") == 90_00


def test_the_nightly_check_notifies_every_operator_once_when_the_ledger_breaks(app, app_context):
    admin_ids = [make_user("admin").id, make_user("admin", "publisher").id]
    publisher_id = connected_publisher(earned=70_00).id
    assert check_ledger_nightly() == {"ok": True, "failed": [], "transactions": 3}
    assert db.session.scalar(select(func.count(Notification.id))) == 0

    account = ledger.account(AccountKind.PUBLISHER_AVAILABLE, publisher_id, "USD")
    db.session.execute(text("UPDATE ledger_accounts SET balance = balance + 5 WHERE id = :a"),
                       {"a": account.id})
    db.session.commit()
    get_queue("default").enqueue(check_ledger_nightly)
    get_queue("default").enqueue(check_ledger_nightly)  # twice the same night
    assert run_worker_burst(app, "--queue", "default").returncode == 0
    notes = db.session.scalars(select(Notification).order_by(Notification.user_id)).all()
    assert [n.user_id for n in notes] == admin_ids
    assert {n.kind for n in notes} == {"ledger_check_failed"}
    message = render_message(notes[0])
    assert "found 1 failing check(s): cached_balances" in message
