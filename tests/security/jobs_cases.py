"""Authorization cases for background jobs (see test_authorization_matrix): a job, its progress
and its file are the owner's alone."""

from cpa_network.background import services
from cpa_network.background.models import DONE, BackgroundJob
from cpa_network.database import utcnow
from cpa_network.extensions import db


def _own_export(path):
    def make(owner):
        job = BackgroundJob(owner_id=owner.id, kind="conversions_csv", params={}, result={},
                            status=DONE, progress_done=1, progress_total=1,
                            file_name=f"authz-{owner.id}-{utcnow().timestamp()}.csv",
                            download_name="conversions.csv", finished_at=utcnow())
        db.session.add(job)
        db.session.flush()
        services.append_csv(job, [("secret", 1)], ("owner", "n"))
        db.session.commit()
        return path.format(job.id), "GET", {}, lambda: True
    return make


def cases(case):
    return [case(endpoint, ("advertiser",), ("publisher",), _own_export(path))
            for endpoint, path in (("jobs.detail", "/jobs/{}"),
                                   ("jobs.progress", "/jobs/{}/progress.json"),
                                   ("jobs.download", "/jobs/{}/download"))]
