"""Importing many resources at once (the web admin's CSV import), all or nothing.

Every line is checked first and every problem is reported with its line number; only
when all lines are good are the resources registered, with one set-based upsert
(:func:`webapp.services.resources.register_resources`), and the caller learns how many
were new and how many were registered already.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import exists, func, select

from webapp.extensions import db
from webapp.models import Resource
from webapp.services.actor import Actor, Permission, authorize
from webapp.services.errors import FieldError, LimitExceeded, ValidationFailed
from webapp.services.resources import (
    ResourceInput,
    clean_external_id,
    clean_type,
    register_resources,
)
from webapp.services.sql import reference_pairs
from webapp.services.uow import writing

MAX_IMPORT_LINES = 50_000


@dataclass(frozen=True)
class ImportLine:
    """One data line as read from the file; ``problem`` is what the reader already found
    wrong with it (say, too many fields), reported with the other lines' errors."""

    line: int
    type: str
    external_id: str
    name: str | None = None
    slug: str | None = None
    problem: str | None = None


@dataclass(frozen=True)
class ImportOutcome:
    lines: int  # data lines read
    resources: int  # distinct (type, id) among them
    created: int  # not registered before
    existing: int  # registered already (their name and slug were refreshed when given)

    @property
    def duplicates(self) -> int:
        """Lines naming a resource an earlier line named too (the last one wins)."""
        return self.lines - self.resources


def line_field(line: int) -> str:
    """The error field that names a line: ``line 7``."""
    return f"line {line}"


def import_resources(actor: Actor, scope_id: int, lines: Sequence[ImportLine]) -> ImportOutcome:
    """Register every line's resource, or none: any bad line fails the whole import with a
    ValidationFailed whose details name each bad line (``line 7``)."""
    authorize(actor, scope_id, Permission.TAGS_WRITE)
    if not lines:
        raise ValidationFailed.field("lines", "there are no data lines to import")
    if len(lines) > MAX_IMPORT_LINES:
        raise LimitExceeded(
            f"{len(lines)} lines; at most {MAX_IMPORT_LINES} per import",
            [FieldError("lines", f"at most {MAX_IMPORT_LINES:,} lines per import "
                                 f"({len(lines):,} given); split the file")],
        )
    items = _check(lines)
    distinct = {(item.type, item.external_id): item for item in items}
    with writing(actor, scope_id, f"Import {len(distinct)} resource(s)"):
        existing = _registered(scope_id, list(distinct))
        register_resources(actor, scope_id, list(distinct.values()))
    return ImportOutcome(len(lines), len(distinct), len(distinct) - existing, existing)


def _check(lines: Sequence[ImportLine]) -> list[ResourceInput]:
    errors: list[FieldError] = []
    items: list[ResourceInput] = []
    for line in lines:
        if line.problem:
            errors.append(FieldError(line_field(line.line), line.problem))
            continue
        problems: list[str] = []
        rtype = external_id = ""
        try:
            rtype = clean_type(line.type, "type")
        except ValidationFailed as error:
            problems += [f"{d.field}: {d.message}" for d in error.details]
        try:
            external_id = clean_external_id(line.external_id, "id")
        except ValidationFailed as error:
            problems += [f"{d.field}: {d.message}" for d in error.details]
        if problems:
            errors.append(FieldError(line_field(line.line), "; ".join(problems)))
        else:
            items.append(ResourceInput(rtype, external_id, line.name, line.slug))
    if errors:
        raise ValidationFailed(
            f"{len(errors)} line(s) have errors; nothing was imported", errors
        )
    return items


def _registered(scope_id: int, pairs: list[tuple[str, str]]) -> int:
    """How many of the references are registered already (one probe per reference)."""
    refs = reference_pairs(pairs)
    found = exists().where(
        Resource.scope_id == scope_id,
        Resource.type == refs.c.type,
        Resource.external_id == refs.c.external_id,
    )
    return db.session.scalar(select(func.count()).select_from(refs).where(found)) or 0


def register_resource(actor: Actor, scope_id: int, item: ResourceInput) -> bool:
    """Register one resource, or refresh the name and slug given for a registered one;
    True when it is new.  Errors name the fields ``type`` and ``id``."""
    authorize(actor, scope_id, Permission.TAGS_WRITE)
    rtype = clean_type(item.type, "type")
    external_id = clean_external_id(item.external_id, "id")
    with writing(actor, scope_id, f"Register {rtype} {external_id}"[:255]):
        existing = _registered(scope_id, [(rtype, external_id)])
        register_resources(actor, scope_id, [ResourceInput(rtype, external_id, item.name,
                                                           item.slug)])
    return not existing
