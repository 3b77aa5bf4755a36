"""Tags as API readers see them: a tag's own fields plus its group's identifier and the
public ids of its parent and creator, which live in other rows.

``get_tag_view`` answers the most frequent read of the API (``GET /tags/{id}``) with one
Core statement that joins those rows in, and no ORM objects; ``verify_key_and_read_tag``
reads the same row in the statement that checks the request's API key, so that call costs
one statement in all.  ``tag_views`` turns tags already loaded (lists, write results) into
views with one query for the public ids and the aliases.  A view carries the tag's aliases
(sorted by key, as :func:`webapp.services.tags.aliases.aliases_of` returns them): the hot
read folds them in as a correlated JSON aggregate, so it stays one statement.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    Select,
    String,
    Text,
    TypeDecorator,
    and_,
    bindparam,
    case,
    cast,
    literal_column,
    null,
    select,
    union_all,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.functions import FunctionElement

from webapp.extensions import db
from webapp.fastpath import HotRead
from webapp.models import ApiKey, Tag, TagAlias, TagGroup, User
from webapp.services.actor import Actor, Permission, authorize
from webapp.services.api_keys import KEY_LOOKUP, VerifiedKey, verify_api_key_with
from webapp.services.errors import NotFound
from webapp.services.sql import integer_key
from webapp.services.tags.lookup import get_tag


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
    deprecated_at: datetime | None
    category: str | None  # the group's identifier
    parent_public_id: str | None
    owner_public_id: str | None  # the creator's
    # The replacement of a deprecated tag, while it is live (a deleted one counts as none).
    replacement_public_id: str | None = None
    replacement_name: str | None = None  # its qualified name
    aliases: tuple[str, ...] = ()  # sorted by key

    @property
    def qualified_name(self) -> str:
        return f"{self.category}::{self.path}" if self.category else self.path


_OWN_COLUMNS = ("id", "public_id", "uuid", "name", "label", "path", "color", "description",
                "source", "system_created", "protected", "created_at", "updated_at",
                "deleted_at", "deprecated_at")

_VIEW_FIELDS = (*_OWN_COLUMNS, "category", "parent_public_id", "owner_public_id",
                "replacement_public_id", "replacement_name", "aliases")
_Parent, _Owner = aliased(Tag), aliased(User)
_Replacement, _ReplacementGroup = aliased(Tag), aliased(TagGroup)


class _SortedAliases(TypeDecorator[tuple[str, ...]]):
    """The pairs read back (JSON text on SQLite, decoded already by psycopg; NULL without
    aliases on PostgreSQL) as the aliases sorted by key."""

    impl = Text
    cache_ok = True

    def process_result_value(self, value: Any, dialect: Any) -> tuple[str, ...]:
        pairs = json.loads(value) if isinstance(value, str | bytes) else value
        return tuple(alias for _, alias in sorted(pairs or ()))


class _alias_pairs(FunctionElement[Any]):
    """A JSON array of ``[alias_key, alias]`` pairs: SQLite's ``json_group_array`` of
    ``json_array``, PostgreSQL's ``json_agg`` of ``json_build_array``."""

    type = _SortedAliases()
    inherit_cache = True


@compiles(_alias_pairs)
def _alias_pairs_sqlite(element: Any, compiler: Any, **kw: Any) -> str:
    return f"json_group_array(json_array({compiler.process(element.clauses, **kw)}))"


@compiles(_alias_pairs, "postgresql")
def _alias_pairs_postgresql(element: Any, compiler: Any, **kw: Any) -> str:
    return f"json_agg(json_build_array({compiler.process(element.clauses, **kw)}))"


def _aliases_column(tag: Any) -> Any:
    """The tag's aliases, a correlated subquery on ``tag_aliases.tag_id``'s index."""
    return (select(_alias_pairs(TagAlias.alias_key, TagAlias.alias))
            .where(TagAlias.tag_id == tag.id).correlate(tag).scalar_subquery())


def _qualified(tag: Any, group: Any) -> Any:
    """A tag's qualified name in SQL (``group::path``, or the path)."""
    return case((group.identifier.is_(None), tag.path),
                else_=group.identifier + "::" + tag.path)


def _with_view(statement: Select[Any], prefix: str = "") -> Select[Any]:
    """``statement``, whose FROM already holds ``tags``, with a view's columns (keyed
    ``prefix`` + field) and the outer joins of the tag's group, parent, creator and live
    replacement (with its group)."""
    return (
        statement
        .add_columns(*(getattr(Tag, name).label(prefix + name) for name in _OWN_COLUMNS),
                     TagGroup.identifier.label(prefix + "category"),
                     _Parent.public_id.label(prefix + "parent_public_id"),
                     _Owner.public_id.label(prefix + "owner_public_id"),
                     _Replacement.public_id.label(prefix + "replacement_public_id"),
                     # NULL without a replacement: its path is NULL then.
                     _qualified(_Replacement, _ReplacementGroup)
                     .label(prefix + "replacement_name"),
                     _aliases_column(Tag).label(prefix + "aliases"))
        .outerjoin(TagGroup, TagGroup.id == Tag.group_id)
        .outerjoin(_Parent, _Parent.id == Tag.parent_id)
        .outerjoin(_Owner, _Owner.id == Tag.created_by_id)
        .outerjoin(_Replacement, and_(_Replacement.id == Tag.replacement_id,
                                      _Replacement.deleted_at.is_(None)))
        .outerjoin(_ReplacementGroup, _ReplacementGroup.id == _Replacement.group_id)
    )


# A tag's view by scope and id, live or any.
_VIEW_BY_ID = _with_view(select().select_from(Tag)).where(
    Tag.scope_id == bindparam("scope_id"), Tag.id == bindparam("row_id"))
_ANY_VIEW = HotRead(_VIEW_BY_ID)
_LIVE_VIEW = HotRead(_VIEW_BY_ID.where(Tag.deleted_at.is_(None)))

# The key look-up with the key's scope's live tag ``row_id`` outer-joined in; the view's
# columns are prefixed, since the key's own columns have the same names.
_COLUMN_PREFIX = "tag_"
_KEY_AND_LIVE_VIEW = HotRead(_with_view(
    KEY_LOOKUP.outerjoin(Tag, and_(Tag.scope_id == ApiKey.scope_id,
                                   Tag.id == bindparam("row_id"), Tag.deleted_at.is_(None))),
    _COLUMN_PREFIX,
))


@dataclass(frozen=True, slots=True)
class TagReadWithKey:
    """The live tag ``row_id`` of scope ``scope_id`` as read with the API key; ``view`` is
    None when there is no such tag.  Not yet authorized: :func:`get_tag_view` checks the
    actor's permission before it uses the view."""

    scope_id: int
    row_id: int
    view: TagView | None


def verify_key_and_read_tag(token: str, row_id: int
                            ) -> tuple[VerifiedKey, TagReadWithKey] | None:
    """Check ``token`` exactly as :func:`~webapp.services.api_keys.verify_api_key` does and,
    in the same statement, read the live tag ``row_id`` of the key's scope.  None when the
    key is not live (and then nothing was read)."""
    verified = verify_api_key_with(token, _KEY_AND_LIVE_VIEW, {"row_id": row_id})
    if verified is None:
        return None
    key, row = verified
    view = (TagView(**{name: row[_COLUMN_PREFIX + name] for name in _VIEW_FIELDS})
            if row[_COLUMN_PREFIX + "id"] is not None else None)
    return key, TagReadWithKey(key.scope_id, row_id, view)


def get_tag_view(actor: Actor, scope_id: int, handle: int | str, *,
                 include_deleted: bool = False,
                 read_with_key: TagReadWithKey | None = None) -> TagView:
    """Read one tag by any handle, as :func:`webapp.services.tags.get_tag` does.

    An integer key (the usual handle) costs one statement, a hot read, or none when
    ``read_with_key`` already read that live tag; other handles are resolved by
    ``get_tag`` first."""
    authorize(actor, scope_id, Permission.TAGS_READ)
    row_id = integer_key(handle)
    if row_id is not None:
        view: TagView | None
        if (read_with_key is not None and not include_deleted
                and (read_with_key.scope_id, read_with_key.row_id) == (scope_id, row_id)):
            view = read_with_key.view
        else:
            read = _ANY_VIEW if include_deleted else _LIVE_VIEW
            row = read.first({"scope_id": scope_id, "row_id": row_id})
            view = TagView(**row) if row is not None else None
        if view is not None:
            return view
        if isinstance(handle, int):
            raise NotFound(f"tag {handle!r} not found")
    return tag_views([get_tag(actor, scope_id, handle, include_deleted=include_deleted)])[0]


# Owners' and parents' public ids, live replacements' public ids and qualified names, and
# the tags' aliases (with their keys) in one statement, built once; the id lists are
# expanding parameters.
_OWNER, _PARENT, _REPLACEMENT, _ALIAS = 0, 1, 2, 3
_NO_NAME = cast(null(), String)
_PUBLIC_IDS = union_all(
    select(literal_column(str(_OWNER)).label("kind"), User.id, User.public_id,
           _NO_NAME.label("name"))
    .where(User.id.in_(bindparam("user_ids", expanding=True))),
    select(literal_column(str(_PARENT)).label("kind"), Tag.id, Tag.public_id, _NO_NAME)
    .where(Tag.id.in_(bindparam("tag_ids", expanding=True))),
    select(literal_column(str(_REPLACEMENT)).label("kind"), Tag.id, Tag.public_id,
           _qualified(Tag, TagGroup))
    .outerjoin(TagGroup, TagGroup.id == Tag.group_id)
    .where(Tag.id.in_(bindparam("replacement_ids", expanding=True)),
           Tag.deleted_at.is_(None)),
    select(literal_column(str(_ALIAS)).label("kind"), TagAlias.tag_id, TagAlias.alias,
           TagAlias.alias_key)
    .where(TagAlias.tag_id.in_(bindparam("alias_tag_ids", expanding=True))),
)


def tag_views(tags: Sequence[Tag]) -> list[TagView]:
    """Views of tags already loaded, in one query whatever their number (none when there
    are no tags)."""
    user_ids = sorted({t.created_by_id for t in tags if t.created_by_id is not None})
    tag_ids = sorted({t.parent_id for t in tags if t.parent_id is not None})
    replacement_ids = sorted({t.replacement_id for t in tags if t.replacement_id is not None})
    found: tuple[dict[int, tuple[str, str | None]], ...] = ({}, {}, {})
    aliases: dict[int, list[tuple[str, str]]] = {}
    if tags:
        for kind, row_id, public_id, name in db.session.execute(
                _PUBLIC_IDS, {"user_ids": user_ids, "tag_ids": tag_ids,
                              "replacement_ids": replacement_ids,
                              "alias_tag_ids": sorted({t.id for t in tags})}):
            if kind == _ALIAS:
                aliases.setdefault(row_id, []).append((name, public_id))
            else:
                found[kind][row_id] = (public_id, name)
    owners, parents, replacements = found
    views = []
    for tag in tags:
        replacement = (replacements.get(tag.replacement_id, (None, None))
                       if tag.replacement_id is not None else (None, None))
        views.append(TagView(
            **{name: getattr(tag, name) for name in _OWN_COLUMNS},
            category=tag.group.identifier if tag.group else None,
            parent_public_id=parents[tag.parent_id][0]
            if tag.parent_id in parents else None,
            owner_public_id=owners[tag.created_by_id][0]
            if tag.created_by_id in owners else None,
            replacement_public_id=replacement[0],
            replacement_name=replacement[1],
            aliases=tuple(alias for _, alias in sorted(aliases.get(tag.id, ()))),
        ))
    return views
