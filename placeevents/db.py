"""Declarative base, naming convention, the UTC DateTime type and SQLite connection setup."""

import enum
import sqlite3
from collections import namedtuple
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from threading import Lock
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import registry as orm_registry

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(sa.types.TypeDecorator):
    """A timestamp stored in UTC and always read back as an aware datetime, on SQLite too."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; attach a time zone first")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def str_enum(enum_class: type[enum.Enum], length: int = 20) -> sa.Enum:
    """An enum column stored as its string values, with no database enum type."""
    return sa.Enum(
        enum_class,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class Base(DeclarativeBase):
    """The declarative base of every model."""

    registry = orm_registry(
        metadata=sa.MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime()},
    )


def reads_only_from_here() -> None:
    """Say the rest of this request only reads, e.g. a download streamed after its commit.

    On SQLite its later transactions then begin without the write lock, as a GET's do, so a
    slow client reading a large file never holds other writers back.
    """
    from flask import g

    g.reads_only = True


@contextmanager
def bookkeeping_write() -> Iterator[None]:
    """The one write a GET may make: bookkeeping nobody asked for, such as when a signed-in
    session was last seen. Transactions begun inside take the write lock, as a POST's do."""
    from flask import g

    g.bookkeeping = True
    try:
        yield
    finally:
        g.bookkeeping = False


def _wants_write_lock() -> bool:
    # GET never changes state, so reads need no write lock; everything else takes it up front.
    from flask import g, has_request_context, request

    if has_request_context():
        if g.get("bookkeeping"):
            return True
        return request.method not in {"GET", "HEAD", "OPTIONS"} and not g.get("reads_only")
    return True


@event.listens_for(Engine, "connect")
def _configure_sqlite(dbapi_connection: Any, connection_record: Any) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    # Let SQLAlchemy's "begin" event issue BEGIN itself (see below).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


# Execution options of a connection that only reads, each statement by itself (a single
# statement is consistent by itself): on SQLite it begins no transaction, saving a BEGIN and a
# ROLLBACK.
ONE_READ = {"placeevents_one_read": True}


@event.listens_for(Engine, "begin")
def _begin_sqlite(connection: Any) -> None:
    if connection.dialect.name != "sqlite":
        return
    if connection.get_execution_options().get("placeevents_one_read"):
        return
    # A write transaction takes the lock when it starts, so two writers never deadlock
    # on a lock upgrade (SQLITE_BUSY that the busy timeout cannot wait out).
    if _wants_write_lock():
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        # A reader's BEGIN takes no lock and cannot fail: said straight to the driver, it
        # costs a tenth of a statement run through SQLAlchemy (every GET begins one).
        connection.connection.driver_connection.execute("BEGIN")


_read_engines: dict[str, Engine] = {}
_read_engines_lock = Lock()


def read_engine(engine: Engine, options: dict[str, Any]) -> Engine:
    """The engine for one-statement reads answered before the app runs (a feed's poll, the
    version of the public pages). SQLite's own: a local file, nothing to save. PostgreSQL: one
    of its own per process and database, in autocommit and without the pre-ping, so a read is
    one round trip where the app's pooled connection makes four (ping, BEGIN, the query,
    ROLLBACK). A connection that has gone stale fails its read; the pool drops it and the app,
    whose connections are pinged, answers that request. Other engine options are the app's."""
    if engine.dialect.name == "sqlite":
        return engine
    key = engine.url.render_as_string(hide_password=False)
    with _read_engines_lock:
        if key not in _read_engines:
            mine = {**options, "pool_pre_ping": False, "isolation_level": "AUTOCOMMIT"}
            _read_engines[key] = sa.create_engine(engine.url, **mine)
        return _read_engines[key]


def read_first(engine: Engine, sql: str) -> tuple[Any, ...] | None:
    """The first row of one parameterless statement, or None when there is no row or the read
    fails (the caller then goes its usual way).

    Read on a pooled DBAPI connection, past SQLAlchemy's execution layer, which costs several
    times the statement itself for a read as small as a counter. With `read_engine` the
    connection runs no transaction: SQLite's begin no BEGIN of their own (`_configure_sqlite`),
    PostgreSQL's read engine is in autocommit. Observers of the engine's statements (query
    counters, the benchmarks) are told of it as of any other."""
    try:
        connection = engine.raw_connection()
    except sa.exc.SQLAlchemyError:
        return None
    try:
        rows = _driver_rows(engine, connection.dbapi_connection, sql)
    except engine.dialect.loaded_dbapi.Error:
        connection.invalidate()  # a connection the server dropped is not returned to the pool
        return None
    finally:
        connection.close()
    return tuple(rows[0]) if rows else None


def _driver_rows(
    engine: Engine, raw: Any, sql: str, args: Any = None, observed_as: Any = None
) -> list[Any]:
    """The rows of `sql` run on `raw`, a DBAPI connection of `engine`'s pool, its statement
    observers told first (`observed_as` is the SQLAlchemy Connection, where there is one). A
    driver error goes up; where the server had dropped that connection (a restart drops them
    all), the pool's other connections are given up first, as SQLAlchemy does after its own
    statements, so the next reads connect afresh instead of each meeting a dead one in turn."""
    cursor = raw.cursor()
    try:
        if engine.dispatch.before_cursor_execute:
            observed = () if args is None else args
            engine.dispatch.before_cursor_execute(observed_as, cursor, sql, observed, None, False)
        if args is None:
            cursor.execute(sql)
        else:
            cursor.execute(sql, args)
        return cursor.fetchall()
    except engine.dialect.loaded_dbapi.Error as exc:
        if engine.dialect.is_disconnect(exc, raw, None):
            engine.dispose()
        raise
    finally:
        cursor.close()


class ReadAgain(Exception):
    """A read straight on the driver failed (a connection the server dropped, most often): the
    connection is invalidated; read again the usual way, which reports any other fault."""


_plain: dict[tuple[int, str], tuple[Any, ...]] = {}
_plain_lock = Lock()


def _prepared(statement: sa.Select[Any], dialect: Any) -> tuple[Any, ...]:
    key = (id(statement), dialect.name)
    found = _plain.get(key)
    if found is None:
        compiled = statement.compile(dialect=dialect)
        binds = {
            name: bind.type.dialect_impl(dialect).bind_processor(dialect)
            for name, bind in compiled.binds.items()
        }
        results = tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, None)
            for column in statement.selected_columns
        )
        names = [column.key or f"c{n}" for n, column in enumerate(statement.selected_columns)]
        row_type = namedtuple("PlainRow", names, rename=True)  # type: ignore[misc]
        # The statement too: its id stays its own while it is kept here.
        found = (statement, compiled, binds, results, row_type)
        with _plain_lock:
            _plain[key] = found
    return found


def plain_rows(statement: sa.Select[Any], params: dict[str, Any], connection: Any) -> list[Any]:
    """The rows of a SELECT of columns (no entities), run straight on the DBAPI cursor of
    `connection` (a SQLAlchemy Connection), its parameters and values converted by their
    columns' types as SQLAlchemy's execution converts them: the same values, as named tuples.

    For a page that only shows what it reads: SQLAlchemy's work around a statement (its
    execution context, the result's metadata from the cursor's description) costs more than
    a small indexed statement itself, on PostgreSQL twice over. The statement is compiled once
    per dialect: it must be one built once (a module's cached statement). Observers of the
    engine's statements are told of it, as of any other. A fault from the driver invalidates
    the connection and raises ReadAgain."""
    dialect = connection.dialect
    _, compiled, binds, results, row_type = _prepared(statement, dialect)
    values = compiled.construct_params(params)
    for name, value in values.items():
        process = binds.get(name)
        if process is not None:
            values[name] = process(value)
    args = tuple(values[name] for name in compiled.positiontup) if compiled.positional else values
    sql = compiled.string
    raw = connection.connection.driver_connection
    try:
        fetched = _driver_rows(connection.engine, raw, sql, args, observed_as=connection)
    except dialect.loaded_dbapi.Error as exc:
        connection.invalidate(exc)
        raise ReadAgain(str(exc)) from exc
    return [
        row_type(*(value if process is None else process(value)
                   for process, value in zip(results, row, strict=True)))
        for row in fetched
    ]  # fmt: skip
