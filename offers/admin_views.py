"""The operator's moderation queue: approve an offer (it goes live if escrow backs it) or reject
it with a reason the advertiser sees."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from cpa_network.accounts.sessions import role_required
from cpa_network.errors import DomainError
from cpa_network.extensions import db
from offers import moderation
from offers import status as st
from offers.forms import ModerationForm
from offers.models import Offer

bp = Blueprint("moderation", __name__, url_prefix="/admin/offers")


@bp.route("/")
@role_required("admin")
def queue():
    status = request.args.get("status", st.PENDING)
    if status == st.PENDING:
        offers = moderation.moderation_queue()
    else:
        query = select(Offer).order_by(Offer.updated_at.desc()).limit(200)
        if status in st.STATUSES:
            query = query.where(Offer.status == status)
        offers = list(db.session.scalars(query))
    return render_template("offers/moderation.html", offers=offers, status=status,
                           statuses=st.STATUS_LABELS, form=ModerationForm())


@bp.route("/<int:offer_id>", methods=["POST"])
@role_required("admin")
def decide(offer_id: int):
    form = ModerationForm()
    if form.validate_on_submit():
        decision = "approve" if form.approve.data else "reject"
        try:
            offer = moderation.moderate(offer_id, current_user, decision, form.reason.data or "")
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "danger")
        else:
            db.session.commit()
            flash(_("\"%(name)s\" is approved and live.", name=offer.name)
                  if decision == "approve" else
                  _("\"%(name)s\" is rejected.", name=offer.name), "success")
    return redirect(url_for("moderation.queue"))
