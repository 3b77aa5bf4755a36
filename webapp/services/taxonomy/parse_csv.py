"""Reading the CSV format: a header line naming the columns (``kind`` and ``name``
required, the others in any order, any left out), then one group or tag per record.

A cell may hold line breaks (quoted, as CSV does), so a record's line is the line it
starts on.  Booleans are ``true`` / ``false`` (also ``yes``/``no``, ``1``/``0``; empty is
false); a list (``allowed_types``, ``aliases``) holds one item per line of its cell, since
no name can hold a line break.  Blank lines are skipped.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from webapp.services.taxonomy.records import (
    BOOLEAN_FIELDS,
    CSV_COLUMNS,
    GROUP_FIELDS,
    GROUP_ONLY,
    LIST_FIELDS,
    TAG_FIELDS,
    RawRecord,
    RowError,
)

KNOWN_COLUMNS = CSV_COLUMNS
TRUE = frozenset({"true", "yes", "1"})
FALSE = frozenset({"false", "no", "0", ""})
KINDS = {"group": "group", "tag": "tag"}
SPELLED = {"group": {"identifier": "name"}, "tag": {"path": "name"}}  # shared, read-only


def read(text: str) -> tuple[list[RawRecord], list[RowError]]:
    errors: list[RowError] = []
    records = list(records_of(text, errors))
    return records, errors


def records_of(text: str, errors: list[RowError]) -> Iterator[RawRecord]:
    """The file's records one by one as they are read (so a 100,000-line file is never
    held as 100,000 records at once), the problems added to ``errors``; none when the
    header is wrong."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as error:
        errors.append(RowError(1, None, f"not CSV: {error}"))
        return
    if header is None or not any(cell.strip() for cell in header):
        errors.append(RowError(1, None, "the file is empty: a header line "
                                        f"({','.join(CSV_COLUMNS)}) comes first"))
        return
    columns = [cell.strip().lower() for cell in header]
    problems = len(errors)
    for index, column in enumerate(columns):
        if column not in KNOWN_COLUMNS:
            errors.append(RowError(1, column or f"column {index + 1}",
                                   f"unknown column; the columns are {', '.join(KNOWN_COLUMNS)}"))
        elif columns.index(column) != index:
            errors.append(RowError(1, column, "the column is named twice"))
    for required in ("kind", "name"):
        if required not in columns:
            errors.append(RowError(1, required, "the header must name this column"))
    if len(errors) > problems:
        return
    line = reader.line_num + 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            errors.append(RowError(line, None, f"not CSV: {error}"))
            break
        start, line = line, reader.line_num + 1
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(columns):
            errors.append(RowError(start, None, f"{len(row)} fields, but the header names "
                                                f"{len(columns)}"))
            continue
        record = _record(start, dict(zip(columns, row, strict=False)), errors)
        if record is not None:
            yield record


def _record(line: int, cells: dict[str, str], errors: list[RowError]) -> RawRecord | None:
    kind = KINDS.get(cells.pop("kind").strip().lower())
    if kind is None:
        errors.append(RowError(line, "kind", "must be group or tag"))
        return None
    identity = "identifier" if kind == "group" else "path"
    fields = GROUP_FIELDS if kind == "group" else TAG_FIELDS
    values: dict[str, Any] = {identity: cells.pop("name")}
    ok = True
    for column, cell in cells.items():
        if column not in fields:
            if cell.strip():
                owner = "groups" if column in GROUP_ONLY else "tags"
                errors.append(RowError(line, column, f"only {owner} have this field; "
                                                     f"leave it empty on a {kind} line"))
                ok = False
            continue
        values[column] = _value(column, cell)
    return RawRecord(kind, line, values, SPELLED[kind]) if ok else None


def _value(column: str, cell: str) -> Any:
    """The cell as the field wants it: a boolean, a list, text or None (empty).  A cell
    that is no boolean stays text, for the check to refuse with its field named."""
    if column in BOOLEAN_FIELDS:
        word = cell.strip().lower()
        return True if word in TRUE else False if word in FALSE else cell
    if column in LIST_FIELDS:
        return [item for item in cell.replace("\r\n", "\n").split("\n") if item.strip()]
    return cell if cell != "" else None
