"""The double-entry ledger: the only code that writes a balance.

Sign convention
---------------
Every posting is a signed integer amount in minor units on one account. An account's balance is
the sum of its postings, and a positive balance is money that account's holder has: an
advertiser's escrow of +1000000 is 10,000.00 the network holds for that advertiser. The postings
of a transaction sum to zero per currency, so money only moves, it is never created. Its entry
and exit go through the network's GATEWAY_CLEARING account: a deposit of 10,000.00 posts
escrow +1000000 and clearing -1000000, so clearing is negative by the money the platform holds
(the mirror of what sits at Stripe). NETWORK_REVENUE may also go negative (when the network pays a
commission out of its own pocket). No other account may: `post_transaction` refuses it under row
locks, and a CHECK constraint on the cached balance refuses it again in the database.

Guarantees
----------
- Idempotent: a key names one transaction. Replaying a key with the same reason and postings
  returns the original; with different ones it raises `IdempotencyConflict`. Concurrent posts of
  one key produce one transaction (the unique index decides; the loser re-reads the winner).
- Balance checks run under `SELECT ... FOR UPDATE` on the account rows, taken in id order so two
  transactions touching the same accounts cannot deadlock. Under READ COMMITTED the locked read
  sees the latest committed balance. SQLite has no row locks; it serializes writers instead.
- Immutable: corrections are `reverse_transaction`, which posts the mirror linked to the original
  (once: a unique index on `reverses_id`).
"""

import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Iterable
from typing import NamedTuple

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from cpa_network.database import is_postgres, utcnow
from cpa_network.errors import DomainError
from cpa_network.extensions import db
from payouts import ledger_postgres
from payouts.currency import format_money
from payouts.models import (
    MAY_GO_NEGATIVE,
    NETWORK_OWNER,
    AccountKind,
    LedgerAccount,
    LedgerTransaction,
    Posting,
)

REASON_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MAX_KEY_LENGTH = 200


class LedgerError(DomainError):
    code = "ledger_error"
    http_status = 409


class InsufficientFunds(LedgerError):
    """An account would go below zero, and its kind may not."""

    code = "insufficient_funds"
    default_message = _l("There is not enough money for this.")

    def __init__(self, account: LedgerAccount | None = None, needed: int = 0,
                 message=None, **kwargs):
        self.account, self.needed = account, needed
        self.available = account.balance if account is not None else 0
        if message is None and account is not None:
            message = _l("Not enough money: %(needed)s needed, %(available)s available.",
                         needed=format_money(needed, account.currency),
                         available=format_money(max(self.available, 0), account.currency))
        super().__init__(message, **kwargs)


class IdempotencyConflict(LedgerError):
    """The key was already used for a different transaction."""

    code = "idempotency_conflict"
    default_message = _l("This idempotency key was already used for a different transaction.")


class AlreadyReversed(LedgerError):
    code = "already_reversed"
    default_message = _l("This transaction was already reversed.")


class InvalidTransaction(LedgerError):
    """A programming error in the caller: postings that could never balance or be stored."""

    code = "invalid_transaction"
    http_status = 400


class Leg(NamedTuple):
    """An input posting: `amount` (minor units, signed) on `account`, an account object or the
    id of one the caller read in this database transaction (rows are never deleted, so such an
    id stays true; never an id kept from an earlier transaction, which a rolled-back insert may
    have left unused)."""

    account: LedgerAccount | int
    amount: int


def transfer(source: LedgerAccount, destination: LedgerAccount, amount: int) -> list[Leg]:
    """The two legs that move `amount` from `source` to `destination`."""
    return [Leg(source, -amount), Leg(destination, amount)]


def account(kind: AccountKind | str, owner_id: int | None, currency: str) -> LedgerAccount:
    """The account for kind + owner + currency, created on first use (safe under concurrency)."""
    kind, owner_id, currency = AccountKind(kind), owner_id or NETWORK_OWNER, currency.upper()
    found = _find_account(kind, owner_id, currency)
    if found is not None:
        return found
    try:
        with db.session.begin_nested():
            created = LedgerAccount(kind=kind.value, owner_id=owner_id, currency=currency,
                                    balance=0)
            db.session.add(created)
    except IntegrityError:  # another session created it first: use theirs
        found = _find_account(kind, owner_id, currency)
        if found is None:
            raise
        return found
    return created


def accounts_of(wanted: set[tuple[AccountKind, int, str]]) -> dict[tuple, LedgerAccount]:
    """Many accounts at once, by (kind, owner, currency): one query, then `account` for any
    not created yet."""
    owners = {owner for _, owner, _ in wanted}
    found = {(AccountKind(a.kind), a.owner_id, a.currency): a for a in db.session.scalars(
        select(LedgerAccount).where(LedgerAccount.owner_id.in_(owners),
                                    LedgerAccount.kind.in_({kind for kind, _, _ in wanted})))}
    return {key: found.get(key) or account(*key) for key in wanted}


def network_account(kind: AccountKind | str, currency: str) -> LedgerAccount:
    return account(kind, NETWORK_OWNER, currency)


# Built once: constructing the statement costs more than running it (a hot path: each
# conversion looks up three accounts).
ACCOUNT_BY_KEY = select(LedgerAccount).where(
    LedgerAccount.kind == bindparam("kind"), LedgerAccount.owner_id == bindparam("owner_id"),
    LedgerAccount.currency == bindparam("currency"))


def _find_account(kind: str, owner_id: int, currency: str) -> LedgerAccount | None:
    return db.session.scalar(ACCOUNT_BY_KEY, {"kind": str(kind), "owner_id": owner_id,
                                              "currency": currency})


def balance(kind: AccountKind | str, owner_id: int | None, currency: str) -> int:
    """The balance of kind + owner + currency (0 if the account was never used), read from the
    database: an account object loaded earlier in the session cannot answer with a stale one."""
    found = db.session.scalar(select(LedgerAccount.balance).where(
        LedgerAccount.kind == AccountKind(kind).value,
        LedgerAccount.owner_id == (owner_id or NETWORK_OWNER),
        LedgerAccount.currency == currency.upper()))
    return found or 0


def lock_accounts(account_ids: Iterable[int]) -> None:
    """Lock accounts in id order ahead of several posts in one database transaction (a batch),
    so two batches over shared accounts queue instead of deadlocking."""
    ids = sorted(set(account_ids))
    if ids:
        db.session.execute(select(LedgerAccount.id).where(LedgerAccount.id.in_(ids))
                           .order_by(LedgerAccount.id).with_for_update())


def post_transaction(key: str, postings: Iterable[Leg | tuple[LedgerAccount, int]], reason: str,
                     refs: dict | None = None, *, description: str = "") -> LedgerTransaction:
    """Post a balanced transaction once per `key`; return it (or the original, on replay)."""
    return _post(key, [Leg(*p) for p in postings], reason, refs or {}, description, None)


def reverse_transaction(original: LedgerTransaction, key: str, reason: str = "reversal",
                        refs: dict | None = None, *, description: str = "") -> LedgerTransaction:
    """Post the mirror of `original`, linked to it. A transaction is reversed at most once."""
    if original.reverses_id is not None:
        raise InvalidTransaction(_l("A reversal cannot itself be reversed; post a new "
                                    "transaction instead."))
    existing = _reversal_of(original.id)
    if existing is not None and existing.idempotency_key != key:
        raise AlreadyReversed()
    legs = [Leg(p.account, -p.amount) for p in original.postings]
    refs = {"reverses": original.id, **(refs or {})}
    return _post(key, legs, reason, refs, description, original.id)


def fingerprint(reason: str, pairs: list[tuple[int, int]]) -> str:
    """What makes two posts of one key "the same": the reason and the (account id, amount) legs."""
    body = json.dumps([reason, sorted(pairs)])
    return hashlib.sha256(body.encode()).hexdigest()


def checked_pairs(key: str, legs: list[Leg], reason: str) -> tuple[list[tuple[int, int]], str]:
    """The legs as (account id, amount) pairs and their fingerprint, once the request's shape
    is checked (`InvalidTransaction`)."""
    _validate(key, legs, reason)
    if any(not isinstance(leg.account, int) and inspect(leg.account).identity is None
           for leg in legs):
        db.session.flush()  # accounts created in this transaction need their ids
    pairs = [(_account_id(leg.account), leg.amount) for leg in legs]
    return pairs, fingerprint(reason, pairs)


def _validate(key: str, legs: list[Leg], reason: str) -> None:
    """The shape of the request; currencies are checked once the accounts are locked."""
    if not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidTransaction(f"idempotency key must be 1-{MAX_KEY_LENGTH} characters")
    if not REASON_RE.match(reason):
        raise InvalidTransaction(f"reason must be a short snake_case word, not {reason!r}")
    if len(legs) < 2:
        raise InvalidTransaction("a transaction needs at least two postings")
    for leg in legs:
        if type(leg.amount) is not int or leg.amount == 0:
            raise InvalidTransaction(f"posting amounts are non-zero integers, not {leg.amount!r}")


def _check_balanced(pairs: list[tuple[int, int]], locked: dict[int, tuple]) -> None:
    totals: dict[str, int] = defaultdict(int)
    for account_id, amount in pairs:
        totals[locked[account_id][1]] += amount
    unbalanced = {currency: total for currency, total in totals.items() if total}
    if unbalanced:
        raise InvalidTransaction(f"postings must sum to zero per currency: {unbalanced}")


def _account_id(account: LedgerAccount | int) -> int:
    """The primary key without a round trip (a committed session expires its attributes)."""
    if isinstance(account, int):
        return account
    identity = inspect(account).identity
    return identity[0] if identity else account.id


def _reversal_of(transaction_id: int) -> LedgerTransaction | None:
    return db.session.scalar(select(LedgerTransaction).where(
        LedgerTransaction.reverses_id == transaction_id))


def _by_key(key: str) -> LedgerTransaction | None:
    return db.session.scalar(select(LedgerTransaction).where(
        LedgerTransaction.idempotency_key == key))


def _replay(existing: LedgerTransaction, expected_fingerprint: str) -> LedgerTransaction:
    if existing.fingerprint != expected_fingerprint:
        raise IdempotencyConflict()
    return existing


def _post(key: str, legs: list[Leg], reason: str, refs: dict, description: str,
          reverses_id: int | None) -> LedgerTransaction:
    pairs, expected = checked_pairs(key, legs, reason)
    if reverses_id is None and is_postgres():
        return _post_postgres(key, pairs, reason, refs, description[:300], expected)
    return _post_orm(key, pairs, reason, refs, description[:300], expected, reverses_id)


def _post_postgres(key: str, pairs: list[tuple[int, int]], reason: str, refs: dict,
                   description: str, expected: str) -> LedgerTransaction:
    """One statement and no savepoint; see payouts/ledger_postgres.py."""
    created_at = utcnow()
    rows = ledger_postgres.post(key, reason, description, refs, expected, created_at, pairs)
    outcome = rows[0].outcome
    if outcome == "posted":
        return ledger_postgres.adopt(rows[0].transaction_id, key, reason, description, refs,
                                     expected, created_at, rows)
    if outcome == "replay":
        return _replay(db.session.get(LedgerTransaction, rows[0].transaction_id), expected)
    if outcome == "taken":  # a concurrent post of the key committed while we waited for locks
        return _replay(_by_key(key), expected)
    if outcome == "insufficient":
        row = rows[0]
        account = db.session.get(LedgerAccount, row.account_id)
        set_committed_value(account, "balance", row.balance)
        raise InsufficientFunds(account, -row.delta)
    if outcome == "unbalanced":
        totals = {row.currency: row.delta for row in rows}
        raise InvalidTransaction(f"postings must sum to zero per currency: {totals}")
    raise InvalidTransaction(f"unknown ledger account among {sorted({a for a, _ in pairs})}")


def _post_orm(key: str, pairs: list[tuple[int, int]], reason: str, refs: dict,
              description: str, expected: str, reverses_id: int | None) -> LedgerTransaction:
    """Portable (SQLite) and for reversals: the insert runs in a savepoint, so losing a race on
    the key or on `reverses_id` leaves the caller's transaction usable."""
    try:
        with db.session.begin_nested():
            rows = _lock_account_rows({account_id for account_id, _ in pairs})
            existing = _by_key(key)  # after the locks, as above
            if existing is not None:
                return _replay(existing, expected)
            locked = {row.id: (row.kind, row.currency, row.balance) for row in rows.values()}
            _check_balanced(pairs, locked)
            if reverses_id is not None and _reversal_of(reverses_id) is not None:
                raise AlreadyReversed()  # by a concurrent reversal that held these locks first
            for account_id, balance in _new_balances(locked, pairs).items():
                rows[account_id].balance = balance
            txn = LedgerTransaction(idempotency_key=key, reason=reason, refs=refs,
                                    description=description, fingerprint=expected,
                                    reverses_id=reverses_id)
            txn.postings = [Posting(account_id=account_id, currency=locked[account_id][1],
                                    amount=amount) for account_id, amount in pairs]
            db.session.add(txn)
            db.session.flush()
    except IntegrityError as error:
        # A concurrent post won the unique index (its postings touched other rows, so the locks
        # did not order us); the savepoint rolled back only our attempt.
        text = str(error.orig)
        if "reverses_id" in text:
            raise AlreadyReversed() from None
        if "idempotency_key" not in text:
            raise
        existing = _by_key(key)
        if existing is None:
            raise
        return _replay(existing, expected)
    return txn


def _lock_account_rows(ids: set[int]) -> dict[int, LedgerAccount]:
    """Lock the rows in id order (no deadlocks) and read their latest committed balances."""
    rows = db.session.scalars(
        select(LedgerAccount).where(LedgerAccount.id.in_(sorted(ids)))
        .order_by(LedgerAccount.id).with_for_update()
        .execution_options(populate_existing=True))
    return {row.id: row for row in rows}


def _new_balances(locked: dict[int, tuple[str, str, int]],
                  pairs: list[tuple[int, int]]) -> dict[int, int]:
    """Each touched account's balance after the postings; `InsufficientFunds` if one may not
    go where it would."""
    deltas: dict[int, int] = defaultdict(int)
    for account_id, amount in pairs:
        deltas[account_id] += amount
    balances = {}
    for account_id, delta in deltas.items():
        kind, _, balance = locked[account_id]
        if delta < 0 and balance + delta < 0 and kind not in MAY_GO_NEGATIVE:
            account = db.session.get(LedgerAccount, account_id)
            set_committed_value(account, "balance", balance)
            raise InsufficientFunds(account, -delta)
        balances[account_id] = balance + delta
    return balances
