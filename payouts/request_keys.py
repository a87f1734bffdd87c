"""Request keys: what makes one request move money once, however often it arrives.

A withdrawal (`payouts.request_key`), an escrow refund (`escrow_refunds.request_key`) or an
API deposit (`deposits.request_key`, payouts/deposits.py) may carry a key, UNIQUE in its table:

    web:<user>:<token>     the one-time token of a confirmation page (a double click, a resend)
    api:<user>:<key>       the API's `Idempotency-Key` header
    retry:<payout>         the operator's retry of one failed payout
    auto:<publisher>:...   the weekly automatic payout (payouts/automatic.py)

The user id keeps one user's keys from ever meeting another's, and the prefixes keep what a
user chooses from ever taking a key the network uses. A replayed key answers what the first
request made and moves nothing; the same key with another amount or currency is refused. The
unique index decides between concurrent twins: the second insert waits for the first
transaction and fails once it commits (`RequestKeyTaken`), and the loser answers the winner's
result.
"""

import re
import secrets
from collections.abc import Callable
from typing import TypeVar

from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from cpa_network.errors import DomainError, ValidationFailed
from cpa_network.extensions import db

T = TypeVar("T")
HEADER = "Idempotency-Key"
# Short enough that "api:<user id>:" + the key fits the 80-character columns.
HEADER_RE = re.compile(r"^[\x21-\x7e]{1,64}$")  # visible ASCII: a UUID, a hash, an order id
CONFIRMATION_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")  # what `new_token` makes


class IdempotencyKeyInvalid(ValidationFailed):
    code = "idempotency_key_invalid"
    default_message = _l("An Idempotency-Key is 1 to 64 visible ASCII characters.")


class IdempotencyKeyReused(DomainError):
    """The key already made a request with another amount or currency."""

    code = "idempotency_key_reused"
    http_status = 422
    default_message = _l("This Idempotency-Key was already used for a request with another "
                         "amount or currency.")


class RequestKeyTaken(DomainError):
    """A twin request holding the same key committed first; the caller answers its result."""

    code = "request_key_taken"
    http_status = 409


def new_token() -> str:
    """A confirmation page's one-time token (192 random bits)."""
    return secrets.token_urlsafe(24)


def web_key(user_id: int, token: str | None) -> str | None:
    """The request key of a confirmed page form; None for a form without a token."""
    return f"web:{user_id}:{token}" if token else None


def api_key(user_id: int, header: str | None) -> str | None:
    """The request key of an API call's `Idempotency-Key` header (None: no header)."""
    if header is None:
        return None
    if not HEADER_RE.match(header):
        raise IdempotencyKeyInvalid(fields={HEADER: [IdempotencyKeyInvalid.default_message]})
    return f"api:{user_id}:{header}"


def insert_once(row) -> None:
    """Insert `row` (which carries a request key) in a savepoint. `RequestKeyTaken` if a twin
    committed the key first; nothing else of this transaction is undone."""
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError as error:
        if row.request_key is None:
            raise
        raise RequestKeyTaken() from error


def made_once(find: Callable[[], T], make: Callable[[], T]) -> tuple[T, bool]:
    """What a request key makes, once: `(find(), False)` if the key made it already, else
    `(make(), True)`. If `make` meets `RequestKeyTaken` (a twin holding the key committed while
    we waited), the twin's result is found and answered; if there is none (it rolled back),
    the error behind the refusal is raised."""
    made = find()
    if made:
        return made, False
    try:
        return make(), True
    except RequestKeyTaken as taken:
        made = find()
        if not made:
            raise (taken.__cause__ or taken) from None
        return made, False


def check_same(made: tuple, asked: tuple) -> None:
    """A replay must ask for what the key's first request did."""
    if made != asked:
        raise IdempotencyKeyReused()
