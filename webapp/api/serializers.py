"""Turning service results into response models, with the look-ups they need batched."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import select

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
from webapp.services.tags.queries import TagRow
from webapp.services.tags.views import TagView, tag_views


def user_public_ids(user_ids: Iterable[int | None]) -> dict[int, str]:
    """Public ids of the given users, in one query."""
    wanted = {uid for uid in user_ids if uid is not None}
    if not wanted:
        return {}
    rows = db.session.execute(select(User.id, User.public_id).where(User.id.in_(wanted)))
    return {row.id: row.public_id for row in rows}


def tag_out(view: TagView) -> TagOut:
    """The seed-004 representation of one tag."""
    return TagOut(
        id=view.public_id,
        uuid=view.uuid,
        key=view.id,
        name=view.name,
        label=view.label,
        path=view.path,
        qualified_name=view.qualified_name,
        color=view.color,
        category=view.category,
        description=view.description,
        parent_tag_id=view.parent_public_id,
        owner_id=view.owner_public_id,
        source=view.source,
        system_created=view.system_created,
        protected=view.protected,
        deleted=view.deleted_at is not None,
        deprecated=view.deprecated_at is not None,
        deprecated_at=view.deprecated_at,
        replacement=view.replacement_public_id,
        replacement_name=view.replacement_name,
        aliases=list(view.aliases),
        created_at=view.created_at,
        updated_at=view.updated_at,
    )


def tags_out(tags: Sequence[Tag]) -> list[TagOut]:
    """Seed-004 representations of ``tags``, in one query whatever their number."""
    return [tag_out(view) for view in tag_views(tags)]


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
