"""Portable building blocks for set-based SQL on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Integer, String, Table, TextClause, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.selectable import Subquery

from webapp.extensions import db

# Integer primary keys are 32-bit on PostgreSQL; a larger handle cannot name a row.
INTEGER_KEY_MAX = 2**31 - 1


def integer_key(handle: object) -> int | None:
    """The integer primary key ``handle`` spells (an int, or ASCII digits), else None.

    Out-of-range numbers give None rather than reaching PostgreSQL, which would fail the
    query ("integer out of range"); non-ASCII digits such as "²" are not keys.
    """
    if isinstance(handle, bool):
        return None
    if isinstance(handle, int):
        value = handle
    elif isinstance(handle, str) and handle.strip().isascii() and handle.strip().isdigit():
        text = handle.strip()
        if len(text) > len(str(INTEGER_KEY_MAX)):
            return None
        value = int(text)
    else:
        return None
    return value if 1 <= value <= INTEGER_KEY_MAX else None


def dialect_name() -> str:
    return db.engine.dialect.name


def upsert_insert(table: Table | Any) -> Any:
    """``INSERT`` with ``on_conflict_do_nothing`` / ``on_conflict_do_update`` available."""
    module = postgresql if dialect_name() == "postgresql" else sqlite
    return module.insert(table)


def reference_pairs(pairs: Sequence[tuple[str, str]], name: str = "refs") -> Subquery:
    """A derived table ``(type, external_id)`` read from one JSON parameter.

    One bound parameter carries any number of pairs, so a bulk call is one statement
    however many resources it names (no parameter-count limit, no temporary table).
    """
    payload = json.dumps([list(pair) for pair in pairs])
    if dialect_name() == "postgresql":
        clause: TextClause = text(
            "SELECT elem->>0 AS type, elem->>1 AS external_id "
            f"FROM jsonb_array_elements(CAST(:{name}_json AS jsonb)) AS elem"
        )
    else:
        clause = text(
            "SELECT json_extract(value, '$[0]') AS type, "
            "json_extract(value, '$[1]') AS external_id "
            f"FROM json_each(:{name}_json)"
        )
    return (
        clause.bindparams(**{f"{name}_json": payload})
        .columns(type=String(), external_id=String())
        .subquery(name)
    )


def integer_list(values: Sequence[int], name: str = "ids") -> Subquery:
    """A derived table ``(id)`` read from one JSON parameter."""
    payload = json.dumps(list(values))
    if dialect_name() == "postgresql":
        clause: TextClause = text(
            "SELECT CAST(value AS bigint) AS id "
            f"FROM jsonb_array_elements_text(CAST(:{name}_json AS jsonb)) AS value"
        )
    else:
        clause = text(f"SELECT CAST(value AS INTEGER) AS id FROM json_each(:{name}_json)")
    return clause.bindparams(**{f"{name}_json": payload}).columns(id=Integer()).subquery(name)


def like_pattern(term: str) -> str:
    """``%term%`` with LIKE wildcards in ``term`` escaped by ``\\``."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def json_rows(rows: Sequence[Sequence[Any]], columns: Sequence[tuple[str, str]], name: str
              ) -> Subquery:
    """A derived table read from one JSON parameter: ``rows`` of values in the order of
    ``columns``, each ``(name, "text" | "integer")``.  Any number of rows is one statement
    and one bound parameter."""
    payload = json.dumps([list(row) for row in rows])
    if dialect_name() == "postgresql":
        selected = ", ".join(f"CAST(elem->>{i} AS {kind}) AS {column}"
                             for i, (column, kind) in enumerate(columns))
        clause: TextClause = text(
            f"SELECT {selected} FROM jsonb_array_elements(CAST(:{name}_json AS jsonb)) AS elem"
        )
    else:
        selected = ", ".join(f"json_extract(value, '$[{i}]') AS {column}"
                             for i, (column, _) in enumerate(columns))
        clause = text(f"SELECT {selected} FROM json_each(:{name}_json)")
    types = {column: Integer() if kind == "integer" else String() for column, kind in columns}
    return clause.bindparams(**{f"{name}_json": payload}).columns(**types).subquery(name)
