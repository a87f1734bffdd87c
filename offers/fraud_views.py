"""The operator's fraud queue: conversions held for review, with their signals; approve,
reject, or block the publisher (which rejects all their undecided conversions)."""

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from cpa_network.accounts.sessions import role_required
from cpa_network.errors import DomainError
from cpa_network.extensions import db
from offers import review
from offers.conversion_forms import FraudDecisionForm

bp = Blueprint("fraud", __name__, url_prefix="/admin/fraud")


@bp.route("/")
@role_required("admin")
def queue():
    return render_template("offers/fraud_queue.html", held=review.fraud_queue(),
                           form=FraudDecisionForm())


@bp.route("/<int:conversion_id>", methods=["POST"])
@role_required("admin")
def decide(conversion_id: int):
    form = FraudDecisionForm()
    if form.validate_on_submit():
        try:
            review.operator_decide(current_user, conversion_id, form.decision,
                                   form.reason.data or "")
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "danger")
        else:
            db.session.commit()
            flash(_("The publisher is blocked and their undecided conversions are rejected.")
                  if form.decision == "block" else _("Decided."), "success")
    return redirect(url_for("fraud.queue"))
