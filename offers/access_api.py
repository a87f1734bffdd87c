"""An advertiser's tools for one offer on /api/v1: who may see a private offer (invite,
revoke), the incoming postback log, a test postback that records nothing, and creatives."""

from flask import jsonify, request, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from cpa_network.api.auth import api_user, requires_role
from cpa_network.api.openapi import document, register_schema
from cpa_network.api.pagination import (
    LIST_QUERY,
    date_range,
    invalid,
    json_object,
    keyset_page,
    list_schema,
)
from cpa_network.extensions import db
from offers import access, creatives, postbacks, services
from offers.api import bp, readable_offer
from offers.api_docs import ERROR
from offers.conversion_models import PostbackLog

TIME = {"type": "string", "format": "date-time"}
ACCESS = register_schema("OfferAccess", {
    "type": "object", "required": ["publisher_id", "granted_at"],
    "properties": {"publisher_id": {"type": "integer"}, "email": {"type": "string"},
                   "display_name": {"type": "string"}, "granted_at": TIME}})
LOG_LINE = register_schema("PostbackLogLine", {
    "type": "object", "required": ["id", "received_at", "source", "code", "http_status"],
    "properties": {"id": {"type": "integer"}, "received_at": TIME,
                   "source": {"type": "string"}, "method": {"type": "string"},
                   "params": {"type": "object", "description": "As received; secrets masked."},
                   "code": {"type": "string"}, "http_status": {"type": "integer"},
                   "message": {"type": "string"},
                   "conversion_id": {"type": ["integer", "null"]}}})
TEST_REQUEST = {"type": "object", "required": ["click_id", "goal", "txid"], "properties": {
    "click_id": {"type": "string", "maxLength": 64}, "goal": {"type": "string"},
    "txid": {"type": "string", "maxLength": 100},
    "amount": {"type": "integer", "minimum": 0, "description": "Minor units."}}}
TEST_RESULT = {"type": "object", "required": ["status", "http_status", "message"],
               "properties": {"status": {"type": "string", "description": "The code a real "
                                         "postback would get (ok, unknown_click, ...)."},
                              "http_status": {"type": "integer"},
                              "message": {"type": "string"}}}


def access_json(row) -> dict:
    publisher = row.publisher
    return {"publisher_id": row.publisher_id, "email": publisher.email,
            "display_name": publisher.display_name, "granted_at": row.granted_at.isoformat()}


@bp.get("/offers/<int:offer_id>/access")
@document("Who may see your private offer", roles=("advertiser",), tags=("offers",),
          responses={200: ("The invited publishers.", {
              "type": "object", "required": ["access"],
              "properties": {"access": {"type": "array", "items": ACCESS}}})})
@requires_role("advertiser")
def list_access(offer_id: int):
    offer = services.owned_offer(api_user(), offer_id)
    return jsonify(access=[access_json(row) for row in access.access_list(offer)])


@bp.post("/offers/<int:offer_id>/access")
@document("Invite a publisher to your offer", roles=("advertiser",), tags=("offers",),
          request={"type": "object", "required": ["email"],
                   "properties": {"email": {"type": "string", "format": "email"}}},
          description="Idempotent: inviting someone twice keeps one grant.",
          responses={201: ("The grant.", ACCESS),
                     422: ("`validation_failed`: no publisher with this email.", ERROR)})
@requires_role("advertiser")
def invite_publisher(offer_id: int):
    offer = services.owned_offer(api_user(), offer_id)
    body = request.get_json(silent=True)
    email = body.get("email") if isinstance(body, dict) else None
    if not isinstance(email, str):
        raise invalid("email", _l("Required: the publisher's email."))
    row = access.invite_publisher(offer, email)
    db.session.commit()
    return jsonify(access_json(row)), 201


@bp.delete("/offers/<int:offer_id>/access/<int:publisher_id>")
@document("Revoke a publisher's access", roles=("advertiser",), tags=("offers",),
          responses={204: ("Revoked; their link stops sending traffic.", None)})
@requires_role("advertiser")
def revoke_access(offer_id: int, publisher_id: int):
    access.revoke_access(services.owned_offer(api_user(), offer_id), publisher_id)
    db.session.commit()
    return "", 204


@bp.get("/offers/<int:offer_id>/postbacks")
@document("Your offer's incoming postback log", roles=("advertiser",), tags=("postbacks",),
          query={"code": {"type": "string", "description": "Only lines with this answer "
                          "code (ok, duplicate, unknown_click, ...)."}, **LIST_QUERY},
          responses={200: ("A page of log lines, newest first.",
                           list_schema("postbacks", LOG_LINE))})
@requires_role("advertiser")
def postback_log(offer_id: int):
    offer = services.owned_offer(api_user(), offer_id)
    query = select(PostbackLog).where(PostbackLog.offer_id == offer.id)
    if code := request.args.get("code", ""):
        query = query.where(PostbackLog.code == code[:32])
    rows, cursor = keyset_page(date_range(query, PostbackLog.received_at), PostbackLog.id)
    return jsonify(postbacks=[{
        "id": line.id, "received_at": line.received_at.isoformat(), "source": line.source,
        "method": line.method, "params": line.params, "code": line.code,
        "http_status": line.http_status, "message": line.message,
        "conversion_id": line.conversion_id} for line in rows], next_cursor=cursor)


@bp.post("/offers/<int:offer_id>/postbacks/test")
@document("Send a test postback", roles=("advertiser",), tags=("postbacks",),
          request=TEST_REQUEST,
          description="Runs every check a signed postback would (click, goal, caps, amount) "
                      "and answers what it would get; nothing is recorded.",
          responses={200: ("What a real postback would be answered.", TEST_RESULT)})
@requires_role("advertiser")
def test_postback(offer_id: int):
    offer = services.owned_offer(api_user(), offer_id)
    body = request.get_json(silent=True)
    body = body if isinstance(body, dict) else {}
    params = {"offer_id": str(offer.id)}
    for name in ("click_id", "goal", "txid"):
        if not isinstance(body.get(name), str) or not body[name].strip():
            raise invalid(name, _l("Required: a string."))
        params[name] = body[name].strip()[:100]
    if "amount" in body:
        if type(body["amount"]) is not int or not 0 <= body["amount"] < 10**12:
            raise invalid("amount", _l("An integer amount in minor units."))
        params["amount"] = str(body["amount"])
    params["signature"] = postbacks.sign(offer.postback_secret, params)
    answer = postbacks.receive(lambda trace: postbacks.ingest(params, trace, counted=True), params,
                               source="postback", method="GET",
                               remote_ip=request.remote_addr or "", dry_run=True)
    return jsonify(status=answer.code, http_status=answer.http_status,
                   message=str(answer.message))


CREATIVE = register_schema("Creative", {
    "type": "object", "required": ["id", "offer_id", "kind", "created_at"],
    "properties": {"id": {"type": "integer"}, "offer_id": {"type": "integer"},
                   "kind": {"enum": ["banner", "text"]}, "name": {"type": "string"},
                   "url": {"type": ["string", "null"], "description": "Banners: the image."},
                   "mime_type": {"type": "string"},
                   "width": {"type": ["integer", "null"]}, "height": {"type": ["integer", "null"]},
                   "headline": {"type": "string"}, "body": {"type": "string"},
                   "created_at": TIME}})
TEXT_AD_REQUEST = {"type": "object", "required": ["headline"], "properties": {
    "headline": {"type": "string", "minLength": 1, "maxLength": 120},
    "body": {"type": "string", "maxLength": 500}, "name": {"type": "string", "maxLength": 120}}}


def creative_json(creative) -> dict:
    return {"id": creative.id, "offer_id": creative.offer_id, "kind": creative.kind,
            "name": creative.name,
            "url": url_for("tracking.creative_file", file_name=creative.file_name,
                           _external=True) if creative.file_name else None,
            "mime_type": creative.mime_type, "width": creative.width,
            "height": creative.height, "headline": creative.headline, "body": creative.body,
            "created_at": creative.created_at.isoformat()}


@bp.get("/offers/<int:offer_id>/creatives")
@document("An offer's banners and text ads", roles=("advertiser", "publisher"),
          tags=("offers",), description="The owner, or a publisher who sees the offer.",
          responses={200: ("The creatives.", {"type": "object", "required": ["creatives"],
                                              "properties": {"creatives": {
                                                  "type": "array", "items": CREATIVE}}})})
def list_creatives(offer_id: int):
    offer, _owner = readable_offer(offer_id)
    return jsonify(creatives=[creative_json(c) for c in creatives.creatives_of(offer)])


@bp.post("/offers/<int:offer_id>/creatives")
@document("Add a text ad", roles=("advertiser",), tags=("offers",), request=TEXT_AD_REQUEST,
          description="Banners are uploaded on the offer's page.",
          responses={201: ("The creative.", CREATIVE)})
@requires_role("advertiser")
def add_text_ad(offer_id: int):
    offer = services.owned_offer(api_user(), offer_id)
    body = json_object()
    values = {name: body.get(name, "") for name in ("headline", "body", "name")}
    for name, value in values.items():
        if not isinstance(value, str):
            raise invalid(name, _l("Wrong type."))
    creative = creatives.add_text_ad(offer, values["headline"], values["body"], values["name"])
    db.session.commit()
    return jsonify(creative_json(creative)), 201


@bp.delete("/offers/<int:offer_id>/creatives/<int:creative_id>")
@document("Delete a creative", roles=("advertiser",), tags=("offers",),
          responses={204: ("Deleted.", None)})
@requires_role("advertiser")
def delete_creative(offer_id: int, creative_id: int):
    creatives.delete_creative(services.owned_offer(api_user(), offer_id), creative_id)
    db.session.commit()
    return "", 204
