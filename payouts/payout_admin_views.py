"""The operator's payout pages (by status, failed with reasons, retry, totals per day), escrow
refunds still on their way (retry; settle one stopped for review by hand), chargebacks of
deposits (read only), and queue health (RQ's registries: queued, started, failed; failed-job
details and requeue)."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from cpa_network.accounts.forms import ConfirmForm
from cpa_network.accounts.sessions import role_required
from cpa_network.errors import DomainError, NotFound
from cpa_network.extensions import db
from payouts import disputes, earnings, payout_reports, queues, reconcile, refunds
from payouts.models import Payout, PayoutStatus
from payouts.transfers import failure_label

bp = Blueprint("payouts_admin", __name__, url_prefix="/admin/payouts")
queues_bp = Blueprint("queues_admin", __name__, url_prefix="/admin/queues")
PAGE_SIZE = 50


@bp.route("")
@role_required("admin")
def payouts():
    status = request.args.get("status", "")
    needs_review = request.args.get("review") == "1"
    page = db.paginate(payout_reports.payouts_query(status, needs_review), per_page=PAGE_SIZE,
                       error_out=False)
    return render_template("admin/payouts.html", page=page, status=status,
                           needs_review=needs_review, statuses=list(PayoutStatus),
                           counts=payout_reports.status_counts(),
                           days=payout_reports.totals_per_day(), form=ConfirmForm(),
                           failure_label=failure_label)


@bp.route("/<int:payout_id>")
@role_required("admin")
def payout(payout_id: int):
    found = db.session.get(Payout, payout_id)
    if found is None:
        raise NotFound()
    return render_template("payouts/payout.html", payout=found, operator=True,
                           transactions=earnings.payout_transactions(found),
                           failure_label=failure_label)


@bp.route("/<int:payout_id>/retry", methods=["POST"])
@role_required("admin")
def retry(payout_id: int):
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for("payouts_admin.payouts"))
    try:
        made = reconcile.retry_payout(payout_id)
    except DomainError as error:
        db.session.rollback()
        if error.http_status == 404:
            raise
        flash(error.message, "danger")
        return redirect(url_for("payouts_admin.payouts"))
    db.session.commit()
    if made.id != payout_id:
        flash(_("Payout %(old)d is retried as payout %(new)d.", old=payout_id, new=made.id),
              "success")
    else:
        flash(_("Payout %(n)d is queued again.", n=payout_id), "success")
    return redirect(url_for("payouts_admin.payouts"))


@bp.route("/refunds", endpoint="refunds")
@role_required("admin")
def refunds_page():
    return render_template("payouts/refunds_admin.html", refunds=refunds.unfinished_refunds(),
                           form=ConfirmForm())


@bp.route("/disputes", endpoint="disputes")
@role_required("admin")
def disputes_page():
    """Chargebacks of deposits: read only, they are answered in the Stripe dashboard."""
    return render_template("payouts/disputes_admin.html", disputes=disputes.operator_disputes())


@bp.route("/refunds/<int:refund_id>/retry", methods=["POST"])
@role_required("admin")
def retry_refund(refund_id: int):
    return _refund_action(lambda: refunds.retry_refund(refund_id), _l(
        "Refund %(n)d is queued again; its job looks for it at the gateway before making it.",
        n=refund_id))


@bp.route("/refunds/<int:refund_id>/resolve", methods=["POST"])
@role_required("admin")
def resolve_refund(refund_id: int):
    """Book a refund stopped for review as the gateway's dashboard shows it."""
    outcome = request.form.get("outcome")
    if outcome == "refunded":
        return _refund_action(lambda: refunds.resolve_refund(refund_id, refunded=True), _l(
            "Refund %(n)d is booked as returned to the card.", n=refund_id))
    if outcome == "returned":
        return _refund_action(lambda: refunds.resolve_refund(refund_id, refunded=False), _l(
            "Refund %(n)d is back in the advertiser's escrow.", n=refund_id))
    return redirect(url_for("payouts_admin.refunds"))


def _refund_action(action, done_message):
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for("payouts_admin.refunds"))
    try:
        action()
    except DomainError as error:
        db.session.rollback()
        if error.http_status == 404:
            raise
        flash(error.message, "danger")
        return redirect(url_for("payouts_admin.refunds"))
    db.session.commit()
    flash(str(done_message), "success")
    return redirect(url_for("payouts_admin.refunds"))


@queues_bp.route("")
@role_required("admin")
def queue_health():
    return render_template("admin/queues.html", queues=queues.queue_health(),
                           workers=queues.workers(), failed=queues.failed_jobs(),
                           form=ConfirmForm())


@queues_bp.route("/<queue_name>/jobs/<job_id>")
@role_required("admin")
def job(queue_name: str, job_id: str):
    found, _queue = queues.job_in(queue_name, job_id)
    return render_template("admin/job.html", job=found, queue_name=queue_name,
                           error=queues.error_text(found), form=ConfirmForm())


@queues_bp.route("/<queue_name>/jobs/<job_id>/requeue", methods=["POST"])
@role_required("admin")
def requeue(queue_name: str, job_id: str):
    if ConfirmForm().validate_on_submit():
        try:
            queues.requeue_failed(queue_name, job_id)
        except DomainError as error:
            if error.http_status == 404:
                raise
            flash(error.message, "danger")
        else:
            flash(_("Job %(id)s is queued again.", id=job_id), "success")
    return redirect(url_for("queues_admin.queue_health"))
