"""The referral exchange on /api/v1 (publishers): list lots, list a referral, read a lot with
its checklist, buy. Amounts are integers in minor units beside `currency`."""

import math

from flask import jsonify, request
from flask_babel import lazy_gettext as _l

from cpa_network.api.auth import api_user, requires_role
from cpa_network.api.openapi import document, ref, register_schema
from cpa_network.api.pagination import (
    LIST_QUERY,
    bool_arg,
    choice_arg,
    instant_arg,
    int_arg,
    invalid,
    list_schema,
    next_offset_cursor,
    offset_window,
)
from cpa_network.database import utcnow
from cpa_network.errors import ValidationFailed
from cpa_network.extensions import db
from payouts import commissions
from payouts.currency import CURRENCIES
from publishers import (
    exchange_browse,
    exchange_buying,
    exchange_listing,
    exchange_settlement,
    exchange_stats,
)
from publishers.api import bp
from publishers.exchange_models import Lot, LotSale

MINOR = {"type": "integer", "description": "Minor units (cents, kopecks) of `currency`."}
TIME = {"type": "string", "format": "date-time"}
MAX_PRICE = 2**63 - 1  # prices are BIGINT
LOT_SUMMARY = {
    "id": {"type": "integer"}, "status": {"enum": ["listed", "sold", "withdrawn"]},
    "referral_id": {"type": "integer"}, "seller_id": {"type": "integer"},
    "price": MINOR, "currency": {"enum": list(CURRENCIES)}, "note": {"type": "string"},
    "listed_at": TIME,
    "monthly_commission": {**MINOR, "description": "What it produced for its upline a month, "
                                                   "average of the last 90 days."},
    "fair_price": {"type": "object", "properties": {"low": MINOR, "high": MINOR}},
    "payback_months": {"type": ["number", "null"]},
    "valid_clicks_30d": {"type": "integer"},
    "own_referrals": {"type": "integer", "description": "Levels 1-3 below it."},
    "refback_percent": {"type": "number"},
    "risk": {"type": "object", "properties": {
        "level": {"enum": ["low", "medium", "high"]},
        "signals": {"type": "object", "additionalProperties": {"type": "string"}}}},
}
LOT = register_schema("Lot", {"type": "object", "required": list(LOT_SUMMARY),
                              "properties": LOT_SUMMARY})
MONTH = {"type": "object", "properties": {
    "month": {"type": "string"}, "clicks": {"type": "integer"},
    "flagged_clicks": {"type": "integer"}, "conversions": {"type": "integer"},
    "approved": MINOR, "commission": MINOR}}
LOT_DETAIL = register_schema("LotDetail", {"allOf": [LOT, {"type": "object", "properties": {
    "seller": {"type": "object", "properties": {
        "registered_at": TIME, "last_seen_at": {"type": ["string", "null"]},
        "conversions_30d": {"type": "integer"}, "earnings_30d": MINOR,
        "lots_sold": {"type": "integer"}, "disputes_lost": {"type": "integer"},
        "rating": {"type": ["number", "null"], "description": "Score 0-100; null: not rated."},
        "rank": {"type": ["integer", "null"]}}},
    "referral": {"type": "object", "properties": {
        "registered_at": TIME, "last_seen_at": {"type": ["string", "null"]},
        "months": {"type": "array", "items": MONTH}}},
    "own_referrals_by_level": {"type": "array", "items": {"type": "object", "properties": {
        "level": {"type": "integer"}, "count": {"type": "integer"},
        "active": {"type": "integer"}}}}}}]})
SALE = register_schema("LotSale", {"type": "object", "required": [
    "id", "lot_id", "status", "price", "currency", "bought_at", "guarantee_until"],
    "properties": {"id": {"type": "integer"}, "lot_id": {"type": "integer"},
                   "referral_id": {"type": "integer"}, "seller_id": {"type": "integer"},
                   "buyer_id": {"type": "integer"},
                   "status": {"enum": ["in_guarantee", "disputed", "released", "refunded"]},
                   "price": MINOR, "currency": {"enum": list(CURRENCIES)},
                   "bought_at": TIME, "guarantee_until": TIME}})
LOT_REQUEST = {"type": "object", "required": ["referral_id", "price", "currency"], "properties": {
    "referral_id": {"type": "integer", "description": "One of your direct referrals."},
    "price": MINOR, "currency": {"enum": list(CURRENCIES)},
    "note": {"type": "string", "maxLength": 1000}}}


def _iso(at):
    return at.isoformat() if at else None


def lot_json(summary: exchange_stats.LotSummary) -> dict:
    lot, fair = summary.lot, summary.fair
    return {"id": lot.id, "status": lot.status, "referral_id": lot.referral_id,
            "seller_id": lot.seller_id, "price": lot.price, "currency": lot.currency,
            "note": lot.note, "listed_at": _iso(lot.listed_at),
            "monthly_commission": fair.monthly_commission,
            "fair_price": {"low": fair.low, "high": fair.high},
            "payback_months": fair.payback_months, "valid_clicks_30d": summary.clicks_30d,
            "own_referrals": summary.own_referrals,
            "refback_percent": commissions.refback_of(lot.referral_id) / 100,
            "risk": {"level": summary.risk.level, "signals": summary.risk.signals}}


def sale_json(sale: LotSale) -> dict:
    return {"id": sale.id, "lot_id": sale.lot_id, "referral_id": sale.referral_id,
            "seller_id": sale.seller_id, "buyer_id": sale.buyer_id,
            "status": sale.status, "price": sale.price, "currency": sale.currency,
            "bought_at": _iso(sale.bought_at), "guarantee_until": _iso(sale.guarantee_until)}


BROWSE_QUERY = {
    "currency": {"enum": list(CURRENCIES)},
    "max_price": {"type": "integer", "minimum": 0,
                  "description": "Highest price, in minor units of `currency` (required with "
                                 "it)."},
    "max_payback": {"type": "number", "minimum": 0,
                    "description": "Longest payback, in months; lots without commission (payback "
                                   "never) are left out."},
    "max_risk": {"enum": ["low", "medium", "high"]},
    "with_referrals": {"type": "boolean",
                       "description": "Only lots with referrals of their own (levels 1-3)."},
    "sort": {"enum": list(exchange_browse.SORTS)},
    "dir": {"enum": ["asc", "desc"],
            "description": "Sort direction; by default each sort's natural one (newest, "
                           "highest commission, activity and referrals first; lowest price, "
                           "payback and risk first)."},
}


def _browse_query() -> exchange_browse.BrowseQuery:
    """The exchange page's filters from the query string; a bad value is a 422 naming it."""
    currency = choice_arg("currency", CURRENCIES) or ""
    max_price = int_arg("max_price", minimum=0, maximum=MAX_PRICE)
    if max_price is not None and not currency:
        raise invalid("max_price", _l("Give a currency with max_price: prices in different "
                                      "currencies cannot be compared."))
    text = request.args.get("max_payback", "").strip()
    max_payback = None
    if text:
        try:
            max_payback = float(text)
        except ValueError:
            max_payback = None
        if max_payback is None or not math.isfinite(max_payback) or max_payback < 0:
            raise invalid("max_payback", _l("A number of months, 0 or more."))
    direction = choice_arg("dir", ("asc", "desc"))
    return exchange_browse.BrowseQuery(
        currency=currency, max_price=max_price, max_payback=max_payback,
        max_risk=choice_arg("max_risk", ("low", "medium", "high")) or "",
        with_referrals=bool(bool_arg("with_referrals")),
        sort=choice_arg("sort", exchange_browse.SORTS) or "listed",
        descending=None if direction is None else direction == "desc")


@bp.get("/lots")
@document("Lots on the referral exchange", roles=("publisher",), tags=("exchange",),
          query={**BROWSE_QUERY, **LIST_QUERY},
          description="The filters and sorts of the exchange page. `created_from`/`created_to` "
                      "filter on `listed_at`.",
          responses={200: ("Listed lots, in `sort` order.", list_schema("lots", LOT))})
@requires_role("publisher")
def list_lots():
    query = _browse_query()
    low, high = instant_arg("created_from"), instant_arg("created_to", end=True)
    found = [s for s in exchange_browse.browse(query)
             if (low is None or s.lot.listed_at >= low)
             and (high is None or s.lot.listed_at < high)]
    offset, limit = offset_window()
    return jsonify(lots=[lot_json(s) for s in found[offset:offset + limit]],
                   next_cursor=next_offset_cursor(offset, limit, len(found)))


@bp.post("/lots")
@document("List a referral for sale", roles=("publisher",), tags=("exchange",),
          request=LOT_REQUEST,
          description="Only the referral's current upline may list it; anyone else is refused "
                      "(`not_your_referral`) and the attempt is recorded for the operator.",
          responses={201: ("The lot.", LOT),
                     403: ("`not_your_referral`.", ref("Error")),
                     409: ("`already_listed`, or `purchase_unsettled`: your purchase of this "
                           "referral is still in its guarantee period or disputed.",
                           ref("Error")),
                     422: ("`referral_blocked`, `referral_inactive`, `referral_no_activity`, "
                           "`owned_too_short`, `price_too_low`, `currency_unsupported`, "
                           "`validation_failed`.", ref("Error"))})
@requires_role("publisher")
def create_lot():
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or type(body.get("referral_id")) is not int \
            or type(body.get("price")) is not int:
        raise ValidationFailed(_l("Send a JSON object with referral_id, price (minor units) "
                                  "and currency."),
                               fields={"referral_id": [_l("An integer user id.")],
                                       "price": [_l("An integer amount in minor units.")]})
    made = exchange_listing.list_referral(api_user(), body["referral_id"], body.get("price"),
                                          str(body.get("currency") or ""),
                                          str(body.get("note") or ""))
    db.session.commit()
    return jsonify(lot_json(exchange_stats.summarize(made))), 201


@bp.get("/lots/<int:lot_id>")
@document("A lot with the buyer's checklist", roles=("publisher",), tags=("exchange",),
          responses={200: ("The lot.", LOT_DETAIL), 404: ("`not_found`.", ref("Error"))})
@requires_role("publisher")
def get_lot(lot_id: int):
    lot: Lot = exchange_browse.visible_lot(api_user(), lot_id)
    now = utcnow()
    seller = exchange_stats.seller_profile(lot.seller, lot.currency, now)
    body = lot_json(exchange_stats.summarize(lot, now))
    body["seller"] = {"registered_at": _iso(lot.seller.registered_at),
                      "last_seen_at": _iso(lot.seller.last_seen_at),
                      "conversions_30d": seller.conversions_30d,
                      "earnings_30d": seller.earnings_30d, "lots_sold": seller.lots_sold,
                      "disputes_lost": seller.disputes_lost,
                      "rating": seller.rating.score if seller.rating else None,
                      "rank": seller.rating.rank if seller.rating else None}
    body["referral"] = {"registered_at": _iso(lot.referral.registered_at),
                        "last_seen_at": _iso(lot.referral.last_seen_at),
                        "months": [vars(m) for m in exchange_stats.monthly(
                            lot.referral_id, lot.currency, now)]}
    body["own_referrals_by_level"] = [
        {"level": level.level, "count": level.count, "active": level.active}
        for level in exchange_stats.own_referrals(lot.referral_id, now)]
    return jsonify(body)


@bp.post("/lots/<int:lot_id>/buy")
@document("Buy a lot", roles=("publisher",), tags=("exchange",),
          description="Pays from your available balance into exchange escrow and makes you the "
                      "referral's upline, in one transaction. The seller is paid when the "
                      "guarantee period ends without a dispute. Safe to retry: if you have "
                      "already bought the lot, the answer is 200 with that purchase and nothing "
                      "is charged again.",
          responses={201: ("The purchase.", SALE),
                     200: ("You had already bought it (a retry): that purchase.", SALE),
                     404: ("`not_found`.", ref("Error")),
                     409: ("`lot_not_available` (someone else bought it; your money was not "
                           "touched) or `insufficient_funds`: top up first with "
                           "`POST /api/v1/deposits` (`fields.amount` says how much), then buy "
                           "again.", ref("Error")),
                     422: ("`own_lot`, `buying_yourself`, `referral_cycle`, `seller_blocked`, "
                           "`referral_blocked`.", ref("Error"))})
@requires_role("publisher")
def buy_lot(lot_id: int):
    try:
        sale = exchange_buying.buy_lot(api_user(), lot_id)
    except exchange_buying.AlreadyBought as bought:
        db.session.rollback()
        return jsonify(sale_json(bought.sale)), 200
    db.session.commit()
    return jsonify(sale_json(sale)), 201


@bp.get("/exchange/mine")
@document("Your lots, sales and purchases", roles=("publisher",), tags=("exchange",),
          responses={200: ("Your side of the exchange (the newest 200 of each).", {
              "type": "object", "required": ["listed", "sales", "purchases"], "properties": {
                  "listed": {"type": "array", "items": LOT},
                  "sales": {"type": "array", "items": SALE},
                  "purchases": {"type": "array", "items": SALE}}})})
@requires_role("publisher")
def my_exchange():
    user_id, now = api_user().id, utcnow()
    return jsonify(
        listed=[lot_json(exchange_stats.summarize(lot, now))
                for lot in exchange_browse.listed_by(user_id)],
        sales=[sale_json(s) for s in exchange_browse.sales_of(user_id, "seller")],
        purchases=[sale_json(s) for s in exchange_browse.sales_of(user_id, "buyer")])


@bp.post("/lots/<int:lot_id>/withdraw")
@document("Take your lot off the exchange", roles=("publisher",), tags=("exchange",),
          responses={200: ("The lot, status `withdrawn`.", LOT),
                     409: ("`lot_not_available`: already sold or withdrawn.", ref("Error"))})
@requires_role("publisher")
def withdraw_lot(lot_id: int):
    lot = exchange_listing.withdraw_lot(api_user(), lot_id)
    db.session.commit()
    return jsonify(lot_json(exchange_stats.summarize(lot)))


@bp.get("/sales/<int:sale_id>")
@document("One of your exchange sales or purchases", roles=("publisher",), tags=("exchange",),
          responses={200: ("The sale.", SALE)})
@requires_role("publisher")
def get_sale(sale_id: int):
    return jsonify(sale_json(exchange_settlement.sale_for(api_user(), sale_id)))


@bp.post("/sales/<int:sale_id>/dispute")
@document("Dispute a purchase", roles=("publisher",), tags=("exchange",),
          request={"type": "object", "required": ["reason"], "properties": {
              "reason": {"type": "string", "minLength": 1, "maxLength": 1000}}},
          description="The buyer, within the guarantee period: the money stays in escrow "
                      "until the operator decides.",
          responses={200: ("The sale, status `disputed`.", SALE),
                     409: ("`not_disputable`: the guarantee has ended or it is decided.",
                           ref("Error")),
                     422: ("`reason_required` or `validation_failed`.", ref("Error"))})
@requires_role("publisher")
def dispute_sale(sale_id: int):
    body = request.get_json(silent=True)
    reason = body.get("reason") if isinstance(body, dict) else None
    if not isinstance(reason, str) or len(reason) > 1000:
        raise ValidationFailed(fields={"reason": [_l("Say what is wrong (at most 1000 "
                                                     "characters).")]})
    sale = exchange_settlement.open_dispute(api_user(), sale_id, reason)
    db.session.commit()
    return jsonify(sale_json(sale))
