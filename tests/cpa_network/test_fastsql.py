"""cpa_network.fastsql runs Core statements on the session's psycopg connection, skipping
`Session.execute`: these tests hold it to what the session would have done (type conversions,
defaults, autoflush, the same transaction, event listeners, SQLAlchemy's exceptions).

The SQLite fallback (plain `db.session.execute`) is not tested here: it needs an app on a second
database, and the SQLite smoke test already runs the conversion path that uses it.
"""

from datetime import UTC, datetime

import psycopg
import pytest
from sqlalchemy import (
    Numeric,
    bindparam,
    event,
    func,
    insert,
    inspect,
    literal,
    select,
    type_coerce,
    update,
)
from sqlalchemy.exc import DBAPIError, IntegrityError, StatementError
from sqlalchemy.orm import make_transient_to_detached

from cpa_network import fastsql
from cpa_network.accounts.models import User
from cpa_network.database import UTCDateTime, utcnow
from cpa_network.extensions import db
from cpa_network.fastsql import Compiled, Statement, as_written
from offers.conversion_models import PostbackLog
from tests.conftest import terminate_backend
from tests.factories import make_user

LOG = PostbackLog.__table__
LOG_INSERT = Statement(insert(LOG).returning(LOG.c.id))
LOGS_BY_CODE = select(
    LOG.c.id, LOG.c.code, LOG.c.params, LOG.c.received_at,
    # timestamp without time zone: psycopg returns it naive, UTCDateTime's result processor
    # makes it aware
    type_coerce(func.timezone("UTC", LOG.c.received_at), UTCDateTime()).label("received_utc"),
).where(LOG.c.code == bindparam("code")).order_by(LOG.c.id)
COUNT_BY_CODE = Statement(select(func.count()).select_from(LOG)
                          .where(LOG.c.code == bindparam("code")))
BACKEND_PID = Statement(select(func.pg_backend_pid()))


def _log(**values) -> dict:
    """The columns of a postback_log row a caller must give (the callable defaults too)."""
    return {"received_at": utcnow(), "params": {}, "source": "test", "code": "ok",
            "http_status": 200, **values}


def _stored(log_id: int) -> PostbackLog:
    return db.session.get(PostbackLog, log_id, populate_existing=True)


def test_a_select_returns_what_session_execute_returns(app_context):
    at = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
    for n in range(3):
        LOG_INSERT.rows(_log(received_at=at, params={"n": n}, code="ok" if n else "other"))
    params = {"code": "ok"}
    expected = db.session.execute(LOGS_BY_CODE, params).all()

    rows = Statement(LOGS_BY_CODE).rows(params)

    assert [tuple(row) for row in rows] == [tuple(row) for row in expected]
    assert [row.params for row in rows] == [{"n": 1}, {"n": 2}]
    assert rows[0].received_utc == at and rows[0].received_utc.tzinfo is not None
    assert rows[1][1] == rows[1].code == "ok"
    assert Statement(LOGS_BY_CODE).first(params) == rows[0]
    assert Statement(LOGS_BY_CODE).first({"code": "none"}) is None
    assert COUNT_BY_CODE.scalar(params) == db.session.scalar(COUNT_BY_CODE.statement, params) == 2


def test_rows_are_named_by_one_class_per_statement_and_plain_sql_gives_tuples(app_context):
    LOG_INSERT.rows(_log(code="a"))
    LOG_INSERT.rows(_log(code="b"))
    statement = Statement(LOGS_BY_CODE)
    [first], [second] = statement.rows({"code": "a"}), statement.rows({"code": "b"})
    assert (first.code, second.code) == ("a", "b")
    assert type(first) is type(second)  # the names were read from the first result only
    assert first._fields == ("id", "code", "params", "received_at", "received_utc")
    plain = fastsql.run(fastsql.session_connection(), "SELECT 1 AS one, 'x' AS two", ())
    assert plain == [(1, "x")] and type(plain[0]) is tuple


def test_a_naive_datetime_is_refused_by_the_bind_processor(app_context):
    """UTCDateTime refuses it instead of storing the server's local time, wrapped in a
    StatementError as `Session.execute` wraps it."""
    naive = _log(received_at=datetime(2024, 5, 6, 7, 8, 9))
    with pytest.raises(StatementError, match="naive datetime") as direct:
        LOG_INSERT.rows(naive)
    with pytest.raises(StatementError, match="naive datetime") as session:
        db.session.execute(LOG_INSERT.statement, naive)
    assert type(direct.value.orig) is type(session.value.orig) is ValueError


def test_a_json_value_is_stored_and_read_back_as_a_dict(app_context):
    params = {"click_id": "abc", "amount": 12.5, "subs": ["a", None], "nested": {"ok": True}}
    log_id = LOG_INSERT.scalar(_log(params=params))
    assert Statement(select(LOG.c.params).where(LOG.c.id == log_id)).scalar({}) == params
    assert _stored(log_id).params == params


def test_an_insert_fills_constant_defaults_and_wants_callable_ones(app_context):
    """A constant default is the same on every row, so it can be filled in once; a callable one
    (a timestamp, a fresh dict) must come from the caller."""
    assert LOG.c.method.default.is_scalar and LOG.c.message.default.is_scalar
    assert LOG.c.received_at.default.is_callable and LOG.c.params.default.is_callable

    stored = _stored(LOG_INSERT.scalar(_log()))
    assert (stored.method, stored.remote_prefix, stored.message) == ("GET", "", "")
    assert _stored(LOG_INSERT.scalar(_log(method="POST"))).method == "POST"

    missing = _log()
    del missing["received_at"]
    with pytest.raises(ValueError, match="received_at"):
        LOG_INSERT.rows(missing)
    with pytest.raises(ValueError, match="params"):
        LOG_INSERT.rows({k: v for k, v in _log().items() if k != "params"})


def test_each_set_of_given_columns_gets_its_own_sql(app_context):
    """An insert is compiled for the columns given: one given later is not dropped by the SQL
    compiled for an earlier call without it."""
    first = LOG_INSERT.scalar(_log())
    second = LOG_INSERT.scalar(_log(conversion_id=42))
    assert (_stored(first).conversion_id, _stored(second).conversion_id) == (None, 42)


def test_an_in_list_is_refused_when_compiled(app_context):
    """An expanding parameter needs SQLAlchemy's execution-time rewrite, which is skipped here."""
    statement = select(LOG.c.id).where(LOG.c.id.in_(bindparam("ids", expanding=True)))
    with pytest.raises(ValueError, match="IN lists"):
        Compiled(statement, db.engine.dialect)


def test_pending_orm_changes_are_flushed_first(app_context):
    db.session.add(PostbackLog(source="test", code="pending", http_status=202))
    assert db.session.new
    assert COUNT_BY_CODE.scalar({"code": "pending"}) == 1
    assert not db.session.new


def test_it_runs_in_the_session_transaction(app_context):
    log_id = LOG_INSERT.scalar(_log(code="undone"))
    assert db.session.get(PostbackLog, log_id).code == "undone"
    db.session.rollback()
    assert db.session.scalar(COUNT_BY_CODE.statement, {"code": "undone"}) == 0


def test_each_transaction_of_the_session_gets_that_transactions_connection(app_context):
    """The connection is remembered per transaction: after a commit or a rollback the next
    statement runs in the session's new transaction, never on the returned connection."""
    txid = select(func.txid_current())
    first = Statement(txid).scalar({})
    assert db.session.scalar(txid) == first
    db.session.commit()
    second = Statement(txid).scalar({})
    assert second != first and db.session.scalar(txid) == second
    db.session.rollback()
    third = db.session.scalar(txid)  # the session begins this one itself
    assert third not in (first, second) and Statement(txid).scalar({}) == third


def test_before_cursor_execute_listeners_see_the_statement(app_context):
    seen = []

    def grab(_conn, _cursor, statement, parameters, _context, _many):
        seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", grab)
    try:
        COUNT_BY_CODE.scalar({"code": "heard"})
    finally:
        event.remove(db.engine, "before_cursor_execute", grab)
    [(statement, parameters)] = seen
    assert "FROM postback_log" in statement
    assert parameters["code"] == "heard"


def test_a_unique_violation_is_an_integrity_error_and_the_session_recovers(app_context):
    user = make_user(email="taken@example.com")
    with pytest.raises(IntegrityError) as caught:
        Statement(insert(User.__table__)).rows({
            "email": "taken@example.com", "password_hash": "x", "referral_code": "NEWCODE1",
            "registered_at": utcnow()})
    assert isinstance(caught.value.orig, psycopg.errors.UniqueViolation)
    db.session.rollback()
    assert Statement(select(User.id).where(User.email == bindparam("email"))).scalar(
        {"email": "taken@example.com"}) == user.id


def test_a_lost_connection_is_invalidated_and_replaced_after_rollback(app_context,
                                                                      database_url):
    killed_pid = BACKEND_PID.scalar({})
    terminate_backend(database_url, killed_pid)

    with pytest.raises(DBAPIError) as caught:
        BACKEND_PID.scalar({})
    assert caught.value.connection_invalidated
    db.session.rollback()
    assert BACKEND_PID.scalar({}) not in (None, killed_pid)


def test_a_none_written_in_the_statement_is_stored_as_null(app_context):
    log_id = LOG_INSERT.scalar(_log(conversion_id=42))
    Statement(update(LOG).where(LOG.c.id == bindparam("log_id"))
              .values(conversion_id=None)).rows({"log_id": log_id})
    assert _stored(log_id).conversion_id is None


def test_a_numeric_result_is_refused_when_compiled(app_context):
    """Its result processor needs the database's column type, which is not at hand there."""
    statement = select(literal(1.5, Numeric(10, 2)).label("share"))
    with pytest.raises(ValueError, match="numeric results"):
        Compiled(statement, db.engine.dialect)


def test_a_written_row_becomes_a_persistent_object_without_a_select(app_context):
    at = utcnow()
    log_id = LOG_INSERT.scalar(_log(code="written", received_at=at))
    seen = []

    def grab(_conn, _cursor, statement, *_rest):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", grab)
    try:
        log = as_written(PostbackLog, {"id": log_id, "code": "written", "received_at": at})
        db.session.add(log)
        assert (log.id, log.code, log.received_at) == (log_id, "written", at)
        assert db.session.get(PostbackLog, log_id) is log
        assert seen == []  # nothing read: the values given are the row's
        assert log.http_status == 200  # a column not given loads on first use
        assert len(seen) == 1
        log.code = "changed"  # and a change is written like any loaded object's
        db.session.flush()
    finally:
        event.remove(db.engine, "before_cursor_execute", grab)
    db.session.expire_all()
    assert db.session.get(PostbackLog, log_id).code == "changed"


def test_a_written_row_is_in_the_state_make_transient_to_detached_leaves(app_context):
    """as_written does make_transient_to_detached's work with a per-class plan: same key, same
    columns expired, nothing modified, for a class with relationships too."""
    at = utcnow()
    values = {"id": 7, "offer_id": 3, "code": "written", "received_at": at}
    written, reference = as_written(PostbackLog, values), PostbackLog(**values)
    ours = inspect(written)
    make_transient_to_detached(reference)
    theirs = inspect(reference)
    assert ours.key == theirs.key == (PostbackLog, (7,), None)
    assert ours.expired_attributes == theirs.expired_attributes
    assert "http_status" in ours.expired_attributes and "offer" not in ours.expired_attributes
    assert ours.dict.keys() == theirs.dict.keys() and ours.dict["id"] == 7
    assert (ours.modified, ours.committed_state) == (theirs.modified, theirs.committed_state) \
        == (False, {})


def test_a_written_row_needs_its_primary_key(app_context):
    with pytest.raises(TypeError, match=r"primary key \['id'\]"):
        as_written(PostbackLog, {"code": "written"})


def test_a_written_row_with_an_unknown_attribute_is_refused(app_context):
    with pytest.raises(TypeError, match=r"no attributes \['colour'\]"):
        as_written(PostbackLog, {"id": 1, "colour": "red"})

