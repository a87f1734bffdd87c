"""One list scheme for every API collection: `limit` + opaque `cursor` in, `next_cursor` out,
and `created_from`/`created_to` (ISO 8601) where the rows have dates.

Rows come newest first by id (keyset: stable while rows are added); a list with its own order
(the catalog by EPC) pages by position behind the same opaque cursor. A bad value is a 422
`validation_failed` whose `fields` names the parameter.
"""

import base64
from datetime import UTC, date, datetime, time, timedelta

from flask import request
from flask_babel import lazy_gettext as _l

from cpa_network.errors import ValidationFailed
from cpa_network.extensions import db

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_INT = 2**31 - 1

PAGE_QUERY = {
    "limit": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT,
              "description": f"Rows per page (default {DEFAULT_LIMIT}, at most {MAX_LIMIT})."},
    "cursor": {"type": "string", "description": "The `next_cursor` of the previous page."},
}
DATE_QUERY = {
    "created_from": {"type": "string", "description": "ISO 8601 date or date-time (UTC when "
                     "no offset is given); rows created at or after it."},
    "created_to": {"type": "string", "description": "ISO 8601 date (that whole day included) "
                   "or date-time (rows created before it)."},
}
LIST_QUERY = PAGE_QUERY | DATE_QUERY


def invalid(name: str, message) -> ValidationFailed:
    return ValidationFailed(message, fields={name: [message]})


def int_arg(name: str, default: int | None = None, *, minimum: int = 1,
            maximum: int = MAX_INT) -> int | None:
    """An integer query parameter within bounds; anything else is refused, naming it."""
    text = request.args.get(name, "")
    if text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise invalid(name, _l("Must be an integer.")) from None
    if not minimum <= value <= maximum:
        raise invalid(name, _l("Must be between %(low)s and %(high)s.", low=minimum,
                               high=maximum))
    return value


def choice_arg(name: str, choices) -> str | None:
    text = request.args.get(name, "")
    if text == "":
        return None
    if text not in choices:
        raise invalid(name, _l("One of: %(s)s.", s=", ".join(choices)))
    return text


def bool_arg(name: str) -> bool | None:
    text = request.args.get(name, "").lower()
    if text == "":
        return None
    if text not in ("true", "false", "1", "0"):
        raise invalid(name, _l("true or false."))
    return text in ("true", "1")


def instant_arg(name: str, *, end: bool = False) -> datetime | None:
    """An ISO 8601 date or date-time as an aware UTC datetime; a date as `end` is the next
    midnight, so `created_to=2026-01-31` includes that whole day."""
    text = request.args.get(name, "").strip()
    if not text:
        return None
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime.combine(day + timedelta(days=1) if end else day, time(), UTC)
        if "T" in text:  # an unescaped "+02:00" arrives as " 02:00"
            text = text.replace(" ", "+")
        found = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return found.replace(tzinfo=UTC) if found.tzinfo is None else found.astimezone(UTC)
    except (ValueError, OverflowError):
        raise invalid(name, _l("An ISO 8601 date or date-time, like 2026-01-31 or "
                               "2026-01-31T12:00:00Z.")) from None


def date_range(query, column, *, start: str = "created_from", stop: str = "created_to"):
    """`query` narrowed to rows whose `column` lies in the requested range."""
    low, high = instant_arg(start), instant_arg(stop, end=True)
    if low is not None and high is not None and high < low:
        raise invalid(stop, _l("Must not be before %(name)s.", name=start))
    if low is not None:
        query = query.where(column >= low)
    if high is not None:
        query = query.where(column < high)
    return query


def json_object() -> dict:
    """The request body as a JSON object; anything else is refused, naming `body`."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        message = _l("Send a JSON object (Content-Type: application/json).")
        raise ValidationFailed(message, fields={"body": [message]})
    return body


def limit_arg() -> int:
    return int_arg("limit", DEFAULT_LIMIT, maximum=MAX_LIMIT)


def _encode(kind: str, value: int) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{value}".encode()).decode().rstrip("=")


def _decode(kind: str) -> int | None:
    text = request.args.get("cursor", "")
    if not text:
        return None
    try:
        found_kind, _, value = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)) \
            .decode().partition(":")
        number = int(value)
    except (ValueError, UnicodeDecodeError):
        number, found_kind = -1, ""
    if found_kind != kind or not 0 <= number <= MAX_INT:
        raise invalid("cursor", _l("Not a cursor this list gave."))
    return number


def keyset_page(query, id_column) -> tuple[list, str | None]:
    """One page of `query` newest first by `id_column`, and the cursor of the next (or None)."""
    limit = limit_arg()
    after = _decode("k")
    if after is not None:
        query = query.where(id_column < after)
    rows = list(db.session.scalars(query.order_by(None).order_by(id_column.desc())
                                   .limit(limit + 1)))
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, _encode("k", getattr(rows[-1], id_column.key))


def offset_window() -> tuple[int, int]:
    """(offset, limit) for a list with its own order; pair with `next_offset_cursor`."""
    return _decode("o") or 0, limit_arg()


def next_offset_cursor(offset: int, limit: int, total: int) -> str | None:
    return _encode("o", offset + limit) if offset + limit < total else None


def list_schema(key: str, item: dict, extra: dict | None = None) -> dict:
    """The response of a list: `{key: [item...], "next_cursor": str | null}`."""
    return {"type": "object", "required": [key, "next_cursor"], "properties": {
        key: {"type": "array", "items": item},
        "next_cursor": {"type": ["string", "null"],
                        "description": "Pass as `cursor` for the next page; null: the last."},
        **(extra or {})}}
