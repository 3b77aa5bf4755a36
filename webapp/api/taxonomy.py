"""A scope's taxonomy as a file: ``GET /taxonomy`` exports it (JSON, CSV or YAML, streamed),
``POST /taxonomy`` imports one (a dry run by default).

Export needs ``tags.read``.  Import needs ``tags.write``, and ``groups.write`` when it
creates a group the file lists, changes or deletes one, and ``tags.delete`` when it deletes
tags (mirror mode); a dry run asks the same.  A file that does not read is a 400 naming each
problem's line and field (``line 7: color``); a real run whose rows the scope refuses is a
409 with the same details, while a dry run lists them under ``errors`` beside the diff.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from flask import request, stream_with_context
from pydantic import ValidationError
from spectree import Response

from webapp.api import api
from webapp.api.auth import caller
from webapp.api.errors import validation_error
from webapp.api.openapi import EXTRA_OPERATION_FIELDS, EXTRA_SCHEMAS, query_items, spec
from webapp.api.schemas.common import errors
from webapp.api.schemas.taxonomy import (
    ExportQuery,
    GroupStepOut,
    ImportQuery,
    ImportReport,
    TagStepOut,
    TaxonomyFile,
)
from webapp.services.errors import ValidationFailed
from webapp.services.taxonomy.apply import (
    ImportResult,
    export_taxonomy,
    import_taxonomy,
)
from webapp.services.taxonomy.plan import FieldChange, GroupStep, TagStep
from webapp.services.taxonomy.records import (
    ACCEPTED_MEDIA_TYPES,
    MEDIA_TYPES,
    Format,
    Mode,
    RowError,
)
from webapp.url_layout import API_PREFIX

PATH = "/taxonomy"


@api.get(PATH)
@spec.validate(query=ExportQuery, resp=Response("HTTP_200", **errors()), tags=["taxonomy"])
def export_taxonomy_file(query: ExportQuery) -> tuple[Iterator[bytes], int, dict[str, str]]:
    """Export the scope's groups and live tags as one file (needs tags.read), streamed:
    groups by identifier, then tags by qualified name, parents first."""
    who = caller()
    exported = export_taxonomy(who.actor, who.scope_id, Format(query.format))
    chunks = (chunk.encode("utf-8") for chunk in exported.chunks)
    return stream_with_context(chunks), 200, {
        "Content-Type": exported.media_type,
        "Content-Disposition": f'attachment; filename="{exported.filename}"',
    }


@api.post(PATH)
@spec.validate(query=ImportQuery, resp=Response(HTTP_200=ImportReport, **errors(409)),
               tags=["taxonomy"], skip_validation=True)
def import_taxonomy_file() -> tuple[Iterator[str], int, dict[str, str]]:
    """Import a taxonomy file (the body, as JSON, CSV or YAML): a dry run answers the exact
    diff; `dry_run=false` applies it, all or nothing, as one change set."""
    query = import_query()
    who = caller()
    result = import_taxonomy(who.actor, who.scope_id, request.get_data(cache=True),
                             body_format(query.format), mode=Mode(query.mode),
                             dry_run=query.dry_run)
    # The report of a big file is a big document (100,000 tags: ~30 MB of JSON), so it
    # is written step by step as it is sent, each piece checked against its model as it
    # goes (the head against ImportReport first), instead of spectree checking the whole
    # document (which held it as text, bytes and a model per step at once: ~150 MB).
    return report_chunks(result), 200, {"Content-Type": "application/json"}


def import_query() -> ImportQuery:
    """The query, checked as spectree checks it (its validation is skipped for this route
    so that it does not buffer the streamed answer)."""
    try:
        return ImportQuery.model_validate(query_items(request.args, ImportQuery))
    except ValidationError as error:
        raise validation_error(error) from error


def body_format(named: str | None) -> Format:
    """The body's format: ``?format=``, else its Content-Type."""
    if named:
        return Format(named)
    found = ACCEPTED_MEDIA_TYPES.get(request.mimetype or "")
    if found is None:
        raise ValidationFailed.field(
            "format", "send the file as application/json, text/csv or application/yaml, "
            "or name its format (?format=json|csv|yaml)")
    return found


REPORT_CHUNK = 500  # steps per piece of the streamed report


def report_head(result: ImportResult) -> dict[str, Any]:
    """The report (the shape of ImportReport) but for its steps and errors."""
    plan = result.plan
    return {
        "dry_run": result.dry_run, "mode": plan.mode.value, "format": result.format.value,
        "valid": not plan.errors, "summary": result.summary,
        "change_set_id": result.change_set_id, "counts": plan.counts(),
    }


def group_out(step: GroupStep) -> dict[str, Any]:
    return {"action": step.action.value, "identifier": step.identifier, "line": step.line,
            "implied": step.implied, "values": step.values,
            "changes": [_change(change) for change in step.changes], "reason": step.reason}


def tag_out(step: TagStep) -> dict[str, Any]:
    return {"action": step.action.value, "path": step.path, "line": step.line,
            "implied": step.implied, "values": step.values,
            "changes": [_change(change) for change in step.changes], "reason": step.reason}


def report(result: ImportResult) -> dict[str, Any]:
    """The import report as plain data (what :func:`report_chunks` writes)."""
    plan = result.plan
    return {**report_head(result), "groups": [group_out(step) for step in plan.groups],
            "tags": [tag_out(step) for step in plan.tags],
            "errors": [_error(error) for error in plan.errors]}


def report_chunks(result: ImportResult) -> Iterator[str]:
    """The report as JSON text, in pieces of REPORT_CHUNK steps (the same text as
    ``json.dumps(report(result), ensure_ascii=False)``): only one piece's dicts live at a
    time.  Each piece is checked against its model before it is written; the head (the
    counts, the errors) before the first."""
    plan = result.plan
    head = report_head(result)
    errors_out = [_error(error) for error in plan.errors]
    ImportReport.model_validate({**head, "groups": [], "tags": [], "errors": errors_out})
    encoder = json.JSONEncoder(ensure_ascii=False)
    yield encoder.encode(head)[:-1]
    for name, steps, out, model in (("groups", plan.groups, group_out, GroupStepOut),
                                    ("tags", plan.tags, tag_out, TagStepOut)):
        yield f", {encoder.encode(name)}: ["
        for start in range(0, len(steps), REPORT_CHUNK):
            items = [out(step) for step in steps[start:start + REPORT_CHUNK]]
            for item in items:
                model.model_validate(item)
            yield (", " if start else "") + ", ".join(map(encoder.encode, items))
        yield "]"
    yield f", \"errors\": {encoder.encode(errors_out)}}}"


def _error(error: RowError) -> dict[str, Any]:
    return {"line": error.line, "field": error.field, "message": error.message}


def _change(change: FieldChange) -> dict[str, Any]:
    return {"field": change.field, "before": change.before, "after": change.after}


def _file_schemas() -> dict[str, Any]:
    """The file's JSON schema and its records', as components of the document."""
    schema = TaxonomyFile.model_json_schema(ref_template="#/components/schemas/{model}")
    definitions = schema.pop("$defs", {})
    return {"TaxonomyFile": schema, **definitions}


_TEXT = {"type": "string"}
EXTRA_SCHEMAS.update(_file_schemas())
_FILE = {"$ref": "#/components/schemas/TaxonomyFile"}
EXTRA_OPERATION_FIELDS[(API_PREFIX + PATH, "get")] = {"responses": {"200": {
    "description": "the file, as an attachment (`Content-Disposition`)",
    "content": {MEDIA_TYPES[Format.JSON]: {"schema": _FILE},
                MEDIA_TYPES[Format.CSV]: {"schema": _TEXT},
                MEDIA_TYPES[Format.YAML]: {"schema": _TEXT}},
}}}
EXTRA_OPERATION_FIELDS[(API_PREFIX + PATH, "post")] = {"requestBody": {
    "required": True,
    "description": "the file: JSON (the shape `GET /taxonomy` writes), CSV (a header "
                   "line, then a `group` or `tag` per line) or YAML (as JSON)",
    "content": {MEDIA_TYPES[Format.JSON]: {"schema": _FILE},
                MEDIA_TYPES[Format.CSV]: {"schema": _TEXT},
                MEDIA_TYPES[Format.YAML]: {"schema": _TEXT}},
}}
