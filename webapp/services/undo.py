"""Change sets: list them, read a tag's history, and undo one.

An undo reverts every row a change set touched, in one new change set, as long as no
newer change set (that was not itself undone) touched the same rows.  Otherwise it is a
Conflict naming what changed since.  An undo cannot itself be undone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, union, update

from webapp.extensions import db
from webapp.models import (
    Assignment,
    AssignmentRemoval,
    AuditEvent,
    ChangeSet,
    Tag,
    TagGroup,
    TagRule,
    User,
)
from webapp.models.types import utcnow
from webapp.services import names
from webapp.services.actor import Actor, Permission, authorize
from webapp.services.assignments import remove_links
from webapp.services.errors import Conflict, FieldError, NotFound, PolicyViolation
from webapp.services.groups import apply_group_snapshot, remove_group
from webapp.services.link_plan import refuse_unassignable
from webapp.services.paging import Page, PageRequest
from webapp.services.policies.crud import revert_policy_event
from webapp.services.policies.enforce import find_policy_violation
from webapp.services.sql import integer_key, integer_list, upsert_insert
from webapp.services.tags.aliases import revert_alias_events
from webapp.services.tags.bulk_edit import undo_attribute_run, undo_deprecation_run
from webapp.services.tags.deprecation import restore_deprecation
from webapp.services.tags.hierarchy import Place, relocate, relocate_each
from webapp.services.tags.lookup import expire_tags
from webapp.services.uow import ChangeRecorder, writing
from webapp.services.wording import counted

UNDOABLE = {"tag", "tag_group", "tag_alias", "tag_rule", "tag_policy", "assignments", "resources"}


@dataclass(frozen=True)
class ChangeSetFilter:
    actor_id: int | None = None
    object_type: str | None = None
    tag_id: int | None = None  # change sets that touched this tag, its links or aliases
    include_undone: bool = True


def list_change_sets(actor: Actor, scope_id: int, filters: ChangeSetFilter | None = None,
                     paging: PageRequest | None = None) -> Page[ChangeSet]:
    """Newest first."""
    authorize(actor, scope_id, Permission.TAGS_READ)
    filters = filters or ChangeSetFilter()
    paging = paging or PageRequest()
    query = select(ChangeSet).where(ChangeSet.scope_id == scope_id)
    if filters.actor_id is not None:
        query = query.where(ChangeSet.actor_id == filters.actor_id)
    if not filters.include_undone:
        query = query.where(ChangeSet.reverted_by_id.is_(None))
    touched = []
    if filters.object_type:
        touched.append(AuditEvent.object_type == filters.object_type)
    if filters.tag_id is not None:
        touched.append(and_(AuditEvent.object_type.in_(("tag", "assignments", "tag_alias")),
                            AuditEvent.object_id == filters.tag_id))
    if touched:
        query = query.where(
            ChangeSet.id.in_(select(AuditEvent.change_set_id).where(and_(*touched)))
        )
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = db.session.scalars(
        query.order_by(ChangeSet.id.desc()).limit(paging.per_page).offset(paging.offset)
    ).unique().all()
    return Page(list(items), total, paging.page, paging.per_page)


def get_change_set(actor: Actor, scope_id: int, change_set_id: int) -> ChangeSet:
    authorize(actor, scope_id, Permission.TAGS_READ)
    row_id = integer_key(change_set_id)
    change_set = db.session.get(ChangeSet, row_id) if row_id is not None else None
    if change_set is None or change_set.scope_id != scope_id:
        raise NotFound(f"change set {change_set_id} not found")
    return change_set


def undo_change_set(actor: Actor, scope_id: int, change_set_id: int) -> ChangeSet:
    """Revert ``change_set_id``; returns the new change set that did it."""
    with writing(actor, scope_id, f"Undo change set {change_set_id}",
                 reverts_id=change_set_id) as recorder:
        authorize(actor, scope_id, Permission.TAGS_WRITE)
        target = get_change_set(actor, scope_id, change_set_id)
        events = list(target.events)
        _refuse_unundoable(actor, scope_id, target, {event.object_type for event in events})
        _refuse_conflicts(target, events)
        _refuse_unassignable_links(actor, scope_id, target.id)
        refused = _policy_refusal(scope_id, target.id)
        if refused is not None:
            raise refused
        undo_id = recorder.change_set_id()
        remove_links(undo_id, Assignment.change_set_id == target.id)
        _restore_removed_links(target.id)
        # A run of tag deletes, moves, attribute edits, deprecations or alias changes is
        # undone in one go.
        run: list[AuditEvent] = []
        for event in reversed(events):
            kind = _run_kind(event)
            if run and kind != _run_kind(run[0]):
                _undo_run(scope_id, recorder, run)
                run = []
            if kind is None:
                _revert(scope_id, recorder, event)
            else:
                run.append(event)
        _undo_run(scope_id, recorder, run)
        target.reverted_by_id = undo_id
        change_set = recorder.change_set
        assert change_set is not None
        change_set.summary = f"Undo: {target.summary}"[:255]
        db.session.flush()
        return change_set


def _refuse_unassignable_links(actor: Actor, scope_id: int, change_set_id: int) -> None:
    """An undo adds and removes links as the change did: the tags of a group that only
    managers assign need a manager to undo them too (one query)."""
    touched = union(
        select(Assignment.tag_id).where(Assignment.change_set_id == change_set_id),
        select(AssignmentRemoval.tag_id).where(AssignmentRemoval.change_set_id == change_set_id),
    ).subquery()
    restricted = db.session.execute(
        select(Tag.path, TagGroup)
        .join(TagGroup, TagGroup.id == Tag.group_id)
        .where(Tag.id.in_(select(touched.c.tag_id)), TagGroup.assign_role != "editor")
        .limit(1)
    ).first()
    if restricted is not None:
        path, group = restricted
        refuse_unassignable(actor, scope_id, [(f"{group.identifier}::{path}", group)])


def _refuse_unundoable(actor: Actor, scope_id: int, target: ChangeSet,
                       kinds: set[str]) -> None:
    """``kinds``: the object types of the change set's events."""
    if target.reverted_by_id is not None:
        raise Conflict(f"change set {target.id} was already undone by {target.reverted_by_id}")
    if target.reverts_id is not None:
        raise Conflict("an undo cannot be undone; make the change again instead")
    if kinds - UNDOABLE:
        raise Conflict(f"change set {target.id} changed {', '.join(sorted(kinds - UNDOABLE))}, "
                       "which cannot be undone here")
    if kinds & {"tag_group", "tag_rule"}:
        authorize(actor, scope_id, Permission.GROUPS_WRITE)
    if "tag_policy" in kinds:
        authorize(actor, scope_id, Permission.GROUPS_WRITE)


def _newer_live_change_sets(target: ChangeSet) -> ColumnElement[bool]:
    """Change sets after ``target`` that still stand: not undone, and not the undo of a
    change set that itself came after ``target`` (such a pair cancels out)."""
    return and_(
        ChangeSet.scope_id == target.scope_id,
        ChangeSet.id > target.id,
        ChangeSet.reverted_by_id.is_(None),
        or_(ChangeSet.reverts_id.is_(None), ChangeSet.reverts_id < target.id),
    )


def _refuse_conflicts(target: ChangeSet, events: Sequence[AuditEvent]) -> None:
    newer = select(ChangeSet.id).where(_newer_live_change_sets(target))
    problems: list[str] = []
    for kind in ("tag", "tag_group", "tag_rule"):
        ids = sorted({e.object_id for e in events if e.object_type == kind})
        if ids:
            rows = db.session.execute(
                select(AuditEvent.object_id, func.min(AuditEvent.change_set_id))
                .where(AuditEvent.object_type == kind, AuditEvent.object_id.in_(ids),
                       AuditEvent.change_set_id.in_(newer))
                .group_by(AuditEvent.object_id)
            ).all()
            named = _display_names(kind, [oid for oid, _ in rows])
            problems += [f"{kind.replace('_', ' ')} {named.get(oid, oid)!r} was changed later "
                         f"by change set #{cs}" for oid, cs in rows]
    removed_later = db.session.scalar(
        select(func.count()).select_from(AssignmentRemoval).where(
            AssignmentRemoval.origin_change_set_id == target.id,
            AssignmentRemoval.change_set_id.in_(newer),
        )
    )
    if removed_later:
        problems.append(f"{removed_later} link(s) it added were removed later")
    back_again = db.session.scalar(
        select(func.count()).select_from(AssignmentRemoval).join(
            Assignment,
            and_(Assignment.tag_id == AssignmentRemoval.tag_id,
                 Assignment.resource_id == AssignmentRemoval.resource_id),
        ).where(AssignmentRemoval.change_set_id == target.id)
    )
    if back_again:
        problems.append(f"{back_again} link(s) it removed were added again later")
    created = [e.object_id for e in events if e.object_type == "tag" and e.action == "create"]
    if created:
        used = db.session.scalar(
            select(func.count()).select_from(Assignment).where(
                Assignment.tag_id.in_(created),
                or_(Assignment.change_set_id.is_(None), Assignment.change_set_id != target.id),
            )
        )
        if used:
            problems.append(f"{used} later link(s) use tags it created")
        adopted = db.session.scalar(
            select(func.count()).select_from(Tag).where(
                Tag.parent_id.in_(created), Tag.deleted_at.is_(None), Tag.id.not_in(created)
            )
        )
        if adopted:
            problems.append(f"{adopted} later tag(s) were created under tags it created")
    if problems:
        raise Conflict(
            f"change set #{target.id} cannot be undone: " + "; ".join(problems),
            [FieldError("change_set", problem) for problem in problems],
        )


def _display_names(kind: str, ids: Sequence[int]) -> dict[int, str]:
    """Tags by path and groups by identifier, to name them in a refusal."""
    if not ids:
        return {}
    model, column = {"tag": (Tag, Tag.path), "tag_rule": (TagRule, TagRule.name)}.get(
        kind, (TagGroup, TagGroup.identifier))
    return dict(db.session.execute(
        select(model.id, column).where(model.id.in_(ids))
    ).tuples().all())


def _restore_removed_links(change_set_id: int) -> None:
    removals = select(
        AssignmentRemoval.tag_id, AssignmentRemoval.resource_id, AssignmentRemoval.added_by_id,
        AssignmentRemoval.added_at, AssignmentRemoval.context,
        AssignmentRemoval.origin_change_set_id,
    ).where(AssignmentRemoval.change_set_id == change_set_id)
    db.session.execute(
        upsert_insert(Assignment.__table__).from_select(
            ["tag_id", "resource_id", "added_by_id", "added_at", "context", "change_set_id"],
            removals,
        ).on_conflict_do_nothing()
    )


def _revert(scope_id: int, recorder: ChangeRecorder, event: AuditEvent) -> None:
    if event.object_type == "tag":
        _revert_tag(scope_id, recorder, event)
    elif event.object_type == "tag_group":
        _revert_group(scope_id, recorder, event)
    elif event.object_type == "tag_policy":
        revert_policy_event(scope_id, recorder, event.action, event.object_id, event.before)
    elif event.object_type == "tag_rule":
        from webapp.services.rules import revert_rule_event

        revert_rule_event(scope_id, recorder, event.action, event.object_id, event.before)


def _revert_tag(scope_id: int, recorder: ChangeRecorder, event: AuditEvent) -> None:
    tag = db.session.get(Tag, event.object_id)
    if tag is None:
        return
    if event.action in ("deprecate", "undeprecate") and event.before is not None:
        restore_deprecation(scope_id, recorder, tag, event.before, "undo " + event.action)
        return
    before = tag.snapshot()
    if event.action in ("create", "restore"):
        _set_deleted(tag, deleted=True)
    elif event.action == "delete":
        clash = db.session.scalar(select(Tag.path).where(
            Tag.scope_id == scope_id, Tag.deleted_at.is_(None), Tag.path_key == tag.path_key,
            Tag.id != tag.id,
        ))
        if clash is not None:
            raise Conflict(f"a live tag named {clash!r} exists; rename it before undoing")
        _set_deleted(tag, deleted=False)
    elif event.action == "update" and event.before:
        _apply_tag_snapshot(scope_id, tag, event.before)
    else:
        return
    recorder.record("tag", tag.id, "undo " + event.action, before, tag.snapshot())


_MOVED = {"parent_id", "group_id", "path"}
_ATTRIBUTES = {"color", "description"}


def _run_kind(event: AuditEvent) -> str | None:
    """``"delete"`` for a tag delete, ``"move"`` for a tag update that changed only where
    the tag sits (a bulk move's or a merge's), ``"attributes"`` for one that changed only
    colour and description (a bulk edit's), ``"deprecation"`` for a deprecate or
    undeprecate, ``"alias"`` for an alias event, else None: undone on its own."""
    if event.object_type == "tag_alias":
        return "alias"
    if event.object_type != "tag":
        return None
    if event.action == "delete":
        return "delete"
    if event.action in ("deprecate", "undeprecate") and event.before is not None:
        return "deprecation"
    if event.action == "update" and event.before and event.after:
        changed = {key for key in event.before.keys() | event.after.keys()
                   if event.before.get(key) != event.after.get(key)}
        if changed <= _MOVED:
            return "move"
        if changed <= _ATTRIBUTES:
            return "attributes"
    return None


def _undo_run(scope_id: int, recorder: ChangeRecorder, run: Sequence[AuditEvent]) -> None:
    kind = _run_kind(run[0]) if run else None
    if kind in ("attributes", "deprecation") and len(run) == 1:
        _revert(scope_id, recorder, run[0])  # one event: the rules' own messages
    elif kind == "attributes":
        undo_attribute_run(recorder, run)
    elif kind == "deprecation":
        undo_deprecation_run(scope_id, recorder, run)
    elif run and _run_kind(run[0]) == "alias":
        revert_alias_events(scope_id, recorder,
                            [(event.action, event.after or {}) for event in run])
    elif run and _run_kind(run[0]) == "delete":
        _undelete_tags(scope_id, recorder, run)
    elif run:
        _move_back(scope_id, recorder, run)


def _move_back(scope_id: int, recorder: ChangeRecorder, moves: Sequence[AuditEvent]
               ) -> None:
    """Undo tag moves, a fixed number of statements however many: every tag goes back
    under its parent of before (its group, at the top level) with its subtree, through
    :func:`webapp.services.tags.relocate_each`, which refuses clashes as a single move
    would; an ``undo update`` event each, as one at a time would record."""
    places = {event.object_id: Place(event.before["parent_id"], event.before["group_id"])
              for event in moves if event.before}
    recorder.record_many([
        {"object_type": "tag", "object_id": moved.id, "action": "undo update",
         "before": moved.before, "after": moved.after}
        for moved in relocate_each(scope_id, places)
    ])


def _undelete_tags(scope_id: int, recorder: ChangeRecorder, deletes: Sequence[AuditEvent]
                   ) -> None:
    """Undo tag delete events, a fixed number of statements however many: the tags are
    read in one statement, a live tag holding one of their names refuses the undo, and
    one UPDATE brings them back."""
    chosen = integer_list([event.object_id for event in deletes], "undeleted")
    revived = list(db.session.scalars(select(Tag).where(Tag.id.in_(select(chosen.c.id)))))
    keys = [tag.path_key for tag in revived]
    clash = db.session.scalar(select(Tag.path).where(
        Tag.scope_id == scope_id, Tag.deleted_at.is_(None), Tag.path_key.in_(keys),
        Tag.id.not_in(select(chosen.c.id)),
    ).limit(1))
    if clash is None and len(set(keys)) < len(keys):
        clash = next(tag.path for tag in revived if keys.count(tag.path_key) > 1)
    if clash is not None:
        raise Conflict(f"a live tag named {clash!r} exists; rename it before undoing")
    befores = {tag.id: tag.snapshot() for tag in revived}
    now = utcnow()
    db.session.execute(
        update(Tag).where(Tag.id.in_(select(chosen.c.id))).values(deleted_at=None,
                                                                 updated_at=now),
        execution_options={"synchronize_session": False},
    )
    expire_tags(set(befores))
    recorder.record_many([
        {"object_type": "tag", "object_id": tag_id, "action": "undo delete",
         "before": before, "after": {**before, "deleted": False}}
        for tag_id, before in befores.items()
    ])


def _set_deleted(tag: Tag, *, deleted: bool) -> None:
    now = utcnow()
    tag.deleted_at = now if deleted else None
    tag.updated_at = now


def _apply_tag_snapshot(scope_id: int, tag: Tag, snapshot: dict[str, Any]) -> None:
    parent = db.session.get(Tag, snapshot["parent_id"]) if snapshot["parent_id"] else None
    group = db.session.get(TagGroup, snapshot["group_id"]) if snapshot["group_id"] else None
    if (snapshot["name"], snapshot["parent_id"], snapshot["group_id"]) != (
        tag.name, tag.parent_id, tag.group_id
    ):
        relocate(scope_id, tag, name=snapshot["name"], parent=parent, group=group)
    tag.label = snapshot["label"]
    tag.color = snapshot["color"]
    tag.description = snapshot["description"]
    tag.updated_at = utcnow()


def _revert_group(scope_id: int, recorder: ChangeRecorder, event: AuditEvent) -> None:
    group = db.session.get(TagGroup, event.object_id)
    if event.action == "create" and group is not None:
        remove_group(recorder, group, "undo create")
    elif event.action == "update" and group is not None and event.before:
        before = group.snapshot()
        apply_group_snapshot(scope_id, group, event.before)
        recorder.record("tag_group", group.id, "undo update", before, group.snapshot())
    elif event.action == "delete" and group is None and event.before:
        snapshot = event.before
        revived = TagGroup(id=event.object_id, scope_id=scope_id,
                           assign_role=snapshot.get("assign_role", "editor"), **{
            key: snapshot[key] for key in
            ("public_id", "identifier", "label", "description", "color", "exclusive",
             "allowed_types")
        })
        revived.identifier_key = names.key(snapshot["identifier"])
        db.session.add(revived)
        db.session.flush()
        recorder.record("tag_group", revived.id, "undo delete", None, revived.snapshot())


# --- what an undo would do, before it is done -------------------------------------------

# What undoing an event of each kind and action does to its object, as counted words.
_UNDO_EFFECTS = {
    ("tag_alias", "add"): ("remove", "alias", "aliases", ""),
    ("tag_alias", "remove"): ("restore", "alias", "aliases", ""),
    ("tag_alias", "move"): ("give back", "alias", "aliases", ""),
    ("tag", "create"): ("delete", "tag", "tags", ""),
    ("tag", "restore"): ("delete", "tag", "tags", ""),
    ("tag", "delete"): ("restore", "tag", "tags", ""),
    ("tag", "update"): ("change", "tag", "tags", " back"),
    ("tag", "deprecate"): ("put back the deprecation of", "tag", "tags", ""),
    ("tag", "undeprecate"): ("deprecate", "tag", "tags", " again"),
    ("tag_group", "create"): ("delete", "group", "groups", ""),
    ("tag_group", "delete"): ("restore", "group", "groups", ""),
    ("tag_group", "update"): ("change", "group", "groups", " back"),
    ("tag_policy", "create"): ("delete", "policy", "policies", ""),
    ("tag_policy", "delete"): ("restore", "policy", "policies", ""),
    ("tag_policy", "update"): ("change", "policy", "policies", " back"),
}


@dataclass(frozen=True)
class UndoPreview:
    """What undoing a change set would do, in numbers: counted, nothing written.

    ``objects`` counts the tags and groups per ``(object_type, action)`` of the change set
    (an undo deletes what it created or restored, restores what it deleted and puts back
    what it updated)."""

    change_set_id: int
    links_removed: int  # links it added: the undo removes them
    links_restored: int  # links it removed: the undo puts them back
    objects: dict[tuple[str, str], int]
    # An enforced policy the undo's links would break (then it is refused whole).
    policy_refusal: PolicyViolation | None = None

    @property
    def effects(self) -> list[str]:
        """``["remove 287 links", "restore 108 links", "restore 3 tags"]``."""
        found = []
        if self.links_removed:
            found.append(f"remove {counted(self.links_removed, 'link')}")
        if self.links_restored:
            found.append(f"restore {counted(self.links_restored, 'link')}")
        for key, (verb, one, many, tail) in _UNDO_EFFECTS.items():
            if self.objects.get(key):
                found.append(f"{verb} {counted(self.objects[key], one, many)}{tail}")
        return found

    @property
    def text(self) -> str:
        """``Remove 287 links, restore 108 links``: the confirmation's sentence."""
        effects = self.effects
        if not effects:
            return "Nothing to put back: it is only marked undone"
        sentence = ", ".join(effects)
        return sentence[0].upper() + sentence[1:]


def preview_undos(actor: Actor, scope_id: int, change_sets: Sequence[ChangeSet], *,
                  check_policies: bool = False) -> dict[int, UndoPreview]:
    """What undoing each change set of the scope would do (see :class:`UndoPreview`), in
    three statements however many.  Whether it can be undone is not checked: see
    :func:`can_be_undone`, and newer conflicting changes are found by trying.  With
    ``check_policies`` (one change set's page), also the enforced policy its links
    would break, as the undo checks it."""
    authorize(actor, scope_id, Permission.TAGS_READ)
    ids = [cs.id for cs in change_sets if cs.scope_id == scope_id]
    if not ids:
        return {}
    objects: dict[int, dict[tuple[str, str], int]] = {cs_id: {} for cs_id in ids}
    for cs_id, object_type, action, number in db.session.execute(
        select(AuditEvent.change_set_id, AuditEvent.object_type, AuditEvent.action,
               func.count(AuditEvent.object_id.distinct()))
        .where(AuditEvent.change_set_id.in_(ids),
               AuditEvent.object_type.in_(("tag", "tag_group")))
        .group_by(AuditEvent.change_set_id, AuditEvent.object_type, AuditEvent.action)
    ):
        objects[cs_id][(object_type, action)] = number
    added = dict(db.session.execute(
        select(Assignment.change_set_id, func.count())
        .where(Assignment.change_set_id.in_(ids)).group_by(Assignment.change_set_id)
    ).tuples().all())
    removed = dict(db.session.execute(
        select(AssignmentRemoval.change_set_id, func.count())
        .where(AssignmentRemoval.change_set_id.in_(ids))
        .group_by(AssignmentRemoval.change_set_id)
    ).tuples().all())
    return {cs_id: UndoPreview(cs_id, added.get(cs_id, 0), removed.get(cs_id, 0),
                               objects[cs_id],
                               _policy_refusal(scope_id, cs_id) if check_policies else None)
            for cs_id in ids}


def _policy_refusal(scope_id: int, change_set_id: int) -> PolicyViolation | None:
    """What :func:`undo_change_set`'s policy check would refuse: putting back the links
    the change set removed, taking away those it added."""
    return find_policy_violation(
        scope_id,
        added=select(AssignmentRemoval.tag_id, AssignmentRemoval.resource_id)
        .where(AssignmentRemoval.change_set_id == change_set_id),
        removed=select(Assignment.tag_id, Assignment.resource_id)
        .where(Assignment.change_set_id == change_set_id))


def preview_undo(actor: Actor, scope_id: int, change_set_id: int) -> UndoPreview:
    """What undoing ``change_set_id`` would do, for a confirmation: authorized and refused
    as :func:`undo_change_set` would be (already undone, itself an undo, objects an undo
    cannot revert: Conflict), except for newer conflicting changes, found by trying."""
    authorize(actor, scope_id, Permission.TAGS_WRITE)
    target = get_change_set(actor, scope_id, change_set_id)
    _refuse_unundoable(actor, scope_id, target, set(db.session.scalars(
        select(AuditEvent.object_type).where(AuditEvent.change_set_id == target.id).distinct())))
    return preview_undos(actor, scope_id, [target], check_policies=True)[target.id]


# --- reading change sets for the audit pages ---------------------------------------------


@dataclass(frozen=True)
class ChangeSetDigest:
    """What one change set did, in numbers."""

    object_types: dict[str, int]  # audit events per object type
    links_added: int  # distinct tag × resource links it made (or put back, for an undo)
    links_removed: int

    @property
    def undoable_kinds(self) -> bool:
        """Every object it touched is of a kind an undo can revert."""
        return set(self.object_types) <= UNDOABLE

    @property
    def touches_groups(self) -> bool:
        """Undoing it also needs the groups.write permission."""
        return "tag_group" in self.object_types


def can_be_undone(change_set: ChangeSet, digest: ChangeSetDigest) -> bool:
    """False when an undo is refused whatever changed since: already undone, itself an
    undo, or touching objects an undo cannot revert.  (Newer conflicting changes are only
    found by trying: :func:`undo_change_set`.)"""
    return (change_set.reverted_by_id is None and change_set.reverts_id is None
            and digest.undoable_kinds)


def digest_change_sets(actor: Actor, scope_id: int, change_sets: Sequence[ChangeSet]
                       ) -> dict[int, ChangeSetDigest]:
    """Event counts and link counts of many change sets of the scope, in three queries.

    Links added counts the links a change set made, including those removed since; an
    undo's links added are the links it put back.
    """
    authorize(actor, scope_id, Permission.TAGS_READ)
    ids = [cs.id for cs in change_sets if cs.scope_id == scope_id]
    if not ids:
        return {}
    kinds: dict[int, dict[str, int]] = {cs_id: {} for cs_id in ids}
    for cs_id, object_type, number in db.session.execute(
        select(AuditEvent.change_set_id, AuditEvent.object_type, func.count())
        .where(AuditEvent.change_set_id.in_(ids))
        .group_by(AuditEvent.change_set_id, AuditEvent.object_type)
        .order_by(AuditEvent.change_set_id, AuditEvent.object_type)
    ):
        kinds[cs_id][object_type] = number
    made = union(
        select(Assignment.change_set_id.label("cs"), Assignment.tag_id, Assignment.resource_id)
        .where(Assignment.change_set_id.in_(ids)),
        select(AssignmentRemoval.origin_change_set_id, AssignmentRemoval.tag_id,
               AssignmentRemoval.resource_id)
        .where(AssignmentRemoval.origin_change_set_id.in_(ids)),
    ).subquery()
    added = dict(db.session.execute(
        select(made.c.cs, func.count()).group_by(made.c.cs)
    ).tuples().all())
    reverted = {cs.id: cs.reverts_id for cs in change_sets
                if cs.id in kinds and cs.reverts_id is not None}
    removed = dict(db.session.execute(
        select(AssignmentRemoval.change_set_id, func.count())
        .where(AssignmentRemoval.change_set_id.in_(ids + list(reverted.values())))
        .group_by(AssignmentRemoval.change_set_id)
    ).tuples().all())
    return {
        cs_id: ChangeSetDigest(
            object_types=kinds[cs_id],
            links_added=added.get(cs_id, 0) + removed.get(reverted.get(cs_id, -1), 0),
            links_removed=removed.get(cs_id, 0),
        )
        for cs_id in ids
    }


def list_change_set_actors(actor: Actor, scope_id: int) -> list[User]:
    """The users who made change sets in the scope (present or past members), by email."""
    authorize(actor, scope_id, Permission.TAGS_READ)
    made = select(ChangeSet.actor_id).where(
        ChangeSet.scope_id == scope_id, ChangeSet.actor_id.is_not(None)
    ).distinct()
    return list(db.session.scalars(select(User).where(User.id.in_(made)).order_by(User.email)))


@dataclass(frozen=True)
class ChangeSetDetail:
    """One change set with a page of its events and the names of the objects they name.

    ``names`` maps ``("tag", id)`` to a tag's qualified name and ``("tag_group", id)`` to a
    group's identifier, for the tags and groups the events (and their before/after
    ``parent_id`` / ``group_id``) refer to that still exist, deleted tags included.
    """

    change_set: ChangeSet
    events: Page[AuditEvent]
    digest: ChangeSetDigest
    names: dict[tuple[str, int], str]


def describe_change_set(actor: Actor, scope_id: int, change_set_id: int,
                        paging: PageRequest | None = None) -> ChangeSetDetail:
    """A change set, a page of its events (in order) and the names they refer to."""
    change_set = get_change_set(actor, scope_id, change_set_id)
    paging = paging or PageRequest()
    total = db.session.scalar(
        select(func.count()).select_from(AuditEvent)
        .where(AuditEvent.change_set_id == change_set.id)
    ) or 0
    events = list(db.session.scalars(
        select(AuditEvent).where(AuditEvent.change_set_id == change_set.id)
        .order_by(AuditEvent.id).limit(paging.per_page).offset(paging.offset)
    ))
    digest = digest_change_sets(actor, scope_id, [change_set])[change_set.id]
    return ChangeSetDetail(
        change_set=change_set,
        events=Page(events, total, paging.page, paging.per_page),
        digest=digest,
        names=_object_names(scope_id, events),
    )


def _object_names(scope_id: int, events: Sequence[AuditEvent]) -> dict[tuple[str, int], str]:
    tag_ids: set[int] = set()
    group_ids: set[int] = set()
    for event in events:
        if event.object_type in ("tag", "assignments", "tag_alias"):
            tag_ids.add(event.object_id)
        elif event.object_type == "tag_group":
            group_ids.add(event.object_id)
        if event.object_type == "tag":
            for snapshot in (event.before or {}, event.after or {}):
                if isinstance(snapshot.get("parent_id"), int):
                    tag_ids.add(snapshot["parent_id"])
                if isinstance(snapshot.get("group_id"), int):
                    group_ids.add(snapshot["group_id"])
    names: dict[tuple[str, int], str] = {}
    if tag_ids:
        for tag_id, path, group in db.session.execute(
            select(Tag.id, Tag.path, TagGroup.identifier)
            .outerjoin(TagGroup, TagGroup.id == Tag.group_id)
            .where(Tag.scope_id == scope_id, Tag.id.in_(tag_ids))
        ):
            names[("tag", tag_id)] = f"{group}::{path}" if group else path
    if group_ids:
        for group_id, identifier in db.session.execute(
            select(TagGroup.id, TagGroup.identifier)
            .where(TagGroup.scope_id == scope_id, TagGroup.id.in_(group_ids))
        ):
            names[("tag_group", group_id)] = identifier
    return names
