"""The notifications page."""

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required

from cpa_network.accounts.forms import ConfirmForm
from cpa_network.extensions import db
from cpa_network.notifications import services

bp = Blueprint("notifications", __name__)


@bp.route("/notifications")
@login_required
def index():
    items = services.recent_for(current_user.id)
    return render_template("notifications/index.html", items=items,
                           render_message=services.render_message, form=ConfirmForm())


@bp.route("/notifications/read", methods=["POST"])
@login_required
def mark_read():
    if ConfirmForm().validate_on_submit():
        services.mark_all_read(current_user.id)
        db.session.commit()
    return redirect(url_for("notifications.index"))
