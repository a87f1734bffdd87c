"""A person's background jobs: the list, one job's progress page (polled by static/js/jobs.js),
its progress as JSON, and its file, each only for the job's owner."""

from flask import Blueprint, abort, jsonify, render_template, request, send_file
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from cpa_network.accounts.forms import ConfirmForm
from cpa_network.background import services

bp = Blueprint("jobs", __name__)
POLL_MS = 1000
STATUS_LABELS = {"queued": _l("Queued"), "running": _l("Running"), "done": _l("Done"),
                 "failed": _l("Failed")}


@bp.route("/jobs")
@login_required
def index():
    return render_template("jobs/index.html", jobs=services.jobs_of(current_user),
                           kind_label=_kind_label, job_status_labels=STATUS_LABELS)


@bp.route("/jobs/<int:job_id>")
@login_required
def detail(job_id: int):
    job = services.owned_job(current_user, job_id)
    kind = services.job_kind(job.kind)
    return render_template("jobs/detail.html", job=job, kind=kind, poll_ms=POLL_MS,
                           summary=kind.summary(job) if kind.summary and job.finished else [],
                           downloadable=services.downloadable(job))


@bp.route("/jobs/<int:job_id>/progress.json")
@login_required
def progress(job_id: int):
    response = jsonify(services.progress_of(services.owned_job(current_user, job_id)))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/jobs/<int:job_id>/download")
@login_required
def download(job_id: int):
    job = services.owned_job(current_user, job_id)
    if not services.downloadable(job):
        abort(404)
    response = send_file(services.file_path(job), mimetype="text/csv", as_attachment=True,
                         download_name=job.download_name or f"export-{job.id}.csv")
    response.headers["Cache-Control"] = "private, no-store"
    return response


def start_confirmed() -> bool:
    """An export too long to stream starts a job only from a POST with the CSRF token (a GET,
    say a link on another site, never starts one): True to start it now; else the caller
    returns `start_page(...)`, which asks."""
    return request.method == "POST" and ConfirmForm().validate_on_submit()


def start_page(what: str, back: str):
    """"Prepare <what> in the background?": a button posting back to this same URL."""
    return render_template("jobs/start.html", what=what, form=ConfirmForm(), back=back,
                           action=request.full_path.rstrip("?"))


def _kind_label(name: str):
    try:
        return services.job_kind(name).label
    except KeyError:
        return name
