"""Bulk review as a background job: a confirmation first, then a real worker decides 300
conversions in committed batches, each exactly once even when the job runs twice."""

import re
from datetime import timedelta

from sqlalchemy import func, select

from cpa_network.background.models import BackgroundJob
from cpa_network.background.tasks import run_background_job
from cpa_network.database import utcnow
from cpa_network.extensions import db
from offers import review
from offers.clickstore import store_clicks
from offers.conversion_models import Conversion
from offers.tracking import hash_ip, ip_prefix, new_click_id
from payouts.models import LedgerTransaction
from tests.conftest import run_worker_burst
from tests.offers.conversion_helpers import assert_books_balance, conversions, postback_url
from tests.offers.helpers import BROWSER, make_link, make_offer


def _many_conversions(client, count: int):
    """`count` pending conversions of one offer, each from its own click address."""
    offer = make_offer(escrow=count * 11_00 + 100_00)
    link = make_link(offer)
    at = utcnow() - timedelta(minutes=5)
    clicks = []
    for n in range(count):
        ip = f"5.{18 + n // 250}.{n % 250}.7"
        clicks.append({"id": new_click_id(int(at.timestamp() * 1000) + n), "clicked_at": at,
                       "link_id": link.id, "offer_id": offer.id,
                       "publisher_id": link.publisher_id, "sub1": "s1", "sub2": "", "sub3": "",
                       "sub4": "", "sub5": "", "ip_hash": hash_ip(ip), "ip_prefix": ip_prefix(ip),
                       "user_agent": BROWSER, "referer": "", "country": "RU",
                       "is_unique": True, "flags": ""})
    store_clicks(clicks)
    db.session.commit()
    for n, click in enumerate(clicks):
        assert client.get(postback_url(offer, click["id"], txid=f"B-{n}")).status_code == 200
    return offer, link


def _settlements() -> int:
    return db.session.scalar(select(func.count()).select_from(LedgerTransaction).where(
        LedgerTransaction.idempotency_key.like("conversion:%:settle")))


def _job(job_id: int) -> BackgroundJob:
    db.session.expire_all()
    return db.session.get(BackgroundJob, job_id)


def test_bulk_asks_first_then_a_worker_approves_each_once(app, client, app_context,
                                                         monkeypatch):
    # 300 postbacks in a row may outrun the per-offer limit (100 a second) on a fast machine.
    monkeypatch.setitem(app.config, "RATELIMIT_POSTBACK", "10000 per second")
    offer, _link = _many_conversions(client, 300)
    assert {c.status for c in conversions()} == {"pending"}
    client.login(offer.advertiser.email)
    url = f"/advertiser/conversions/bulk?offer_id={offer.id}&status=pending"
    asked = client.submit(url, {"scope": "filter", "approve": "Approve selected"},
                          page="/advertiser/conversions")
    page = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "Approve 300 conversions?" in page
    assert "$3,300.00" in page  # 300 x (10.00 payout + 1.00 fee), stated before anything moves
    assert db.session.scalar(select(func.count()).select_from(BackgroundJob)) == 0
    assert _settlements() == 0

    started = client.submit(url, {"scope": "filter", "approve": "1", "confirmed": "yes"},
                            page="/advertiser/conversions")
    job_id = int(re.search(r"/jobs/(\d+)$", started.headers["Location"]).group(1))
    assert _job(job_id).status == "queued"
    assert run_worker_burst(app, "--no-beat", timeout=180).returncode == 0
    job = _job(job_id)
    assert (job.status, job.progress_done, job.progress_total) == ("done", 300, 300)
    assert {c.status for c in conversions()} == {"approved"}
    assert _settlements() == 300
    summary = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "300 conversions approved." in summary

    # The job runs again (a retry after a crash between batches): nothing settles twice.
    job.status, job.progress_done = "running", 100
    db.session.commit()
    with app.app_context():
        run_background_job(job_id)
    job = _job(job_id)
    assert (job.status, job.result["decided"], _settlements()) == ("done", 300, 300)
    assert sum(job.result["skipped"].values()) == 200
    assert_books_balance()


def test_progress_commits_with_each_batch(app, client, app_context, monkeypatch):
    offer, _link = _many_conversions(client, 30)
    # setitem: the app is the session's, so the later tests get the real size back.
    monkeypatch.setitem(app.config, "BACKGROUND_BATCH_SIZE", 10)
    client.login(offer.advertiser.email)
    ids = [c.id for c in conversions()]
    started = client.submit("/advertiser/conversions/bulk",
                            {"conversion_id": ids, "reject": "1", "reason": "test orders",
                             "confirmed": "yes"}, page="/advertiser/conversions")
    job_id = int(started.headers["Location"].rsplit("/", 1)[1])
    seen = []
    real = review.decide_many

    def watching(*args, **kwargs):
        # What another connection (the progress page) sees before each batch.
        with db.engine.connect() as other:
            seen.append(other.scalar(select(BackgroundJob.progress_done)
                                     .where(BackgroundJob.id == job_id)))
        return real(*args, **kwargs)

    monkeypatch.setattr(review, "decide_many", watching)
    with app.app_context():
        run_background_job(job_id)
    assert seen == [0, 10, 20]
    progress = client.get(f"/jobs/{job_id}/progress.json").json
    assert progress == {"id": job_id, "status": "done", "done": 30, "total": 30,
                        "percent": 100, "finished": True}
    assert {c.status for c in conversions()} == {"rejected"}
    assert_books_balance()


def test_someone_elses_job_is_not_found(client, app_context):
    offer, _link = _many_conversions(client, 2)
    client.login(offer.advertiser.email)
    started = client.submit("/advertiser/conversions/bulk",
                            {"conversion_id": [c.id for c in conversions()], "approve": "1",
                             "confirmed": "yes"}, page="/advertiser/conversions")
    job_id = int(started.headers["Location"].rsplit("/", 1)[1])
    other = make_offer()
    client.submit("/logout", page="/jobs")
    client.login(other.advertiser.email)
    for path in (f"/jobs/{job_id}", f"/jobs/{job_id}/progress.json", f"/jobs/{job_id}/download"):
        assert client.get(path).status_code == 404
    assert db.session.scalar(select(func.count()).select_from(Conversion).where(
        Conversion.status == "pending")) == 2
