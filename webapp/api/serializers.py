"""Turning service results into response models, with the look-ups they need batched."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select

from webapp.api.schemas.tags import TagOut
from webapp.extensions import db
from webapp.models import Tag, User


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


def tags_out(tags: Sequence[Tag]) -> list[TagOut]:
    """Seed-004 representations of ``tags``, in two queries whatever their number."""
    owners = user_public_ids(t.created_by_id for t in tags)
    parents = tag_public_ids(t.parent_id for t in tags)
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
