"""Money pages (placeholder until the pages land)."""

from flask import Blueprint

from payouts.currency import format_money

bp = Blueprint("payouts", __name__)
admin_bp = Blueprint("ledger_admin", __name__, url_prefix="/admin")
NAV = ()


def init_money_filters(app) -> None:
    app.add_template_filter(format_money, "money")
