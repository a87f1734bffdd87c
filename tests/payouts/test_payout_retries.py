"""The operator's "Retry" on a failed payout makes one new payout, however often it is pressed
and by however many operators at once; a second retry answers which payout it already became."""

import pytest
from sqlalchemy import func, select

from cpa_network.extensions import db
from payouts import ledger, reconcile, transfers, withdrawals
from payouts.invariants import check_ledger
from payouts.models import AccountKind, Payout
from tests.factories import make_user
from tests.payouts.helpers import earn, the_payout
from tests.payouts.test_ledger_concurrency import run_in_threads
from tests.payouts.test_payout_admin import failed_payout


def retries_of(payout_id: int) -> list[Payout]:
    db.session.expire_all()
    return list(db.session.scalars(select(Payout).where(Payout.retry_of_id == payout_id)))


def test_a_failed_payout_retried_twice_is_retried_once(client, app_context):
    failed = failed_payout(60_00)
    failed_id, publisher_id = failed.id, failed.publisher_id
    earn(publisher_id, 100_00)  # the publisher earned more since: enough for a second copy
    make_user("admin", email="ops@example.com")
    client.login("ops@example.com")
    token = client.csrf_token("/admin/payouts")
    for _click in range(2):
        assert client.post(f"/admin/payouts/{failed_id}/retry",
                           data={"csrf_token": token}).status_code == 302
    (retry,) = retries_of(failed_id)
    assert retry.request_key == f"retry:{failed_id}"
    assert f"Payout {failed_id} was already retried as payout #{retry.id}." in client.get(
        "/admin/payouts").get_data(as_text=True)
    # $160 earned in all, $60 of it in flight once.
    assert ledger.balance(AccountKind.PAYOUT_IN_FLIGHT, publisher_id, "USD") == 60_00
    assert ledger.balance(AccountKind.PUBLISHER_AVAILABLE, publisher_id, "USD") == 100_00
    assert check_ledger().ok


def test_a_second_retry_is_refused_with_already_retried(app_context):
    failed = failed_payout(60_00)
    earn(failed.publisher_id, 100_00)
    first = reconcile.retry_payout(failed.id)
    db.session.commit()
    with pytest.raises(withdrawals.AlreadyRetried) as refused:
        reconcile.retry_payout(failed.id)
    db.session.rollback()
    assert refused.value.code == "already_retried" and refused.value.http_status == 409
    assert refused.value.retry_id == first.id
    assert str(refused.value.message) == (f"Payout {failed.id} was already retried as "
                                          f"payout #{first.id}.")
    assert [p.id for p in retries_of(failed.id)] == [first.id]


def test_operators_retrying_at_once_make_one_payout(app, app_context):
    failed = failed_payout(60_00)
    failed_id, publisher_id = failed.id, failed.publisher_id
    earn(publisher_id, 500_00)  # enough for every copy, were any made

    def retry(_i):
        return reconcile.retry_payout(failed_id).id

    results = run_in_threads(app, 8, retry)
    made = [r for r in results if isinstance(r, int)]
    refused = [r for r in results if isinstance(r, withdrawals.AlreadyRetried)]
    assert len(made) == 1 and len(refused) == 7, results
    assert {r.retry_id for r in refused} == set(made)
    assert [p.id for p in retries_of(failed_id)] == made
    assert ledger.balance(AccountKind.PAYOUT_IN_FLIGHT, publisher_id, "USD") == 60_00
    assert check_ledger().ok


def test_a_retry_that_failed_too_can_be_retried_in_its_turn(app_context):
    failed = failed_payout(60_00)
    retry = reconcile.retry_payout(failed.id)
    db.session.commit()
    transfers.claim([retry.id])
    transfers.fail_payout(transfers.lock_payout(retry.id), "balance_insufficient", "low")
    db.session.commit()
    again = reconcile.retry_payout(retry.id)
    db.session.commit()
    assert the_payout(again.id).retry_of_id == retry.id
    assert db.session.scalar(select(func.count(Payout.id))) == 3
    assert check_ledger().ok
