"""Soft delete and restore of tags, one or in bulk, with their subtrees; set-based (a
fixed number of statements whatever the number of tags)."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

from sqlalchemy import (
    func,
    select,
    update,
)

from webapp.extensions import db
from webapp.models import Tag, TagGroup
from webapp.models.types import utcnow
from webapp.services.actor import Actor, Permission, authorize
from webapp.services.errors import (
    Conflict,
    FieldError,
    LimitExceeded,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from webapp.services.policies.enforce import refuse_policy_violations, tag_links
from webapp.services.sql import integer_list
from webapp.services.tags.aliases import find_holders
from webapp.services.tags.lookup import (
    FACT_COLUMNS,
    TagFacts,
    expire_tags,
    find_live_tags,
    find_tag,
    in_range,
    live_tag,
    subtree_of,
    subtree_ranges,
)
from webapp.services.uow import ChangeRecorder, writing

MAX_BULK_DELETE = 1000  # handles in one bulk delete



SUBTREE_LISTED = 50  # tags a subtree delete's confirmation names


@dataclass(frozen=True)
class SubtreeListing:
    """The first live tags of a subtree (paths, in path order) and how many there are."""

    paths: list[str]
    total: int

    @property
    def more(self) -> int:
        """The tags not listed."""
        return self.total - len(self.paths)


def subtree_listing(actor: Actor, scope_id: int, tag: Tag, limit: int = SUBTREE_LISTED
                    ) -> SubtreeListing:
    """Which tags deleting ``tag`` with its hierarchy takes: the subtree's live tags (itself
    included), the first ``limit`` paths in path order and the count of all, in one
    statement."""
    authorize(actor, scope_id, Permission.TAGS_READ)
    if tag.scope_id != scope_id:
        raise NotFound(f"tag {tag.id} not found")
    rows = db.session.execute(
        select(Tag.path, func.count().over())
        .where(Tag.deleted_at.is_(None), subtree_of(tag.id_path))  # no scope: see subtree_of
        .order_by(Tag.path_key)
        .limit(limit)
    ).tuples().all()
    return SubtreeListing([path for path, _ in rows], rows[0][1] if rows else 0)


class DeletedTag(NamedTuple):
    """A tag a soft delete took away (its row is not loaded as an object)."""

    id: int
    path: str


def delete_tag(actor: Actor, scope_id: int, handle: int | str, *, hierarchy: bool = False
               ) -> list[DeletedTag]:
    """Soft-delete a tag; with ``hierarchy`` its live descendants too, else live children
    make it a Conflict. Returns the tags deleted, the named one first."""
    with writing(actor, scope_id, f"Delete tag {handle}") as recorder:
        authorize(actor, scope_id, Permission.TAGS_DELETE)
        return soft_delete(actor, recorder, live_tag(scope_id, handle), hierarchy)


@dataclass
class BulkDeleteOutcome:
    deleted: list[DeletedTag]
    not_found: list[str]
    refused: list[str]  # every handle left alone, in the order given
    # Those of ``refused`` whose tag, or a live tag below it, is protected: refused for
    # that whatever else (live children without ``hierarchy``), as a single delete's 403.
    protected: list[str] = field(default_factory=list)


def bulk_delete_tags(
    actor: Actor, scope_id: int, handles: Sequence[int | str], *, hierarchy: bool = False
) -> BulkDeleteOutcome:
    """Delete many tags in one change set. Unknown handles are reported, not fatal; a tag
    that cannot go is reported as refused: protected (itself or a live tag below it, also
    listed in ``protected``, whatever else), or live children without ``hierarchy``.
    A handle naming a tag this call already deleted (given twice, or a descendant of a
    hierarchy deleted before it) is neither.

    Set-based: the handles are looked up, their live subtrees read as rows and the chosen
    tags marked in one statement each, so the number of statements does not grow with the
    number of tags.  The handles are then judged in order, as one at a time would: a
    parent given after its last live child has gone too may go."""
    if not handles:
        raise ValidationFailed.field("tag_ids", "give at least one tag")
    if len(handles) > MAX_BULK_DELETE:
        raise LimitExceeded(
            f"at most {MAX_BULK_DELETE} tags per bulk delete ({len(handles)} given)",
            [FieldError("tag_ids", f"at most {MAX_BULK_DELETE} items")])
    outcome = BulkDeleteOutcome([], [], [])
    with writing(actor, scope_id, f"Delete {len(handles)} tag(s)") as recorder:
        authorize(actor, scope_id, Permission.TAGS_DELETE)
        found = find_live_tags(scope_id, handles)
        named = {tag.id: tag for tag in found if tag is not None}
        # Without ``hierarchy`` too: the protected tags below a tag refuse it first.
        below = _live_subtrees(list(named.values()))
        starts = [row.id_path for row in below]
        gone: set[int] = set()
        for handle, tag in zip(handles, found, strict=True):
            if tag is None:
                outcome.not_found.append(str(handle))
                continue
            if tag.id in gone:
                continue
            first = bisect_left(starts, tag.id_path)
            last = bisect_left(starts, tag.id_path[:-1] + "0")
            subtree = [row for row in below[first:last] if row.id not in gone]
            if not actor.is_system and any(row.protected for row in subtree):
                outcome.refused.append(str(handle))
                outcome.protected.append(str(handle))
                continue
            # Without the hierarchy, only a tag whose descendants have all gone may go.
            doomed = subtree if hierarchy or len(subtree) == 1 else []
            if not doomed:
                outcome.refused.append(str(handle))
                continue
            gone.update(row.id for row in doomed)
            outcome.deleted.extend(DeletedTag(row.id, row.path) for row in doomed)
        if outcome.deleted:
            doomed_ids = [item.id for item in outcome.deleted]
            refuse_policy_violations(scope_id, removed=tag_links(doomed_ids))
            mark_deleted(recorder, doomed_ids)
    return outcome


class _SubtreeRow(NamedTuple):
    id: int
    path: str
    id_path: str
    protected: bool


def _outermost(tags: Iterable[TagFacts]) -> list[TagFacts]:
    """The tags that lie under no other of them, in ``id_path`` order."""
    kept: list[TagFacts] = []
    for tag in sorted(tags, key=lambda item: item.id_path):
        if not kept or not tag.id_path.startswith(kept[-1].id_path):
            kept.append(tag)
    return kept




def _live_subtrees(tops: Sequence[TagFacts]) -> list[_SubtreeRow]:
    """Every live tag in the subtrees of ``tops``, in ``id_path`` order, in one statement."""
    if not tops:
        return []
    ranges = subtree_ranges(_outermost(tops))
    rows = db.session.execute(
        select(Tag.id, Tag.path, Tag.id_path, Tag.protected)
        .select_from(ranges).join(Tag, in_range(ranges))
        .where(Tag.deleted_at.is_(None))
    ).all()
    return sorted((_SubtreeRow(*row) for row in rows), key=lambda row: row.id_path)


def live_children(parent_ids: Sequence[int]) -> list[TagFacts]:
    """The live children of the given tags, in one statement.

    The ids go in as a list of values, not a JSON table: PostgreSQL then weighs each id
    against the parent column's statistics, where a JSON table of unknown size joined to
    parents of a thousand children each looked like most of the scope and was read by a
    scan (30 ms in a scope of 100,000 tags)."""
    if not parent_ids:
        return []
    rows = db.session.execute(
        select(*FACT_COLUMNS).outerjoin(TagGroup, TagGroup.id == Tag.group_id)
        .where(Tag.parent_id.in_(list(parent_ids)), Tag.deleted_at.is_(None))
    ).all()
    return [TagFacts(*row) for row in rows]


def mark_deleted(recorder: ChangeRecorder, tag_ids: Sequence[int]) -> None:
    """Soft-delete the given live tags in one UPDATE and record a delete event for each
    (no checks: the caller decided they go)."""
    now = utcnow()
    chosen = integer_list(tag_ids, "doomed")
    db.session.execute(
        update(Tag).where(Tag.id.in_(select(chosen.c.id)), Tag.deleted_at.is_(None))
        .values(deleted_at=now, updated_at=now),
        execution_options={"synchronize_session": False},
    )
    expire_tags(set(tag_ids))
    recorder.record_many([
        {"object_type": "tag", "object_id": tag_id, "action": "delete",
         "before": {"deleted": False}, "after": {"deleted": True}} for tag_id in tag_ids
    ])


class _Guarded(Protocol):
    path: str
    protected: bool


def refuse_protected_delete(actor: Actor, path: str, subtree: Sequence[_Guarded]) -> None:
    """A delete of the tag at ``path`` (its live subtree given, itself first) is refused
    when the tag or any live descendant is protected, with or without its hierarchy: with
    it the protected tag would go, without it the live children stay in the way, so no
    form of the request can succeed.  The system actor may."""
    if actor.is_system:
        return
    locked = [row.path for row in subtree if row.protected]
    if not locked:
        return
    if subtree[0].protected:
        raise PermissionDenied(f"tag {path!r} is protected and cannot be deleted")
    shown = ", ".join(locked[:10]) + (f" and {len(locked) - 10} more" if len(locked) > 10 else "")
    raise PermissionDenied(f"tag {path!r} cannot be deleted: it holds protected tag(s) "
                           f"{shown}, which cannot be deleted")


def soft_delete(actor: Actor, recorder: ChangeRecorder, tag: Tag, hierarchy: bool
                ) -> list[DeletedTag]:
    """Soft-delete ``tag`` (with ``hierarchy``, its live descendants too) inside the
    running write; refuses protected tags in the subtree (first, whatever else is wrong:
    PermissionDenied) and live children without ``hierarchy`` (Conflict).

    Set-based: the subtree is read as (id, path, protected) rows, not objects (10,000
    tags would cost more to load than to delete), and marked in one UPDATE."""
    in_subtree = (Tag.deleted_at.is_(None), subtree_of(tag.id_path))
    subtree = db.session.execute(
        select(Tag.id, Tag.path, Tag.protected).where(*in_subtree).order_by(Tag.id_path)
    ).all()
    # Protection first: a 409 asking for the hierarchy would promise a delete that a
    # protected tag refuses anyway (docs/decisions.md).
    refuse_protected_delete(actor, tag.path, subtree)
    if len(subtree) > 1 and not hierarchy:
        raise Conflict(
            f"tag {tag.path!r} has {len(subtree) - 1} live descendant(s); delete the hierarchy "
            "to remove them too",
            [FieldError("hierarchy", "required to delete a tag with children")],
        )
    refuse_policy_violations(tag.scope_id, removed=tag_links([row.id for row in subtree]))
    now = utcnow()
    db.session.execute(
        update(Tag).where(*in_subtree).values(deleted_at=now, updated_at=now),
        execution_options={"synchronize_session": False},
    )
    ids = [row.id for row in subtree]
    expire_tags(set(ids))
    recorder.record_many([
        {"object_type": "tag", "object_id": item_id, "action": "delete",
         "before": {"deleted": False}, "after": {"deleted": True}} for item_id in ids
    ])
    return [DeletedTag(row.id, row.path) for row in subtree]


def restore_tag(actor: Actor, scope_id: int, handle: int | str, *, hierarchy: bool = False
                ) -> list[Tag]:
    """Bring a deleted tag back (with ``hierarchy``, the descendants deleted with it).
    Its parent must be live and no live tag may hold its name."""
    with writing(actor, scope_id, f"Restore tag {handle}") as recorder:
        authorize(actor, scope_id, Permission.TAGS_DELETE)
        tag = find_tag(scope_id, handle, include_deleted=True)
        if tag is None:
            raise NotFound(f"tag {handle!r} not found")
        if tag.deleted_at is None:
            raise Conflict(f"tag {tag.path!r} is not deleted")
        return restore_tags(scope_id, recorder, tag, hierarchy)


def restore_tags(scope_id: int, recorder: ChangeRecorder, tag: Tag, hierarchy: bool
                 ) -> list[Tag]:
    if tag.parent_id is not None:
        parent = db.session.get(Tag, tag.parent_id)
        if parent is not None and parent.deleted_at is not None:
            raise Conflict(f"restore the parent {parent.path!r} first")
    query = select(Tag).where(Tag.id == tag.id)
    if hierarchy:
        query = select(Tag).where(
            subtree_of(tag.id_path), Tag.deleted_at == tag.deleted_at
        )
    revived = db.session.scalars(query.order_by(Tag.id_path)).all()
    holders = find_holders(scope_id, [item.path_key for item in revived])
    for holder in holders.values():
        if holder.is_alias:
            raise Conflict(f"{holder.text!r} is now an alias of another tag; remove the "
                           "alias first")
        raise Conflict(f"a live tag named {holder.text!r} exists; rename it first")
    refuse_policy_violations(scope_id, added=tag_links([item.id for item in revived]))
    now = utcnow()
    for item in revived:
        item.deleted_at = None
        item.updated_at = now
    db.session.flush()
    recorder.record_many([
        {"object_type": "tag", "object_id": item.id, "action": "restore",
         "before": {"deleted": True}, "after": {"deleted": False}} for item in revived
    ])
    return list(revived)
