"""Reading tags: filtered, searched, sorted pages with usage counts, in a fixed number of
queries per page (a count, the page, the usage of the page's tags)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    and_,
    column,
    false,
    func,
    not_,
    or_,
    select,
    table,
)
from sqlalchemy.orm import aliased

from webapp.extensions import db
from webapp.fastpath import sqlite_not_indexed
from webapp.models import (
    Assignment,
    AuditEvent,
    Resource,
    Role,
    Tag,
    TagAlias,
    TagGroup,
    User,
)
from webapp.services import names
from webapp.services.actor import Actor, Permission, authorize
from webapp.services.errors import ValidationFailed
from webapp.services.groups import find_group
from webapp.services.paging import Page, PageRequest
from webapp.services.resources import ResourceRow, resource_query, tags_by_resource
from webapp.services.sql import dialect_name, like_pattern
from webapp.services.tags.lookup import find_tag, get_tag, subtree_of

SORTS = ("path", "name", "created", "updated", "usage")
# A search counts its matches up to this many, then reports "at least" (counting every
# match of a common term reads them all; the page itself stops early).
COUNT_CAP = 10_000


@dataclass(frozen=True)
class TagFilter:
    """Which tags to list. Group and parent are handles; unknown ones match nothing."""

    search: str | None = None  # substring of the qualified name, case-insensitive
    group: int | str | None = None
    parent: int | str | None = None  # direct children of this tag
    roots_only: bool = False
    within: int | str | None = None  # this tag and its descendants
    source: str | None = None
    excluded_source: str | None = None
    system_created: bool | None = None
    excluded_hierarchies: Sequence[str] = ()  # substrings whose matches are left out
    include_deleted: bool = False
    deleted_only: bool = False
    include_deleted_system: bool = False  # deleted system tags too (seed 003)
    creator: int | None = None  # only tags this user created (seed 004 ``access=owned``)
    excluded_creator: int | None = None  # tags anyone else (or the system) created
    # Pickers and autocomplete leave deprecated tags out (they are not attached again);
    # lists keep them, with a badge.
    exclude_deprecated: bool = False


@dataclass(frozen=True)
class TagRow:
    tag: Tag
    usage: int


def tag_query(scope_id: int, filters: TagFilter) -> Select[tuple[Tag]]:
    """The SELECT of the scope's tags that ``filters`` keeps."""
    query = select(Tag).where(Tag.scope_id == scope_id)
    if filters.deleted_only:
        query = query.where(Tag.deleted_at.is_not(None))
    elif filters.include_deleted_system and not filters.include_deleted:
        query = query.where(or_(Tag.deleted_at.is_(None), Tag.system_created.is_(True)))
    elif not filters.include_deleted:
        query = query.where(Tag.deleted_at.is_(None))
    if filters.search and filters.search.strip():
        term = names.refuse_control(filters.search, "search").strip()
        key = names.key(term)
        query = search_path_keys(query, key, also=alias_holders(scope_id, key))
    for excluded in filters.excluded_hierarchies:
        if excluded.strip():
            term = names.refuse_control(excluded, "excluded_hierarchies").strip()
            pattern = like_pattern(names.key(term))
            query = query.where(Tag.path_key.not_like(pattern, escape="\\"))
    if filters.group is not None:
        group = find_group(scope_id, filters.group)
        query = query.where(Tag.group_id == group.id) if group else query.where(false())
    if filters.parent is not None:
        parent = find_tag(scope_id, filters.parent, include_deleted=True)
        query = query.where(Tag.parent_id == parent.id) if parent else query.where(false())
    if filters.roots_only:
        query = query.where(Tag.parent_id.is_(None))
    if filters.within is not None:
        root = find_tag(scope_id, filters.within, include_deleted=True)
        query = query.where(subtree_of(root.id_path)) if root else query.where(false())
    if filters.source:
        query = query.where(Tag.source == filters.source)
    if filters.excluded_source:
        query = query.where(Tag.source != filters.excluded_source)
    if filters.system_created is not None:
        query = query.where(Tag.system_created.is_(filters.system_created))
    if filters.creator is not None:
        query = query.where(Tag.created_by_id == filters.creator)
    if filters.excluded_creator is not None:
        query = query.where(or_(Tag.created_by_id.is_(None),
                                Tag.created_by_id != filters.excluded_creator))
    if filters.exclude_deprecated:
        query = query.where(Tag.deprecated_at.is_(None))
    return query


# The SQLite FTS5 trigram index of ``tags.path_key`` (migration 4303508b8404; not a model).
_TAGS_FTS = table("tags_fts", column("rowid", Integer), column("path_key", String))


_TRIGRAM = 3
# A term with this many candidates in the index is "common": walking the tags in path
# order finds a page of its matches sooner than fetching and sorting all of them.
_COMMON = 10_000


def alias_holders(scope_id: int, key: str) -> Select[tuple[int]]:
    """The ids of the tags with an alias whose key contains ``key`` (a subquery)."""
    return select(TagAlias.tag_id).where(
        TagAlias.scope_id == scope_id,
        TagAlias.alias_key.like(like_pattern(key), escape="\\"))


def search_path_keys(query: Select[tuple[Tag]], key: str,
                     also: Select[tuple[int]] | None = None) -> Select[tuple[Tag]]:
    """``query`` narrowed to the tags whose ``path_key`` contains ``key`` (the
    :func:`names.key` of a term without control characters: a NUL would end the FTS5
    phrase), through the substring index; the rows are always those of the LIKE scan.
    ``also``: the ids of more tags to keep (those found by one of their aliases,
    :func:`alias_holders`), by their primary key.

    PostgreSQL's trigram index serves ``LIKE '%key%'`` by itself.  On SQLite a key of 3+
    characters is a quoted phrase for the FTS5 trigram table (a substring match; quotes
    double).  One capped probe of the index tells a rare term from a common one:

    * rare: the tags are looked up by the ids the index gives (``NOT INDEXED`` keeps the
      planner, which has no statistics, from walking the whole scope instead);
    * common: plain LIKE, so a page sorted by path walks the path index and stops after
      a page of matches (counting them all still reads every tag of the scope).

    Shorter keys have no trigram and scan.
    """
    like = Tag.path_key.like(like_pattern(key), escape="\\")

    def either(condition: ColumnElement[bool]) -> ColumnElement[bool]:
        return condition if also is None else or_(condition, Tag.id.in_(also))

    if dialect_name() != "sqlite" or len(key) < _TRIGRAM:
        return query.where(either(like))
    phrase = '"' + key.replace('"', '""') + '"'
    candidates = select(_TAGS_FTS.c.rowid).where(_TAGS_FTS.c.path_key.match(phrase))
    probed = db.session.scalar(
        select(func.count()).select_from(candidates.limit(_COMMON).subquery())
    ) or 0
    if probed >= _COMMON:
        return query.where(either(like))
    return sqlite_not_indexed(query.where(either(and_(Tag.id.in_(candidates), like))), Tag)


def matched_aliases(search: str | None, tags: Sequence[Tag]) -> dict[int, str]:
    """Why a search found each of ``tags`` that its own name does not match: the first
    alias (by key) of each whose key contains the term ("via alias Legacy.Mail"); one
    statement for them all, none when every name matches."""
    if not search or not search.strip():
        return {}
    key = names.key(names.refuse_control(search, "search").strip())
    ids = [tag.id for tag in tags if key not in tag.path_key]
    if not ids:
        return {}
    found: dict[int, str] = {}
    for tag_id, alias, _ in sorted(db.session.execute(
        select(TagAlias.tag_id, TagAlias.alias, TagAlias.alias_key)
        .where(TagAlias.tag_id.in_(ids),
               TagAlias.alias_key.like(like_pattern(key), escape="\\"))
    ).tuples(), key=lambda row: row[2]):
        found.setdefault(tag_id, alias)
    return found


def usage_counts(tag_ids: Sequence[int]) -> dict[int, int]:
    """How many resources carry each tag, in one grouped query over the link index."""
    counts = dict.fromkeys(tag_ids, 0)
    if tag_ids:
        rows = db.session.execute(
            select(Assignment.tag_id, func.count())
            .where(Assignment.tag_id.in_(list(tag_ids)))
            .group_by(Assignment.tag_id)
        ).all()
        counts.update({tag_id: count for tag_id, count in rows})
    return counts


def list_tags(
    actor: Actor,
    scope_id: int,
    filters: TagFilter | None = None,
    *,
    sort: str = "path",
    descending: bool = False,
    paging: PageRequest | None = None,
) -> Page[TagRow]:
    """A page of tags with their usage counts."""
    authorize(actor, scope_id, Permission.TAGS_READ)
    if sort not in SORTS:
        raise ValidationFailed.field("sort", f"must be one of {', '.join(SORTS)}")
    paging = paging or PageRequest()
    filters = filters or TagFilter()
    query = tag_query(scope_id, filters)
    counted = query.with_only_columns(Tag.id)
    searching = bool(filters.search and filters.search.strip())
    if searching:
        counted = counted.limit(COUNT_CAP + 1)
    total = db.session.scalar(select(func.count()).select_from(counted.subquery())) or 0
    capped = searching and total > COUNT_CAP
    order = _order(sort)
    ordered = order.desc() if descending else order.asc()
    # The keys must be a total order.  Among a scope's live tags path_key is unique, so it
    # is one by itself (and the page is then read from the unique index, without a sort);
    # anything else takes the id as a tiebreak.
    keys = (ordered,) if sort == "path" and _live_only(filters) else (ordered, Tag.id)
    # The page's ids first (the offset skips index entries, not rows), then those rows;
    # one row past the page tells whether another page follows (the count may be capped).
    page_ids = (query.with_only_columns(Tag.id).order_by(*keys)
                .limit(paging.per_page + 1).offset(paging.offset))
    tags = db.session.scalars(
        select(Tag).where(Tag.id.in_(page_ids.scalar_subquery())).order_by(*keys)
    ).all()
    more = len(tags) > paging.per_page
    if capped and tags and not more:  # the last page: the total is known after all
        total, capped = paging.offset + len(tags), False
    tags = tags[:paging.per_page]
    usage = usage_counts([tag.id for tag in tags])
    return Page([TagRow(tag, usage[tag.id]) for tag in tags],
                COUNT_CAP if capped else total, paging.page, paging.per_page,
                total_is_lower_bound=capped, more=more)


def search_tags(actor: Actor, scope_id: int, filters: TagFilter, *, limit: int | None = None,
                assignable_only: bool = False) -> list[Tag]:
    """Tags matching ``filters`` by path, at most ``limit`` (default and ceiling 1000);
    with ``assignable_only``, none of a group whose tags the actor may not attach or
    detach (a picker offers only what the planner would accept)."""
    authorize(actor, scope_id, Permission.TAGS_READ)
    if limit is not None and limit < 1:
        raise ValidationFailed.field("limit", "must be at least 1")
    cap = min(limit or 1000, 1000)
    query = tag_query(scope_id, filters).order_by(Tag.path_key, Tag.id).limit(cap)
    if assignable_only and not actor.has_role(scope_id, Role.MANAGER):
        restricted = select(TagGroup.id).where(TagGroup.scope_id == scope_id,
                                               TagGroup.assign_role != Role.EDITOR.value)
        query = query.where(or_(Tag.group_id.is_(None), Tag.group_id.not_in(restricted)))
    return list(db.session.scalars(query))


def _live_only(filters: TagFilter) -> bool:
    return not (filters.include_deleted or filters.deleted_only
                or filters.include_deleted_system)


def _order(sort: str) -> object:
    if sort == "usage":
        return (
            select(func.count())
            .where(Assignment.tag_id == Tag.id)
            .correlate(Tag)
            .scalar_subquery()
        )
    return {
        "path": Tag.path_key,
        "name": Tag.name,
        "created": Tag.created_at,
        "updated": Tag.updated_at,
    }[sort]


@dataclass(frozen=True)
class SubtreeSummary:
    """What deleting a tag's hierarchy would take with it."""

    tags: int
    assignments: int


def subtree_summary(actor: Actor, scope_id: int, handle: int | str) -> SubtreeSummary:
    tag = get_tag(actor, scope_id, handle)
    live = select(Tag.id).where(Tag.deleted_at.is_(None), subtree_of(tag.id_path))
    tags = db.session.scalar(select(func.count()).select_from(live.subquery())) or 0
    links = db.session.scalar(
        select(func.count()).select_from(Assignment).where(Assignment.tag_id.in_(live))
    ) or 0
    return SubtreeSummary(tags, links)


# --- the web admin's tag pages ------------------------------------------------------------


def tag_sources(actor: Actor, scope_id: int) -> list[str]:
    """The distinct ``source`` values of the scope's tags (for a filter), sorted."""
    authorize(actor, scope_id, Permission.TAGS_READ)
    # A loose index scan of (scope_id, source): the least source, then the least one above
    # it, and so on; one index probe per distinct source, not a read of every tag.
    sources = (
        select(func.min(Tag.source).label("source"))
        .where(Tag.scope_id == scope_id)
        .cte("sources", recursive=True)
    )
    following = (
        select(func.min(Tag.source))
        .where(Tag.scope_id == scope_id, Tag.source > sources.c.source)
        .scalar_subquery()
    )
    sources = sources.union_all(
        select(following.label("source")).where(sources.c.source.is_not(None))
    )
    return list(db.session.scalars(
        select(sources.c.source).where(sources.c.source.is_not(None))
    ))


def get_tag_row(actor: Actor, scope_id: int, handle: int | str) -> TagRow:
    """One tag (deleted ones too) with its usage count, as a row of the tag list."""
    tag = get_tag(actor, scope_id, handle, include_deleted=True)
    return TagRow(tag, usage_counts([tag.id])[tag.id])


@dataclass(frozen=True)
class TagDetail:
    """One tag for its detail page: usage, ancestors (root first) and creator."""

    tag: Tag
    usage: int
    ancestors: list[Tag]
    creator: User | None


def tag_detail(actor: Actor, scope_id: int, handle: int | str) -> TagDetail:
    """Read a tag (deleted ones too) with what its page shows around it; four queries."""
    row = get_tag_row(actor, scope_id, handle)
    tag = row.tag
    ancestor_ids = [int(part) for part in tag.id_path.strip("/").split("/")[:-1] if part]
    ancestors: list[Tag] = []
    if ancestor_ids:
        found = {t.id: t for t in db.session.scalars(
            select(Tag).where(Tag.scope_id == scope_id, Tag.id.in_(ancestor_ids))
        )}
        ancestors = [found[i] for i in ancestor_ids if i in found]
    creator = db.session.get(User, tag.created_by_id) if tag.created_by_id else None
    return TagDetail(tag, row.usage, ancestors, creator)


def tagged_resources(actor: Actor, scope_id: int, tag_id: int,
                     paging: PageRequest | None = None) -> Page[ResourceRow]:
    """A page of the resources carrying a tag (live or deleted: a soft-deleted tag keeps
    its links), each with its live tags; three queries whatever the page size."""
    authorize(actor, scope_id, Permission.TAGS_READ)
    paging = paging or PageRequest()
    query = resource_query(scope_id, tag_id=tag_id)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    resources = db.session.scalars(
        query.order_by(Resource.type, Resource.external_id)
        .limit(paging.per_page).offset(paging.offset)
    ).all()
    carried = tags_by_resource([resource.id for resource in resources])
    return Page([ResourceRow(r, carried[r.id]) for r in resources], total, paging.page,
                paging.per_page)


def tag_events(actor: Actor, scope_id: int, tag_id: int, change_set_ids: Sequence[int]
               ) -> dict[int, list[AuditEvent]]:
    """The audit events of one tag in each of ``change_set_ids`` (what those change sets
    did to it: create, update with before/after, delete, restore, its aliases added,
    removed or moved to it…), in one query."""
    authorize(actor, scope_id, Permission.TAGS_READ)
    found: dict[int, list[AuditEvent]] = {change_set_id: [] for change_set_id in change_set_ids}
    if change_set_ids:
        for event in db.session.scalars(
            select(AuditEvent).where(
                AuditEvent.change_set_id.in_(list(change_set_ids)),
                AuditEvent.object_type.in_(("tag", "tag_alias")),
                AuditEvent.object_id == tag_id,
            ).order_by(AuditEvent.id)
        ):
            found[event.change_set_id].append(event)
    return found


# --- the hierarchy editor: one branch at a time, with counts -----------------------------


@dataclass(frozen=True)
class TreeNode:
    """A tag as the hierarchy editor shows it: how many resources carry it (``usage``)
    and how many live tags lie below it (``descendants``)."""

    tag: Tag
    usage: int
    descendants: int

    @property
    def has_children(self) -> bool:
        # A live tag's ancestors are live, so a live descendant means a live child.
        return self.descendants > 0


def descendant_counts(tag_ids: Sequence[int]) -> dict[int, int]:
    """How many live descendants each tag has, in one grouped query.

    Each tag's subtree is a range of ``id_path`` (see ``subtree_of``), so the join is one
    index range scan per tag, whatever the size of the scope.
    """
    counts = dict.fromkeys(tag_ids, 0)
    if not tag_ids:
        return counts
    top, below = aliased(Tag), aliased(Tag)
    upper = func.substr(top.id_path, 1, func.length(top.id_path) - 1).concat("0")
    rows = db.session.execute(
        select(top.id, func.count(below.id))
        # No scope condition: id_paths are made of ids, so a subtree never crosses scopes,
        # and SQLite would rather scan the scope's index than the id_path range.
        .join(below, and_(below.id_path > top.id_path, below.id_path < upper,
                          below.deleted_at.is_(None)))
        .where(top.id.in_(list(tag_ids)))
        .group_by(top.id)
    ).all()
    counts.update({tag_id: count for tag_id, count in rows})
    return counts


def tree_nodes(tags: Sequence[Tag]) -> list[TreeNode]:
    """The tags with their usage and descendant counts (two queries for any number)."""
    ids = [tag.id for tag in tags]
    usage = usage_counts(ids)
    below = descendant_counts(ids)
    return [TreeNode(tag, usage[tag.id], below[tag.id]) for tag in tags]


def tree_children(
    actor: Actor,
    scope_id: int,
    parent: Tag | None = None,
    group: TagGroup | None = None,
    *,
    paging: PageRequest | None = None,
    skip: int | None = None,
) -> Page[TreeNode]:
    """One page of a branch, by name: the live children of ``parent``; without a parent,
    the live root tags of ``group`` (no group: the ungrouped roots).

    Four queries whatever the page size (count, page, usage, descendants).  ``skip``
    leaves one tag out of the branch (one the caller already shows), so later pages stay
    aligned with the first.
    """
    authorize(actor, scope_id, Permission.TAGS_READ)
    paging = paging or PageRequest()
    query = select(Tag).where(Tag.scope_id == scope_id, Tag.deleted_at.is_(None))
    if parent is not None:
        query = query.where(Tag.parent_id == parent.id)
    else:
        query = query.where(
            Tag.parent_id.is_(None),
            Tag.group_id == group.id if group is not None else Tag.group_id.is_(None),
        )
    if skip is not None:
        query = query.where(Tag.id != skip)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    tags = db.session.scalars(
        query.order_by(Tag.path_key, Tag.id).limit(paging.per_page).offset(paging.offset)
    ).all()
    return Page(tree_nodes(tags), total, paging.page, paging.per_page)


def ancestors_of(tag: Tag) -> list[Tag]:
    """The tag's ancestors, root first (one query)."""
    ids = [int(part) for part in tag.id_path.strip("/").split("/")[:-1]]
    if not ids:
        return []
    return list(db.session.scalars(select(Tag).where(Tag.id.in_(ids)).order_by(Tag.depth)))


def group_tag_count(actor: Actor, scope_id: int, group_id: int | None) -> int:
    """How many live tags of the scope belong to the group (None: to no group)."""
    authorize(actor, scope_id, Permission.TAGS_READ)
    in_group = Tag.group_id.is_(None) if group_id is None else Tag.group_id == group_id
    return db.session.scalar(
        select(func.count(Tag.id)).where(
            Tag.scope_id == scope_id, Tag.deleted_at.is_(None), in_group
        )
    ) or 0


def move_targets(actor: Actor, scope_id: int, tag: Tag, search: str | None, *,
                 limit: int = 15) -> list[Tag]:
    """Live tags ``tag`` could move under, matching ``search`` in their qualified name:
    never the tag itself, one of its descendants (a cycle), its current parent or a
    deprecated tag (a picker: see :attr:`TagFilter.exclude_deprecated`)."""
    authorize(actor, scope_id, Permission.TAGS_READ)
    query = tag_query(scope_id, TagFilter(search=search, exclude_deprecated=True)).where(
        not_(subtree_of(tag.id_path)))
    if tag.parent_id is not None:
        query = query.where(Tag.id != tag.parent_id)
    return list(db.session.scalars(query.order_by(Tag.path_key, Tag.id).limit(limit)))


def protected_in_subtree(actor: Actor, scope_id: int, tag: Tag) -> int:
    """How many live protected tags the subtree of ``tag`` holds (itself included)."""
    authorize(actor, scope_id, Permission.TAGS_READ)
    return db.session.scalar(
        select(func.count(Tag.id)).where(
            Tag.deleted_at.is_(None), Tag.protected.is_(True), subtree_of(tag.id_path),
        )
    ) or 0
