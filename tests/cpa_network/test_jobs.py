"""RQ wiring: a job is enqueued only after its transaction commits and runs in a real worker."""

from sqlalchemy import select

from cpa_network.extensions import db
from cpa_network.jobs import enqueue_after_commit, get_queue
from cpa_network.notifications.models import Notification
from cpa_network.notifications.tasks import notify_upline_of_signup
from tests.conftest import run_worker_burst
from tests.factories import PASSWORD, make_user


def test_signup_through_invite_notifies_upline_via_real_worker(app, client, app_context):
    upline = make_user(email="upline@example.com")
    client.get(f"/r/{upline.referral_code}")
    client.submit("/signup", {"email": "new@example.com", "password": PASSWORD,
                              "confirm": PASSWORD, "roles": ["publisher"],
                              "referral_code": upline.referral_code})
    assert get_queue("notifications").count == 1
    result = run_worker_burst(app)
    assert result.returncode == 0, result.stderr
    notes = db.session.scalars(select(Notification)).all()
    assert [(n.user_id, n.kind) for n in notes] == [(upline.id, "new_referral")]
    assert get_queue("notifications").count == 0


def test_rolled_back_transaction_enqueues_nothing(app_context):
    upline = make_user()
    downline = make_user(upline=upline)
    enqueue_after_commit(notify_upline_of_signup, downline.id, queue="notifications")
    assert get_queue("notifications").count == 0  # not before the commit
    db.session.rollback()
    db.session.commit()
    assert get_queue("notifications").count == 0


def test_job_run_twice_notifies_once(app, app_context):
    upline = make_user()
    downline = make_user(upline=upline)
    for _ in range(2):
        enqueue_after_commit(notify_upline_of_signup, downline.id, queue="notifications")
        db.session.commit()
    assert get_queue("notifications").count == 2
    assert run_worker_burst(app).returncode == 0
    assert db.session.scalar(select(db.func.count(Notification.id))) == 1
