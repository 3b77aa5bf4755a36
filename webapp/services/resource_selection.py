"""Choosing resources by criteria: a type, a search text, a name pattern ("ends with
-ads"), a tag they carry, a tag expression (``type:table -group:sensitivity``), or an
explicit list of ticked ids.

A :class:`ResourceCriteria` becomes one ``SELECT`` of resource ids, so a bulk action can
use a selection of any size as a subquery (no id list travels through Python).  Counting,
paging and listing a selection each cost a fixed number of statements.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, false, func, or_, select

from webapp.extensions import db
from webapp.models import Resource
from webapp.services.actor import Actor, Permission, authorize
from webapp.services.errors import FieldError, LimitExceeded, ValidationFailed
from webapp.services.expressions.compiler import Matcher, resolve
from webapp.services.expressions.syntax import parse_optional
from webapp.services.paging import Page, PageRequest
from webapp.services.resources import ResourceRow, clean_type, resource_query, tags_by_resource
from webapp.services.sql import integer_key

PATTERN_MAX = 255
SEARCH_MAX = 255
MAX_TICKED = 50_000

E = TypeVar("E", bound=enum.StrEnum)


class PatternMode(enum.StrEnum):
    """Where the pattern must occur in the field."""

    STARTS = "starts"
    ENDS = "ends"
    CONTAINS = "contains"


class PatternField(enum.StrEnum):
    """Which field the pattern is matched against."""

    NAME_OR_SLUG = "name_or_slug"
    NAME = "name"
    SLUG = "slug"
    ID = "id"


@dataclass(frozen=True)
class ResourceCriteria:
    """Which resources of a scope to take; every criterion given must hold (AND).

    ``search`` is a case-insensitive substring of the id, name or slug (as the resource
    list searches).  ``pattern`` is matched case-insensitively as ``mode`` says, on the
    field ``on`` names.  ``tag_id`` keeps resources carrying that tag; ``expression`` those
    a tag expression matches (resolved in the scope, see
    :mod:`webapp.services.expressions`); ``ids`` keeps only those resource keys (rows
    ticked by hand); ``None`` means no such restriction.
    """

    rtype: str | None = None
    search: str | None = None
    pattern: str | None = None
    mode: PatternMode = PatternMode.CONTAINS
    on: PatternField = PatternField.NAME_OR_SLUG
    tag_id: int | None = None
    ids: tuple[int, ...] | None = None
    expression: Matcher | None = None

    def without_type(self) -> ResourceCriteria:
        return replace(self, rtype=None)


@dataclass(frozen=True)
class SelectionCount:
    """How many resources a selection holds, per type and in all."""

    by_type: dict[str, int]
    total: int


def build_criteria(
    *,
    rtype: object = None,
    search: object = None,
    pattern: object = None,
    mode: object = None,
    on: object = None,
    tag_id: object = None,
    ids: Iterable[object] | None = None,
    expression: object = None,
    scope_id: int | None = None,
) -> ResourceCriteria:
    """Criteria from loosely typed input (form values), or ValidationFailed naming the field.

    Empty strings mean "no restriction"; unknown types, modes and fields are refused.  An
    ``expression`` is parsed and resolved in ``scope_id`` (one statement when it names
    tags, groups or sources); its errors name the field ``expr``.
    """
    errors: list[FieldError] = []

    def text(value: object, field: str, limit: int) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str):
            errors.append(FieldError(field, "must be text"))
            return None
        cleaned = value.strip()
        if len(cleaned) > limit:
            errors.append(FieldError(field, f"must be at most {limit} characters"))
            return None
        return cleaned or None

    cleaned_type: str | None = None
    if rtype not in (None, ""):
        try:
            cleaned_type = clean_type(rtype, "type")
        except ValidationFailed as error:
            errors.extend(error.details)
    cleaned_mode = _enum(PatternMode, mode, PatternMode.CONTAINS, "mode", errors)
    cleaned_on = _enum(PatternField, on, PatternField.NAME_OR_SLUG, "on", errors)
    cleaned_tag: int | None = None
    if tag_id not in (None, ""):
        cleaned_tag = integer_key(tag_id)
        if cleaned_tag is None:
            errors.append(FieldError("tag", "must be a tag key"))
    cleaned_ids: tuple[int, ...] | None = None
    if ids is not None:
        keys: dict[int, None] = {}
        for raw in ids:
            key = integer_key(raw)
            if key is None:
                errors.append(FieldError("ticked", f"{raw!r} is not a resource key"))
                break
            keys[key] = None
        if len(keys) > MAX_TICKED:
            raise LimitExceeded(
                f"at most {MAX_TICKED} ticked resources ({len(keys)} given)",
                [FieldError("ticked", f"at most {MAX_TICKED} ticked resources")],
            )
        cleaned_ids = tuple(keys)
    matcher: Matcher | None = None
    if expression is not None:
        matcher = _expression(expression, scope_id, errors)
    criteria = ResourceCriteria(
        rtype=cleaned_type,
        search=text(search, "q", SEARCH_MAX),
        pattern=text(pattern, "pattern", PATTERN_MAX),
        mode=cleaned_mode,
        on=cleaned_on,
        tag_id=cleaned_tag,
        ids=cleaned_ids,
        expression=matcher,
    )
    if errors:
        raise ValidationFailed("; ".join(f"{e.field}: {e.message}" for e in errors), errors)
    return criteria


EXPRESSION_FIELD = "expr"


def _expression(raw: object, scope_id: int | None, errors: list[FieldError]) -> Matcher | None:
    if not isinstance(raw, str):
        errors.append(FieldError(EXPRESSION_FIELD, "must be text"))
        return None
    if scope_id is None:
        raise TypeError("an expression needs the scope_id it is resolved in")
    try:
        parsed = parse_optional(raw, EXPRESSION_FIELD)
        return resolve(scope_id, parsed, EXPRESSION_FIELD) if parsed is not None else None
    except ValidationFailed as error:
        errors.extend(error.details)
        return None


def _enum(kind: type[E], raw: object, default: E, field: str, errors: list[FieldError]) -> E:
    if raw in (None, ""):
        return default
    try:
        return kind(str(raw))
    except ValueError:
        errors.append(FieldError(field, f"must be one of {', '.join(m.value for m in kind)}"))
        return default


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _pattern_condition(criteria: ResourceCriteria) -> ColumnElement[bool] | None:
    if not criteria.pattern:
        return None
    term = _escape_like(criteria.pattern.lower())
    like = {
        PatternMode.STARTS: f"{term}%",
        PatternMode.ENDS: f"%{term}",
        PatternMode.CONTAINS: f"%{term}%",
    }[criteria.mode]
    columns: dict[PatternField, tuple[Any, ...]] = {
        PatternField.NAME_OR_SLUG: (Resource.name, Resource.slug),
        PatternField.NAME: (Resource.name,),
        PatternField.SLUG: (Resource.slug,),
        PatternField.ID: (Resource.external_id,),
    }
    return or_(*(func.lower(column).like(like, escape="\\") for column in columns[criteria.on]))


def selection_query(scope_id: int, criteria: ResourceCriteria) -> Select[tuple[Resource]]:
    """The ``SELECT`` of the scope's resources that ``criteria`` keeps."""
    query = resource_query(scope_id, rtype=criteria.rtype, search=criteria.search,
                           tag_id=criteria.tag_id)
    condition = _pattern_condition(criteria)
    if condition is not None:
        query = query.where(condition)
    if criteria.ids is not None:
        query = query.where(Resource.id.in_(criteria.ids) if criteria.ids else false())
    if criteria.expression is not None:
        if criteria.expression.scope_id != scope_id:
            raise ValueError("the expression was resolved in another scope")
        query = query.where(criteria.expression.condition())
    return query


def selected_ids(scope_id: int, criteria: ResourceCriteria) -> Select[tuple[int]]:
    """``SELECT resources.id`` of the selection, to use as a subquery."""
    return selection_query(scope_id, criteria).with_only_columns(Resource.id)


def count_selection(actor: Actor, scope_id: int, criteria: ResourceCriteria) -> SelectionCount:
    """How many resources match, per type, in one grouped query.

    ``by_type`` ignores ``criteria.rtype`` (so a type picker can show every type's count);
    ``total`` honours it.
    """
    authorize(actor, scope_id, Permission.TAGS_READ)
    return _count(scope_id, criteria)


def _count(scope_id: int, criteria: ResourceCriteria) -> SelectionCount:
    everywhere = selection_query(scope_id, criteria.without_type()).subquery()
    rows = db.session.execute(
        select(everywhere.c.type, func.count()).group_by(everywhere.c.type)
    ).all()
    by_type = {rtype: count for rtype, count in sorted(rows)}
    total = by_type.get(criteria.rtype, 0) if criteria.rtype else sum(by_type.values())
    return SelectionCount(by_type, total)


@dataclass(frozen=True)
class SelectionPage:
    """One page of a selection with the counts that go with it."""

    counts: SelectionCount
    page: Page[ResourceRow]


def browse_selection(actor: Actor, scope_id: int, criteria: ResourceCriteria,
                     paging: PageRequest | None = None) -> SelectionPage:
    """A page of the selection with each resource's live tags, and the per-type counts:
    three statements (counts, page, tags) whatever the page size."""
    authorize(actor, scope_id, Permission.TAGS_READ)
    paging = paging or PageRequest()
    counts = _count(scope_id, criteria)
    resources: Sequence[Resource] = []
    if counts.total:
        resources = db.session.scalars(
            selection_query(scope_id, criteria)
            .order_by(Resource.type, Resource.external_id)
            .limit(paging.per_page).offset(paging.offset)
        ).all()
    tags = tags_by_resource([r.id for r in resources])
    rows = [ResourceRow(r, tags[r.id]) for r in resources]
    return SelectionPage(counts, Page(rows, counts.total, paging.page, paging.per_page))


def selection_pairs(scope_id: int, criteria: ResourceCriteria) -> list[tuple[str, str]]:
    """``(type, external id)`` of every selected resource, in one query (the references
    the attach and detach services take)."""
    rows = db.session.execute(
        selection_query(scope_id, criteria)
        .with_only_columns(Resource.type, Resource.external_id)
        .order_by(Resource.type, Resource.external_id)
    ).all()
    return [(rtype, external_id) for rtype, external_id in rows]

