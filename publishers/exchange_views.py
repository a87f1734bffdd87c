"""Exchange pages: browse lots, a lot's checklist, list a referral, buy, withdraw, the sales
and purchases history with disputes; and the operator's disputes page."""

import math
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import SelectChoice

from cpa_network.accounts.models import User
from cpa_network.accounts.sessions import role_required
from cpa_network.database import utcnow
from cpa_network.errors import DomainError
from cpa_network.extensions import db
from cpa_network.navigation import NavItem
from payouts import commissions, deposits, ledger
from payouts.currency import CURRENCIES, DEFAULT_CURRENCY, format_money, to_major, to_minor
from payouts.earnings_views import start_top_up
from payouts.forms import TopUpForm
from payouts.gateway import get_gateway
from payouts.models import AccountKind
from payouts.views import external_url
from publishers import (
    exchange_browse,
    exchange_buying,
    exchange_core,
    exchange_listing,
    exchange_settlement,
    exchange_stats,
)
from publishers.exchange_forms import (
    BuyForm,
    DisputeForm,
    ResolveForm,
    SellForm,
    WithdrawLotForm,
)
from publishers.exchange_models import DISPUTED, IN_GUARANTEE, LISTED, ListingRefusal, LotSale

bp = Blueprint("exchange", __name__)
admin_bp = Blueprint("exchange_admin", __name__)


FILTER_KEYS = ("currency", "max_price", "max_payback", "max_risk", "with_referrals")


def _browse_query(args) -> exchange_browse.BrowseQuery:
    currency = args.get("currency", "")
    currency = currency if currency in CURRENCIES else ""
    max_price = None
    if currency and args.get("max_price"):
        try:
            max_price = to_minor(Decimal(args["max_price"]), currency)
        except (ValueError, InvalidOperation):
            max_price = None
    try:
        max_payback = float(args["max_payback"]) if args.get("max_payback") else None
    except ValueError:
        max_payback = None
    if max_payback is not None and not math.isfinite(max_payback):
        max_payback = None
    direction = args.get("dir")
    return exchange_browse.BrowseQuery(
        currency=currency, max_price=max_price, max_payback=max_payback,
        max_risk=args.get("max_risk", ""), with_referrals=bool(args.get("with_referrals")),
        sort=args.get("sort", "listed"),
        descending={"asc": False, "desc": True}.get(direction or ""))


@bp.route("/exchange")
@role_required("publisher")
def index():
    query = _browse_query(request.args)
    # The sort links carry the filters, and only them: any other query key (`endpoint`,
    # `_external`...) would reach url_for as one of its own arguments.
    filters = {key: request.args[key] for key in FILTER_KEYS if request.args.get(key)}
    return render_template("publishers/exchange/index.html", rows=exchange_browse.browse(query),
                           query=query, currencies=CURRENCIES, sorts=exchange_browse.SORTS,
                           args=request.args, filters=filters)


@bp.route("/exchange/lots/<int:lot_id>")
@role_required("publisher", "admin")
def lot(lot_id: int):
    found = exchange_browse.visible_lot(current_user, lot_id)
    return _lot_page(found)


def _lot_page(found, buy_form=None, status=200, top_up_form=None):
    now = utcnow()
    summary = exchange_stats.summarize(found, now)
    sale = db.session.query(LotSale).filter_by(lot_id=found.id).one_or_none()
    available = ledger.balance(AccountKind.PUBLISHER_AVAILABLE, current_user.id, found.currency)
    top_up = deposits.top_up_amount(found.price - available) if available < found.price else 0
    return render_template(
        "publishers/exchange/lot.html", lot=found, summary=summary, sale=sale,
        seller=exchange_stats.seller_profile(found.seller, found.currency, now),
        months=exchange_stats.monthly(found.referral_id, found.currency, now),
        levels=exchange_stats.own_referrals(found.referral_id, now),
        refback=commissions.refback_of(found.referral_id),
        risk_labels=exchange_stats.RISK_LABELS, fair_months=exchange_stats.FAIR_MONTHS,
        available=available, top_up=top_up,
        top_up_form=top_up_form or TopUpForm(amount=to_major(top_up, found.currency)),
        open_top_ups=deposits.open_deposits(current_user.id, AccountKind.PUBLISHER_AVAILABLE,
                                            found.currency) if top_up else [],
        buy_form=buy_form or BuyForm(), withdraw_form=WithdrawLotForm(),
        settings=exchange_core.settings()), status


@bp.route("/exchange/lots/<int:lot_id>/buy", methods=["POST"])
@role_required("publisher")
def buy(lot_id: int):
    form = BuyForm()
    if not form.validate_on_submit():
        return redirect(url_for("exchange.lot", lot_id=lot_id))
    if form.confirmed.data != "yes":
        found = exchange_browse.visible_lot(current_user, lot_id)
        return render_template(
            "publishers/exchange/confirm_buy.html", lot=found, form=form,
            settings=exchange_core.settings(),
            available=ledger.balance(AccountKind.PUBLISHER_AVAILABLE, current_user.id,
                                     found.currency))
    try:
        sale = exchange_buying.buy_lot(current_user, lot_id)
    except exchange_buying.AlreadyBought as bought:  # a retry or a double click: it went through
        db.session.rollback()
        flash(_("You have already bought this referral; here is your purchase."), "info")
        return redirect(url_for("exchange.sale", sale_id=bought.sale.id))
    except ledger.InsufficientFunds as error:
        db.session.rollback()
        flash(str(error.message), "danger")  # it says how much to top up; the page offers it
        return redirect(url_for("exchange.lot", lot_id=lot_id))
    except exchange_core.ExchangeError as error:
        db.session.rollback()
        flash(str(error.message), "danger")
        return redirect(url_for("exchange.lot", lot_id=lot_id) if error.code != "lot_not_available"
                        else url_for("exchange.index"))
    db.session.commit()
    flash(_("Bought. The referral is yours; the money waits in escrow until %(date)s.",
            date=sale.guarantee_until.date().isoformat()), "success")
    return redirect(url_for("exchange.sale", sale_id=sale.id))


@bp.route("/exchange/lots/<int:lot_id>/top-up", methods=["POST"])
@role_required("publisher")
def top_up(lot_id: int):
    """Top up the available balance to buy this lot, then back to the lot to confirm the
    purchase: paying never buys by itself."""
    found = exchange_browse.visible_lot(current_user, lot_id)
    back = url_for("exchange.lot", lot_id=found.id)
    if found.status != LISTED or found.seller_id == current_user.id:
        flash(_("This lot is no longer for sale."), "danger")
        return redirect(back)
    form = TopUpForm()
    form.currency.data = found.currency  # the lot's currency, whatever the request said
    if not form.validate_on_submit():
        form.confirmed.data = ""
        return _lot_page(found, status=422, top_up_form=form)
    if form.confirmed.data != "yes":
        return render_template("payouts/confirm.html", form=form, action="top_up", lot=found,
                               gateway=get_gateway(), amount=form.minor_amount,
                               target=url_for("exchange.top_up", lot_id=found.id), cancel=back)
    lot_url = external_url("exchange.lot", lot_id=found.id)
    return start_top_up(form.minor_amount, found.currency, lambda _deposit_id: lot_url, lot_url,
                        back, _("%(amount)s is in your available balance. Check the lot once "
                                "more and confirm the purchase.",
                                amount=format_money(form.minor_amount, found.currency)))


@bp.route("/exchange/lots/<int:lot_id>/withdraw", methods=["POST"])
@role_required("publisher")
def withdraw(lot_id: int):
    if WithdrawLotForm().validate_on_submit():
        try:
            exchange_listing.withdraw_lot(current_user, lot_id)
            db.session.commit()
            flash(_("The lot is withdrawn."), "success")
        except exchange_core.LotNotAvailable as error:
            db.session.rollback()
            flash(str(error.message), "danger")
    return redirect(url_for("exchange.mine"))


@bp.route("/exchange/sell", methods=["GET", "POST"])
@role_required("publisher")
def sell():
    now = utcnow()
    referrals = list(db.session.query(User).filter(User.referred_by_id == current_user.id)
                     .order_by(User.display_name, User.id))
    problems = {r.id: exchange_listing.listing_problems(current_user.id, r, now)
                for r in referrals}
    form = SellForm()
    form.referral.choices = [SelectChoice(r.id, r.display_name or r.email) for r in referrals
                             if not problems[r.id]]
    if form.validate_on_submit():
        try:
            made = exchange_listing.list_referral(current_user, form.referral.data,
                                                  form.minor_amount, form.currency.data,
                                                  form.note.data or "", now)
        except DomainError as error:
            db.session.rollback()
            for name, messages in error.fields.items():
                getattr(form, "amount" if name == "price" else name).errors = list(messages)
            if not error.fields:
                form.referral.errors = [error.message]
        else:
            db.session.commit()
            flash(_("Listed. Buyers see it on the exchange now."), "success")
            return redirect(url_for("exchange.lot", lot_id=made.id))
    # The minimum price is shown in the chosen currency; an unknown one (a forged form) is
    # refused by the form and shown in the default currency.
    price_currency = form.currency.data if form.currency.data in CURRENCIES else DEFAULT_CURRENCY
    return render_template("publishers/exchange/sell.html", form=form, referrals=referrals,
                           problems=problems, settings=exchange_core.settings(),
                           price_currency=price_currency,
                           min_owned=timedelta(days=exchange_core.settings()["min_owned_days"]))


@bp.route("/exchange/mine")
@role_required("publisher")
def mine():
    user_id = current_user.id
    return render_template(
        "publishers/exchange/mine.html",
        listed=exchange_browse.listed_by(user_id),
        sales=exchange_browse.sales_of(user_id, "seller"),
        purchases=exchange_browse.sales_of(user_id, "buyer"),
        sales_history=exchange_browse.history(user_id, "seller"),
        purchases_history=exchange_browse.history(user_id, "buyer"),
        withdraw_form=WithdrawLotForm())


@bp.route("/exchange/sales/<int:sale_id>")
@role_required("publisher")
def sale(sale_id: int):
    found = exchange_settlement.sale_for(current_user, sale_id)
    return _sale_page(found)


def _sale_page(found, form=None, status=200):
    can_dispute = (found.buyer_id == current_user.id and found.status == IN_GUARANTEE
                   and utcnow() < found.guarantee_until)
    return render_template("publishers/exchange/sale.html", sale=found,
                           form=form or DisputeForm(), can_dispute=can_dispute), status


@bp.route("/exchange/sales/<int:sale_id>/dispute", methods=["POST"])
@role_required("publisher")
def dispute(sale_id: int):
    found = exchange_settlement.sale_for(current_user, sale_id)
    form = DisputeForm()
    if not form.validate_on_submit():
        return _sale_page(found, form, 422)
    try:
        exchange_settlement.open_dispute(current_user, sale_id, form.reason.data)
    except exchange_settlement.NotDisputable as error:
        db.session.rollback()
        flash(str(error.message), "danger")
        return redirect(url_for("exchange.sale", sale_id=sale_id))
    db.session.commit()
    flash(_("Dispute opened. The money stays in escrow until the operator decides."), "success")
    return redirect(url_for("exchange.sale", sale_id=sale_id))


@admin_bp.route("/admin/exchange")
@role_required("admin")
def disputes():
    open_disputes = db.session.query(LotSale).filter(LotSale.status == DISPUTED) \
        .order_by(LotSale.disputed_at).all()
    decided = db.session.query(LotSale).filter(LotSale.resolved_by_id.isnot(None)) \
        .order_by(LotSale.settled_at.desc()).limit(50).all()
    refusals = db.session.query(ListingRefusal).order_by(ListingRefusal.at.desc()).limit(100).all()
    return render_template("publishers/exchange/disputes.html", open_disputes=open_disputes,
                           decided=decided, refusals=refusals, form=ResolveForm())


@admin_bp.route("/admin/exchange/sales/<int:sale_id>/resolve", methods=["POST"])
@role_required("admin")
def resolve(sale_id: int):
    form = ResolveForm()
    if form.validate_on_submit():
        try:
            exchange_settlement.resolve_dispute(current_user, sale_id, form.decision.data,
                                                form.note.data or "")
        except (exchange_core.ExchangeError, ledger.InsufficientFunds) as error:
            db.session.rollback()
            flash(str(error.message), "danger")
        else:
            db.session.commit()
            flash(_("Decided."), "success")
    else:
        flash(_("Choose refund or release."), "danger")
    return redirect(url_for("exchange_admin.disputes"))


NAV = (
    NavItem("publisher", "exchange.index", _l("Exchange"),
            _l("Buy and sell referrals, with their statistics and risk signals.")),
    NavItem("admin", "exchange_admin.disputes", _l("Exchange disputes"),
            _l("Decide disputed referral purchases; see refused listings.")),
)
