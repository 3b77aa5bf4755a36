"""Tags as API readers see them: a tag's own fields plus its group's identifier and the
public ids of its parent and creator, which live in other rows.

``get_tag_view`` answers the most frequent read of the API (``GET /tags/{id}``) with one
Core statement that joins those rows in, and no ORM objects; ``tag_views`` turns tags
already loaded (lists, write results) into views with one query for the public ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import bindparam, literal_column, select, union_all
from sqlalchemy.orm import aliased

from webapp.extensions import db
from webapp.models import Tag, TagGroup, User
from webapp.services.actor import Actor, Permission, authorize
from webapp.services.errors import NotFound
from webapp.services.hot_reads import HotRead
from webapp.services.sql import integer_key
from webapp.services.tags import get_tag


@dataclass(frozen=True, slots=True)
class TagView:
    """One tag, with what other rows say about it."""

    id: int
    public_id: str
    uuid: UUID
    name: str
    label: str
    path: str
    color: str | None
    description: str | None
    source: str
    system_created: bool
    protected: bool
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
    category: str | None  # the group's identifier
    parent_public_id: str | None
    owner_public_id: str | None  # the creator's

    @property
    def qualified_name(self) -> str:
        return f"{self.category}::{self.path}" if self.category else self.path


_OWN_COLUMNS = ("id", "public_id", "uuid", "name", "label", "path", "color", "description",
                "source", "system_created", "protected", "created_at", "updated_at",
                "deleted_at")

# Hot reads (see webapp.services.hot_reads): built once, compiled once per dialect.
_Parent = aliased(Tag)
_VIEW_BY_ID = (
    select(*(getattr(Tag, name) for name in _OWN_COLUMNS),
           TagGroup.identifier.label("category"),
           _Parent.public_id.label("parent_public_id"),
           User.public_id.label("owner_public_id"))
    .outerjoin(TagGroup, TagGroup.id == Tag.group_id)
    .outerjoin(_Parent, _Parent.id == Tag.parent_id)
    .outerjoin(User, User.id == Tag.created_by_id)
    .where(Tag.scope_id == bindparam("scope_id"), Tag.id == bindparam("row_id"))
)
_ANY_VIEW = HotRead(_VIEW_BY_ID)
_LIVE_VIEW = HotRead(_VIEW_BY_ID.where(Tag.deleted_at.is_(None)))


def get_tag_view(actor: Actor, scope_id: int, handle: int | str, *,
                 include_deleted: bool = False) -> TagView:
    """Read one tag by any handle, as :func:`webapp.services.tags.get_tag` does.

    An integer key (the usual handle) costs one statement, a hot read; other handles are
    resolved by ``get_tag`` first."""
    authorize(actor, scope_id, Permission.TAGS_READ)
    row_id = integer_key(handle)
    if row_id is not None:
        read = _ANY_VIEW if include_deleted else _LIVE_VIEW
        row = read.first({"scope_id": scope_id, "row_id": row_id})
        if row is not None:
            return TagView(**row)
        if isinstance(handle, int):
            raise NotFound(f"tag {handle!r} not found")
    return tag_views([get_tag(actor, scope_id, handle, include_deleted=include_deleted)])[0]


# Owners' and parents' public ids in one statement, built once; the id lists are expanding
# parameters.
_OWNER, _PARENT = 0, 1
_PUBLIC_IDS = union_all(
    select(literal_column(str(_OWNER)).label("kind"), User.id, User.public_id)
    .where(User.id.in_(bindparam("user_ids", expanding=True))),
    select(literal_column(str(_PARENT)).label("kind"), Tag.id, Tag.public_id)
    .where(Tag.id.in_(bindparam("tag_ids", expanding=True))),
)


def tag_views(tags: Sequence[Tag]) -> list[TagView]:
    """Views of tags already loaded, in one query whatever their number (none when no tag
    has a parent or a creator)."""
    user_ids = sorted({t.created_by_id for t in tags if t.created_by_id is not None})
    tag_ids = sorted({t.parent_id for t in tags if t.parent_id is not None})
    found: tuple[dict[int, str], dict[int, str]] = ({}, {})
    if user_ids or tag_ids:
        for kind, row_id, public_id in db.session.execute(
                _PUBLIC_IDS, {"user_ids": user_ids, "tag_ids": tag_ids}):
            found[kind][row_id] = public_id
    owners, parents = found
    return [
        TagView(
            **{name: getattr(tag, name) for name in _OWN_COLUMNS},
            category=tag.group.identifier if tag.group else None,
            parent_public_id=parents.get(tag.parent_id) if tag.parent_id else None,
            owner_public_id=owners.get(tag.created_by_id) if tag.created_by_id else None,
        )
        for tag in tags
    ]
