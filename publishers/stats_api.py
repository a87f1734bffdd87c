"""`GET /api/v1/stats` (a publisher's own numbers, an advertiser's offers') and
`GET /api/v1/ratings` (the leaderboard). Amounts are minor units beside `currency`."""

from flask import jsonify, request
from flask_babel import lazy_gettext as _l

from cpa_network.accounts.models import User
from cpa_network.api.auth import api_user, requires_role
from cpa_network.api.openapi import document, register_schema
from cpa_network.api.pagination import choice_arg, int_arg
from cpa_network.database import utcnow
from cpa_network.errors import NotFound, ValidationFailed
from cpa_network.extensions import db
from cpa_network.replica import reads_replica
from offers.api_docs import ERROR
from publishers import leaderboards, reports
from publishers import ratings as ratings_service
from publishers.api import bp
from publishers.reports import Audience, StatsRow

DEFAULT_DAYS = 30


class BadGroupBy(ValidationFailed):
    code = "bad_group_by"


class BadRole(ValidationFailed):
    code = "bad_role"


COUNTS = {"type": "object", "properties": {s: {"type": "integer"} for s in reports.STATUSES}}
STATS_ROW = {"type": "object", "required": ["key", "currency", "clicks"], "properties": {
    "key": {"type": "string", "description": "The group's value: a local date (YYYY-MM-DD), "
                                             "an offer name, a link token, a sub-id, a country."},
    "key_id": {"type": ["integer", "null"], "description": "Offer, link or publisher id."},
    "currency": {"type": "string"},
    "clicks": {"type": "integer"}, "unique_clicks": {"type": "integer"},
    "flagged_clicks": {"type": "integer"}, "valid_clicks": {"type": "integer"},
    "conversions": COUNTS,
    "earnings": {**COUNTS, "description": "Payout by conversion status, minor units."},
    "cr": {"type": ["number", "null"], "description": "Non-rejected conversions per valid "
                                                      "click."},
    "epc": {"type": ["number", "null"], "description": "Minor units (pending + approved) per "
                                                       "valid click."}}}
STATS = register_schema("Stats", {"type": "object", "required": ["from", "to", "rows"],
                                  "properties": {
    "from": {"type": "string", "format": "date"}, "to": {"type": "string", "format": "date"},
    "timezone": {"type": "string"}, "group_by": {"type": "string"},
    "role": {"enum": ["publisher", "advertiser"]},
    "rows": {"type": "array", "items": STATS_ROW},
    "totals": {"type": "array", "items": STATS_ROW, "description": "One per currency."}}})
RATING = {"type": "object", "required": ["rank", "publisher_id", "score"], "properties": {
    "rank": {"type": "integer"}, "publisher_id": {"type": "integer"},
    "display_name": {"type": "string"}, "score": {"type": "number"},
    "previous_score": {"type": ["number", "null"]}, "trend": {"type": ["number", "null"]},
    "parts": {"type": "object", "additionalProperties": {"type": "number"}},
    "approved": {"type": "number"}, "clicks": {"type": "number"},
    "badges": {"type": "array", "items": {"type": "string"}}}}
RATINGS = register_schema("Ratings", {"type": "object", "required": ["ratings"], "properties": {
    "scope": {"type": "string"}, "country": {"type": "string"},
    "window_days": {"type": "integer"}, "offer_id": {"type": ["integer", "null"]},
    "live": {"type": "boolean", "description": "Computed now (filtered) rather than read from "
                                              "the last recompute."},
    "computed_at": {"type": ["string", "null"], "format": "date-time"},
    "total": {"type": "integer"}, "ratings": {"type": "array", "items": RATING}}})


def row_json(row: StatsRow) -> dict:
    return {"key": row.key, "key_id": row.key_id, "currency": row.currency,
            "clicks": row.values["clicks"], "unique_clicks": row.values["unique_clicks"],
            "flagged_clicks": row.values["flagged_clicks"], "valid_clicks": row.valid_clicks,
            "conversions": {s: row.count(s) for s in reports.STATUSES},
            "earnings": {s: row.earned(s) for s in reports.STATUSES},
            "cr": row.cr, "epc": None if row.epc is None else round(row.epc, 4)}


def _audience(user) -> tuple[str, Audience]:
    role = request.args.get("role") or ("publisher" if user.is_publisher else "advertiser")
    if role not in ("publisher", "advertiser") or not user.has_role(role):
        raise BadRole(_l("This key's owner has no such role."),
                      fields={"role": [_l("This key's owner has no such role.")]})
    if role == "publisher":
        return role, Audience(publisher_id=user.id)
    return role, Audience(advertiser_id=user.id)


@bp.get("/stats")
@document("Statistics", roles=("publisher", "advertiser"), tags=("stats",),
          description="Served from the hourly rollups. A publisher gets their own traffic, an "
                      "advertiser their offers' (`role` picks one for an account with both). "
                      "`from`/`to` are local dates (inclusive, at most 366 days; default: the "
                      "last 30 days) in the key owner's time zone, which also cuts the days.",
          query={"from": {"type": "string", "format": "date"},
                 "to": {"type": "string", "format": "date"},
                 "group_by": {"enum": list(dict.fromkeys(reports.GROUPS +
                                                         reports.ADVERTISER_GROUPS))},
                 "role": {"enum": ["publisher", "advertiser"]},
                 "offer_id": {"type": "integer", "minimum": 1}, "country": {"type": "string"}},
          responses={200: ("Rows and per-currency totals.", STATS),
                     422: ("`bad_date`, `bad_range`, `bad_group_by` or `bad_role`.", ERROR)})
@requires_role("publisher", "advertiser")
@reads_replica
def stats():
    user = api_user()
    role, audience = _audience(user)
    tz = reports.zone(user.timezone)
    args = request.args
    group_by = args.get("group_by", "day")
    allowed = reports.GROUPS if role == "publisher" else reports.ADVERTISER_GROUPS
    if group_by not in allowed:
        raise BadGroupBy(_l("group_by must be one of: %(names)s.", names=", ".join(allowed)),
                         fields={"group_by": [_l("Unknown grouping.")]})
    today = utcnow().astimezone(tz).date().isoformat()
    if args.get("from") or args.get("to"):
        period = reports.custom_period(args.get("from", ""), args.get("to") or today, tz)
    else:
        period = reports.period_of(f"{DEFAULT_DAYS}d", tz, utcnow())
    rows = reports.report(audience, period.start, period.end, group_by, tz,
                          offer_id=int_arg("offer_id"),
                          country=(args.get("country") or "").upper() or None)
    return jsonify({"from": period.first.isoformat(), "to": period.last.isoformat(),
                    "timezone": str(tz), "group_by": group_by, "role": role,
                    "rows": [row_json(r) for r in rows],
                    "totals": [row_json(t) for t in reports.totals(rows).values()]})


@bp.get("/ratings")
@document("Publisher leaderboard", roles=("publisher", "advertiser"), tags=("ratings",),
          description="The network or a category (`category`), read from the last recompute; "
                      "with `country`, `days` (30 or 90) or `offer_id` (your own offer, "
                      "advertisers) it is computed from the rollups for the call.",
          query={"category": {"type": "string"}, "country": {"type": "string"},
                 "days": {"enum": list(leaderboards.WINDOWS)},
                 "offer_id": {"type": "integer", "minimum": 1},
                 "limit": {"type": "integer", "minimum": 1, "maximum": 500}},
          responses={200: ("The ranking, best first.", RATINGS),
                     404: ("`not_found`: not your offer.", ERROR),
                     422: ("`bad_category`.", ERROR)})
@requires_role("publisher", "advertiser")
def ratings():
    args = request.args
    days = choice_arg("days", [str(d) for d in leaderboards.WINDOWS])
    filters = leaderboards.filters_of(args.get("category", ""), args.get("country", ""),
                                      days or 90)
    limit = int_arg("limit", 100, maximum=500)
    if (offer_id := int_arg("offer_id")) is not None:
        _offer, board = leaderboards.offer_board(api_user(), offer_id, filters)
    else:
        board = leaderboards.board(filters, limit=limit)
    return jsonify({
        "scope": board.filters.scope, "country": board.filters.country,
        "window_days": board.filters.window_days, "offer_id": board.filters.offer_id,
        "live": board.live, "total": board.total,
        "computed_at": board.computed_at.isoformat() if board.computed_at else None,
        "ratings": [rating_json(s, person) for s, person in board.rows[:limit]]})


def rating_json(s, person) -> dict:
    return {"rank": s.rank, "publisher_id": person.id, "display_name": person.display_name,
            "score": s.score, "previous_score": s.previous_score, "trend": s.trend,
            "parts": {p.name: p.points for p in s.parts},
            "approved": s.inputs.get("approved", 0), "clicks": s.inputs.get("clicks", 0),
            "badges": [str(b.label) for b in s.badges]}


PUBLISHER_RATING = register_schema("PublisherRating", {
    "type": "object", "required": ["publisher_id", "display_name", "network", "categories"],
    "properties": {"publisher_id": {"type": "integer"}, "display_name": {"type": "string"},
                   "network": {"oneOf": [RATING, {"type": "null"}],
                               "description": "null: not rated yet (no traffic in the "
                                              "window)."},
                   "categories": {"type": "array", "items": {"allOf": [RATING, {
                       "type": "object", "properties": {"scope": {"type": "string"},
                                                        "ranked": {"type": "integer"}}}]}}}})


@bp.get("/ratings/publishers/<int:publisher_id>")
@document("One publisher's rating", roles=("publisher", "advertiser"), tags=("ratings",),
          description="Score 0-100, rank, trend, parts and badges, network-wide and per "
                      "category; ratings are public to every account by design.",
          responses={200: ("The rating.", PUBLISHER_RATING),
                     404: ("`not_found`: no such publisher.", ERROR)})
@requires_role("publisher", "advertiser")
def publisher_rating(publisher_id: int):
    person = db.session.get(User, publisher_id)
    if person is None or not person.is_publisher:
        raise NotFound(_l("No such publisher."))
    snapshot = ratings_service.publisher_rating(publisher_id)
    return jsonify(publisher_id=person.id, display_name=person.display_name,
                   network=rating_json(snapshot, person) if snapshot else None,
                   categories=[rating_json(s, person) | {"scope": s.scope, "ranked": s.ranked}
                               for s in ratings_service.scopes_of(publisher_id)])
