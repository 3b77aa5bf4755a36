"""Reads on the hottest paths: every API request looks up its key, and ``GET /tags/{id}``
is the call integrations make most.

SQLAlchemy's execution machinery costs about 40 µs per statement on a small machine,
several times what the database needs for an indexed look-up.  A :class:`HotRead` is a
Core ``select`` compiled once per dialect and run straight on a DBAPI cursor.  It keeps
what matters: each column's own type conversions (bind and result processors), and the
engine's ``before_cursor_execute`` listeners, so statement counts in tests and benchmarks
still see it.  It supports plain bound values (no expanding ``IN`` lists).

Inside the session's transaction it runs on the session's connection, so a read within a
write sees the write.  Before the session has begun one (the API key check comes first in
every API request) it runs alone, in autocommit, on a pooled connection of its own:
beginning and ending the session's transaction would cost more than the read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select
from sqlalchemy.engine import Connection, Dialect

from webapp.database import set_autocommit
from webapp.extensions import db

Processor = Callable[[Any], Any] | None


@dataclass(frozen=True)
class _Compiled:
    sql: str
    positions: tuple[str, ...] | None  # bind names in order, for positional paramstyles
    defaults: Mapping[str, Any]  # the values of the binds that carry their own
    binders: Mapping[str, Processor]
    columns: tuple[str, ...]
    converters: tuple[Processor, ...]


class HotRead:
    """One ``select`` whose first row is read many times a second."""

    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement
        self._by_dialect: dict[str, _Compiled] = {}

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

    def first(self, params: Mapping[str, Any]) -> dict[str, Any] | None:
        """The first row for ``params`` as ``{column key: value}``, or None."""
        connection, own = _connection_for_read()
        try:
            return self._first(connection, params)
        finally:
            if own:
                connection.close()

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
