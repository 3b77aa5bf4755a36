"""Finding tags: by any handle (integer key, public id, path or qualified name), many at
once as plain facts, and the subtree conditions that the hierarchy and deletion share.

One way to find a tag by a handle, read once by :func:`read_handle`: :func:`find_tag`
(None when missing), :func:`live_tag` (an error naming the field), :func:`get_tag` (with
the read permission), and :func:`find_live_tags` for many handles in one statement.  How a
text is read is the caller's :class:`Reading`: any handle (an API path segment), a name
first (seed 003's names), or a name only (what a person types: ``2024`` is a name there).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol
from uuid import UUID

from sqlalchemy import (
    ColumnElement,
    and_,
    bindparam,
    false,
    inspect,
    select,
    union_all,
)

from webapp.extensions import db
from webapp.ids import parse_uuid
from webapp.models import Tag, TagAlias, TagGroup
from webapp.services import names
from webapp.services.actor import Actor, Permission, authorize
from webapp.services.errors import (
    FieldError,
    NotFound,
    PermissionDenied,
    ServiceError,
    ValidationFailed,
)
from webapp.services.sql import integer_key, integer_list, json_rows

# --- look-ups ---------------------------------------------------------------------------


def subtree_of(id_path: str) -> ColumnElement[bool]:
    """Condition selecting the tag whose ``id_path`` is given and all its descendants.

    It needs no scope condition beside it: id paths are made of ids, so a subtree never
    crosses scopes.  And it must not have one: SQLite would then scan the scope's live
    tags by the scope index instead of the ``id_path`` range (a one-tag subtree in a scope
    of 10,000 tags: 2 ms a statement instead of 0.02)."""
    return and_(Tag.id_path >= id_path, Tag.id_path < id_path[:-1] + "0")


# A tag by integer key, the most frequent look-up (``GET /tags/{id}``): built once, since
# building a statement costs more than running it on an indexed row.
_ANY_TAG_BY_ID = select(Tag).where(Tag.scope_id == bindparam("scope_id"),
                                   Tag.id == bindparam("row_id"))
_LIVE_TAG_BY_ID = _ANY_TAG_BY_ID.where(Tag.deleted_at.is_(None))


class Reading(enum.Enum):
    """How a text handle is read."""

    ANY = "any"  # an integer key, UUID or public id first, then a (qualified) path
    NAME_FIRST = "name first"  # a (qualified) path first, then any other handle
    NAME = "name"  # a (qualified) path only


@dataclass(frozen=True)
class Handle:
    """A tag handle as every look-up reads it."""

    row_id: int | None  # an integer key
    uuid: UUID | None
    text: str | None  # a public id (None for an int handle)
    path_key: str | None  # the key of a (qualified) path (None for an int handle)


def read_handle(handle: int | str) -> Handle:
    """What a handle can name: an int is a key only; a text can be a key, a UUID, a public
    id and a path (`` Priority :: High `` names the tag that attach would find)."""
    row_id = integer_key(handle)
    if isinstance(handle, int):
        return Handle(row_id, None, None, None)
    text = str(handle).strip()
    try:
        path_key = names.parse_name(text).key
    except ValidationFailed:
        path_key = names.key(text)
    return Handle(row_id, parse_uuid(text), text, path_key)


def find_tag(scope_id: int, handle: int | str, *, include_deleted: bool = False,
             reading: Reading = Reading.ANY) -> Tag | None:
    """A tag of the scope by a handle, read as ``reading`` says.

    Live tags win; with ``include_deleted`` a path names the most recently deleted tag
    when no live one has it.
    """
    read = read_handle(handle)
    if reading is Reading.ANY:
        return _by_key(scope_id, read, include_deleted) or _by_path(scope_id, read,
                                                                    include_deleted)
    found = _by_path(scope_id, read, include_deleted)
    if found is None and reading is Reading.NAME_FIRST:
        found = _by_key(scope_id, read, include_deleted)
    return found


def _by_key(scope_id: int, read: Handle, include_deleted: bool) -> Tag | None:
    """By integer key, UUID or public id."""
    if read.row_id is not None:
        by_id = _ANY_TAG_BY_ID if include_deleted else _LIVE_TAG_BY_ID
        found = db.session.scalar(by_id, {"scope_id": scope_id, "row_id": read.row_id})
        if found is not None or read.text is None:
            return found
    if read.text is None:
        return None
    query = select(Tag).where(Tag.scope_id == scope_id)
    if not include_deleted:
        query = query.where(Tag.deleted_at.is_(None))
    if read.uuid is not None:
        found = db.session.scalar(query.where(Tag.uuid == read.uuid))
        if found is not None:
            return found
    return db.session.scalar(query.where(Tag.public_id == read.text))


def _by_path(scope_id: int, read: Handle, include_deleted: bool) -> Tag | None:
    """By (qualified) path, else by an alias of a live tag (a second query, on a miss)."""
    if read.path_key is None:
        return None
    query = select(Tag).where(Tag.scope_id == scope_id, Tag.path_key == read.path_key)
    if not include_deleted:
        query = query.where(Tag.deleted_at.is_(None))
    found = db.session.scalar(
        query.order_by(Tag.deleted_at.is_not(None), Tag.deleted_at.desc()).limit(1))
    if found is not None and found.deleted_at is None:
        return found
    aliased = db.session.scalar(
        select(Tag).join(TagAlias, TagAlias.tag_id == Tag.id)
        .where(TagAlias.scope_id == scope_id, TagAlias.alias_key == read.path_key,
               Tag.deleted_at.is_(None)))
    return aliased or found


def live_tag(scope_id: int, handle: int | str, field: str = "tag", *,
             reading: Reading = Reading.ANY,
             missing: type[ServiceError] = NotFound) -> Tag:
    """The live tag a handle names, else ``missing`` (NotFound; ValidationFailed where
    the handle is an input that must name a tag, such as a new parent) naming ``field``."""
    tag = find_tag(scope_id, handle, reading=reading)
    if tag is None:
        shown = handle.strip() if isinstance(handle, str) else handle
        raise missing(f"no live tag named {shown!r}",
                      [FieldError(field, f"no live tag named {shown!r}")])
    return tag


def get_tag(actor: Actor, scope_id: int, handle: int | str, *, include_deleted: bool = False
            ) -> Tag:
    """Read one tag by any handle; NotFound when it is not in the actor's scope."""
    authorize(actor, scope_id, Permission.TAGS_READ)
    tag = find_tag(scope_id, handle, include_deleted=include_deleted)
    if tag is None:
        raise NotFound(f"tag {handle!r} not found")
    return tag


class TagFacts(NamedTuple):
    """A live tag read as a row, not an object: what bulk operations check and record
    (loading a thousand objects costs more than the statements that change them)."""

    id: int
    name: str
    path: str
    path_key: str
    id_path: str
    depth: int
    parent_id: int | None
    group_id: int | None
    group: str | None  # the group's identifier
    label: str
    color: str | None
    description: str | None
    protected: bool

    @property
    def qualified_name(self) -> str:
        return f"{self.group}{names.GROUP_SEPARATOR}{self.path}" if self.group else self.path

    def snapshot(self) -> dict[str, Any]:
        """The same editable state as :meth:`webapp.models.Tag.snapshot` (a live tag)."""
        return {"name": self.name, "label": self.label, "color": self.color,
                "description": self.description, "parent_id": self.parent_id,
                "group_id": self.group_id, "path": self.path, "deleted": False}

    @classmethod
    def of(cls, tag: Tag) -> TagFacts:
        return cls(tag.id, tag.name, tag.path, tag.path_key, tag.id_path, tag.depth,
                   tag.parent_id, tag.group_id, tag.group.identifier if tag.group else None,
                   tag.label, tag.color, tag.description, tag.protected)


FACT_COLUMNS = (Tag.id, Tag.name, Tag.path, Tag.path_key, Tag.id_path, Tag.depth,
                 Tag.parent_id, Tag.group_id, TagGroup.identifier, Tag.label, Tag.color,
                 Tag.description, Tag.protected)


def find_live_tags(scope_id: int, handles: Sequence[int | str]) -> list[TagFacts | None]:
    """The live tag each handle names (None when none), in one statement whatever the
    number of handles: the same rules as :func:`find_tag` (an integer key first, then a
    UUID, a public id, a (qualified) path)."""
    reads = [read_handle(handle) for handle in handles]
    ids = {read.row_id for read in reads if read.row_id is not None}
    uuids = {read.uuid for read in reads if read.uuid is not None}
    texts = {text for read in reads for text in (read.text, read.path_key) if text is not None}
    if not (ids or texts):
        return [None] * len(handles)
    id_table = integer_list(sorted(ids), "handle_ids")
    candidates: Any = select(id_table.c.id)
    if texts:  # integer keys alone (the list's ticked rows) need no other look-up
        text_table = json_rows([[text] for text in sorted(texts)], [("value", "text")],
                               "handle_texts")
        words = select(text_table.c.value)
        # One indexed look-up per kind of handle; an OR of them beside the scope
        # condition made SQLite scan the scope's live tags (100 ms in a scope of 100,000).
        candidates = union_all(
            select(Tag.id).where(Tag.id.in_(select(id_table.c.id))),
            select(Tag.id).where(Tag.uuid.in_(list(uuids)) if uuids else false()),
            select(Tag.id).where(Tag.scope_id == scope_id, Tag.public_id.in_(words)),
            select(Tag.id).where(Tag.scope_id == scope_id, Tag.path_key.in_(words)),
        )
    rows = db.session.execute(
        select(*FACT_COLUMNS, Tag.uuid, Tag.public_id)
        .outerjoin(TagGroup, TagGroup.id == Tag.group_id)
        .where(Tag.id.in_(candidates), Tag.scope_id == scope_id, Tag.deleted_at.is_(None))
    ).all()
    by_id: dict[int, TagFacts] = {}
    by_uuid: dict[Any, TagFacts] = {}
    by_public_id: dict[str, TagFacts] = {}
    by_key: dict[str, TagFacts] = {}
    for row in rows:
        facts = TagFacts(*row[:len(FACT_COLUMNS)])
        by_id[facts.id] = by_uuid[row.uuid] = by_public_id[row.public_id] = facts
        by_key[facts.path_key] = facts
    found: list[TagFacts | None] = []
    for read in reads:
        hit = by_id.get(read.row_id) if read.row_id is not None else None
        if hit is None and read.text is not None:
            hit = ((by_uuid.get(read.uuid) if read.uuid is not None else None)
                   or by_public_id.get(read.text) or by_key.get(read.path_key or ""))
        found.append(hit)
    return found


def expire_tags(ids: set[int] | None = None,
                where: Callable[[Tag], bool] | None = None) -> None:
    """Expire the loaded Tag objects a bulk statement rewrote: those with the given ids, or
    for which ``where`` holds (neither: every one), in one pass over the session.

    Emits no SQL: an object with unloaded attributes is expired without asking ``where``
    (which would load it), and an object already expired is skipped, so a thousand bulk
    statements in one session do not expire the same objects a thousand times."""
    for obj in list(db.session.identity_map.values()):
        if not isinstance(obj, Tag):
            continue
        state = inspect(obj)
        if state.expired or (ids is not None and state.identity[0] not in ids):
            continue
        if where is not None and not state.unloaded and not where(obj):
            continue
        db.session.expire(obj)


class _Lockable(Protocol):
    @property
    def path(self) -> str: ...
    @property
    def protected(self) -> bool: ...


def refuse_protected(actor: Actor, tags: Iterable[_Lockable]) -> None:
    if actor.is_system:
        return
    locked = [tag.path for tag in tags if tag.protected]
    if locked:
        raise PermissionDenied(f"protected tag(s) cannot be changed: {', '.join(locked[:10])}")

def subtree_ranges(tags: Iterable[TagFacts], name: str = "subtrees") -> Any:
    """A derived table ``(top, lo, hi)``: each tag's ``id_path`` range (one JSON
    parameter; join it with :func:`in_range`)."""
    return json_rows([(tag.id, tag.id_path, tag.id_path[:-1] + "0") for tag in tags],
                     [("top", "integer"), ("lo", "text"), ("hi", "text")], name)


def in_range(ranges: Any) -> ColumnElement[bool]:
    return and_(Tag.id_path >= ranges.c.lo, Tag.id_path < ranges.c.hi)
