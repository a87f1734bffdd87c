"""OpenAPI schemas of the offers API (offers/api.py, offers/conversion_api.py,
publishers/api.py)."""

from cpa_network.api.openapi import ref, register_schema
from cpa_network.api.pagination import list_schema
from offers.models import CAP_METRICS, CAP_PERIODS, CAP_SCOPES, CATEGORIES
from offers.status import STATUSES
from payouts.currency import CURRENCIES

MINOR = {"type": "integer", "description": "Minor units (cents, kopecks) of the offer's currency."}
GOAL = {"type": "object", "required": ["code", "payout_type", "payout"], "properties": {
    "code": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]{0,39}$"},
    "name": {"type": "string"},
    "payout_type": {"enum": ["fixed", "percent"]},
    "payout": {"type": "integer", "description": "fixed: minor units; percent: basis points "
                                                 "of the sale (750 = 7.5 %)."},
    "once_per_click": {"type": "boolean", "description": "One conversion per click at most."},
    "requires_goal": {"type": "string", "description": "Code of a goal the same click or "
                      "customer must have reached first (empty: none)."},
    "min_amount": {"type": "integer", "description": "Minimum sale amount, minor units."}}}
CAP = {"type": "object", "required": ["scope", "period", "metric", "limit"], "properties": {
    "scope": {"enum": list(CAP_SCOPES)}, "period": {"enum": list(CAP_PERIODS)},
    "metric": {"enum": list(CAP_METRICS)},
    "limit": {"type": "integer", "description": "Conversions, or minor units for payout caps."}}}
FIELDS = {
    "name": {"type": "string", "maxLength": 120},
    "category": {"enum": list(CATEGORIES)},
    "description": {"type": "string", "description": "Markdown; sanitized when rendered."},
    "landing_url": {"type": "string", "description": "http(s) URL with macros {click_id}, "
                    "{sub1}..{sub5}, {publisher_id}, {offer_id}."},
    "currency": {"enum": list(CURRENCIES)},
    "goals": {"type": "array", "items": GOAL, "minItems": 1},
    "caps": {"type": "array", "items": CAP},
    "reference_amount": {**MINOR, "description": "A typical sale; required with percent goals."},
    "hold_days": {"type": "integer", "minimum": 0, "maximum": 365},
    "attribution_window_days": {"type": "integer", "minimum": 1, "maximum": 365},
    "reward_model": {"enum": ["one_sided", "two_sided"]},
    "customer_bonus": {"type": "string"},
    "promo_discount_bp": {"type": ["integer", "null"], "description": "Basis points."},
    "allowed_countries": {"type": "array", "items": {"type": "string"},
                          "description": "ISO 3166 alpha-2; empty: every country."},
    "fallback_url": {"type": "string"},
    "traffic_sources": {"type": "string"},
    "visibility": {"enum": ["public", "private"]},
    "status": {"enum": list(STATUSES)},
}
OFFER_REQUEST = {"type": "object", "required": ["name", "category", "landing_url", "currency",
                                                "goals"],
                 "properties": FIELDS}
OFFER_PATCH = {"type": "object", "properties": FIELDS,
               "description": "Only the fields given change; `status` moves the offer through "
                              "its state machine (pause, resume, archive, send to moderation)."}
OFFER = register_schema("Offer", {
    "type": "object",
    "required": ["id", "name", "goals", "landing_url", "currency", "hold_days", "status"],
    "properties": {
        **FIELDS, "id": {"type": "integer"}, "advertiser_id": {"type": "integer"},
        "description_html": {"type": "string"}, "top_payout": MINOR,
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"},
        "postback_secret": {"type": "string", "description": "The owner only."},
        "rejection_reason": {"type": "string", "description": "The owner only."},
        "paused_reason": {"type": "string", "description": "The owner only: "
                          "`insufficient_funds` when a conversion found the escrow short, "
                          "`advertiser_blocked` when the operator blocked the advertiser."},
        "stats_30d": {"type": "object", "properties": {
            "valid_clicks": {"type": "integer"}, "conversions": {"type": "integer"},
            "epc": {"type": ["number", "null"], "description": "Minor units per valid click."},
            "cr": {"type": ["number", "null"]}, "is_new": {"type": "boolean"}}},
    },
})
OFFER_LIST = list_schema("offers", OFFER)
MODERATION_REQUEST = {"type": "object", "required": ["decision"], "properties": {
    "decision": {"enum": ["approve", "reject"]},
    "reason": {"type": "string", "description": "Required to reject; shown to the advertiser."}}}
LINK_REQUEST = {"type": "object", "properties": {
    **{f"sub{i}": {"type": "string", "maxLength": 100} for i in range(1, 6)},
    "deep_link": {"type": "string", "description": "A path on the offer's own landing host."}}}
LINK = register_schema("TrackingLink", {
    "type": "object", "required": ["token", "url", "promo_code"], "properties": {
        "token": {"type": "string"}, "url": {"type": "string"},
        "promo_code": {"type": "string"}, "offer_id": {"type": "integer"}}})
ERROR = ref("Error")

CONVERSION_STATUSES = ["pending", "approved", "rejected", "awaiting_funds"]
CONVERSION = register_schema("Conversion", {
    "type": "object",
    "required": ["id", "offer_id", "goal", "status", "payout", "currency", "created_at"],
    "properties": {
        "id": {"type": "integer"}, "offer_id": {"type": "integer"},
        "goal": {"type": "string"}, "source": {"enum": ["postback", "pixel", "promo_code"]},
        "status": {"enum": CONVERSION_STATUSES},
        "held": {"type": "boolean", "description": "Held for the operator's fraud review."},
        "amount": {**MINOR, "description": "The sale, minor units (0 if none was reported)."},
        "payout": {**MINOR, "description": "The publisher's earnings, minor units."},
        "fee": {**MINOR, "description": "The network's fee on top (advertiser only)."},
        "currency": {"enum": list(CURRENCIES)},
        "click_id": {"type": ["string", "null"]},
        **{f"sub{i}": {"type": "string"} for i in range(1, 6)},
        "country": {"type": "string"},
        "created_at": {"type": "string", "format": "date-time"},
        "hold_until": {"type": ["string", "null"], "format": "date-time",
                       "description": "When it is approved unless decided before."},
        "decided_at": {"type": ["string", "null"], "format": "date-time"},
        "decision_reason": {"type": "string"},
        "publisher_id": {"type": "integer", "description": "Advertiser only."},
        "txid": {"type": "string", "description": "Advertiser only."},
        "customer": {"type": "string", "description": "Advertiser only."},
        "fraud_signals": {"type": "array", "items": {"type": "string"},
                          "description": "Advertiser only."},
        "result": {"type": "string", "description": "On POST: ok, duplicate, fraud_suspected "
                                                    "or insufficient_funds."},
    },
})
CONVERSION_LIST = list_schema("conversions", CONVERSION)
PROMO_CONVERSION_REQUEST = {"type": "object", "required": ["promo_code", "goal", "txid"],
                            "properties": {
    "promo_code": {"type": "string"}, "goal": {"type": "string"},
    "txid": {"type": "string", "maxLength": 100,
             "description": "Your order or lead id: the same offer+goal+txid is one conversion."},
    "amount": {**MINOR, "description": "The sale in minor units; required by percent goals."},
    "currency": {"enum": list(CURRENCIES)},
    "customer": {"type": "string", "maxLength": 100,
                 "description": "Your customer id, for goals that require an earlier goal."}}}
REJECT_REQUEST = {"type": "object", "required": ["reason"], "properties": {
    "reason": {"type": "string", "maxLength": 500}}}
APPROVE_REQUEST = {"type": "object", "properties": {"reason": {"type": "string"}}}
BULK_REQUEST = {"type": "object", "required": ["ids", "decision"], "properties": {
    "ids": {"type": "array", "items": {"type": "integer"}, "minItems": 1, "maxItems": 500},
    "decision": {"enum": ["approve", "reject"]},
    "reason": {"type": "string", "description": "Required to reject."}}}
BULK_RESULT = {"type": "object", "required": ["decided", "skipped"], "properties": {
    "decided": {"type": "array", "items": {"type": "integer"}},
    "skipped": {"type": "array", "items": {"type": "object", "required": ["id", "reason"],
                "properties": {"id": {"type": "integer"}, "reason": {"type": "string"}}}}}}
