"""Hot-path statements on the session's own DB-API connection, in the session's transaction.

`Session.execute` costs about 0.37 ms of CPU per statement here (ORM execution state, result
metadata built from psycopg's column descriptions); the same statement on the psycopg cursor
costs about 0.05 ms. The conversion path runs half a dozen statements per postback, so its
statements are compiled once per dialect and run on the session's connection directly. The
session's type conversions still apply (each bound value goes through its column type's bind
processor, each result value through its result processor), pending ORM changes are flushed
first as an autoflush would, `before_cursor_execute` listeners see the statement, and a
database error comes out as SQLAlchemy's own exception class, after a lost connection is
invalidated, as `Session.execute` would do.

Only psycopg gets the direct route; on any other driver (SQLite, the embedded default) the
statement runs through the session unchanged.
"""

import functools
from collections import namedtuple
from collections.abc import Sequence
from typing import Any, NamedTuple

import psycopg
from psycopg.rows import tuple_row
from sqlalchemy import Numeric
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.orm import attributes
from sqlalchemy.sql.crud import REQUIRED  # the marker of a DML value to be given

from cpa_network.extensions import db

_CONNECTION = "fastsql.connection"  # session.info: (root transaction, its connection)
_CURSOR = "fastsql.cursor"  # the pool record's info: the DB-API connection's kept cursor


class Compiled:
    """A statement's SQL for one dialect, its default values and its type processors."""

    __slots__ = ("binds", "defaults", "names", "results", "sql")

    def __init__(self, statement, dialect, column_keys: list[str] | None = None):
        compiled = statement.compile(dialect=dialect, column_keys=column_keys)
        # Columns left out whose default SQLAlchemy computes at execution: a constant default
        # is filled in here; anything else must be given.
        prefetch = [(c, c.default) for c in getattr(compiled, "insert_prefetch", ())] + \
            [(c, c.onupdate) for c in getattr(compiled, "update_prefetch", ())]
        computed = [c.name for c, default in prefetch if default is None or not default.is_scalar]
        if computed:
            raise ValueError(f"{statement.table}: give values for {computed}")
        if any(bind.expanding for bind in compiled.binds.values()):
            raise ValueError(f"{statement!r}: IN lists are not supported here")
        self.sql = str(compiled)
        # values written in the statement itself (a literal None included); not the ones to give
        self.defaults = {name: value for name, value in compiled.params.items()
                         if value is not REQUIRED and not compiled.binds[name].required}
        self.defaults |= {c.key: default.arg for c, default in prefetch}
        self.binds = [(name, processor) for name, bind in compiled.binds.items()
                      if (processor := bind.type.dialect_impl(dialect).bind_processor(
                          dialect)) is not None]
        columns = statement.exported_columns  # what a SELECT selects, or what DML returns
        if any(isinstance(column.type, Numeric) for column in columns):
            # their processors need the database's type of the column; not worth it here
            raise ValueError(f"{statement!r}: numeric results are not supported here")
        self.results = [(index, processor) for index, column in enumerate(columns)
                        if (processor := column.type.dialect_impl(dialect).result_processor(
                            dialect, None)) is not None]
        self.names = RowNames()

    def parameters(self, given: dict) -> dict:
        params = self.defaults | given
        try:
            for name, processor in self.binds:
                if name in params:
                    params[name] = processor(params[name])
        except Exception as error:  # as Session.execute wraps a bind processor's refusal
            raise StatementError(str(error), self.sql, given, error) from error
        return params


class Statement:
    """A SQLAlchemy Core statement run on the session's psycopg connection where there is one."""

    def __init__(self, statement):
        self.statement = statement
        self._is_dml = statement.is_dml
        self._compiled: dict[tuple, Compiled] = {}  # by dialect and, for DML, parameter names

    def rows(self, params: dict, connection=None) -> Sequence[Any]:
        """Every row, each readable by column name (`row.id`) and by position. `connection`:
        a SQLAlchemy Connection on psycopg to run on instead of the session's (the postback's
        autocommit reads, offers.postback_direct); the session is then left alone."""
        session = None
        if connection is None:
            session = db.session()
            connection = session_connection(session)
        if connection.dialect.driver != "psycopg":
            result = session.execute(self.statement, params)
            return result.all() if not self._is_dml or result.returns_rows else []
        keys = tuple(params) if self._is_dml else ()
        compiled = self._compiled.get((connection.dialect, keys))
        if compiled is None:
            compiled = self._compiled[connection.dialect, keys] = Compiled(
                self.statement, connection.dialect, list(keys) if self._is_dml else None)
        rows = run(connection, compiled.sql, compiled.parameters(params),
                   names=compiled.names, session=session, flush=session is not None)
        if compiled.results:
            rows = [_processed(row, compiled.results) for row in rows]
        return rows

    def first(self, params: dict, connection=None):
        rows = self.rows(params, connection)
        return rows[0] if rows else None

    def scalar(self, params: dict, connection=None):
        row = self.first(params, connection)
        return None if row is None else row[0]


class RowNames:
    """One statement's rows as named tuples (`row.id`): the class is made from the column names
    of its first result, which every later result repeats. psycopg's `namedtuple_row` reads
    the names again for each result, and again whenever a cursor's row factory is set: that
    cost about 5 % of a postback's CPU."""

    __slots__ = ("row_class",)

    def __init__(self):
        self.row_class = None

    def rows(self, result, rows: list[tuple]) -> list:
        row_class = self.row_class
        if row_class is None:
            names = [result.fname(i).decode() for i in range(result.nfields)]
            row_class = self.row_class = namedtuple("Row", names, rename=True)
        return [row_class._make(row) for row in rows]


def _processed(row, results):
    values = list(row)
    for index, processor in results:
        values[index] = processor(values[index])
    return row._make(values)


def session_connection(session=None):
    """The session's connection in its current transaction (begun if there is none), as
    `Session.connection()` returns it; remembered for that transaction, since asking the
    session again costs more than some of the hot path's statements."""
    if session is None:
        session = db.session()
    transaction = session.get_transaction()
    remembered = session.info.get(_CONNECTION)
    if (transaction is not None and remembered is not None and remembered[0] is transaction
            and transaction.is_active and not remembered[1].invalidated):
        return remembered[1]
    connection = session.connection()
    session.info[_CONNECTION] = (session.get_transaction(), connection)
    return connection


def run(connection, sql: str, params, *, names: RowNames | None = None, session=None,
        flush: bool = True) -> list:
    """Plain SQL (psycopg's %s or %(name)s placeholders) on `connection`, a SQLAlchemy
    Connection on psycopg, after flushing what the session holds (unless `flush` is False: the
    connection is not the session's); its rows, as tuples or, given the statement's `names`, as
    named tuples."""
    if flush:  # as an autoflush: returns at once when nothing is pending
        (db.session() if session is None else session).flush()
    driver = connection.connection.driver_connection
    try:
        cursor = _cursor(connection, driver)
        # listeners (statement recorders in tests and benchmarks) still see the statement
        connection.dispatch.before_cursor_execute(connection, cursor, sql, params, None, False)
        cursor.execute(sql, params)
        result = cursor.pgresult  # not cursor.description, which builds column objects
        if result is None or not result.nfields:
            return []
        return cursor.fetchall() if names is None else names.rows(result, cursor.fetchall())
    except psycopg.Error as error:
        invalidated = connection.dialect.is_disconnect(error, driver, None)
        if invalidated:
            connection.invalidate(error)
        raise DBAPIError.instance(sql, params, error, psycopg.Error,
                                  connection_invalidated=invalidated,
                                  dialect=connection.dialect) from error


def _cursor(connection, driver) -> psycopg.Cursor:
    """One cursor per DB-API connection, kept with it in the pool's record and used for every
    statement run here: a new cursor per statement cost about a quarter of the statement's
    own CPU. `run` reads all of a result before it returns, so no two uses overlap. Its rows
    are plain tuples; `RowNames` names them."""
    kept = connection.info.get(_CURSOR)
    if kept is None or kept.closed or kept.connection is not driver:
        kept = connection.info[_CURSOR] = driver.cursor(row_factory=tuple_row)
    return kept


def as_written(cls, values: dict):
    """An instance of the mapped class `cls` for a row this transaction wrote itself by a
    statement: detached, as if loaded from `values` (the columns left out load on first use).
    Unlike `cls(**values)` no attribute event fires per column; add it to the session to use
    it as any loaded object.

    What `make_transient_to_detached` does to a new instance, with its per-class work done
    once per set of columns given (it cost about 5 % of a postback's CPU): the identity key
    from the primary key, and the columns left out marked expired, so they load on first use.
    """
    plan = _written_plan(cls, frozenset(values))
    instance = plan.manager.new_instance()
    state = attributes.instance_state(instance)
    state.dict.update(values)
    state.key = (plan.identity_class, tuple(values[key] for key in plan.key_columns),
                 state.identity_token)
    state.expired_attributes.update(plan.left_out)
    plan.manager.dispatch.expire(state, plan.unloaded)  # as make_transient_to_detached does
    return instance


class _WrittenPlan(NamedTuple):
    manager: Any
    identity_class: type
    key_columns: tuple[str, ...]
    left_out: frozenset[str]  # the column attributes not given: they load on first use
    unloaded: frozenset[str]  # every attribute not given (relationships load by their own)


@functools.cache
def _written_plan(cls, given: frozenset[str]) -> _WrittenPlan:
    mapper = cls.__mapper__
    unknown = given - frozenset(mapper.attrs.keys())
    if unknown:  # as the class's own constructor would refuse them
        raise TypeError(f"{cls.__name__} has no attributes {sorted(unknown)}")
    key_columns = tuple(prop.key for prop in mapper._identity_key_props)
    missing = [key for key in key_columns if key not in given]
    if missing:
        raise TypeError(f"{cls.__name__}: the primary key {missing} must be given")
    manager = mapper.class_manager
    unloaded = frozenset(key for key in manager if key not in given)
    left_out = frozenset(key for key in unloaded if manager[key].impl.accepts_scalar_loader)
    return _WrittenPlan(manager, mapper._identity_class, key_columns, left_out, unloaded)
