"""Exactly once under concurrency (PostgreSQL row locks and unique indexes, real threads):
identical postbacks, caps, the hold-period job racing the advertiser, the job run twice."""

import threading
from collections import Counter

from sqlalchemy import func, select

from cpa_network.extensions import db
from offers import review
from offers.services import CapData, GoalData
from offers.tasks import approve_due_conversions
from payouts.models import AccountKind, LedgerTransaction
from tests.conftest import run_worker_burst
from tests.factories import make_api_key
from tests.offers.conversion_helpers import (
    assert_books_balance,
    balance,
    conversions,
    live_setup,
    one_conversion_instant,
    postback_url,
    stored_click,
)


def concurrently(calls: list) -> list:
    """Run every call at once (a barrier releases them together); their results in order."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        barrier.wait()
        results[index] = call()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def get_json(app, url):
    def call():
        response = app.test_client().get(url)
        return response.status_code, response.json
    return call


def test_fifty_identical_postbacks_make_one_conversion_and_one_hold(app, app_context):
    offer, _link, click_id = live_setup()
    url = postback_url(offer, click_id, txid="SAME-1")
    results = concurrently([get_json(app, url) for _ in range(50)])
    assert Counter(body["status"] for _status, body in results) == {"ok": 1, "duplicate": 49}
    assert {status for status, _body in results} == {200}
    assert len({body["conversion_id"] for _status, body in results}) == 1
    [conversion] = conversions()
    holds = db.session.scalar(select(func.count(LedgerTransaction.id)).where(
        LedgerTransaction.reason == "conversion_hold"))
    assert holds == 1
    assert balance(AccountKind.ADVERTISER_HOLD, offer.advertiser_id) == conversion.payout
    assert_books_balance()


def test_caps_hold_under_concurrency(app, app_context, monkeypatch):
    one_conversion_instant(monkeypatch)
    offer, link, _click = live_setup(caps=(CapData("offer", "day", "conversions", 5),
                                           CapData("publisher", "month", "payout", 100_00)))
    clicks = [stored_click(link, ip=f"5.18.0.{n}") for n in range(30)]
    results = concurrently([get_json(app, postback_url(offer, c, txid=f"C-{n}"))
                            for n, c in enumerate(clicks)])
    counts = Counter(body["status"] for _status, body in results)
    assert counts == {"ok": 5, "cap_reached": 25}, counts
    assert len(conversions()) == 5
    assert balance(AccountKind.ADVERTISER_HOLD, offer.advertiser_id) == 5 * 10_00
    assert_books_balance()


def test_a_payout_cap_counts_money_under_concurrency(app, app_context, monkeypatch):
    one_conversion_instant(monkeypatch)
    offer, link, _click = live_setup(goals=(GoalData("sale", "fixed", 30_00),),
                                     caps=(CapData("publisher", "day", "payout", 100_00),))
    clicks = [stored_click(link, ip=f"5.18.1.{n}") for n in range(12)]
    results = concurrently([get_json(app, postback_url(offer, c, goal="sale", txid=f"P-{n}"))
                            for n, c in enumerate(clicks)])
    assert Counter(body["status"] for _s, body in results) == {"ok": 3, "cap_reached": 9}
    assert_books_balance()


def _due_conversions(client_app, count: int):
    offer, link, _click = live_setup(hold_days=0)
    for n in range(count):
        click_id = stored_click(link, ip=f"5.18.2.{n}")
        assert client_app.test_client().get(postback_url(offer, click_id, txid=f"D-{n}")
                                            ).json["status"] == "ok"
    return offer


def test_the_hold_period_job_run_twice_at_once_approves_once(app, app_context):
    offer = _due_conversions(app, 6)
    with_context = [lambda: _in_context(app, approve_due_conversions) for _ in range(2)]
    results = concurrently(with_context)
    assert sum(results) == 6
    assert {c.status for c in conversions()} == {"approved"}
    assert balance(AccountKind.PUBLISHER_AVAILABLE, conversions()[0].publisher_id) == 60_00
    assert balance(AccountKind.NETWORK_REVENUE, None) == 6_00
    assert _in_context(app, approve_due_conversions) == 0  # and once more: nothing
    assert balance(AccountKind.ADVERTISER_ESCROW, offer.advertiser_id) == 1_000_00 - 66_00
    assert_books_balance()


def _in_context(app, func):
    with app.app_context():
        return func()


def test_the_advertiser_and_the_hold_job_racing_end_in_one_outcome(app, app_context):
    offer = _due_conversions(app, 8)
    key = make_api_key(offer.advertiser)
    ids = [c.id for c in conversions()]

    def reject(conversion_id):
        def call():
            return app.test_client().post(f"/api/v1/conversions/{conversion_id}/reject",
                                          json={"reason": "cancelled"},
                                          headers={"Authorization": f"Bearer {key}"}).status_code
        return call

    results = concurrently([lambda: _in_context(app, approve_due_conversions),
                            *(reject(i) for i in ids)])
    approved_by_job, statuses = results[0], results[1:]
    final = {c.id: c.status for c in conversions()}
    assert set(final.values()) <= {"approved", "rejected"}
    rejected = [i for i in ids if final[i] == "rejected"]
    assert approved_by_job == len(ids) - len(rejected)
    # The advertiser's call succeeded exactly for the ones it rejected; the rest got 409.
    assert sorted(s for s in statuses) == sorted([200] * len(rejected) +
                                                 [409] * (len(ids) - len(rejected)))
    settles = db.session.scalar(select(func.count(LedgerTransaction.id)).where(
        LedgerTransaction.idempotency_key.like("conversion:%:settle")))
    assert settles == len(ids)
    assert_books_balance()


def test_the_hold_period_job_runs_in_a_real_worker(app, app_context):
    _due_conversions(app, 2)
    from cpa_network.jobs import get_queue

    with app.app_context():
        get_queue("default").enqueue(approve_due_conversions)
    result = run_worker_burst(app, "--no-beat")
    assert result.returncode == 0, result.stderr[-2000:]
    assert {c.status for c in conversions()} == {"approved"}
    assert_books_balance()


def test_held_conversions_wait_for_the_operator_not_the_clock(app, app_context):
    from datetime import timedelta

    offer, link, _click = live_setup(hold_days=0)
    quick = stored_click(link, ago=timedelta(seconds=2))
    app.test_client().get(postback_url(offer, quick))
    assert _in_context(app, approve_due_conversions) == 0
    [conversion] = conversions()
    assert conversion.held and conversion.status == "pending"
    assert review.fraud_queue()[0].id == conversion.id
