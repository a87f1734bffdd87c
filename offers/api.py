"""JSON API for offers: `POST/GET /api/v1/offers`, `GET/PATCH /api/v1/offers/<id>`,
`POST /api/v1/offers/<id>/moderation`. Amounts are integers in minor units beside `currency`;
percent payouts are basis points (750 = 7.5 %)."""

from dataclasses import fields as dataclass_fields
from dataclasses import replace

from flask import Blueprint, current_app, jsonify, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from cpa_network.api.auth import api_user, authenticate_request, requires_role
from cpa_network.api.openapi import document
from cpa_network.api.pagination import (
    LIST_QUERY,
    choice_arg,
    date_range,
    json_object,
    keyset_page,
    next_offset_cursor,
    offset_window,
)
from cpa_network.errors import NotFound, ValidationFailed
from cpa_network.extensions import csrf, db
from offers import access, catalog, moderation, services
from offers import status as st
from offers.api_docs import (
    ERROR,
    MODERATION_REQUEST,
    OFFER,
    OFFER_LIST,
    OFFER_PATCH,
    OFFER_REQUEST,
)
from offers.models import Offer
from offers.stats import offer_metrics
from offers.status import STATUSES

bp = Blueprint("offers_api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)
bp.before_request(authenticate_request)

SCALARS = {"name": str, "category": str, "landing_url": str, "currency": str,
           "description": str, "fallback_url": str, "reference_amount": int, "hold_days": int,
           "attribution_window_days": int, "reward_model": str, "customer_bonus": str,
           "promo_discount_bp": (int, type(None)), "traffic_sources": str, "visibility": str}
RENAMED = {"description": "description_md"}
OWNER_TARGETS = (st.PENDING, st.PAUSED, st.ACTIVE, st.ARCHIVED, st.DRAFT)


def offer_json(offer: Offer, *, owner: bool = False, metrics=None) -> dict:
    body = {
        "id": offer.id, "advertiser_id": offer.advertiser_id, "name": offer.name,
        "category": offer.category, "description": offer.description_md,
        "description_html": offer.description_html, "landing_url": offer.landing_url,
        "currency": offer.currency, "reference_amount": offer.reference_amount,
        "top_payout": offer.top_payout,
        "goals": [{"code": g.code, "name": g.name, "payout_type": g.payout_type,
                   "payout": g.payout, "once_per_click": g.once_per_click,
                   "requires_goal": g.requires_goal, "min_amount": g.min_amount}
                  for g in offer.goals],
        "caps": [{"scope": c.scope, "period": c.period, "metric": c.metric,
                  "limit": c.cap_limit} for c in offer.caps],
        "hold_days": offer.hold_days, "attribution_window_days": offer.attribution_window_days,
        "reward_model": offer.reward_model, "customer_bonus": offer.customer_bonus,
        "promo_discount_bp": offer.promo_discount_bp,
        "allowed_countries": offer.country_list, "fallback_url": offer.fallback_url,
        "traffic_sources": offer.traffic_sources, "visibility": offer.visibility,
        "status": offer.status, "created_at": offer.created_at.isoformat(),
        "updated_at": offer.updated_at.isoformat(),
    }
    if metrics is not None:
        body["stats_30d"] = {"valid_clicks": metrics.valid_clicks,
                             "conversions": metrics.conversions, "epc": metrics.epc,
                             "cr": metrics.cr, "is_new": metrics.is_new}
    if owner:
        body["postback_secret"] = offer.postback_secret
        body["rejection_reason"] = offer.rejection_reason
        body["paused_reason"] = offer.paused_reason
    return body


def _typed(body: dict, name: str, kind):
    value = body[name]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ValidationFailed(fields={name: [_l("Wrong type.")]})
    return value


def parse_offer(body, base: services.OfferData | None) -> services.OfferData:
    """The request body as OfferData; on PATCH, given fields replace those of `base`."""
    known = {f.name for f in dataclass_fields(services.OfferData)}
    changes = {}
    for name, kind in SCALARS.items():
        if name in body:
            changes[RENAMED.get(name, name)] = _typed(body, name, kind)
    if "allowed_countries" in body:
        countries = _typed(body, "allowed_countries", list)
        changes["allowed_countries"] = tuple(str(c).upper() for c in countries)
    if "goals" in body:
        changes["goals"] = tuple(_parse_items(body, "goals", services.GoalData,
                                              ("code", "payout_type", "payout"),
                                              ("name", "once_per_click", "requires_goal",
                                               "min_amount")))
    if "caps" in body:
        changes["caps"] = tuple(_parse_items(body, "caps", services.CapData,
                                             ("scope", "period", "metric", "limit"), ()))
    if base is not None:
        return replace(base, **changes)
    missing = [n for n in ("name", "category", "landing_url", "currency", "goals")
               if n not in changes]
    if missing:
        raise ValidationFailed(fields={n: [_l("Required.")] for n in missing})
    return services.OfferData(**{k: v for k, v in changes.items() if k in known})


def _parse_items(body: dict, name: str, cls, required: tuple, optional: tuple) -> list:
    items = _typed(body, name, list)
    parsed = []
    for item in items:
        if not isinstance(item, dict) or any(k not in item for k in required):
            raise ValidationFailed(fields={name: [_l("Each item needs: %(keys)s.",
                                                     keys=", ".join(required))]})
        values = {k: item[k] for k in (*required, *optional) if k in item}
        if not all(_item_type_ok(k, v) for k, v in values.items()):
            raise ValidationFailed(fields={name: [_l("Wrong type.")]})
        parsed.append(cls(**values))
    return parsed


def _item_type_ok(key: str, value) -> bool:
    if key == "once_per_click":
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    return isinstance(value, int if key in ("payout", "limit", "min_amount") else str)


def _status_target(body: dict) -> str | None:
    target = body.get("status") if isinstance(body, dict) else None
    if target is not None and target not in OWNER_TARGETS:
        raise ValidationFailed(fields={"status": [_l("One of: %(s)s.",
                                                     s=", ".join(OWNER_TARGETS))]})
    return target


@bp.post("/offers")
@document("Create an offer", roles=("advertiser",), request=OFFER_REQUEST, tags=("offers",),
          description="Sent to moderation, or kept as a draft with `\"status\": \"draft\"`.",
          responses={201: ("The offer, with its postback_secret.", OFFER),
                     422: ("`validation_failed` with `fields`.", ERROR)})
@requires_role("advertiser")
def create_offer():
    body = json_object()
    target = _status_target(body)
    offer = services.create_offer(api_user(), parse_offer(body, None),
                                  submit=target != st.DRAFT)
    db.session.commit()
    return jsonify(offer_json(offer, owner=True)), 201


@bp.get("/offers")
@document("List offers", roles=("advertiser", "publisher"), tags=("offers",),
          description="An advertiser gets their own offers, newest first; a publisher (or "
                      "`scope=catalog`) the catalog with 30-day EPC and CR, in `sort` order.",
          query={"scope": {"enum": ["own", "catalog"]}, "q": {"type": "string"},
                 "category": {"type": "string"}, "country": {"type": "string"},
                 "payout_type": {"type": "string"}, "currency": {"type": "string"},
                 "sort": {"enum": list(catalog.SORTS)}, "status": {"enum": list(STATUSES)},
                 **LIST_QUERY},
          responses={200: ("Offers.", OFFER_LIST),
                     404: ("`not_found`: no catalog for an account that is not a publisher.",
                           ERROR)})
def list_offers():
    """The advertiser's own offers; for a publisher (or ?scope=catalog) the catalog."""
    user, args = api_user(), request.args
    scope = choice_arg("scope", ("own", "catalog"))
    choice_arg("sort", catalog.SORTS)
    if user.is_advertiser and scope != "catalog":
        query = select(Offer).where(Offer.advertiser_id == user.id)
        if status := choice_arg("status", STATUSES):
            query = query.where(Offer.status == status)
        rows, cursor = keyset_page(date_range(query, Offer.created_at), Offer.id)
        return jsonify(offers=[offer_json(o, owner=True) for o in rows], next_cursor=cursor)
    if not user.is_publisher:
        raise NotFound(_l("No catalog for this account."))
    query = catalog.CatalogQuery(text=args.get("q", ""), category=args.get("category", ""),
                                 country=args.get("country", ""),
                                 payout_type=args.get("payout_type", ""),
                                 currency=args.get("currency", ""), sort=args.get("sort", ""))
    offset, limit = offset_window()
    found = date_range(catalog.catalog_select(user, query), Offer.created_at)
    total = db.session.scalar(select(func.count()).select_from(found.order_by(None).subquery()))
    rows = list(db.session.scalars(found.offset(offset).limit(limit)))
    metrics = offer_metrics([o.id for o in rows], current_app.config["CATALOG_MIN_CLICKS"])
    return jsonify(offers=[offer_json(o, metrics=metrics[o.id]) for o in rows],
                   next_cursor=next_offset_cursor(offset, limit, total))


def readable_offer(offer_id: int) -> tuple[Offer, bool]:
    user = api_user()
    offer = db.session.get(Offer, offer_id)
    if offer is not None and offer.advertiser_id == user.id:
        return offer, True
    if offer is not None and (user.is_admin or access.publisher_can_see(offer, user)):
        return offer, False
    raise NotFound(_l("No such offer."))


@bp.get("/offers/<int:offer_id>")
@document("Get an offer", roles=("advertiser", "publisher", "admin"), tags=("offers",),
          responses={200: ("The offer (postback_secret for its owner).", OFFER),
                     404: ("`not_found`: not yours, or not in your catalog.", ERROR)})
def get_offer(offer_id: int):
    offer, owner = readable_offer(offer_id)
    metrics = offer_metrics([offer.id], current_app.config["CATALOG_MIN_CLICKS"])[offer.id]
    return jsonify(offer_json(offer, owner=owner, metrics=metrics))


@bp.patch("/offers/<int:offer_id>")
@document("Change an offer", roles=("advertiser",), request=OFFER_PATCH, tags=("offers",),
          responses={200: ("The offer. An approved offer whose landing or fallback URL moves "
                           "to another host is back in `pending_moderation`.", OFFER),
                     404: ("`not_found`.", ERROR),
                     409: ("`forbidden_transition` or `insufficient_escrow`.", ERROR),
                     422: ("`validation_failed` with `fields`.", ERROR)})
@requires_role("advertiser")
def update_offer(offer_id: int):
    offer = services.owned_offer(api_user(), offer_id)
    body = json_object()
    target = _status_target(body)
    if set(body) - {"status"}:
        services.update_offer(offer, parse_offer(body, services.offer_data_from(offer)))
    if target is not None and target != offer.status:
        if offer.status == st.PENDING and target == st.ACTIVE:
            raise st.ForbiddenTransition(offer.status, target)  # the operator approves
        services.change_status(offer, target)
    db.session.commit()
    return jsonify(offer_json(offer, owner=True))


@bp.post("/offers/<int:offer_id>/moderation")
@document("Approve or reject an offer", roles=("admin",), request=MODERATION_REQUEST,
          tags=("offers",),
          responses={200: ("The offer.", OFFER),
                     409: ("`forbidden_transition`, `insufficient_escrow` or "
                           "`advertiser_blocked`.", ERROR),
                     422: ("`reason_required` or `validation_failed`.", ERROR)})
@requires_role("admin")
def moderate_offer(offer_id: int):
    body = json_object()
    decision, reason = body.get("decision"), body.get("reason") or ""
    if not isinstance(decision, str):
        raise ValidationFailed(fields={"decision": [_l("approve or reject")]})
    if not isinstance(reason, str):
        raise ValidationFailed(fields={"reason": [_l("Wrong type.")]})
    offer = moderation.moderate(offer_id, api_user(), decision, reason)
    db.session.commit()
    return jsonify(offer_json(offer))
