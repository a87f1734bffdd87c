"""The landing page and the dashboard hub that sends each role to its own pages."""

from flask import Blueprint, render_template
from flask_login import current_user, login_required

bp = Blueprint("pages", __name__)


@bp.route("/")
def home():
    return render_template("home.html")


@bp.route("/dashboard")
@login_required
def dashboard():
    return render_template("dashboard.html", user=current_user)
