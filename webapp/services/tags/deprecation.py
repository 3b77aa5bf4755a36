"""Deprecating tags, and moving a deprecated tag's links to its replacement.

A deprecated tag stays on its resources and in history, but is not attached again (the
link planner refuses it, :mod:`webapp.services.link_plan`) and pickers leave it out
(:attr:`webapp.services.tags.queries.TagFilter.exclude_deprecated`).  It may name a
*replacement*.  The rules, all here:

* only a live tag is deprecated or un-deprecated, with ``tags.write``; a protected tag not
  by people (like any other change to it);
* a replacement is a live tag of the scope, not the tag itself and not deprecated; an
  ancestor or a descendant is fine (there is no cycle to make: see the next rule);
* a replacement is never deprecated, so there are no chains: deprecating a tag that other
  deprecated tags name as their replacement passes the role on — they name its own
  replacement instead (or none), in the same change set;
* a replacement deleted later stays named (restoring it brings it back) but counts as none
  meanwhile: an attach refusal offers nothing, "replace everywhere" is refused;
* a replacement merged into another tag hands the role to that tag (none, if it is
  deprecated), in the merge's change set.

Events: ``tag`` ``deprecate`` (also a change of replacement) and ``undeprecate``, with the
deprecation state before and after (:func:`deprecation_state`); an undo puts the state
back through :func:`restore_deprecation`, which checks the same rules.

"Replace everywhere" (:func:`replace_everywhere`, previewed by
:func:`preview_replace_everywhere`) moves every link of a deprecated tag to its
replacement in one undoable change set, set-based: a fixed number of statements whatever
the number of links.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, Select, func, literal, select, update

from webapp.extensions import db
from webapp.models import Assignment, AssignmentContext, AssignmentRemoval, Resource, Tag
from webapp.models.types import utcnow
from webapp.services import names
from webapp.services.actor import Actor, Permission, authorize
from webapp.services.assignments import (
    insert_links,
    remove_links,
    replace_in_exclusive_groups,
    typed_literal,
)
from webapp.services.errors import Conflict, ValidationFailed
from webapp.services.link_plan import check_group_rules, refuse_unassignable
from webapp.services.tags.lookup import Reading, expire_tags, live_tag, refuse_protected
from webapp.services.unset import UNSET
from webapp.services.uow import ChangeRecorder, writing

# --- the state, as events store it --------------------------------------------------------


def deprecation_state(tag: Tag, replacement: Tag | None = None) -> dict[str, Any]:
    """A tag's deprecation as audit events store it; ``replacement`` is the tag that
    ``replacement_id`` names (its qualified name is kept for the record)."""
    return {
        "deprecated": tag.deprecated_at is not None,
        "deprecated_at": tag.deprecated_at.isoformat() if tag.deprecated_at else None,
        "replacement_id": tag.replacement_id,
        "replacement": replacement.qualified_name if replacement is not None else None,
    }


def _named(tag_id: int | None) -> Tag | None:
    return db.session.get(Tag, tag_id) if tag_id is not None else None


def _set(tag: Tag, deprecated_at: Any, replacement_id: int | None) -> None:
    tag.deprecated_at = deprecated_at
    tag.replacement_id = replacement_id
    tag.updated_at = utcnow()
    # The relationship is view-only: it does not follow the id by itself.
    db.session.expire(tag, ["replacement"])


# --- deprecate and un-deprecate ----------------------------------------------------------


def _replacement_for(scope_id: int, tag: Tag, handle: int | str, reading: Reading) -> Tag:
    """The live tag ``handle`` names, which may replace ``tag`` (else ValidationFailed on
    ``replacement``)."""
    replacement = live_tag(scope_id, handle, "replacement", reading=reading,
                           missing=ValidationFailed)
    if replacement.id == tag.id:
        raise ValidationFailed.field("replacement", "a tag cannot replace itself")
    if replacement.deprecated_at is not None:
        raise ValidationFailed.field(
            "replacement", f"{replacement.qualified_name!r} is deprecated itself; name a tag "
            "that is not")
    return replacement


def deprecate_tag(actor: Actor, scope_id: int, handle: int | str,
                  replacement: int | str | None = UNSET, *,
                  reading: Reading = Reading.ANY) -> Tag:
    """Deprecate a tag, naming ``replacement`` (a handle read as ``reading`` says; None or
    ``""``: no replacement; UNSET: keep the one a deprecated tag names, else none).

    On a tag already deprecated this changes its replacement (its deprecation time stays).
    Tags that named this one as their replacement name ``replacement`` instead (see the
    module's rules).  One change set; nothing is recorded when nothing changes."""
    placeholder = f"Deprecate tag {handle}"
    with writing(actor, scope_id, placeholder) as recorder:
        authorize(actor, scope_id, Permission.TAGS_WRITE)
        tag = live_tag(scope_id, handle)
        refuse_protected(actor, [tag])
        if replacement is UNSET:
            new = _named(tag.replacement_id) if tag.deprecated_at is not None else None
        elif replacement is None or (isinstance(replacement, str) and not replacement.strip()):
            new = None
        else:
            new = _replacement_for(scope_id, tag, replacement, reading)
        recorder.retitle(placeholder, f"Deprecate {tag.qualified_name}"
                         + (f" (use {new.qualified_name})" if new is not None else ""))
        new_id = new.id if new is not None else None
        if tag.deprecated_at is not None and tag.replacement_id == new_id:
            return tag
        _pass_role_on(recorder, scope_id, tag, new)
        before = deprecation_state(tag, _named(tag.replacement_id))
        _set(tag, tag.deprecated_at or utcnow(), new_id)
        recorder.record("tag", tag.id, "deprecate", before, deprecation_state(tag, new))
        return tag


def _pass_role_on(recorder: ChangeRecorder, scope_id: int, tag: Tag, new: Tag | None
                  ) -> None:
    """The tags naming ``tag`` as their replacement name ``new`` instead (``tag`` is about
    to be deprecated).  Recorded before the tag's own event, so an undo (newest first)
    un-deprecates ``tag`` before pointing them back at it."""
    if tag.deprecated_at is not None:
        return  # a deprecated tag is nobody's replacement
    pass_replacements_on(recorder, scope_id, [tag.id], new)


def pass_replacements_on(recorder: ChangeRecorder, scope_id: int, old_ids: Sequence[int],
                         new: Tag | None) -> None:
    """The deprecated tags naming one of ``old_ids`` as their replacement name ``new``
    instead (a tag deprecated, or merged away into ``new``): two reads and one UPDATE
    whatever the numbers, a ``deprecate`` event each (an undo points them back)."""
    named_old = (Tag.scope_id == scope_id, Tag.replacement_id.in_(list(old_ids)))
    heirs = list(db.session.scalars(select(Tag).where(*named_old)))
    if not heirs:
        return
    olds = {old.id: old for old in db.session.scalars(
        select(Tag).where(Tag.id.in_({heir.replacement_id for heir in heirs})))}
    befores = {heir.id: deprecation_state(heir, olds.get(heir.replacement_id or 0))
               for heir in heirs}
    db.session.execute(
        update(Tag).where(*named_old)
        .values(replacement_id=new.id if new is not None else None, updated_at=utcnow()),
        execution_options={"synchronize_session": False},
    )
    expire_tags(set(befores))
    recorder.record_many([
        {"object_type": "tag", "object_id": heir_id, "action": "deprecate",
         "before": before,
         "after": {**before, "replacement_id": new.id if new is not None else None,
                   "replacement": new.qualified_name if new is not None else None}}
        for heir_id, before in befores.items()
    ])


def undeprecate_tag(actor: Actor, scope_id: int, handle: int | str) -> Tag:
    """Take a tag's deprecation back (its replacement is forgotten).  Nothing is recorded
    when the tag is not deprecated."""
    placeholder = f"Un-deprecate tag {handle}"
    with writing(actor, scope_id, placeholder) as recorder:
        authorize(actor, scope_id, Permission.TAGS_WRITE)
        tag = live_tag(scope_id, handle)
        refuse_protected(actor, [tag])
        recorder.retitle(placeholder, f"Un-deprecate {tag.qualified_name}")
        if tag.deprecated_at is None:
            return tag
        before = deprecation_state(tag, _named(tag.replacement_id))
        _set(tag, None, None)
        recorder.record("tag", tag.id, "undeprecate", before, deprecation_state(tag))
        return tag


def set_deprecation(actor: Actor, scope_id: int, handle: int | str, *,
                    deprecated: bool = UNSET, replacement: int | str | None = UNSET,
                    reading: Reading = Reading.ANY) -> Tag:
    """A partial update's deprecation fields (the API's PUT / PATCH), each UNSET when not
    sent: ``deprecated=False`` un-deprecates (a replacement beside it is refused);
    ``deprecated=True`` or a replacement deprecates, as :func:`deprecate_tag`; a
    replacement of None alone clears a deprecated tag's and leaves another tag as it is."""
    if deprecated is False:
        if replacement is not UNSET and replacement not in (None, ""):
            raise ValidationFailed.field(
                "replacement", "a tag that is not deprecated names no replacement")
        return undeprecate_tag(actor, scope_id, handle)
    if deprecated is True or replacement not in (UNSET, None, ""):
        return deprecate_tag(actor, scope_id, handle, replacement, reading=reading)
    authorize(actor, scope_id, Permission.TAGS_WRITE)
    tag = live_tag(scope_id, handle)
    if replacement is not UNSET and tag.deprecated_at is not None:
        return deprecate_tag(actor, scope_id, tag.id, None)
    return tag


def restore_deprecation(scope_id: int, recorder: ChangeRecorder, tag: Tag,
                        state: dict[str, Any], action: str) -> None:
    """Put back a deprecation ``state`` (an event's ``before``), for an undo recorded as
    ``action``.  The rules hold: a Conflict when the replacement it names is deprecated
    now, or when the tag would be deprecated while another tag names it as replacement.
    A replacement gone from the database is dropped; one deleted since stays named."""
    before = deprecation_state(tag, _named(tag.replacement_id))
    if not state.get("deprecated"):
        _set(tag, None, None)
    else:
        replacement = _named(state.get("replacement_id"))
        if replacement is not None and replacement.deprecated_at is not None:
            raise Conflict(f"{replacement.qualified_name!r}, the replacement of "
                           f"{tag.qualified_name!r} then, is deprecated now")
        if tag.deprecated_at is None:
            heir = db.session.scalar(select(Tag).where(
                Tag.scope_id == scope_id, Tag.replacement_id == tag.id,
                Tag.deprecated_at.is_not(None)).limit(1))
            if heir is not None:
                raise Conflict(f"{tag.qualified_name!r} is the replacement of "
                               f"{heir.qualified_name!r} now; a replacement is never deprecated")
        raw = state.get("deprecated_at")
        when = datetime.fromisoformat(raw) if isinstance(raw, str) else None
        _set(tag, when or tag.deprecated_at or utcnow(),
             replacement.id if replacement is not None else None)
    recorder.record("tag", tag.id, action, before,
                    deprecation_state(tag, _named(tag.replacement_id)))


# --- replace everywhere -----------------------------------------------------------------


@dataclass(frozen=True)
class ReplaceCounts:
    """What moving a deprecated tag's links to its replacement does (or did)."""

    tag: Tag
    replacement: Tag
    links_to_move: int  # resources carrying the tag and not the replacement: links added
    already_on_replacement: int  # carrying both: the tag's link just goes
    replaced_in_group: int  # other links of the replacement's exclusive group that go

    @property
    def links(self) -> int:
        """The deprecated tag's links, all removed."""
        return self.links_to_move + self.already_on_replacement

    @property
    def summary(self) -> str:
        return (f"Replace {self.tag.qualified_name} with {self.replacement.qualified_name} "
                "everywhere")


@dataclass(frozen=True)
class Replaced:
    """What :func:`replace_everywhere` did; ``change_set_id`` is None when the tag had no
    links (nothing was written)."""

    counts: ReplaceCounts
    change_set_id: int | None


def _deprecated_with_replacement(actor: Actor, scope_id: int, handle: int | str
                                 ) -> tuple[Tag, Tag]:
    tag = live_tag(scope_id, handle)
    if tag.deprecated_at is None:
        raise Conflict(f"{tag.qualified_name!r} is not deprecated: deprecate it, naming its "
                       "replacement, first")
    replacement = _named(tag.replacement_id)
    if replacement is None:
        raise Conflict(f"{tag.qualified_name!r} names no replacement: name one first")
    if replacement.deleted_at is not None:
        raise Conflict(f"{replacement.qualified_name!r}, the replacement of "
                       f"{tag.qualified_name!r}, was deleted: restore it or name another")
    refuse_unassignable(actor, scope_id, [(tag.qualified_name, tag.group),
                                          (replacement.qualified_name, replacement.group)])
    return tag, replacement


def _carriers(tag: Tag) -> Select[Any]:
    return select(Assignment.resource_id).where(Assignment.tag_id == tag.id)


def _rivals(tag: Tag, replacement: Tag) -> Select[Any] | None:
    """The other tags of the replacement's exclusive group (None: not exclusive)."""
    group = replacement.group
    if group is None or not group.exclusive:
        return None
    return select(Tag.id).where(Tag.group_id == group.id,
                                Tag.id.not_in([tag.id, replacement.id]))


def _count(tag: Tag, replacement: Tag) -> ReplaceCounts:
    """The counts in one statement, and the group rules of the replacement checked
    against the types of the resources (one more, only when its group limits them)."""
    group = replacement.group
    if group is not None and group.allowed_types:
        types = set(db.session.scalars(
            select(Resource.type).where(Resource.id.in_(_carriers(tag))).distinct()))
        try:
            check_group_rules([replacement], types)
        except ValidationFailed as error:
            raise Conflict(f"{tag.qualified_name!r} cannot be replaced everywhere: "
                           f"{error.details[0].message if error.details else error.message}"
                           ) from error

    def counted(*where: Any) -> Any:
        return select(func.count()).select_from(Assignment).where(*where).scalar_subquery()

    rivals = _rivals(tag, replacement)
    total, already, replaced = db.session.execute(select(
        counted(Assignment.tag_id == tag.id),
        counted(Assignment.tag_id == replacement.id,
                Assignment.resource_id.in_(_carriers(tag))),
        counted(Assignment.tag_id.in_(rivals), Assignment.resource_id.in_(_carriers(tag)))
        if rivals is not None else literal(0),
    )).one()
    return ReplaceCounts(tag, replacement, total - already, already, replaced)


def preview_replace_everywhere(actor: Actor, scope_id: int, handle: int | str
                               ) -> ReplaceCounts:
    """What :func:`replace_everywhere` would do, counted without writing (refused as it
    would be); three statements at most after the tag's look-up."""
    authorize(actor, scope_id, Permission.TAGS_WRITE)
    tag, replacement = _deprecated_with_replacement(actor, scope_id, handle)
    return _count(tag, replacement)


def replace_everywhere(actor: Actor, scope_id: int, handle: int | str, *,
                       context: AssignmentContext = AssignmentContext.MANUAL) -> Replaced:
    """Move every link of the deprecated tag ``handle`` to its replacement, in one change
    set: every resource carrying the tag carries the replacement instead (the
    replacement's group rules apply: its exclusive group's other tags leave those
    resources; a resource type its group does not allow refuses the whole change).

    Refused (Conflict) when the tag is not deprecated or names no live replacement.
    Set-based: a fixed number of statements whatever the number of links.  Events: an
    ``assignments`` ``replace everywhere`` on the tag and on its replacement, and a
    ``replace`` on each exclusive rival that lost links."""
    with writing(actor, scope_id, f"Replace {handle} everywhere") as recorder:
        authorize(actor, scope_id, Permission.TAGS_WRITE)
        tag, replacement = _deprecated_with_replacement(actor, scope_id, handle)
        counts = _count(tag, replacement)
        recorder.retitle(f"Replace {handle} everywhere", counts.summary)
        if not counts.links:
            return Replaced(counts, None)
        change_set_id = recorder.change_set_id()
        added = insert_links(
            change_set_id, actor, str(context),
            select(typed_literal(replacement.id, Integer()).label("tag_id"),
                   Assignment.resource_id.label("resource_id"))
            .where(Assignment.tag_id == tag.id),
        )
        removed = remove_links(change_set_id, Assignment.tag_id == tag.id)
        moved = select(AssignmentRemoval.resource_id).where(
            AssignmentRemoval.change_set_id == change_set_id,
            AssignmentRemoval.tag_id == tag.id)
        rival_events = _rival_events(tag, replacement, moved)
        replaced = replace_in_exclusive_groups(change_set_id, [replacement], moved)
        now = utcnow()
        db.session.execute(
            update(Tag).where(Tag.id.in_([tag.id, replacement.id])).values(updated_at=now),
            execution_options={"synchronize_session": False},
        )
        tag.updated_at = replacement.updated_at = now
        done = ReplaceCounts(tag, replacement, added, removed - added, replaced)
        recorder.record_many([
            {"object_type": "assignments", "object_id": tag.id,
             "action": "replace everywhere", "before": None,
             "after": {"tag": tag.qualified_name, "replaced_by": replacement.qualified_name,
                       "resources": removed}},
            {"object_type": "assignments", "object_id": replacement.id,
             "action": "replace everywhere", "before": None,
             "after": {"tag": replacement.qualified_name, "replaces": tag.qualified_name,
                       "links_added": added}},
            *rival_events,
        ])
        return Replaced(done, change_set_id)


def _rival_events(tag: Tag, replacement: Tag, resources: Select[Any]
                  ) -> Sequence[dict[str, Any]]:
    """A ``replace`` event per other tag of the replacement's exclusive group about to
    lose links on ``resources`` (one query, only for an exclusive group), as an attach
    records them."""
    rivals = _rivals(tag, replacement)
    group = replacement.group
    if rivals is None or group is None:
        return []
    rows = db.session.execute(
        select(Tag.id, Tag.path, func.count())
        .join(Assignment, Assignment.tag_id == Tag.id)
        .where(Tag.id.in_(rivals), Assignment.resource_id.in_(resources))
        .group_by(Tag.id, Tag.path)
        .order_by(Tag.id)
    ).all()
    return [
        {"object_type": "assignments", "object_id": tag_id, "action": "replace",
         "before": None,
         "after": {"tag": f"{group.identifier}{names.GROUP_SEPARATOR}{path}",
                   "resources": lost}}
        for tag_id, path, lost in rows
    ]

