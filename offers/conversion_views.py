"""The advertiser's conversion pages: review (filters, one by one, in bulk), a conversion's
details, and an offer's postback log with the "send test postback" tool."""

from datetime import timedelta

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from cpa_network.accounts.sessions import role_required
from cpa_network.background import views as jobs
from cpa_network.database import utcnow
from cpa_network.errors import DomainError
from cpa_network.extensions import db
from offers import bulk_review, conversion_export, conversions, postbacks, review, services
from offers.conversion_forms import DecisionForm, TestPostbackForm
from offers.conversion_models import STATUSES, PostbackLog
from offers.conversions import STATUS_LABELS
from offers.fraud import SIGNAL_LABELS
from offers.tracking_models import Click

bp = Blueprint("conversions", __name__, url_prefix="/advertiser")
PAGE_SIZE = 50
LOG_SIZE = 200


@bp.app_context_processor
def conversion_labels() -> dict:
    """Labels the conversion templates share (also on the publisher's and operator's pages)."""
    return {"conversion_status_labels": STATUS_LABELS, "signal_labels": SIGNAL_LABELS}


@bp.route("/conversions")
@role_required("advertiser")
def index():
    f = review.filter_from(request.args)
    page = db.paginate(review.advertiser_query(current_user.id, f), per_page=PAGE_SIZE,
                       error_out=False)
    return render_template("offers/conversions.html", page=page, f=f, form=DecisionForm(),
                           offer_choices=[(o.id, o.name) for o in services.offers_of(current_user)],
                           statuses=STATUSES)


@bp.route("/conversions/bulk", methods=["POST"])
@role_required("advertiser")
def bulk():
    """Tick conversions (or choose "all matching the filter"), confirm, then a job decides them."""
    form = DecisionForm()
    everything = request.form.get("scope") == "filter"
    ids = [int(v) for v in request.form.getlist("conversion_id")
           if v.isascii() and v.isdigit() and len(v) < 19]
    f = review.filter_from(request.args)
    back = url_for("conversions.index", **{key: value for key, value in request.args.items()
                                           if key in review.FILTER_KEYS and value})
    if not form.validate_on_submit() or not (ids or everything):
        flash(_("Tick the conversions to decide."), "danger")
        return redirect(back)
    plan = bulk_review.plan_bulk_review(current_user, None if everything else ids, f)
    if not plan.ids:
        flash(_("None of these conversions can be decided: they are decided already."), "warning")
        return redirect(back)
    if form.decision == "reject" and not (form.reason.data or "").strip():
        flash(_("Give a reason to reject; the publisher sees it."), "danger")
        return redirect(back)
    if form.confirmed.data != "yes":
        return render_template("offers/bulk_confirm.html", form=form, plan=plan,
                               decision=form.decision, everything=everything,
                               ids=ids, args=request.args, back=back)
    try:
        job = bulk_review.start_bulk_review(current_user, plan.ids, form.decision,
                                            form.reason.data or "")
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "danger")
        return redirect(back)
    db.session.commit()
    return redirect(url_for("jobs.detail", job_id=job.id), 303)


@bp.route("/conversions/export.csv", methods=["GET", "POST"])
@role_required("advertiser")
def export():
    """The filtered conversions as CSV: at once for a short date range, else through a job."""
    f = review.filter_from(request.args)
    if conversion_export.streams_directly(f):
        response = Response(conversion_export.export_now(current_user, f), mimetype="text/csv")
        response.headers["Content-Disposition"] = (
            f'attachment; filename="{conversion_export.download_name(f)}"')
        return response
    if not jobs.start_confirmed():
        return jobs.start_page(_("the conversions CSV"), url_for("conversions.index"))
    job = conversion_export.start_export(current_user, f)
    db.session.commit()
    return redirect(url_for("jobs.detail", job_id=job.id), 303)


@bp.route("/conversions/<int:conversion_id>")
@role_required("advertiser")
def detail(conversion_id: int):
    conversion = review.advertiser_conversion(current_user, conversion_id)
    log = list(db.session.scalars(select(PostbackLog).where(
        PostbackLog.conversion_id == conversion.id).order_by(PostbackLog.id)))
    return render_template("offers/conversion.html", conversion=conversion, log=log,
                           form=DecisionForm())


@bp.route("/conversions/<int:conversion_id>/decide", methods=["POST"])
@role_required("advertiser")
def decide(conversion_id: int):
    conversion = review.advertiser_conversion(current_user, conversion_id)  # else 404
    form = DecisionForm()
    if form.validate_on_submit():
        if form.confirmed.data != "yes" and (form.decision == "approve"
                                             or (form.reason.data or "").strip()):
            # Money moves on a decision: say how much and where, and ask once more.
            return render_template("offers/decide_confirm.html", conversion=conversion,
                                   form=form, decision=form.decision)
        try:
            conversion = review.decide(current_user, conversion_id, form.decision,
                                       form.reason.data or "")
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "danger")
        else:
            db.session.commit()
            flash(_("The conversion is %(status)s.",
                    status=conversions.STATUS_LABELS[conversion.status]), "success")
    return redirect(url_for("conversions.detail", conversion_id=conversion_id))


def _test_form(offer) -> TestPostbackForm:
    form = TestPostbackForm()
    form.goal.choices = [(g.code, g.name or g.code) for g in offer.goals]
    if not form.click_id.data:
        # Only clicks that could still convert: the time filter keeps the scan to recent months.
        since = utcnow() - timedelta(days=offer.attribution_window_days)
        form.click_id.data = db.session.scalar(select(Click.id).where(
            Click.offer_id == offer.id, Click.clicked_at > since)
            .order_by(Click.clicked_at.desc()).limit(1)) or ""
    return form


@bp.route("/offers/<int:offer_id>/postbacks")
@role_required("advertiser")
def postback_log(offer_id: int):
    offer = services.owned_offer(current_user, offer_id)
    code = request.args.get("code", "")
    query = select(PostbackLog).where(PostbackLog.offer_id == offer.id)
    if code:
        query = query.where(PostbackLog.code == code)
    lines = list(db.session.scalars(query.order_by(PostbackLog.id.desc()).limit(LOG_SIZE)))
    return render_template("offers/postback_log.html", offer=offer, lines=lines, code=code,
                           form=_test_form(offer))


@bp.route("/offers/<int:offer_id>/postbacks/test", methods=["POST"])
@role_required("advertiser")
def test_postback(offer_id: int):
    offer = services.owned_offer(current_user, offer_id)
    form = _test_form(offer)
    if not form.validate_on_submit():
        flash(_("Give a click id and a transaction id."), "danger")
        return redirect(url_for("conversions.postback_log", offer_id=offer.id))
    try:
        amount = form.amount_minor(offer.currency)
    except ValueError:
        flash(_("Enter an amount like 12.50."), "danger")
        return redirect(url_for("conversions.postback_log", offer_id=offer.id))
    params = {"click_id": form.click_id.data.strip(), "goal": form.goal.data,
              "txid": form.txid.data.strip(), "offer_id": str(offer.id)}
    if amount is not None:
        params["amount"] = str(amount)
    params["signature"] = postbacks.sign(offer.postback_secret, params)
    answer = postbacks.receive(lambda trace: postbacks.ingest(params, trace, counted=True), params,
                               source="postback", method="GET",
                               remote_ip=request.remote_addr or "", dry_run=True)
    flash(_("Test postback: %(code)s (HTTP %(status)s) — %(message)s Nothing was recorded.",
            code=answer.code, status=answer.http_status, message=answer.message),
          "success" if answer.http_status < 300 else "warning")
    return redirect(url_for("conversions.postback_log", offer_id=offer.id))

