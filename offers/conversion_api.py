"""JSON API for conversions: `POST /api/v1/conversions` (a promo-code conversion from the
advertiser's backend), `GET /api/v1/conversions[/<id>]` (advertiser: their offers'; publisher:
their own, read only) and `POST /api/v1/conversions/<id>/approve|reject` (the advertiser, own
offers only). Amounts are integers in minor units beside `currency`."""

from flask import Blueprint, jsonify, request
from flask_babel import lazy_gettext as _l

from cpa_network.api.auth import api_user, authenticate_request, requires_role
from cpa_network.api.openapi import document
from cpa_network.api.pagination import (
    LIST_QUERY,
    bool_arg,
    choice_arg,
    date_range,
    int_arg,
    json_object,
    keyset_page,
)
from cpa_network.errors import DomainError, Forbidden, ValidationFailed, json_error
from cpa_network.extensions import csrf, db
from offers import postbacks, review
from offers.api_docs import (
    APPROVE_REQUEST,
    BULK_REQUEST,
    BULK_RESULT,
    CONVERSION,
    CONVERSION_LIST,
    CONVERSION_STATUSES,
    ERROR,
    PROMO_CONVERSION_REQUEST,
    REJECT_REQUEST,
)
from offers.conversion_models import Conversion

bp = Blueprint("conversions_api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)
bp.before_request(authenticate_request)

PROMO_FIELDS = ("promo_code", "goal", "txid", "amount", "currency", "customer")


def conversion_json(conversion: Conversion, *, advertiser: bool) -> dict:
    body = {
        "id": conversion.id, "offer_id": conversion.offer_id, "goal": conversion.goal_code,
        "source": conversion.source, "status": conversion.status, "held": conversion.held,
        "amount": conversion.amount, "payout": conversion.payout,
        "currency": conversion.currency, "click_id": conversion.click_id,
        **conversion.subs, "country": conversion.country,
        "created_at": conversion.created_at.isoformat(),
        "hold_until": conversion.hold_until.isoformat() if conversion.hold_until else None,
        "decided_at": conversion.decided_at.isoformat() if conversion.decided_at else None,
        "decision_reason": conversion.decision_reason,
    }
    if advertiser:  # what the advertiser knows and the publisher need not: their customer
        body |= {"fee": conversion.fee, "publisher_id": conversion.publisher_id,
                 "txid": conversion.txid, "customer": conversion.customer,
                 "fraud_signals": conversion.signals}
    return body


def _as_advertiser() -> bool:
    """The advertiser's view unless the key's owner is only a publisher (or asks for it)."""
    user = api_user()
    if user.is_advertiser and request.args.get("role") != "publisher":
        return True
    if user.is_publisher:
        return False
    raise Forbidden(_l("This needs the %(roles)s role.", roles="advertiser or publisher"))


def _promo_params(body: dict) -> dict[str, str]:
    params = {}
    for name in PROMO_FIELDS:
        value = body.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise ValidationFailed(fields={name: [_l("Wrong type.")]})
        params[name] = str(value)
    return params


@bp.post("/conversions")
@document("Report a promo-code conversion", roles=("advertiser",), tags=("conversions",),
          request=PROMO_CONVERSION_REQUEST,
          description="Attributed to the publisher who owns the promo code; no click needed. "
                      "The same offer+goal+txid is one conversion: a repeat answers 200 with "
                      "the original and `result: duplicate`. Refusals use the postback codes "
                      "(`unknown_promo_code`, `goal_unknown`, `cap_reached`, ...).",
          responses={201: ("Recorded (`result` ok).", CONVERSION),
                     200: ("A duplicate: the original conversion.", CONVERSION),
                     202: ("Recorded but `fraud_suspected` (held) or `insufficient_funds` "
                           "(waits for funds).", CONVERSION),
                     400: ("`invalid_request`: promo_code, goal or txid missing.", ERROR),
                     404: ("`unknown_promo_code`.", ERROR),
                     409: ("`offer_paused`, `cap_reached` or `sequence_incomplete`.", ERROR),
                     422: ("`goal_unknown`, `amount_invalid`, `currency_mismatch`, "
                           "`amount_below_minimum` or `validation_failed`.", ERROR)})
@requires_role("advertiser")
def create_conversion():
    params = _promo_params(json_object())
    advertiser_id = api_user().id
    answer = postbacks.receive(
        lambda trace: postbacks.ingest_promo(advertiser_id, params, trace), params,
        source="promo_code", method="POST", remote_ip=request.remote_addr or "")
    if answer.conversion_id is None:
        return json_error(answer.code, answer.message, answer.http_status)
    body = conversion_json(db.session.get(Conversion, answer.conversion_id), advertiser=True)
    status = 201 if answer.code == "ok" else answer.http_status
    return jsonify(body | {"result": answer.code}), status


@bp.get("/conversions")
@document("List conversions", roles=("advertiser", "publisher"), tags=("conversions",),
          description="An advertiser gets the conversions of their offers; a publisher (or "
                      "`role=publisher`) their own. `sub` matches any of sub1..sub5.",
          query={"status": {"enum": CONVERSION_STATUSES},
                 "offer_id": {"type": "integer", "minimum": 1},
                 "publisher_id": {"type": "integer", "minimum": 1}, "sub": {"type": "string"},
                 "held": {"type": "boolean"}, "role": {"enum": ["advertiser", "publisher"]},
                 **LIST_QUERY},
          responses={200: ("Conversions, newest first.", CONVERSION_LIST)})
def list_conversions():
    choice_arg("role", ("advertiser", "publisher"))
    advertiser = _as_advertiser()
    choice_arg("status", CONVERSION_STATUSES)
    int_arg("offer_id"), int_arg("publisher_id"), bool_arg("held")
    user, f = api_user(), review.filter_from(request.args)
    query = review.advertiser_query(user.id, f) if advertiser else review.publisher_query(
        user.id, f)
    rows, cursor = keyset_page(date_range(query, Conversion.created_at), Conversion.id)
    return jsonify(conversions=[conversion_json(c, advertiser=advertiser) for c in rows],
                   next_cursor=cursor)


@bp.get("/conversions/<int:conversion_id>")
@document("Get a conversion", roles=("advertiser", "publisher"), tags=("conversions",),
          responses={200: ("The conversion.", CONVERSION), 404: ("`not_found`.", ERROR)})
def get_conversion(conversion_id: int):
    conversion = review.readable_conversion(api_user(), conversion_id)
    return jsonify(conversion_json(conversion,
                                   advertiser=conversion.advertiser_id == api_user().id))


def _decide(conversion_id: int, decision: str):
    body = request.get_json(silent=True) or {}
    reason = body.get("reason", "") if isinstance(body, dict) else ""
    if not isinstance(reason, str):
        raise ValidationFailed(fields={"reason": [_l("Wrong type.")]})
    try:
        conversion = review.decide(api_user(), conversion_id, decision, reason)
    except DomainError:
        db.session.rollback()
        raise
    db.session.commit()
    return jsonify(conversion_json(conversion, advertiser=True))


@bp.post("/conversions/<int:conversion_id>/approve")
@document("Approve a conversion", roles=("advertiser",), tags=("conversions",),
          request=APPROVE_REQUEST,
          description="Your own offers' pending conversions: the payout becomes the "
                      "publisher's, the fee the network's.",
          responses={200: ("The approved conversion.", CONVERSION),
                     404: ("`not_found`: not a conversion of your offers.", ERROR),
                     409: ("`conversion_state` (already decided, or awaiting funds) or "
                           "`held_for_review`.", ERROR)})
@requires_role("advertiser")
def approve_conversion(conversion_id: int):
    return _decide(conversion_id, "approve")


@bp.post("/conversions/<int:conversion_id>/reject")
@document("Reject a conversion", roles=("advertiser",), tags=("conversions",),
          request=REJECT_REQUEST,
          description="Your own offers' pending (or awaiting funds) conversions: the held "
                      "money returns to your escrow. A reason is required.",
          responses={200: ("The rejected conversion.", CONVERSION),
                     404: ("`not_found`.", ERROR),
                     409: ("`conversion_state`: already decided.", ERROR),
                     422: ("`reason_required`.", ERROR)})
@requires_role("advertiser")
def reject_conversion(conversion_id: int):
    return _decide(conversion_id, "reject")


@bp.post("/conversions/bulk")
@document("Approve or reject many conversions", roles=("advertiser",), tags=("conversions",),
          request=BULK_REQUEST,
          description="Each conversion is decided on its own: one that is not yours, already "
                      "decided or held for review is skipped with the reason, the rest are "
                      f"decided. At most {review.MAX_BULK} ids per call.",
          responses={200: ("What was decided and what was skipped.", BULK_RESULT),
                     422: ("`reason_required` (to reject) or `validation_failed`.", ERROR)})
@requires_role("advertiser")
def bulk_decide():
    body = json_object()
    ids, decision, reason = body.get("ids"), body.get("decision"), body.get("reason", "")
    if not isinstance(ids, list) or not ids or len(ids) > review.MAX_BULK or \
            any(type(i) is not int for i in ids):
        raise ValidationFailed(fields={"ids": [_l("A list of 1 to %(n)s conversion ids.",
                                                  n=review.MAX_BULK)]})
    if decision not in review.DECISIONS:
        raise ValidationFailed(fields={"decision": [_l("approve or reject")]})
    if not isinstance(reason, str):
        raise ValidationFailed(fields={"reason": [_l("Wrong type.")]})
    result = review.decide_many(api_user(), ids, decision, reason)
    db.session.commit()
    return jsonify(decided=result.done,
                   skipped=[{"id": i, "reason": why} for i, why in result.skipped.items()])
