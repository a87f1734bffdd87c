"""The PostgreSQL path of `ledger.post_transaction`: the same rules in three round trips.

1. `ledger_lock_accounts` (migration 0003_ledger) locks the accounts in id order, then reads
   their balances and looks the key up in a new statement, which sees a post of the same key
   that committed while we waited for the locks;
2. one statement writes everything: the transaction row `ON CONFLICT (idempotency_key) DO
   NOTHING`, its postings and the balance updates, both joined to that insert, so if a
   concurrent post of the key on other accounts won the unique index nothing at all is written;
3. the caller's commit, where the deferred trigger checks that the postings balance.

The loser of a race on the key waits inside the unique index for the winner's commit and then
re-reads the winner's transaction, like a caught unique violation, without the cost of a
savepoint. The session then gets the transaction row as a persistent object (its postings load on
first use) and the new balances of the accounts it already holds, so it never reads a stale one.
"""

import json

from sqlalchemy import text
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from cpa_network.database import utcnow
from cpa_network.extensions import db
from payouts.models import LedgerAccount, LedgerTransaction

LOCK = text("SELECT * FROM ledger_lock_accounts(CAST(:ids AS integer[]), :key)")
WRITE = text("""
WITH txn AS (
    INSERT INTO ledger_transactions (idempotency_key, reason, description, refs, fingerprint,
                                     created_at)
    VALUES (:key, :reason, :description, CAST(:refs AS json), :fingerprint, :created_at)
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING id
), legs AS (
    SELECT * FROM unnest(CAST(:accounts AS integer[]), CAST(:currencies AS varchar[]),
                         CAST(:amounts AS bigint[])) WITH ORDINALITY AS l(account_id, currency,
                                                                          amount, n)
), posted AS (
    INSERT INTO ledger_postings (transaction_id, account_id, currency, amount)
    SELECT txn.id, legs.account_id, legs.currency, legs.amount FROM txn, legs ORDER BY legs.n
), balances AS (
    UPDATE ledger_accounts SET balance = ledger_accounts.balance + d.delta
    FROM txn, unnest(CAST(:delta_ids AS integer[]), CAST(:deltas AS bigint[])) AS d(id, delta)
    WHERE ledger_accounts.id = d.id
)
SELECT txn.id FROM txn
""")


def lock_accounts(ids: set[int], key: str) -> tuple[dict[int, tuple[str, str, int]], int | None]:
    """{id: (kind, currency, balance)} locked until the end of the transaction, and the id of
    the transaction already holding `key`, if any."""
    rows = db.session.execute(LOCK, {"ids": sorted(ids), "key": key}).all()
    existing = rows[0].existing_id if rows else None
    return {row.id: (row.kind, row.currency, row.balance) for row in rows}, existing


def write(key: str, reason: str, description: str, refs: dict, fingerprint: str,
          legs: list[tuple[int, str, int]],
          new_balances: dict[int, int]) -> LedgerTransaction | None:
    """Insert the transaction, its postings and balances; None if the key was taken meanwhile."""
    created_at = utcnow()
    deltas = {}
    for account_id, _, amount in legs:
        deltas[account_id] = deltas.get(account_id, 0) + amount
    rows = db.session.execute(WRITE, {
        "key": key, "reason": reason, "description": description, "refs": json.dumps(refs),
        "fingerprint": fingerprint, "created_at": created_at,
        "accounts": [a for a, _, _ in legs], "currencies": [c for _, c, _ in legs],
        "amounts": [m for _, _, m in legs],
        "delta_ids": list(deltas), "deltas": list(deltas.values()),
    }).all()
    if not rows:
        return None
    txn = LedgerTransaction(id=rows[0][0], idempotency_key=key, reason=reason,
                            description=description, refs=refs, fingerprint=fingerprint,
                            reverses_id=None, created_at=created_at)
    make_transient_to_detached(txn)  # its postings load on first use
    db.session.add(txn)  # persistent as written: no INSERT, no SELECT
    _refresh_cached_balances(new_balances)
    return txn


def _refresh_cached_balances(new_balances: dict[int, int]) -> None:
    for account_id, balance in new_balances.items():
        loaded = db.session.identity_map.get(identity_key(LedgerAccount, account_id))
        if loaded is not None:
            set_committed_value(loaded, "balance", balance)
