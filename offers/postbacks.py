"""Server-to-server postbacks: `GET` or `POST /postback`, its authentication, and the log.

Parameters (query string, form body or a JSON object): `click_id`, `goal`, `txid` (required);
`amount` (whole minor units of the sale: 1250 for 12.50), `currency`, `customer` (the
advertiser's customer id, for goal sequences), `offer_id` (optional; must be the click's
offer; files a postback whose click is unknown under the offer's log). Authentication, either:

- `secret`: the offer's postback secret, as is; or
- `signature`: HMAC-SHA256, hex, keyed with the postback secret, over the canonical string:
  every other parameter except `secret` and `signature`, sorted by name, each written
  `name=value` with both percent-encoded as RFC 3986 (unreserved characters `A-Z a-z 0-9 - . _ ~`
  stay, everything else is %XX of its UTF-8 bytes, space is %20), joined with `&`. JSON
  numbers are written as decimal integers. Example: click_id=01J..&goal=sale&txid=A-1 and
  amount=1250 sign `amount=1250&click_id=01J..&goal=sale&txid=A-1`.

Both are compared in constant time (`hmac.compare_digest`). Every call, accepted or refused, is
written to `postback_log` with its answer (secret and signature masked). Authenticated calls
count against the offer's `RATELIMIT_POSTBACK`; past it they are answered 429 `rate_limited`
with `Retry-After` (only calls that carry the secret count, so a stranger who saw a click id
cannot spend an advertiser's quota).
"""

import hashlib
import hmac
import re
from dataclasses import dataclass, replace
from datetime import datetime
from urllib.parse import parse_qsl, quote

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, insert, select
from werkzeug import urls  # noqa: F401 (registers the "werkzeug.url_quote" codec error)

from cpa_network.database import utcnow
from cpa_network.errors import DomainError
from cpa_network.extensions import db
from cpa_network.fastsql import Statement
from cpa_network.ratelimits import enforce
from offers import attribution, links
from offers.conversion_models import PostbackLog
from offers.models import Offer
from offers.offer_cache import offer_for_conversion
from offers.refusals import (
    AmountInvalid,
    BadSignature,
    InvalidPostback,
    UnknownClick,
    UnknownPromoCode,
)
from offers.tracking import ClickInfo, find_click, ip_prefix

_WERKZEUG_URL_QUOTE = "werkzeug.url_quote"
MASKED = ("secret", "signature")
UNRESERVED = "-._~"
AMOUNT_RE = re.compile(r"^[0-9]{1,15}$")
MAX_PARAMS, MAX_VALUE = 30, 500


@dataclass
class Trace:
    """What a call got as far as knowing, for its log line: the offer, once found."""

    offer_id: int | None = None


@dataclass(frozen=True)
class Answer:
    code: str
    http_status: int
    message: str
    conversion_id: int | None = None
    conversion_status: str | None = None
    retry_after: int | None = None  # seconds, for a rate-limited call

    def body(self) -> dict:
        body = {"status": self.code, "message": self.message,
                "conversion_id": self.conversion_id}
        if self.conversion_status is not None:
            body["conversion_status"] = self.conversion_status
        return body


def refusal(error: DomainError) -> Answer:
    return Answer(error.code, error.http_status, str(error.message),
                  retry_after=getattr(error, "retry_after", None))


def query_params(query_string: bytes) -> dict[str, str]:
    """The query string as `request.args.to_dict()` reads it, the first value of a repeated
    name, and as every lane reads it (the fast lane has no request): bytes that are not UTF-8
    stay percent-encoded (werkzeug's "werkzeug.url_quote"), whether they came as %XX or raw.
    Replacing them with U+FFFD instead would make `ORD%FF` and `ORD%FE` one txid."""
    text = query_string.decode("utf-8", _WERKZEUG_URL_QUOTE)
    params: dict[str, str] = {}
    for name, value in parse_qsl(text, keep_blank_values=True, errors=_WERKZEUG_URL_QUOTE):
        params.setdefault(name, value)
    return params


def read_params(req) -> dict[str, str]:
    """The query string, then the form or JSON body (the body wins), as strings. A JSON number
    with a fraction stays in as written, so that `amount: 12.5` is refused, not dropped."""
    params = query_params(req.query_string)
    if req.method == "POST":
        body = req.get_json(silent=True) if req.is_json else req.form.to_dict()
        for name, value in (body if isinstance(body, dict) else {}).items():
            if isinstance(value, str):
                params[name] = value
            elif isinstance(value, int | float) and not isinstance(value, bool):
                params[name] = str(value)
    return limit_params(params)


def limit_params(params: dict[str, str]) -> dict[str, str]:
    """At most MAX_PARAMS parameters, names cut at 40 characters and values at MAX_VALUE."""
    return {str(k)[:40]: v[:MAX_VALUE] for k, v in list(params.items())[:MAX_PARAMS]}


def canonical(params: dict[str, str]) -> str:
    """The string a signature covers (see the module docstring)."""
    pairs = sorted((k, v) for k, v in params.items() if k not in MASKED)
    return "&".join(f"{quote(k, safe=UNRESERVED)}={quote(v, safe=UNRESERVED)}" for k, v in pairs)


def sign(secret: str, params: dict[str, str]) -> str:
    return hmac.new(secret.encode(), canonical(params).encode(), hashlib.sha256).hexdigest()


def authenticate(offer: Offer, params: dict[str, str]) -> None:
    """The offer's secret, or a signature made with it; compared in constant time."""
    if params.get("signature"):
        expected = sign(offer.postback_secret, params).encode()
        given = params["signature"].strip().lower().encode()
    elif params.get("secret"):
        expected, given = offer.postback_secret.encode(), params["secret"].encode()
    else:
        raise BadSignature()
    if not hmac.compare_digest(expected, given):
        raise BadSignature()


def conversion_input(params: dict[str, str], source: str,
                     user_agent: str = "") -> attribution.ConversionInput:
    """Goal, txid, amount, currency and customer from the parameters."""
    missing = [n for n in ("goal", "txid") if not params.get(n, "").strip()]
    if missing:
        raise InvalidPostback(fields={n: [_l("Required.")] for n in missing})
    amount = params.get("amount", "").strip()
    if amount and not AMOUNT_RE.match(amount):
        raise AmountInvalid(fields={"amount": [AmountInvalid.default_message]})
    return attribution.ConversionInput(
        goal=params["goal"].strip().lower(), txid=params["txid"].strip(),
        amount=int(amount) if amount else None, currency=params.get("currency", "").strip(),
        customer=params.get("customer", "").strip(), source=source, user_agent=user_agent)


def ingest(params: dict[str, str], trace: Trace, at: datetime | None = None, *,
           counted: bool = False) -> attribution.Outcome:
    """A postback: find the click (database or stream), authenticate, record. `counted`: the
    call was counted against the rate limit already (offers.postback_direct handed it over), or
    is not to be (the advertiser's test tool, see `receive`)."""
    data, click, offer = authenticated(params, trace, counted=counted)
    return attribution.record(offer, click.link_id, click.publisher_id, click, data, at)


def authenticated(params: dict[str, str], trace: Trace, connection=None, *,
                  counted: bool = False) -> tuple[attribution.ConversionInput, ClickInfo, Offer]:
    """What a postback reports, its click and its offer, once its signature is checked and the
    call counted against the offer's rate limit. `connection`: see fastsql.Statement.rows."""
    click_id = params.get("click_id", "").strip()
    if not click_id:
        raise InvalidPostback(fields={"click_id": [_l("Required.")]})
    data = conversion_input(params, "postback")
    click = find_click(click_id.upper(), connection)
    named = params.get("offer_id", "").strip()
    if click is None or (named and named != str(click.offer_id)):
        raise UnknownClick()
    offer = offer_for_conversion(click.offer_id, click.offer_version)
    trace.offer_id = offer.id
    authenticate(offer, params)
    if not counted:
        enforce(current_app.config["RATELIMIT_POSTBACK"], "postback", str(offer.id))
    return data, click, offer


def ingest_promo(advertiser_id: int, params: dict[str, str], trace: Trace,
                 at: datetime | None = None) -> attribution.Outcome:
    """A promo-code conversion from the advertiser's backend: the code's publisher gets it."""
    code = params.get("promo_code", "").strip()
    if not code:
        raise InvalidPostback(fields={"promo_code": [_l("Required.")]})
    data = conversion_input(params, "promo_code")
    link = links.link_by_promo_code(code)
    if link is None or link.offer.advertiser_id != advertiser_id:
        raise UnknownPromoCode()
    trace.offer_id = link.offer_id
    return attribution.record(link.offer, link.id, link.publisher_id, None, data, at)


OFFER_NAMED = Statement(select(Offer.id).where(Offer.id == bindparam("offer_id")))


def _offer_named(params: dict[str, str], connection=None) -> int | None:
    value = params.get("offer_id", "")
    if not (value.isascii() and value.isdigit()) or len(value) > 12:
        return None
    return OFFER_NAMED.scalar({"offer_id": int(value)}, connection)


LOG_INSERT = Statement(insert(PostbackLog.__table__))  # built once; not the ORM's bulk insert


def log(trace: Trace, params: dict[str, str], answer: Answer, *, source: str, method: str,
        remote_ip: str, connection=None) -> None:
    LOG_INSERT.rows(log_row(trace, params, answer, source=source, method=method,
                            remote_ip=remote_ip, connection=connection), connection)


def log_row(trace: Trace, params: dict[str, str], answer: Answer, *, source: str, method: str,
            remote_ip: str, connection=None) -> dict:
    """The call's line in `postback_log`, its secret and signature masked."""
    return {
        "offer_id": trace.offer_id or _offer_named(params, connection), "source": source,
        "method": method, "params": {k: ("***" if k in MASKED else v) for k, v in params.items()},
        "remote_prefix": ip_prefix(remote_ip) if remote_ip else "", "code": answer.code,
        "http_status": answer.http_status, "message": answer.message[:500],
        "conversion_id": answer.conversion_id, "received_at": utcnow()}


def receive(run, params: dict[str, str], *, source: str, method: str = "GET",
            remote_ip: str = "", dry_run: bool = False, locale: str | None = None) -> Answer:
    """The transaction boundary of every conversion call: `run(trace)` records the conversion
    (or raises a refusal, which rolls everything back); then the log line is written and the
    whole committed. A dry run (the advertiser's test tool) rolls the conversion back too; its
    `run` passes counted=True, so that testing does not use up the quota of the offer's real
    postbacks (the tool has its own limits: a login, or an API key's `RATELIMIT_API`).
    `locale`: the answer's language when the caller knows it (else the current language)."""
    trace = Trace()
    try:
        outcome = run(trace)
        answer = Answer(outcome.code, outcome.http_status, outcome.text(locale),
                        outcome.conversion.id, outcome.conversion.status)
        if dry_run:
            db.session.rollback()
            if outcome.code != "duplicate":  # rolled back: its id would name nothing
                answer = replace(answer, conversion_id=None, conversion_status=None)
    except DomainError as error:
        db.session.rollback()
        answer = refusal(error)
    log(trace, params, answer, source="test" if dry_run else source, method=method,
        remote_ip=remote_ip)
    db.session.commit()
    return answer
