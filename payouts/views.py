"""Money pages: the advertiser's balance (deposit, withdraw, history) and the operator's ledger."""

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from cpa_network.accounts.sessions import role_required
from cpa_network.errors import DomainError
from cpa_network.extensions import db
from cpa_network.navigation import NavItem
from cpa_network.ratelimits import RateLimited, enforce
from payouts import deposits, disputes, refunds, request_keys, statements
from payouts.currency import CURRENCIES, DEFAULT_CURRENCY, format_money
from payouts.forms import DepositForm, WithdrawForm
from payouts.gateway import GatewayError, get_gateway
from payouts.models import AccountKind, DepositStatus

bp = Blueprint("payouts", __name__)

NAV = (
    NavItem("advertiser", "payouts.balance", _l("Balance"),
            _l("Deposit to escrow, see what is on hold and spent, withdraw unused money.")),
    NavItem("publisher", "earnings.index", _l("Earnings"),
            _l("Pending, available and paid earnings; withdraw to your payout account.")),
    NavItem("admin", "ledger_admin.ledger", _l("Ledger"),
            _l("Every account and transaction, and whether the books balance.")),
    NavItem("admin", "payouts_admin.payouts", _l("Payouts"),
            _l("Payouts by status, failures with reasons and retries, totals per day.")),
    NavItem("admin", "payouts_admin.refunds", _l("Refunds"),
            _l("Escrow refunds still on their way, and those stopped for your review.")),
    NavItem("admin", "payouts_admin.disputes", _l("Disputes"),
            _l("Chargebacks of deposits: open ones with their deadlines, and what is owed.")),
    NavItem("admin", "queues_admin.queue_health", _l("Queues"),
            _l("Queued, running and failed jobs per queue; requeue failed ones.")),
)
HISTORY_PAGE_SIZE = 30
ALREADY_WITHDRAWN = _l("You already confirmed this withdrawal; it is listed below.")


def init_money_filters(app: Flask) -> None:
    """`{{ amount|money(currency) }}` and label helpers for every template."""
    app.add_template_filter(format_money, "money")
    app.add_template_global(statements.kind_label, "ledger_kind_label")
    app.add_template_global(statements.reason_label, "ledger_reason_label")
    app.add_template_global(disputes.status_label, "dispute_status_label")
    app.add_template_global(disputes.funds_label, "dispute_funds_label")


def external_url(endpoint: str, **values) -> str:
    """An absolute URL for Stripe to send the payer back to (PUBLIC_BASE_URL if set)."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    if base:
        return base.rstrip("/") + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, **values)


def deposit_return_url(deposit_id: int) -> str:
    """Stripe's success_url: the deposit's own page, which shows its state."""
    return external_url("payouts.deposit_detail", deposit_id=deposit_id)


def _balance_page(deposit_form=None, withdraw_form=None, status=200):
    user_id = current_user.id
    codes = statements.owner_currencies(user_id) or [DEFAULT_CURRENCY]
    history = db.paginate(statements.owner_history(user_id), per_page=HISTORY_PAGE_SIZE,
                          error_out=False)
    return render_template(
        "payouts/balance.html", gateway=get_gateway(),
        summaries=[(code, statements.advertiser_balances(user_id, code)) for code in codes],
        deposit_form=deposit_form or DepositForm(), withdraw_form=withdraw_form or WithdrawForm(),
        deposits=deposits.recent_deposits(user_id), refunds=refunds.recent_refunds(user_id),
        disputes=disputes.disputes_of(user_id, AccountKind.ADVERTISER_ESCROW),
        history=history), status


@bp.route("/balance")
@role_required("advertiser")
def balance():
    return _balance_page()


@bp.route("/balance/deposit", methods=["POST"])
@role_required("advertiser")
def deposit():
    form = DepositForm()
    if not form.validate_on_submit():
        return _balance_page(deposit_form=form, status=422)
    if form.confirmed.data != "yes":
        return render_template("payouts/confirm.html", form=form, action="deposit",
                               gateway=get_gateway(), amount=form.minor_amount)
    try:
        made = deposits.begin_deposit(
            current_user, form.minor_amount, form.currency.data,
            deposit_return_url,
            external_url("payouts.balance"))
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "danger")
        return redirect(url_for("payouts.balance"))
    if made.checkout_url and made.status != DepositStatus.SUCCEEDED:
        return redirect(made.checkout_url)
    flash(_("%(amount)s is in your escrow.", amount=format_money(made.amount, made.currency)),
          "success")
    return redirect(url_for("payouts.balance"))


@bp.route("/balance/withdraw", methods=["POST"])
@role_required("advertiser")
def withdraw():
    form = WithdrawForm()
    if not form.validate_on_submit():
        return _balance_page(withdraw_form=form, status=422)
    # Only the confirmation page's own button confirms: its one-time token is the request key.
    if form.confirmed.data != "yes" or not form.request_token.data:
        form.request_token.data = request_keys.new_token()  # this confirmation's, once
        return render_template("payouts/confirm.html", form=form, action="withdraw",
                               gateway=get_gateway(), amount=form.minor_amount)
    try:
        _refunds, made = refunds.withdraw_escrow_once(
            current_user.id, form.minor_amount, form.currency.data,
            request_keys.web_key(current_user.id, form.request_token.data))
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "danger")
        return redirect(url_for("payouts.balance"))
    db.session.commit()
    if made:
        flash(_("%(amount)s is on its way back to your card.",
                amount=format_money(form.minor_amount, form.currency.data)), "success")
    else:
        flash(str(ALREADY_WITHDRAWN), "info")
    return redirect(url_for("payouts.balance"))


@bp.route("/balance/deposits/<int:deposit_id>")
@login_required
def deposit_detail(deposit_id: int):
    """Where Stripe sends the payer back. Shows the state; only the webhook credits escrow."""
    made = deposits.deposit_for_user(deposit_id, current_user)
    gateway_status = None
    if (made.status in (DepositStatus.CREATED, DepositStatus.PENDING)
            and made.checkout_session_id and _may_ask_gateway(current_user.id)):
        try:
            gateway_status = get_gateway().checkout_status(made.checkout_session_id)
        except GatewayError:
            gateway_status = None
    return render_template("payouts/deposit.html", deposit=made, gateway_status=gateway_status,
                           disputes=disputes.disputes_of_deposit(made.id))


def _may_ask_gateway(user_id: int) -> bool:
    try:
        enforce(current_app.config["RATELIMIT_DEPOSIT_LOOKUP"], "deposit_lookup", str(user_id))
    except RateLimited:
        return False
    return True


@bp.route("/balance/transactions/<int:transaction_id>")
@login_required
def transaction_detail(transaction_id: int):
    txn = statements.transaction_for_owner(transaction_id, current_user.id)
    if txn is None:
        abort(404)
    return render_template("payouts/transaction.html", txn=txn, operator=False)


@bp.app_context_processor
def money_context():
    return {"supported_currencies": list(CURRENCIES)}
