"""The operator's payouts page (by status, failures with reasons, retry, totals per day) and queue
health (RQ's registries, failed-job details, requeue)."""

from sqlalchemy import select

from cpa_network.accounts.models import User
from cpa_network.extensions import db
from cpa_network.jobs import get_queue
from payouts import transfers, withdrawals
from payouts.invariants import check_ledger
from payouts.models import Payout
from payouts.tasks import reconcile_payouts
from tests.conftest import run_worker_burst
from tests.factories import make_user
from tests.payouts.helpers import connected_publisher, the_payout


def failed_payout(amount: int = 60_00) -> Payout:
    publisher = connected_publisher(earned=amount)
    payout = withdrawals.request_withdrawal(publisher, amount, "USD")
    transfers.claim([payout.id])
    transfers.fail_payout(payout, "balance_insufficient", "platform balance too low")
    db.session.commit()
    get_queue("payouts").empty()
    return payout


def test_operator_sees_payouts_by_status_with_reasons_and_totals(client, app_context):
    failed = failed_payout()
    paid = withdrawals.request_withdrawal(connected_publisher(earned=80_00), 80_00, "USD")
    db.session.commit()
    assert transfers.process_payout(paid.id) == "paid"
    make_user("admin", email="ops@example.com")
    client.login("ops@example.com")
    html = client.get("/admin/payouts").get_data(as_text=True)
    assert "the network's payout balance is too low" in html  # the failed one's reason
    assert f"sandbox_tr_{paid.id}" in html and "Totals per day" in html
    assert "$80.00" in html and "$60.00" in html
    only_failed = client.get("/admin/payouts?status=failed").get_data(as_text=True)
    assert f'href="/admin/payouts/{failed.id}"' in only_failed
    assert f'href="/admin/payouts/{paid.id}"' not in only_failed
    detail = client.get(f"/admin/payouts/{failed.id}").get_data(as_text=True)
    assert "balance_insufficient" in detail and f"payout-{failed.id}-transfer" in detail
    assert "Payout failed, money returned" in detail


def test_retrying_a_failed_payout_makes_a_new_one_that_the_worker_pays(app, client, app_context):
    failed = failed_payout()
    make_user("admin", email="ops@example.com")
    client.login("ops@example.com")
    response = client.submit(f"/admin/payouts/{failed.id}/retry", {}, page="/admin/payouts")
    assert response.status_code == 302
    retried = db.session.scalar(select(Payout).where(Payout.retry_of_id == failed.id))
    assert f"Payout {failed.id} is retried as payout {retried.id}." in client.get(
        "/admin/payouts").get_data(as_text=True)
    assert run_worker_burst(app, "--queue", "payouts").returncode == 0
    assert the_payout(retried.id).status == "paid" and the_payout(failed.id).status == "failed"
    client.submit(f"/admin/payouts/{retried.id}/retry", {}, page="/admin/payouts")
    assert "Only a failed or unfinished payout can be retried." in client.get(
        "/admin/payouts").get_data(as_text=True)
    assert check_ledger().ok


def test_a_retry_needs_the_money_to_be_still_available(client, app_context):
    failed = failed_payout()
    publisher = db.session.get(User, failed.publisher_id)
    withdrawals.request_withdrawal(publisher, 60_00, "USD")  # they withdrew it again themselves
    db.session.commit()
    make_user("admin", email="ops@example.com")
    client.login("ops@example.com")
    client.submit(f"/admin/payouts/{failed.id}/retry", {}, page="/admin/payouts")
    assert "This is more than your available balance." in client.get(
        "/admin/payouts").get_data(as_text=True)
    assert db.session.scalar(select(Payout).where(Payout.retry_of_id == failed.id)) is None


def test_queue_health_lists_registries_and_requeues_a_failed_job(app, client, app_context):
    queue = get_queue("default")
    broken = queue.enqueue("math.sqrt", -1, job_id="broken-job")
    assert run_worker_burst(app, "--queue", "default").returncode == 0  # it fails for real
    get_queue("payouts").enqueue(reconcile_payouts)  # one waiting
    make_user("admin", email="ops@example.com")
    client.login("ops@example.com")
    html = client.get("/admin/queues").get_data(as_text=True)
    assert "ValueError: math domain error" in html and "broken-job" in html
    assert "No worker is running" in html
    detail = client.get("/admin/queues/default/jobs/broken-job").get_data(as_text=True)
    assert "Traceback" in detail and "math.sqrt(-1)" in detail
    assert client.get("/admin/queues/payouts/jobs/broken-job").status_code == 404
    assert client.get("/admin/queues/nope/jobs/broken-job").status_code == 404
    response = client.submit("/admin/queues/default/jobs/broken-job/requeue", {},
                             page="/admin/queues")
    assert response.status_code == 302
    assert queue.failed_job_registry.count == 0 and queue.job_ids == [broken.id]
    client.submit("/admin/queues/default/jobs/broken-job/requeue", {}, page="/admin/queues")
    assert "no longer in the failed registry" in client.get("/admin/queues").get_data(
        as_text=True)


def test_operator_pages_are_for_operators(client, app_context):
    make_user("publisher", email="pub@example.com")
    client.login("pub@example.com")
    for path in ("/admin/payouts", "/admin/queues"):
        assert client.get(path).status_code == 403
