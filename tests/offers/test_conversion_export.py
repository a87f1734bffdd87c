"""The advertiser's conversions CSV: a short range at once, anything else through a job with a
real worker; cells a spreadsheet would run are neutralised; old files are pruned."""

import csv
import io
from datetime import timedelta

from sqlalchemy import func, select

from cpa_network.background import services
from cpa_network.background.models import BackgroundJob
from cpa_network.csvfile import safe_cell
from cpa_network.database import utcnow
from cpa_network.extensions import db
from tests.conftest import run_worker_burst
from tests.offers.conversion_helpers import conversions, live_setup, postback_url, stored_click


def test_formula_cells_are_neutralised():
    assert [safe_cell(v) for v in ("=1+2", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "ok", 5)] == [
        "'=1+2", "'+1", "'-1", "'@SUM(A1)", "'\tx", "'\rx", "ok", 5]


def _rows(body: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body)))


def test_export_job_end_to_end_owner_only(app, client, app_context):
    offer, link, _click = live_setup()
    for n, sub in enumerate(("=HYPERLINK(\"http://x\")", "plain")):
        click = stored_click(link, ip=f"5.18.9.{n}", subs=(sub, "", "", "", ""))
        client.get(postback_url(offer, click, txid=f"E-{n}"))
    client.login(offer.advertiser.email)
    url = f"/advertiser/conversions/export.csv?offer_id={offer.id}"
    asked = client.get(url)  # a GET (a link, maybe another site's) only asks
    assert asked.status_code == 200 and 'method="post"' in asked.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(BackgroundJob)) == 0
    assert client.post(url).status_code == 400  # no CSRF token, no job
    started = client.submit(url)
    assert started.status_code == 303
    job_id = int(started.headers["Location"].rsplit("/", 1)[1])
    again = client.submit(url)
    assert again.headers["Location"] == started.headers["Location"]  # a reload: the same job
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert '<progress id="job-progress"' in page and "Waiting to start" in page
    assert client.get(f"/jobs/{job_id}/download").status_code == 404  # not yet
    assert run_worker_burst(app, "--no-beat", timeout=180).returncode == 0
    db.session.expire_all()
    job = db.session.get(BackgroundJob, job_id)
    assert (job.status, job.progress_done, job.progress_total) == ("done", 2, 2)
    download = client.get(f"/jobs/{job_id}/download")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    rows = _rows(download.get_data(as_text=True))
    download.close()
    header, *body = rows
    assert header[:3] == ["id", "created_at", "offer_id"]
    expected = [str(c.id) for c in conversions()]
    assert [r[0] for r in body] == expected
    subs = {r[header.index("txid")]: r[header.index("sub1")] for r in body}
    assert subs == {"E-0": "'=HYPERLINK(\"http://x\")", "E-1": "plain"}
    assert "Download conversions-start-" in client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "Conversions export" in client.get("/jobs").get_data(as_text=True)


def test_a_short_range_streams_at_once(client, app_context):
    offer, _link, click = live_setup()
    client.get(postback_url(offer, click, txid="S-1"))
    client.login(offer.advertiser.email)
    today = utcnow().date()
    response = client.get(f"/advertiser/conversions/export.csv?since={today - timedelta(days=6)}"
                          f"&until={today}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert _rows(response.get_data(as_text=True))[1][6] == "S-1"
    assert db.session.scalar(select(func.count()).select_from(BackgroundJob)) == 0


def test_old_jobs_and_their_files_are_pruned(app, client, app_context):
    offer, _link, _click = live_setup()
    client.login(offer.advertiser.email)
    job_id = int(client.submit("/advertiser/conversions/export.csv").headers["Location"]
                 .rsplit("/", 1)[1])
    assert run_worker_burst(app, "--no-beat", timeout=180).returncode == 0
    db.session.expire_all()
    job = db.session.get(BackgroundJob, job_id)
    path = services.file_path(job)
    assert path.is_file()
    assert services.purge_jobs(7, now=utcnow() + timedelta(days=6)) == 0
    assert services.purge_jobs(7, now=utcnow() + timedelta(days=8)) == 1
    db.session.commit()
    assert not path.exists() and db.session.get(BackgroundJob, job_id) is None
