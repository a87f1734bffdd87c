"""The PostgreSQL path of `ledger.post_transaction`: the same rules in one statement.

`ledger_post` (migrations 0015_ledger_post, 0016_ledger_post_one_statement: one query) locks the
accounts in id order, looks the key up (a post of the same key that committed while we waited
for the locks comes back as 'taken', and the caller reads it in a new statement), checks that
the postings balance per currency and that no account goes where it may not, and then writes
the transaction `ON CONFLICT (idempotency_key) DO NOTHING`, its postings and the new balances.
A refusal writes nothing and leaves the caller's transaction usable, without the cost of a
savepoint. The commit is the caller's, where the deferred trigger checks the balance again.

The call is plain SQL on the session's psycopg connection (cpa_network.fastsql): no statement
to compile, no ORM, no SQLAlchemy result; a post happens per conversion, approval and payout.
The session then gets the transaction row as a persistent object (its postings load on first
use) and the new balances of the accounts it already holds, so it never reads a stale one.
"""

import json
import operator
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import inspect
from sqlalchemy.orm.attributes import set_committed_value

from cpa_network import fastsql
from cpa_network.extensions import db
from payouts.models import MAY_GO_NEGATIVE, LedgerAccount, LedgerTransaction

POST = ("SELECT * FROM ledger_post(%s, %s, %s, %s::json, %s, %s, %s::integer[], %s::bigint[], "
        "%s::varchar[])")
NEGATIVE_KINDS = sorted(kind.value for kind in MAY_GO_NEGATIVE)
_ACCOUNTS = inspect(LedgerAccount)  # its mapper


def int_array(values) -> str:
    """Integers as a PostgreSQL array literal, `{1,-2,3}`, sent as text and cast by the
    statement: psycopg's Python list adapter cost about 2 % of a postback's CPU. Anything but
    an integer is refused (TypeError), so nothing else can shape the literal."""
    return "{" + ",".join([str(operator.index(value)) for value in values]) + "}"


if not all(kind.isidentifier() for kind in NEGATIVE_KINDS):  # plain words need no quoting
    raise ValueError(f"account kinds must be plain words: {NEGATIVE_KINDS}")
NEGATIVE_KINDS_ARRAY = "{" + ",".join(NEGATIVE_KINDS) + "}"


class Outcome(NamedTuple):
    """One row of `ledger_post`: what happened, and an account it concerns."""

    outcome: str  # posted | replay | taken | unbalanced | insufficient | unknown_account
    transaction_id: int | None
    account_id: int | None
    kind: str | None
    currency: str | None
    balance: int | None
    delta: int | None


def post(key: str, reason: str, description: str, refs: dict, fingerprint: str,
         created_at: datetime, pairs: list[tuple[int, int]]) -> list[Outcome]:
    """Run `ledger_post` in the session's transaction; its rows (at least one)."""
    rows = fastsql.run(fastsql.session_connection(), POST, post_params(
        key, reason, description, refs, fingerprint, created_at, pairs))
    return [Outcome(*row) for row in rows]


def post_params(key: str, reason: str, description: str, refs: dict, fingerprint: str,
                created_at: datetime, pairs: list[tuple[int, int]]) -> tuple:
    """`ledger_post`'s arguments, in its order (also the tail of `conversion_record`'s)."""
    return (key, reason, description, json.dumps(refs), fingerprint, created_at,
            int_array(account_id for account_id, _ in pairs),
            int_array(amount for _, amount in pairs), NEGATIVE_KINDS_ARRAY)


def adopt(txn_id: int, key: str, reason: str, description: str, refs: dict, fingerprint: str,
          created_at: datetime, outcomes: list[Outcome]) -> LedgerTransaction:
    """The written transaction as a persistent session object, and the session's loaded
    accounts brought up to their new balances: no INSERT, no SELECT."""
    txn = fastsql.as_written(LedgerTransaction, {  # its postings load on first use
        "id": txn_id, "idempotency_key": key, "reason": reason, "description": description,
        "refs": refs, "fingerprint": fingerprint, "reverses_id": None,
        "created_at": created_at})
    session = db.session()
    session.add(txn)
    for row in outcomes:
        # the mapper's own key builder: `identity_key(cls, id)` costs 30 times more per call
        loaded = session.identity_map.get(_ACCOUNTS.identity_key_from_primary_key(
            (row.account_id,)))
        if loaded is not None:
            set_committed_value(loaded, "balance", row.balance)
    return txn
