"""Writing a scope's taxonomy: its groups, then its live tags, each as a record of
:mod:`.records`, in JSON, CSV or YAML.

Streamed: the tags are read in batches (:data:`BATCH`) and each record is written as soon
as it is read, so the memory an export takes does not grow with the scope.  Records come
in a fixed order, groups by identifier and tags by qualified name (code point order of
their keys on both databases), which puts every parent before its children and makes two
exports of the same taxonomy the same file, byte for byte.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from typing import Any

import yaml
from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import aliased

from webapp.extensions import db
from webapp.models import Tag, TagAlias, TagGroup
from webapp.services import names
from webapp.services.sql import dialect_name, integer_list
from webapp.services.taxonomy.records import (
    CSV_COLUMNS,
    FORMAT_NAME,
    FORMAT_VERSION,
    Format,
)

BATCH = 2000  # tags read per batch
_DUMPER: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def code_point_order(column: Any) -> ColumnElement[Any]:
    """``column`` compared by code point: SQLite's default; PostgreSQL's ``"C"``
    collation (its default collation may sort by language rules)."""
    return column.collate("C") if dialect_name() == "postgresql" else column


def group_records(scope_id: int) -> list[dict[str, Any]]:
    """The scope's groups, by identifier (one statement; a scope has few)."""
    groups = db.session.scalars(
        select(TagGroup).where(TagGroup.scope_id == scope_id)
        .order_by(code_point_order(TagGroup.identifier_key))
    ).all()
    return [{"identifier": group.identifier, "label": group.label, "color": group.color,
             "description": group.description, "exclusive": bool(group.exclusive),
             "allowed_types": sorted(group.allowed_types or []),
             "assign_role": group.assign_role} for group in groups]


def tag_records(scope_id: int) -> Iterator[dict[str, Any]]:
    """The scope's live tags by qualified name, read in batches of BATCH: two statements
    each (the tags, with the name of a live replacement; their aliases), the next batch
    starting after the last key read."""
    order = code_point_order(Tag.path_key)
    replacement = aliased(Tag, name="replacement")
    replacement_group = aliased(TagGroup, name="replacement_group")
    query = (
        select(Tag.id, Tag.path_key, Tag.path, TagGroup.identifier, Tag.label, Tag.color,
               Tag.description, Tag.protected, Tag.system_created, Tag.source,
               Tag.deprecated_at, replacement.path.label("replacement_path"),
               replacement_group.identifier.label("replacement_group"))
        .outerjoin(TagGroup, TagGroup.id == Tag.group_id)
        .outerjoin(replacement, and_(replacement.id == Tag.replacement_id,
                                     replacement.deleted_at.is_(None)))
        .outerjoin(replacement_group, replacement_group.id == replacement.group_id)
        .where(Tag.scope_id == scope_id, Tag.deleted_at.is_(None))
        .order_by(order).limit(BATCH)
    )
    last: str | None = None
    while True:
        batch = db.session.execute(query if last is None else query.where(order > last)).all()
        aliases = _aliases([row.id for row in batch])
        for row in batch:
            yield _tag_record(row, aliases.get(row.id, []))
        if len(batch) < BATCH:
            return
        last = batch[-1].path_key


def _aliases(tag_ids: list[int]) -> dict[int, list[str]]:
    """The aliases of these tags, each tag's in key order (one statement)."""
    if not tag_ids:
        return {}
    found: dict[int, list[tuple[str, str]]] = {}
    for tag_id, alias, alias_key in db.session.execute(
        select(TagAlias.tag_id, TagAlias.alias, TagAlias.alias_key)
        .where(TagAlias.tag_id.in_(select(integer_list(tag_ids, "exported").c.id)))
    ).tuples():
        found.setdefault(tag_id, []).append((alias_key, alias))
    return {tag_id: [alias for _, alias in sorted(pairs)] for tag_id, pairs in found.items()}


def qualified(group: str | None, path: str) -> str:
    return f"{group}{names.GROUP_SEPARATOR}{path}" if group else path


def _tag_record(row: Any, aliases: list[str]) -> dict[str, Any]:
    return {"path": qualified(row.identifier, row.path), "label": row.label,
            "color": row.color, "description": row.description,
            "protected": bool(row.protected), "system_created": bool(row.system_created),
            "source": row.source, "aliases": aliases,
            "deprecated": row.deprecated_at is not None,
            "replacement": (qualified(row.replacement_group, row.replacement_path)
                            if row.replacement_path is not None else None)}


def render(fmt: Format, groups: list[dict[str, Any]], tags: Iterable[dict[str, Any]]
           ) -> Iterator[str]:
    """The file, piece by piece."""
    if fmt is Format.JSON:
        return _json(groups, tags)
    if fmt is Format.CSV:
        return _csv(groups, tags)
    return _yaml(groups, tags)


def _json(groups: list[dict[str, Any]], tags: Iterable[dict[str, Any]]) -> Iterator[str]:
    yield (f'{{\n  "format": {json.dumps(FORMAT_NAME)},\n  "version": {FORMAT_VERSION},\n'
           '  "groups": [')
    yield from _json_items(groups)
    yield ',\n  "tags": ['
    yield from _json_items(tags)
    yield "\n}\n"


def _json_items(records: Iterable[dict[str, Any]]) -> Iterator[str]:
    """One record a line; ``]`` right after ``[`` when there are none."""
    separator = "\n    "
    for record in records:
        yield separator + json.dumps(record, ensure_ascii=False)
        separator = ",\n    "
    yield "]" if separator == "\n    " else "\n  ]"


def _csv(groups: list[dict[str, Any]], tags: Iterable[dict[str, Any]]) -> Iterator[str]:
    columns = CSV_COLUMNS
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def line(cells: list[Any]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(cells)
        return buffer.getvalue()

    yield line(list(columns))
    for kind, records in (("group", groups), ("tag", tags)):
        identity = "identifier" if kind == "group" else "path"
        for record in records:
            cells = {"kind": kind, "name": record[identity], **record}
            yield line([_cell(cells.get(column)) if column in cells else ""
                        for column in columns])


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "\n".join(value)
    return str(value)


def _yaml(groups: list[dict[str, Any]], tags: Iterable[dict[str, Any]]) -> Iterator[str]:
    yield f"format: {FORMAT_NAME}\nversion: {FORMAT_VERSION}\n"
    for key, records in (("groups", groups), ("tags", tags)):
        empty = True
        for record in records:
            if empty:
                yield f"{key}:\n"
                empty = False
            yield yaml.dump([record], Dumper=_DUMPER, sort_keys=False, allow_unicode=True,
                            default_flow_style=False, width=2**31 - 1)
        if empty:
            yield f"{key}: []\n"

