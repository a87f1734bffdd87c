"""Operator pages: the user list, blocking and unblocking."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import or_, select

from cpa_network.accounts import services
from cpa_network.accounts.forms import ConfirmForm
from cpa_network.accounts.models import User
from cpa_network.accounts.sessions import role_required
from cpa_network.admin.forms import BlockForm
from cpa_network.errors import DomainError
from cpa_network.extensions import db

bp = Blueprint("admin", __name__, url_prefix="/admin")

PAGE_SIZE = 50


@bp.route("/users")
@role_required("admin")
def users():
    query = select(User).order_by(User.registered_at.desc())
    search = request.args.get("q", "").strip()
    if search:
        like = f"%{search.lower()}%"
        query = query.where(or_(User.email.like(like), User.display_name.ilike(like)))
    role = request.args.get("role")
    if role in ("advertiser", "publisher", "admin"):
        query = query.where(getattr(User, f"is_{role}").is_(True))
    if request.args.get("blocked") == "1":
        query = query.where(User.blocked_at.is_not(None))
    page = db.paginate(query, per_page=PAGE_SIZE, error_out=False)
    return render_template("admin/users.html", page=page, search=search, role=role,
                           block_form=BlockForm(), unblock_form=ConfirmForm())


@bp.route("/users/<int:user_id>/block", methods=["POST"])
@role_required("admin")
def block(user_id: int):
    form = BlockForm()
    user = services.get_user(user_id)
    if not form.validate_on_submit():
        flash(_("Give a reason for the block."), "danger")
    else:
        try:
            services.block_user(user, form.reason.data)
        except DomainError as error:
            flash(error.message, "danger")
        else:
            db.session.commit()
            flash(_("%(email)s is blocked.", email=user.email), "success")
    return redirect(url_for("admin.users"))


@bp.route("/users/<int:user_id>/unblock", methods=["POST"])
@role_required("admin")
def unblock(user_id: int):
    if ConfirmForm().validate_on_submit():
        user = services.get_user(user_id)
        services.unblock_user(user)
        db.session.commit()
        flash(_("%(email)s is unblocked.", email=user.email), "success")
    return redirect(url_for("admin.users"))
