"""Turning service results into response models, with the look-ups they need batched."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import bindparam, literal_column, select, union_all

from webapp.api.schemas.tags import (
    ResourceOut,
    TaggedResourceOut,
    TagListItem,
    TagOut,
    TagRef,
)
from webapp.extensions import db
from webapp.models import Resource, Tag, User
from webapp.services.resources import ResourceRow, TagResources
from webapp.services.tag_queries import TagRow


def user_public_ids(user_ids: Iterable[int | None]) -> dict[int, str]:
    """Public ids of the given users, in one query."""
    wanted = {uid for uid in user_ids if uid is not None}
    if not wanted:
        return {}
    rows = db.session.execute(select(User.id, User.public_id).where(User.id.in_(wanted)))
    return {row.id: row.public_id for row in rows}


def tag_public_ids(tag_ids: Iterable[int | None]) -> dict[int, str]:
    """Public ids of the given tags (parents, typically), in one query."""
    wanted = {tid for tid in tag_ids if tid is not None}
    if not wanted:
        return {}
    rows = db.session.execute(select(Tag.id, Tag.public_id).where(Tag.id.in_(wanted)))
    return {row.id: row.public_id for row in rows}


# Owners' and parents' public ids in one statement, built once (building a statement costs
# more than running it on the single-tag hot path); the id lists are expanding parameters.
_OWNER, _PARENT = 0, 1
_PUBLIC_IDS = union_all(
    select(literal_column(str(_OWNER)).label("kind"), User.id, User.public_id)
    .where(User.id.in_(bindparam("user_ids", expanding=True))),
    select(literal_column(str(_PARENT)).label("kind"), Tag.id, Tag.public_id)
    .where(Tag.id.in_(bindparam("tag_ids", expanding=True))),
)


def _owner_and_parent_ids(tags: Sequence[Tag]) -> tuple[dict[int, str], dict[int, str]]:
    """Public ids of the tags' creators and of their parents, in one query (none if none)."""
    user_ids = sorted({t.created_by_id for t in tags if t.created_by_id is not None})
    tag_ids = sorted({t.parent_id for t in tags if t.parent_id is not None})
    found: tuple[dict[int, str], dict[int, str]] = ({}, {})
    if user_ids or tag_ids:
        for kind, row_id, public_id in db.session.execute(
                _PUBLIC_IDS, {"user_ids": user_ids, "tag_ids": tag_ids}):
            found[kind][row_id] = public_id
    return found


def tags_out(tags: Sequence[Tag]) -> list[TagOut]:
    """Seed-004 representations of ``tags``, in one query whatever their number."""
    owners, parents = _owner_and_parent_ids(tags)
    return [
        TagOut(
            id=tag.public_id,
            uuid=tag.uuid,
            key=tag.id,
            name=tag.name,
            label=tag.label,
            path=tag.path,
            qualified_name=tag.qualified_name,
            color=tag.color,
            category=tag.group.identifier if tag.group else None,
            description=tag.description,
            parent_tag_id=parents.get(tag.parent_id) if tag.parent_id else None,
            owner_id=owners.get(tag.created_by_id) if tag.created_by_id else None,
            source=tag.source,
            system_created=tag.system_created,
            protected=tag.protected,
            deleted=tag.deleted_at is not None,
            created_at=tag.created_at,
            updated_at=tag.updated_at,
        )
        for tag in tags
    ]


def tag_list_out(rows: Sequence[TagRow], nodes: Mapping[int, TagResources] | None = None
                 ) -> list[TagListItem]:
    """List items: each tag with its usage count and, when ``nodes`` is given, its nodes."""
    items = []
    for row, out in zip(rows, tags_out([row.tag for row in rows]), strict=True):
        extra: dict[str, Any] = {"usage_count": row.usage}
        if nodes is not None:
            carried = nodes[row.tag.id]
            extra["nodes"] = [resource_out(r) for r in carried.resources]
            extra["node_count"] = carried.total
        items.append(TagListItem(**dict(out), **extra))
    return items


def resource_out(resource: Resource) -> ResourceOut:
    return ResourceOut(id=resource.external_id, type=resource.type, name=resource.name,
                       slug=resource.slug, created_at=resource.created_at)


def tag_ref(tag: Tag) -> TagRef:
    return TagRef(id=tag.public_id, name=tag.name, path=tag.path,
                  category=tag.group.identifier if tag.group else None, color=tag.color)


def tagged_resources_out(rows: Sequence[ResourceRow]) -> list[TaggedResourceOut]:
    return [
        TaggedResourceOut(**dict(resource_out(row.resource)),
                          tags=[tag_ref(tag) for tag in row.tags])
        for row in rows
    ]
