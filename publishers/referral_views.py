"""The referral page: invite link and QR, the tree (levels 1-3) with activity and commissions,
monthly totals, and each direct referral's refback."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response

from cpa_network.accounts.sessions import role_required
from cpa_network.database import utcnow
from cpa_network.extensions import db
from cpa_network.navigation import NavItem
from offers.links import base_url
from payouts import commissions
from publishers import exchange_listing, referrals, services
from publishers.exchange_forms import RefbackForm
from publishers.exchange_stats import month_key, month_starts

bp = Blueprint("referrals", __name__)


def _invite_url() -> str:
    return base_url() + url_for("accounts.invite", code=current_user.referral_code)


@bp.route("/referrals")
@role_required("publisher")
def index():
    now = utcnow()
    month = request.args.get("month", "")
    months = [month_key(s) for s in month_starts(now)]
    if month not in months:
        month = months[-1]
    return render_template(
        "publishers/referrals.html", invite_url=_invite_url(),
        rows=referrals.tree(current_user, month, now), month=month, months=months,
        totals=referrals.monthly_totals(current_user.id, now),
        rates=commissions.level_rates(), form=RefbackForm())


@bp.route("/referrals/qr.<any(png, svg):kind>")
@role_required("publisher")
def qr(kind: str):
    mimetype = "image/png" if kind == "png" else "image/svg+xml"
    response = Response(services.qr_code(_invite_url(), kind), mimetype=mimetype)
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    return response


@bp.route("/referrals/<int:referral_id>/refback", methods=["POST"])
@role_required("publisher")
def refback(referral_id: int):
    form = RefbackForm()
    if form.validate_on_submit():
        try:
            exchange_listing.set_refback(current_user, referral_id, form.refback.data * 100)
        except exchange_listing.ReferralListed as error:
            db.session.rollback()
            flash(str(error.message), "danger")
        else:
            db.session.commit()
            flash(_("Refback saved."), "success")
    else:
        for messages in form.errors.values():
            for message in messages:
                flash(str(message), "danger")
    return redirect(url_for("referrals.index"))


NAV = (
    NavItem("publisher", "referrals.index", _l("Referrals"),
            _l("Your invite link, your referral tree and what each referral earns you.")),
)
