"""The publisher's money pages: earnings (pending, available, in flight, paid), withdrawals,
payout settings and the Stripe Connect onboarding round trip."""

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from cpa_network.accounts.forms import ConfirmForm
from cpa_network.accounts.sessions import role_required
from cpa_network.errors import DomainError
from cpa_network.extensions import db
from payouts import (
    connect,
    deposits,
    disputes,
    earnings,
    request_keys,
    statements,
    top_up_clearing,
    withdrawals,
)
from payouts.currency import DEFAULT_CURRENCY, format_money
from payouts.forms import PayoutRequestForm, PayoutSettingsForm, TopUpForm
from payouts.gateway import GatewayError, get_gateway
from payouts.models import AccountKind, DepositStatus, PayoutAccount
from payouts.transfers import failure_label
from payouts.views import deposit_return_url, external_url

bp = Blueprint("earnings", __name__, url_prefix="/earnings")
HISTORY_PAGE_SIZE = 30
ALREADY_WITHDRAWN = _l("You already confirmed this withdrawal: this is the payout it made.")


def _earnings_page(form: PayoutRequestForm | None = None, status: int = 200,
                   top_up_form: TopUpForm | None = None):
    user_id = current_user.id
    account = db.session.get(PayoutAccount, user_id)
    codes = earnings.publisher_currencies(user_id) or [DEFAULT_CURRENCY]
    summaries = [(code, statements.publisher_balances(user_id, code),
                  withdrawals.threshold(account, code),
                  top_up_clearing.clears_at(user_id, code)) for code in codes]
    history = db.paginate(earnings.publisher_history(user_id), per_page=HISTORY_PAGE_SIZE,
                          error_out=False)
    return render_template(
        "payouts/earnings.html", gateway=get_gateway(), account=account,
        usable=connect.is_usable(account), summaries=summaries,
        network_minimum=withdrawals.network_minimum, form=form or PayoutRequestForm(),
        pending=earnings.pending_items(user_id), payouts=withdrawals.payouts_of(user_id),
        failure_label=failure_label, history=history, top_up_form=top_up_form or TopUpForm(),
        top_ups=deposits.recent_deposits(user_id, 10, AccountKind.PUBLISHER_AVAILABLE),
        disputes=disputes.disputes_of(user_id, AccountKind.PUBLISHER_AVAILABLE)), status


@bp.route("")
@role_required("publisher")
def index():
    return _earnings_page()


@bp.route("/withdraw", methods=["POST"])
@role_required("publisher")
def withdraw():
    form = PayoutRequestForm()
    if not form.validate_on_submit():
        form.confirmed.data = ""
        return _earnings_page(form, 422)
    # Only the confirmation page's own button confirms: its one-time token is the request key.
    if form.confirmed.data != "yes" or not form.request_token.data:
        form.request_token.data = request_keys.new_token()  # this confirmation's, once
        return render_template("payouts/confirm.html", form=form, action="payout",
                               gateway=get_gateway(), amount=form.minor_amount)
    try:
        payout, made = withdrawals.withdraw(
            current_user, form.minor_amount, form.currency.data,
            request_keys.web_key(current_user.id, form.request_token.data))
    except DomainError as error:
        db.session.rollback()
        if "amount" not in error.fields:
            flash(error.message, "danger")
            return redirect(url_for("earnings.index"))
        form.amount.errors = [error.message, *error.fields["amount"]]
        form.confirmed.data = ""
        return _earnings_page(form, error.http_status)
    db.session.commit()
    if made:
        flash(_("%(amount)s is on its way to your payout account.",
                amount=format_money(payout.amount, payout.currency)), "success")
    else:
        flash(str(ALREADY_WITHDRAWN), "info")
    return redirect(url_for("earnings.payout_detail", payout_id=payout.id))


@bp.route("/top-up", methods=["POST"])
@role_required("publisher")
def top_up():
    """Top up the available balance through the gateway (the same Checkout as escrow)."""
    form = TopUpForm()
    if not form.validate_on_submit():
        form.confirmed.data = ""
        return _earnings_page(status=422, top_up_form=form)
    if form.confirmed.data != "yes":
        return render_template("payouts/confirm.html", form=form, action="top_up",
                               gateway=get_gateway(), amount=form.minor_amount,
                               target=url_for("earnings.top_up"),
                               cancel=url_for("earnings.index"))
    return start_top_up(form.minor_amount, form.currency.data, deposit_return_url,
                        external_url("earnings.index"), url_for("earnings.index"))


def start_top_up(amount: int, currency: str, success_url_for, cancel_url: str, done_url: str,
                 done_message: str | None = None):
    """Begin the publisher's top-up; then Stripe's Checkout, or (sandbox) `done_url` at once."""
    try:
        made = deposits.begin_deposit(current_user, amount, currency, success_url_for,
                                      cancel_url, kind=AccountKind.PUBLISHER_AVAILABLE)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "danger")
        return redirect(done_url)
    if made.checkout_url and made.status != DepositStatus.SUCCEEDED:
        return redirect(made.checkout_url)
    flash(done_message or _("%(amount)s is in your available balance.",
                            amount=format_money(made.amount, made.currency)), "success")
    return redirect(done_url)


@bp.route("/payouts/<int:payout_id>")
@role_required("publisher")
def payout_detail(payout_id: int):
    payout = withdrawals.payout_for_user(payout_id, current_user)
    return render_template("payouts/payout.html", payout=payout, operator=False,
                           transactions=earnings.payout_transactions(payout),
                           failure_label=failure_label)


@bp.route("/settings", methods=["GET", "POST"])
@role_required("publisher")
def settings():
    account = connect.settings_for(current_user.id)
    form = PayoutSettingsForm(obj=account)
    status = 200
    if form.validate_on_submit():
        try:
            connect.save_settings(current_user.id, form.minimum_major.data, form.automatic.data)
        except DomainError as error:
            db.session.rollback()
            form.minimum_major.errors = list(error.fields.get("minimum_major", [error.message]))
            status = 422
        else:
            db.session.commit()
            flash(_("Payout settings saved."), "success")
            return redirect(url_for("earnings.settings"))
    elif form.errors:
        status = 422
    return render_template("payouts/payout_settings.html", form=form, account=account,
                           usable=connect.is_usable(account), gateway=get_gateway(),
                           connect_form=ConfirmForm(),
                           network_minimum=withdrawals.network_minimum), status


@bp.route("/connect", methods=["POST"])
@role_required("publisher")
def connect_account():
    """Start (or resume) Stripe Connect onboarding; the sandbox connects at once."""
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for("earnings.settings"))
    return _onboard()


@bp.route("/connect/refresh")
@role_required("publisher")
def connect_refresh():
    """Stripe sends the publisher here when an onboarding link expired: make a new one. A GET
    carries no CSRF token, so it only renews the link of an account already started with the
    confirmed POST; it never creates one."""
    account = connect.settings_for(current_user.id)
    if account.external_id is None or account.gateway != get_gateway().name:
        return redirect(url_for("earnings.settings"))
    return _onboard()


def _onboard():
    try:
        url = connect.start_onboarding(current_user, external_url("earnings.connect_refresh"),
                                       external_url("earnings.connect_return"))
    except (DomainError, GatewayError) as error:
        db.session.rollback()
        flash(error.message, "danger")
        return redirect(url_for("earnings.settings"))
    db.session.commit()
    if url:
        return redirect(url)
    flash(_("Sandbox payout account connected: payouts are recorded without real money."),
          "success")
    return redirect(url_for("earnings.settings"))


@bp.route("/connect/return")
@role_required("publisher")
def connect_return():
    """Back from Stripe's onboarding: ask Stripe at once rather than wait for its webhook."""
    try:
        account = connect.refresh_account(current_user.id)
    except GatewayError as error:
        db.session.rollback()
        flash(error.message, "warning")
        return redirect(url_for("earnings.settings"))
    db.session.commit()
    if account is not None and account.payouts_enabled:
        flash(_("Your payout account can receive payouts."), "success")
    else:
        flash(_("Stripe has not enabled payouts on your account yet. Finish the onboarding, or "
                "come back once Stripe has checked your details."), "warning")
    return redirect(url_for("earnings.settings"))
