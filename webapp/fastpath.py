"""Speed paths: the few places where Tagwright steps around SQLAlchemy's or Flask's general
machinery because the benchmarks (``benchmarks/README.md``) showed it cost more than the
work itself.  Everything of the kind lives here, so a service reads as what it does and
this page says how the bytes move.  Each path keeps the behaviour of the general one;
only its cost changes.

* :class:`HotRead` — a Core ``select`` compiled once per dialect and run straight on a
  DBAPI cursor.  Every API request looks up its key, and ``GET /tags/{id}`` is the call
  integrations make most; SQLAlchemy's execution path cost ~40 µs a statement, more than
  SQLite's answer.  Used by :mod:`webapp.services.api_keys` (the key look-up) and
  :mod:`webapp.services.tags.views` (a tag as the API shows it).  With the driver's
  ``BEGIN`` below and the API's null cookie session, in-process ``GET /tags/{id}`` went
  0.64 → 0.26 ms, and case 5 (API throughput, goal ×0.5 of a bare Flask route) ×0.39 →
  ×0.59 on SQLite; running alone before the session's transaction: ×0.51 → ×0.55 on
  PostgreSQL.
* :func:`reads_tag_with_key` — marks an API view whose tag is read in the same statement
  as the request's API key (one statement per call instead of two).  The blueprint's auth
  hook asks :func:`tag_read_with_key` for the tag's id.  Case 5 on PostgreSQL: ×0.45 →
  ×0.49 of the bare route (its goal is ×0.5, so this path is load-bearing there).
* :func:`install` — called by the app factory, after
  :func:`webapp.database.configure_engine`.  It changes only what SQLite sees:

  - transaction control: pysqlite's own is switched off, and the app sends ``BEGIN``
    (reads) or ``BEGIN IMMEDIATE`` (writes, so two writers queue on the lock instead of
    failing with "database is locked") straight to the driver.  Every request begins a
    transaction, and SQLAlchemy's statement machinery costs ten times the ``BEGIN``
    itself.  Case 6 (concurrent writers) counts on the ``IMMEDIATE``: 0 errors.
  - the rendering of a table's from-hints (SQLAlchemy's SQLite compiler drops them), which
    :func:`sqlite_not_indexed` needs: a rare search term looks tags up by the ids of the
    trigram index with ``FROM tags NOT INDEXED``, 180 → 5 ms over 1,000,000 tags (case 3,
    goal 50 ms).  Without the rendering the hint would vanish silently, so
    :func:`sqlite_not_indexed` refuses to build a statement before :func:`install` ran.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Select, Table, event
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.selectable import FromClause

from webapp.database import WRITE_OPTION, set_autocommit
from webapp.extensions import db
from webapp.services.sql import integer_key

if TYPE_CHECKING:
    from flask import Flask

Processor = Callable[[Any], Any] | None
View = TypeVar("View", bound=Callable[..., Any])

# --- reads on a DBAPI cursor -----------------------------------------------------------


@dataclass(frozen=True)
class _Compiled:
    sql: str
    positions: tuple[str, ...] | None  # bind names in order, for positional paramstyles
    defaults: Mapping[str, Any]  # the values of the binds that carry their own
    binders: Mapping[str, Processor]
    columns: tuple[str, ...]
    converters: tuple[Processor, ...]


class HotRead:
    """One ``select`` whose first row is read many times a second.

    Built once (at import), compiled once per dialect, run straight on a DBAPI cursor.  It
    keeps what matters: each column's own type conversions (bind and result processors),
    and the engine's ``before_cursor_execute`` listeners, so statement counts in tests and
    benchmarks still see it.  It supports plain bound values (no expanding ``IN`` lists).

    Inside the session's transaction it runs on the session's connection, so a read within
    a write sees the write.  Before the session has begun one (the API key check comes
    first in every API request) it runs alone, in autocommit, on a pooled connection of
    its own: beginning and ending the session's transaction would cost more than the read.
    """

    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement
        self._by_dialect: dict[str, _Compiled] = {}

    def first(self, params: Mapping[str, Any]) -> dict[str, Any] | None:
        """The first row for ``params`` as ``{column key: value}``, or None."""
        connection, own = _connection_for_read()
        try:
            return self._first(connection, params)
        finally:
            if own:
                connection.close()

    def _compiled(self, dialect: Dialect) -> _Compiled:
        found = self._by_dialect.get(dialect.name)
        if found is None:
            compiled = self.statement.compile(dialect=dialect)
            binds = compiled.binds
            found = _Compiled(
                sql=compiled.string,
                positions=tuple(compiled.positiontup or ()) if compiled.positional else None,
                defaults={name: bind.effective_value for name, bind in binds.items()
                          if not bind.required},
                binders={name: bind.type.dialect_impl(dialect).bind_processor(dialect)
                         for name, bind in binds.items()},
                columns=tuple(column.key for column in self.statement.selected_columns),
                converters=tuple(
                    column.type.dialect_impl(dialect).result_processor(dialect, None)
                    for column in self.statement.selected_columns),
            )
            self._by_dialect[dialect.name] = found
        return found

    def _first(self, connection: Connection, params: Mapping[str, Any]
               ) -> dict[str, Any] | None:
        compiled = self._compiled(connection.dialect)
        values = {**compiled.defaults, **params}
        for name, binder in compiled.binders.items():
            if binder is not None:
                values[name] = binder(values[name])
        arguments: Any = (tuple(values[name] for name in compiled.positions)
                          if compiled.positions is not None else values)
        cursor = connection.connection.cursor()
        try:
            for listener in connection.dispatch.before_cursor_execute:
                listener(connection, cursor, compiled.sql, arguments, None, False)
            cursor.execute(compiled.sql, arguments)
            row = cursor.fetchone()
        finally:
            cursor.close()
        if row is None:
            return None
        return {name: convert(value) if convert is not None else value
                for name, convert, value in zip(compiled.columns, compiled.converters, row,
                                                strict=True)}


def _connection_for_read() -> tuple[Connection, bool]:
    """The session's connection while its transaction is open, else a pooled connection
    of the read's own in autocommit (and True: the caller closes it)."""
    registry = db.session.registry
    if registry.has() and registry().in_transaction():
        return db.session.connection(), False
    connection = db.engine.connect()
    set_autocommit(connection, True)
    return connection, True


# --- the API: a tag read with the request's key ------------------------------------------

_TAG_ARGUMENT = "_tagwright_reads_tag_with_key"


def reads_tag_with_key(argument: str) -> Callable[[View], View]:
    """Mark an API view whose URL argument ``argument`` names a tag of the key's scope: the
    auth hook reads that tag in the statement that checks the key (an integer id only;
    other handles take the usual path), and the view finds the row in
    ``caller().tag_read``.  Place it right under the route decorator, so it marks the
    function the route registers; :func:`check_tag_reads_with_key` verifies ``argument``
    against the URL rule when the blueprint is registered."""
    def mark(view: View) -> View:
        setattr(view, _TAG_ARGUMENT, argument)
        return view
    return mark


def tag_read_with_key(view: Callable[..., Any] | None,
                      view_args: Mapping[str, Any] | None) -> int | None:
    """The id of the tag ``view`` reads with the key, from the request's URL arguments;
    None when the view is not marked or the handle is not an integer key."""
    argument = getattr(view, _TAG_ARGUMENT, None)
    if argument is None or view_args is None:
        return None
    return integer_key(view_args.get(argument))


def check_tag_reads_with_key(app: Flask) -> None:
    """Refuse (``RuntimeError``) a marked view whose URL rule lacks the argument it names
    (the API calls it when it registers its blueprint)."""
    for rule in app.url_map.iter_rules():
        argument = getattr(app.view_functions.get(rule.endpoint), _TAG_ARGUMENT, None)
        if argument is not None and argument not in rule.arguments:
            raise RuntimeError(f"{rule.endpoint}: @reads_tag_with_key({argument!r}) names "
                               f"no argument of {rule.rule}")


# --- SQLite: transaction control and from-hints -----------------------------------------

_engines: weakref.WeakSet[Engine] = weakref.WeakSet()
_sqlite_hints_rendered = False


def install(engine: Engine) -> None:
    """Install the engine-level speed paths on ``engine`` (idempotent; the app factory
    calls it after :func:`webapp.database.configure_engine`).  Only SQLite's statements
    and transactions change."""
    global _sqlite_hints_rendered
    if not _sqlite_hints_rendered:  # a compiler rule is global, not per engine
        compiles(Table, "sqlite")(_table_with_sqlite_hint)
        _sqlite_hints_rendered = True
    if engine.dialect.name == "sqlite" and engine not in _engines:
        _engines.add(engine)
        _begin_on_the_driver(engine)


def _begin_on_the_driver(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def app_begins(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's own transaction handling is unreliable: the "begin" hook sends BEGIN.
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def on_begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.connection.driver_connection.execute(  # type: ignore[union-attr]
            "BEGIN IMMEDIATE" if immediate else "BEGIN")


def _table_with_sqlite_hint(element: Table, compiler: Any, **kw: Any) -> str:
    """Render ``Select.with_hint(table, …, "sqlite")`` after the table name."""
    text: str = compiler.visit_table(element, **kw)
    hints = kw.get("fromhints")
    if kw.get("asfrom") and hints and element in hints:
        text += f" {hints[element]}"
    return text


SelectT = TypeVar("SelectT", bound=Select[Any])


def sqlite_not_indexed(statement: SelectT, table: FromClause | type[Any]) -> SelectT:
    """``statement`` with ``FROM table NOT INDEXED`` on SQLite (its rows reached by rowid
    only), for a planner without statistics that would walk an index instead; other
    dialects ignore the hint.  Only after :func:`install` ran."""
    if not _sqlite_hints_rendered:
        raise RuntimeError("webapp.fastpath.install() has not run: "
                           "SQLite would never see the NOT INDEXED hint")
    return statement.with_hint(table, "NOT INDEXED", "sqlite")
