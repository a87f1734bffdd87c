"""A plain postback on PostgreSQL in three round trips: the click, the facts, and one call of
`conversion_record` (migration 0021) that writes the conversion, its hold, its rollup and its
log line as one transaction.

The full path (`postbacks.receive` + `ingest`) runs in one transaction of the session: a BEGIN,
the click, the facts, the insert, `ledger_post`, the rollup, the log line and the COMMIT, eight
round trips, whose CPU on both sides cost more than the rules. Here the reads run on a
connection in autocommit, which sees what the full path's reads see: both are plain reads at
READ COMMITTED, each statement with its own snapshot and no lock taken, so reading them in one
transaction or in several makes no difference. What guards a conversion's uniqueness, the
escrow and the rollup are the writes themselves (the unique indexes, `ledger_post`'s row locks,
the upsert), and those are one statement here, as they were one transaction there.

The rules are the full path's own code (`attribution.checked_goal`, `plan`, `escrow.
hold_request`, `ledger.checked_pairs`, `conversion_stats_row`, `postbacks.log_row`); only the
writing differs. What this path does not write itself it hands to the full path before any
write (`FullPath`): caps, a goal that requires an earlier one, a conversion that waits for
funds, a publisher's outgoing postback, hold accounts not created yet, and a hold
`ledger_post` refuses (the function then raises CPN01 and has written nothing).
"""

import json
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from flask import Flask
from sqlalchemy import create_engine, select
from sqlalchemy.exc import DBAPIError

from cpa_network import fastsql
from cpa_network.database import utcnow
from cpa_network.errors import DomainError
from cpa_network.extensions import db
from offers import attribution, postbacks
from offers.conversion_models import PENDING, Conversion
from offers.conversions import created_changes
from offers.refusals import ACCEPTED
from offers.stats import conversion_stats_row
from payouts import escrow, ledger, ledger_postgres

_ENGINE = "postback_direct.engine"  # app.extensions: the autocommit engine
_IDLE = "postback_direct.idle"  # app.extensions: connections kept between postbacks
KEEP_IDLE = 4  # at most; more go back to the pool
_creating = threading.Lock()
RECORD = ("SELECT outcome, transaction_id FROM conversion_record(%s::json, %s, %s, %s, %s::json, "
          "%s, %s, %s::integer[], %s::bigint[], %s::varchar[], %s::json, %s::json)")
NOT_POSTED = "CPN01"  # conversion_record's SQLSTATE when the hold was not posted
ORIGINAL = fastsql.Statement(  # the facts' duplicate, with its status
    select(Conversion.id, Conversion.status).where(*attribution.SAME_CONVERSION)
    .order_by(Conversion.id).limit(1))


class FullPath(Exception):
    """The call needs the full path. `counted`: it was counted against the rate limit."""

    def __init__(self, counted: bool):
        super().__init__("the full postback path")
        self.counted = counted


def available(app: Flask) -> bool:
    with app.app_context():
        return db.engine.dialect.name == "postgresql" and db.engine.dialect.driver == "psycopg"


def _engine(app: Flask):
    """The app's autocommit engine, on the app's database (its own small pool): the session's
    connections begin a transaction at checkout (cpa_network.database)."""
    engine = app.extensions.get(_ENGINE)
    if engine is None:
        with _creating:  # threaded workers: one engine per app
            engine = app.extensions.get(_ENGINE)
            if engine is None:
                app.extensions[_IDLE] = []
                engine = app.extensions[_ENGINE] = create_engine(
                    db.engine.url, isolation_level="AUTOCOMMIT", pool_size=4, max_overflow=8)
    return engine


@contextmanager
def _connection(app: Flask):
    """An autocommit connection kept from one postback to the next: checking one out of the
    pool and back in cost about 5 % of a postback's CPU. Kept in a list, not per thread, so a
    server with a thread per request leaves none behind. Nothing stays open on it between
    postbacks (each statement commits on its own). After an error other than a hand-over it
    goes back to the pool, which resets it or, if it broke, replaces it."""
    engine = _engine(app)
    idle = app.extensions[_IDLE]
    try:
        connection = idle.pop()  # atomic: no two threads get the same one
    except IndexError:
        connection = engine.connect()
    try:
        yield connection
    except FullPath:
        _keep(idle, connection)
        raise
    except BaseException:
        connection.close()
        raise
    _keep(idle, connection)


def _keep(idle: list, connection) -> None:
    if len(idle) < KEEP_IDLE and not connection.invalidated:
        idle.append(connection)
    else:
        connection.close()


@dataclass(frozen=True)
class Pending:
    """A conversion that passed the rules, ready to write."""

    values: dict  # its row, with the id taken from the sequence
    hold: tuple  # escrow.hold_request's key, legs, reason and refs
    query: dict  # the facts' parameters: they also find the original of a duplicate
    code: str  # ok or fraud_suspected


def dispose(app: Flask) -> None:
    """Close the autocommit engine's pooled connections (before the database is dropped)."""
    engine = app.extensions.pop(_ENGINE, None)
    if engine is not None:
        for connection in app.extensions.pop(_IDLE):
            connection.close()
        engine.dispose()


def receive(app: Flask, params: dict[str, str], *, remote_ip: str, locale: str
            ) -> postbacks.Answer:
    """A `GET /postback`'s answer, its log line written; `FullPath` if it needs the full path.
    In the app's context."""
    trace = postbacks.Trace()
    with _connection(app) as connection:
        try:
            found = _record(connection, params, trace, locale)
        except DomainError as error:
            found = postbacks.refusal(error)
        if isinstance(found, Pending):
            answer = _accepted(found.code, found.values["id"], PENDING, locale)
            if _write(connection, params, trace, found, answer, remote_ip):
                return answer
            found = _duplicate(connection, found.query, locale)  # an identical one won
        postbacks.log(trace, params, found, source="postback", method="GET",
                      remote_ip=remote_ip, connection=connection)
        return found


def _record(connection, params: dict[str, str], trace: postbacks.Trace,
            locale: str) -> Pending | postbacks.Answer:
    """The full path's rules up to the writes, with the reads on `connection`: a refusal
    raises, a duplicate is answered, a conversion to write is Pending."""
    data, click, offer = postbacks.authenticated(params, trace, connection)
    goal = attribution.checked_goal(offer, data)
    if offer.caps or goal.requires_goal:
        raise FullPath(counted=True)
    at = attribution.conversion_time()
    query = attribution.facts_params(offer, goal, click.publisher_id, click, data, at)
    facts = attribution.FACTS_AND_ID.first(query, connection)
    if facts.duplicate_id is not None:
        return _accepted("duplicate", facts.duplicate_id, facts.duplicate_status, locale)
    planned = attribution.plan(offer, goal, click.link_id, click.publisher_id, click, data, at,
                               facts)
    accounts = {kind: getattr(facts, kind.value) for kind in escrow.HOLD_ACCOUNTS}
    if planned.waits or facts.postback or not all(accounts.values()):
        raise FullPath(counted=True)
    values = {"id": facts.new_id, **planned.values}
    hold = escrow.hold_request(facts.new_id, offer.advertiser_id, click.publisher_id,
                               offer.currency, values["payout"], values["fee"],
                               available_at=values["hold_until"], account_ids=accounts)
    return Pending(values, hold, query, planned.code)


def _accepted(code: str, conversion_id: int, status: str, locale: str) -> postbacks.Answer:
    return postbacks.Answer(code, ACCEPTED[code][0], attribution.accepted_text(code, locale),
                            conversion_id, status)


def _duplicate(connection, query: dict, locale: str) -> postbacks.Answer:
    original = ORIGINAL.first(query, connection)
    return _accepted("duplicate", original.id, original.status, locale)


def _write(connection, params: dict[str, str], trace: postbacks.Trace, pending: Pending,
           answer: postbacks.Answer, remote_ip: str) -> bool:
    """The conversion, its hold, its rollup and the log line, in one statement; False if an
    identical conversion was committed first (nothing was written)."""
    values, (key, legs, reason, refs) = pending.values, pending.hold
    pairs, fingerprint = ledger.checked_pairs(key, legs, reason)
    line = postbacks.log_row(trace, params, answer, source="postback", method="GET",
                             remote_ip=remote_ip)
    rollup = conversion_stats_row(values, values["created_at"],
                                  created_changes(values["status"], values["payout"]))
    try:
        rows = fastsql.run(connection, RECORD, (
            _json(values), *ledger_postgres.post_params(key, reason, "", refs, fingerprint,
                                                        utcnow(), pairs),
            _json(rollup), _json(line)), flush=False)
    except DBAPIError as error:
        if getattr(error.orig, "sqlstate", None) == NOT_POSTED:
            raise FullPath(counted=True) from error
        raise
    return rows[0][0] == "posted"


def _json(row: dict) -> str:
    return json.dumps(row, default=_iso, separators=(",", ":"))


def _iso(value):
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON: {value!r}")
