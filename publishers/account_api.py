"""A publisher's own things on /api/v1: tracking links, the outgoing postback (settings and
delivery log), the referral tree and refbacks. Amounts are integers in minor units."""

from flask import jsonify, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from cpa_network.api.auth import api_user, requires_role
from cpa_network.api.openapi import document, register_schema
from cpa_network.api.pagination import LIST_QUERY, date_range, keyset_page, list_schema
from cpa_network.database import utcnow
from cpa_network.errors import ValidationFailed
from cpa_network.extensions import db
from offers import links, outgoing
from offers.api_docs import ERROR
from offers.conversion_models import PostbackDelivery
from offers.tracking_models import TrackingLink
from payouts import commissions
from publishers import exchange_listing, referrals
from publishers.api import bp

TIME = {"type": "string", "format": "date-time"}
LINK_ROW = register_schema("MyLink", {
    "type": "object", "required": ["id", "offer_id", "token", "url", "promo_code", "created_at"],
    "properties": {"id": {"type": "integer"}, "offer_id": {"type": "integer"},
                   "offer_name": {"type": "string"}, "token": {"type": "string"},
                   "url": {"type": "string"}, "promo_code": {"type": "string"},
                   "created_at": TIME}})
POSTBACK = register_schema("PostbackSettings", {
    "type": "object", "required": ["url_template", "on_created", "on_approved", "on_rejected"],
    "properties": {
        "url_template": {"type": "string", "description": "Empty: switched off. Macros: " +
                         ", ".join(f"{{{m}}}" for m in outgoing.MACROS) + "."},
        "on_created": {"type": "boolean"}, "on_approved": {"type": "boolean"},
        "on_rejected": {"type": "boolean"},
        "secret": {"type": ["string", "null"],
                   "description": "Signs each delivery (X-Signature); null until first saved."},
        "macros": {"type": "array", "items": {"type": "string"}}}})
POSTBACK_REQUEST = {"type": "object", "required": ["url_template"], "properties": {
    "url_template": {"type": "string", "maxLength": 1000},
    "on_created": {"type": "boolean"}, "on_approved": {"type": "boolean"},
    "on_rejected": {"type": "boolean"}}}
DELIVERY = register_schema("PostbackDelivery", {
    "type": "object", "required": ["id", "conversion_id", "event", "url", "state", "attempts"],
    "properties": {"id": {"type": "integer"}, "conversion_id": {"type": "integer"},
                   "event": {"enum": ["created", "approved", "rejected"]},
                   "url": {"type": "string"}, "state": {"type": "string"},
                   "attempts": {"type": "integer"},
                   "last_status_code": {"type": ["integer", "null"]},
                   "last_error": {"type": "string"}, "created_at": TIME,
                   "last_attempt_at": {"type": ["string", "null"], "format": "date-time"},
                   "delivered_at": {"type": ["string", "null"], "format": "date-time"}}})
MONEY_MAP = {"type": "object", "additionalProperties": {"type": "integer"},
             "description": "Currency -> minor units."}
REFERRAL = register_schema("Referral", {
    "type": "object", "required": ["id", "level", "display_name", "refback_percent"],
    "properties": {"id": {"type": "integer"}, "level": {"type": "integer"},
                   "display_name": {"type": "string"},
                   "upline_id": {"type": ["integer", "null"]},
                   "registered_at": TIME, "clicks_30d": {"type": "integer"},
                   "conversions_30d": {"type": "integer"},
                   "produced_total": MONEY_MAP,
                   "refback_percent": {"type": "number",
                                       "description": "Level 1 only: what you give back."}}})
REFBACK_REQUEST = {"type": "object", "required": ["refback_percent"], "properties": {
    "refback_percent": {"type": "integer", "minimum": 0,
                        "maximum": commissions.MAX_REFBACK_BP // 100}}}


def _iso(at):
    return at.isoformat() if at else None


@bp.get("/links")
@document("Your tracking links", roles=("publisher",), tags=("offers",),
          query=LIST_QUERY, responses={200: ("A page of links, newest first.",
                                             list_schema("links", LINK_ROW))})
@requires_role("publisher")
def list_links():
    query = select(TrackingLink).where(TrackingLink.publisher_id == api_user().id)
    rows, cursor = keyset_page(date_range(query, TrackingLink.created_at), TrackingLink.id)
    return jsonify(links=[{"id": link.id, "offer_id": link.offer_id,
                           "offer_name": link.offer.name, "token": link.token,
                           "url": links.tracking_url(link), "promo_code": link.promo_code,
                           "created_at": link.created_at.isoformat()} for link in rows],
                   next_cursor=cursor)


def _postback_json(found) -> dict:
    return {"url_template": found.url_template if found else "",
            "on_created": found.on_created if found else True,
            "on_approved": found.on_approved if found else True,
            "on_rejected": found.on_rejected if found else False,
            "secret": found.secret if found else None, "macros": list(outgoing.MACROS)}


@bp.get("/postback-settings")
@document("Your outgoing postback", roles=("publisher",), tags=("postbacks",),
          responses={200: ("The settings.", POSTBACK)})
@requires_role("publisher")
def get_postback_settings():
    return jsonify(_postback_json(outgoing.settings_for(api_user().id)))


@bp.put("/postback-settings")
@document("Set your outgoing postback", roles=("publisher",), tags=("postbacks",),
          request=POSTBACK_REQUEST,
          description="We call `url_template` (macros filled) when your conversions are "
                      "created, approved or rejected; an empty template switches it off.",
          responses={200: ("The settings.", POSTBACK),
                     422: ("`postback_url_invalid` or `validation_failed`.", ERROR)})
@requires_role("publisher")
def put_postback_settings():
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("url_template"), str):
        raise ValidationFailed(fields={"url_template": [_l("Required: a string.")]})
    flags = {}
    for name, default in (("on_created", True), ("on_approved", True), ("on_rejected", False)):
        flags[name] = body.get(name, default)
        if not isinstance(flags[name], bool):
            raise ValidationFailed(fields={name: [_l("true or false.")]})
    found = outgoing.save_settings(api_user().id, body["url_template"], **flags)
    db.session.commit()
    return jsonify(_postback_json(found))


@bp.get("/postback-deliveries")
@document("Your outgoing postback deliveries", roles=("publisher",), tags=("postbacks",),
          query=LIST_QUERY, responses={200: ("A page of deliveries, newest first.",
                                             list_schema("deliveries", DELIVERY))})
@requires_role("publisher")
def list_deliveries():
    query = select(PostbackDelivery).where(PostbackDelivery.publisher_id == api_user().id)
    rows, cursor = keyset_page(date_range(query, PostbackDelivery.created_at),
                               PostbackDelivery.id)
    return jsonify(deliveries=[{
        "id": d.id, "conversion_id": d.conversion_id, "event": d.event, "url": d.url,
        "state": d.state, "attempts": d.attempts, "last_status_code": d.last_status_code,
        "last_error": d.last_error, "created_at": _iso(d.created_at),
        "last_attempt_at": _iso(d.last_attempt_at), "delivered_at": _iso(d.delivered_at)}
        for d in rows], next_cursor=cursor)


@bp.get("/referrals")
@document("Your referral tree", roles=("publisher",), tags=("referrals",),
          description="Levels 1-3 below you, with 30-day activity and what each produced "
                      "for you (minor units per currency).",
          responses={200: ("The tree.", {"type": "object", "required": ["referrals"],
                                         "properties": {"referrals": {"type": "array",
                                                                      "items": REFERRAL}}})})
@requires_role("publisher")
def list_referrals():
    rows = referrals.tree(api_user(), "", utcnow())
    return jsonify(referrals=[{
        "id": r.user.id, "level": r.level, "display_name": r.user.display_name,
        "upline_id": r.upline.id if r.upline else None,
        "registered_at": _iso(r.user.registered_at), "clicks_30d": r.clicks_30d,
        "conversions_30d": r.conversions_30d, "produced_total": dict(r.produced_total),
        "refback_percent": r.refback_bp / 100} for r in rows])


@bp.put("/referrals/<int:referral_id>/refback")
@document("Set a referral's refback", roles=("publisher",), tags=("referrals",),
          request=REFBACK_REQUEST,
          description="The share of your level-1 commission you give back to a direct "
                      "referral, in whole percent.",
          responses={200: ("Saved.", {"type": "object", "required": ["referral_id",
                                                                     "refback_percent"],
                                      "properties": {"referral_id": {"type": "integer"},
                                                     "refback_percent": {"type": "number"}}}),
                     404: ("`not_found`: not your direct referral.", ERROR),
                     409: ("`referral_listed`: the referral has an open lot on the exchange "
                           "(buyers see it with this refback); withdraw the lot first.", ERROR),
                     422: ("`refback_out_of_range` or `validation_failed`.", ERROR)})
@requires_role("publisher")
def set_refback(referral_id: int):
    body = request.get_json(silent=True)
    percent = body.get("refback_percent") if isinstance(body, dict) else None
    if type(percent) is not int or abs(percent) > 10_000:
        raise ValidationFailed(fields={"refback_percent": [_l("A whole number of percent.")]})
    row = exchange_listing.set_refback(api_user(), referral_id, percent * 100)
    db.session.commit()
    return jsonify(referral_id=row.referral_id, refback_percent=row.refback_bp / 100)
