"""Resources: the external things that carry tags, registered in bulk and listed with
their tags (two queries per page whatever its size)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Select, func, or_, select

from webapp.extensions import db
from webapp.models import RESOURCE_TYPES, Assignment, Resource, Tag
from webapp.models.types import utcnow
from webapp.services import names
from webapp.services.actor import Actor, Permission, authorize
from webapp.services.errors import NotFound, ValidationFailed
from webapp.services.paging import Page, PageRequest
from webapp.services.sql import like_pattern, upsert_insert
from webapp.services.uow import ChangeRecorder, writing

if TYPE_CHECKING:
    from webapp.services.expressions.syntax import Expression

EXTERNAL_ID_MAX = 255


@dataclass(frozen=True)
class ResourceInput:
    type: str
    external_id: str
    name: str | None = None
    slug: str | None = None


@dataclass(frozen=True)
class ResourceRow:
    resource: Resource
    tags: list[Tag]


def clean_type(raw: object, field: str = "type") -> str:
    value = str(raw).strip().lower() if isinstance(raw, str) else ""
    if value not in RESOURCE_TYPES:
        raise ValidationFailed.field(
            field, f"unknown resource type {raw!r}; known: {', '.join(RESOURCE_TYPES)}"
        )
    return value


def clean_external_id(raw: object, field: str = "id") -> str:
    if isinstance(raw, int) and not isinstance(raw, bool):
        raw = str(raw)
    if not isinstance(raw, str) or not raw.strip():
        raise ValidationFailed.field(field, "must be a non-empty string")
    value = names.trimmed(raw, field)
    if len(value) > EXTERNAL_ID_MAX:
        raise ValidationFailed.field(field, f"must be at most {EXTERNAL_ID_MAX} characters")
    return value


def _optional_text(raw: str | None, field: str) -> str | None:
    """A resource's name or slug: trimmed, at most 255 characters, None when blank."""
    if not raw or not names.trimmed(raw, field):
        return None
    return raw.strip()[:255]


def register_resources(actor: Actor, scope_id: int, items: Sequence[ResourceInput]) -> int:
    """Register (or update the name/slug of) many resources in one statement; returns how
    many were given."""
    cleaned = _clean_inputs(items)
    with writing(actor, scope_id, f"Register {len(cleaned)} resource(s)") as recorder:
        authorize(actor, scope_id, Permission.TAGS_WRITE)
        upsert_resources(scope_id, recorder, cleaned, actor)
    return len(cleaned)


def _clean_inputs(items: Sequence[ResourceInput]) -> list[ResourceInput]:
    unique: dict[tuple[str, str], ResourceInput] = {}
    for index, item in enumerate(items):
        rtype = clean_type(item.type, f"[{index}].type")
        external_id = clean_external_id(item.external_id, f"[{index}].id")
        name = _optional_text(item.name, f"[{index}].name")
        slug = _optional_text(item.slug, f"[{index}].slug")
        unique[(rtype, external_id)] = ResourceInput(rtype, external_id, name, slug)
    return list(unique.values())


def upsert_resources(scope_id: int, recorder: ChangeRecorder, items: Sequence[ResourceInput],
                     actor: Actor) -> None:
    """Insert missing resources and refresh given names, one executemany statement; the
    enabled auto-tagging rules run on the new ones (:mod:`webapp.services.rules`)."""
    if not items:
        return
    now = utcnow()
    rows = [
        {"scope_id": scope_id, "type": item.type, "external_id": item.external_id,
         "name": item.name, "slug": item.slug, "created_at": now}
        for item in items
    ]
    statement = upsert_insert(Resource.__table__)
    statement = statement.on_conflict_do_update(
        index_elements=["scope_id", "type", "external_id"],
        set_={
            "name": func.coalesce(statement.excluded.name, Resource.__table__.c.name),
            "slug": func.coalesce(statement.excluded.slug, Resource.__table__.c.slug),
        },
    )
    db.session.execute(statement, rows)
    pairs = [(item.type, item.external_id) for item in items]
    record_registration(scope_id, recorder, pairs)
    from webapp.services.rules import run_rules_on_registration

    run_rules_on_registration(actor, scope_id, recorder, pairs, now)


def record_registration(scope_id: int, recorder: ChangeRecorder,
                        pairs: Iterable[tuple[str, str]]) -> None:
    """One summary event per resource type named (not one per resource)."""
    per_type: dict[str, int] = defaultdict(int)
    for rtype, _ in pairs:
        per_type[rtype] += 1
    recorder.record_many([
        {"object_type": "resources", "object_id": scope_id, "action": "register",
         "before": None, "after": {"type": rtype, "count": count}}
        for rtype, count in sorted(per_type.items())
    ])


def tags_by_resource(resource_ids: Sequence[int]) -> dict[int, list[Tag]]:
    """The live tags of each resource, in one query."""
    result: dict[int, list[Tag]] = {resource_id: [] for resource_id in resource_ids}
    if not resource_ids:
        return result
    rows = db.session.execute(
        select(Assignment.resource_id, Tag)
        .join(Tag, Tag.id == Assignment.tag_id)
        .where(Assignment.resource_id.in_(list(resource_ids)), Tag.deleted_at.is_(None))
        .order_by(Tag.path_key)
    ).all()
    for resource_id, tag in rows:
        result[resource_id].append(tag)
    return result


@dataclass(frozen=True)
class TagResources:
    """The first resources carrying a tag, and how many carry it in all."""

    resources: list[Resource]
    total: int


def resources_by_tag(tag_ids: Sequence[int], *, rtype: str | None = None, limit: int = 20
                     ) -> dict[int, TagResources]:
    """For each tag, its first ``limit`` resources (of ``rtype`` when given) by type and
    external id, and its total: one windowed query whatever the number of tags."""
    found: dict[int, list[Resource]] = {tag_id: [] for tag_id in tag_ids}
    totals: dict[int, int] = dict.fromkeys(tag_ids, 0)
    if tag_ids:
        by_tag = {"partition_by": Assignment.tag_id}
        ranked = (
            select(
                Assignment.tag_id.label("tag_id"),
                Assignment.resource_id.label("resource_id"),
                func.row_number().over(
                    **by_tag, order_by=(Resource.type, Resource.external_id)
                ).label("rank"),
                func.count().over(**by_tag).label("total"),
            )
            .join(Resource, Resource.id == Assignment.resource_id)
            .where(Assignment.tag_id.in_(list(tag_ids)))
        )
        if rtype:
            ranked = ranked.where(Resource.type == clean_type(rtype))
        page = ranked.subquery()
        rows = db.session.execute(
            select(page.c.tag_id, page.c.total, Resource)
            .join(Resource, Resource.id == page.c.resource_id)
            .where(page.c.rank <= limit)
            .order_by(page.c.tag_id, page.c.rank)
        ).all()
        for tag_id, total, resource in rows:
            found[tag_id].append(resource)
            totals[tag_id] = total
    return {tag_id: TagResources(found[tag_id], totals[tag_id]) for tag_id in tag_ids}


def resource_query(
    scope_id: int,
    *,
    rtype: str | None = None,
    search: str | None = None,
    tag_id: int | None = None,
) -> Select[tuple[Resource]]:
    """The resources of a scope, filtered by type, a substring of id/name/slug, or a tag."""
    query = select(Resource).where(Resource.scope_id == scope_id)
    if rtype:
        query = query.where(Resource.type == rtype)
    if search:
        pattern = like_pattern(search.strip().lower())
        query = query.where(or_(
            func.lower(Resource.external_id).like(pattern, escape="\\"),
            func.lower(Resource.name).like(pattern, escape="\\"),
            func.lower(Resource.slug).like(pattern, escape="\\"),
        ))
    if tag_id is not None:
        query = query.where(
            Resource.id.in_(select(Assignment.resource_id).where(Assignment.tag_id == tag_id))
        )
    return query


def list_resources(
    actor: Actor,
    scope_id: int,
    *,
    rtype: str | None = None,
    search: str | None = None,
    tag: int | str | None = None,
    expression: Expression | None = None,
    paging: PageRequest | None = None,
) -> Page[ResourceRow]:
    """A page of resources with their live tags: a count, a page and one tag query (and
    one look-up of the names a tag ``expression`` uses, whose errors name ``q``)."""
    from webapp.services.expressions.compiler import resolve
    from webapp.services.tags.lookup import find_tag

    authorize(actor, scope_id, Permission.TAGS_READ)
    paging = paging or PageRequest()
    matcher = resolve(scope_id, expression, "q") if expression is not None else None
    tag_id = None
    if tag is not None:
        found = find_tag(scope_id, tag)
        if found is None:
            return Page([], 0, paging.page, paging.per_page)
        tag_id = found.id
    query = resource_query(scope_id, rtype=clean_type(rtype) if rtype else None,
                           search=search, tag_id=tag_id)
    if matcher is not None:
        query = query.where(matcher.condition())
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    resources = db.session.scalars(
        query.order_by(Resource.type, Resource.external_id)
        .limit(paging.per_page).offset(paging.offset)
    ).all()
    tags = tags_by_resource([r.id for r in resources])
    rows = [ResourceRow(r, tags[r.id]) for r in resources]
    return Page(rows, total, paging.page, paging.per_page)


def get_resource(actor: Actor, scope_id: int, rtype: str, external_id: str) -> ResourceRow:
    authorize(actor, scope_id, Permission.TAGS_READ)
    resource = db.session.scalar(
        select(Resource).where(
            Resource.scope_id == scope_id,
            Resource.type == clean_type(rtype),
            Resource.external_id == clean_external_id(external_id),
        )
    )
    if resource is None:
        raise NotFound(f"{rtype} {external_id!r} not found")
    return ResourceRow(resource, tags_by_resource([resource.id])[resource.id])


def resources_by_external_id(scope_id: int, rtype: str, external_ids: Sequence[str]
                             ) -> dict[str, Resource]:
    """The registered resources of one type among ``external_ids``, by id (one query)."""
    if not external_ids:
        return {}
    found = db.session.scalars(
        select(Resource).where(
            Resource.scope_id == scope_id,
            Resource.type == clean_type(rtype),
            Resource.external_id.in_(list(external_ids)),
        )
    )
    return {resource.external_id: resource for resource in found}
