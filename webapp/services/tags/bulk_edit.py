"""Bulk edit of tag attributes (issue 13 §4): set colour, description, group, parent or
deprecation for many tags at once, the ticked rows of the tags list or every tag matching
its filters (at most :data:`MAX_EDIT` tags: a larger match is refused, narrow the filters).

:func:`preview_bulk_edit` says what :func:`apply_bulk_edit` would do, without writing:
how many tags change, how many are already as asked, which are refused and why, and a
sample of before → after.  Apply does exactly that in one undoable change set: the tags
refused in the preview are left as they are, the others change.  A tag is refused as a
whole (none of its changes apply) when

* it is protected (only the system changes protected tags), or a move would change a
  protected tag under it;
* a group change is asked and it is a child: a child always takes its parent's group, so
  only top-level tags change group (change the group of its top-level tag, or move it);
* a move (new parent, or a new group) would give it a name a live tag or an alias already
  holds there, or the name another selected tag takes there;
* a new parent is the tag itself or lies under it (a cycle);
* deprecation: it is the replacement named (a replacement is never deprecated), or other
  deprecated tags name it as their replacement (deprecate it on its own page, which passes
  the role on).

Set-based: a fixed number of statements whatever the number of tags — one read of the
selection, one per look-up and check, one UPDATE per attribute kind (colour, description,
deprecation), the moves through :func:`~webapp.services.tags.hierarchy.relocate_all` (a new
parent) or :func:`~webapp.services.tags.hierarchy.relocate_each` (a new group), and one
insert of the events.  Events: a tag ``update`` changing only colour/description, the
moves' ``update`` events and ``deprecate`` / ``undeprecate``; an undo reverts runs of
them in a fixed number of statements too (:func:`undo_attribute_run`,
:func:`undo_deprecation_run`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, and_, case, cast, func, select, type_coerce, update
from sqlalchemy.orm import aliased

from webapp.extensions import db
from webapp.models import Tag, TagGroup
from webapp.models.types import UTCDateTime, utcnow
from webapp.services import names
from webapp.services.actor import Actor, Permission, authorize
from webapp.services.errors import (
    Conflict,
    FieldError,
    LimitExceeded,
    NotFound,
    PolicyViolation,
    ValidationFailed,
)
from webapp.services.groups import find_group
from webapp.services.memory import collector_paused
from webapp.services.policies.enforce import TagMove, find_policy_breaking_move
from webapp.services.sql import dialect_name, integer_list, json_rows
from webapp.services.tags.aliases import name_holders
from webapp.services.tags.hierarchy import Place, relocate_all, relocate_each
from webapp.services.tags.lookup import (
    FACT_COLUMNS,
    Reading,
    TagFacts,
    expire_tags,
    find_live_tags,
    in_range,
    live_tag,
    subtree_ranges,
)
from webapp.services.tags.queries import TagFilter, tag_query
from webapp.services.unset import UNSET
from webapp.services.uow import ChangeRecorder, writing
from webapp.services.wording import counted

MAX_EDIT = 10_000
"""The most tags one bulk edit takes, ticked or matching the filters."""

SAMPLE_SIZE = 20

DEPRECATE = "deprecate"
UNDEPRECATE = "undeprecate"


@dataclass(frozen=True)
class Changes:
    """What to set; each field UNSET is left as it is.  ``color`` / ``description`` None
    (or blank) clears it; ``group`` None or blank: no group; ``parent`` None or blank: the
    top level; ``deprecation`` :data:`DEPRECATE` (naming ``replacement``, optional) or
    :data:`UNDEPRECATE`."""

    color: str | None = UNSET
    description: str | None = UNSET
    group: str | None = UNSET
    parent: str | None = UNSET
    deprecation: str = UNSET
    replacement: str | None = None

    def asked(self) -> list[str]:
        return [name for name in ("color", "description", "group", "parent", "deprecation")
                if getattr(self, name) is not UNSET]


@dataclass(frozen=True)
class Selection:
    """Ticked tags (handles), or every live tag matching ``filters``."""

    handles: Sequence[int | str] = ()
    filters: TagFilter | None = None


@dataclass(frozen=True)
class Refusal:
    name: str  # the tag's qualified name
    reason: str


@dataclass(frozen=True)
class SampleRow:
    name: str
    changes: tuple[tuple[str, str, str], ...]  # (field, before, after), shown as text


@dataclass
class BulkEditPreview:
    """What a bulk edit does (or did): counts, the refusals (every one, in name order)
    and the first :data:`SAMPLE_SIZE` changed tags."""

    selected: int
    changed: int
    unchanged: int
    refusals: list[Refusal]
    sample: list[SampleRow]
    summary: str
    change_set_id: int | None = None
    # An enforced policy the moves would break (a preview's): applying is refused whole.
    policy_refusal: PolicyViolation | None = None

    @property
    def refused(self) -> int:
        return len(self.refusals)


@dataclass
class _Row:
    facts: TagFacts
    deprecated_at: datetime | None
    replacement_id: int | None
    replacement: str | None  # the qualified name of the replacement named now
    refusal: str | None = None
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # field: (before, after)


@dataclass
class _Plan:
    rows: list[_Row]
    parent: Tag | None
    group: TagGroup | None
    replacement: Tag | None
    color: str | None
    description: str | None
    moves: bool  # a parent or group change asked

    def accepted(self) -> list[_Row]:
        return [row for row in self.rows if row.refusal is None and row.changes]


# --- reading the request ---------------------------------------------------------------------


def _clean(changes: Changes) -> tuple[str | None, str | None]:
    if not changes.asked():
        raise ValidationFailed.field("changes", "choose at least one attribute to set")
    if changes.group is not UNSET and changes.parent is not UNSET:
        raise ValidationFailed.field(
            "group", "set either a group or a parent: a child takes its parent's group")
    if changes.deprecation not in (UNSET, DEPRECATE, UNDEPRECATE):
        raise ValidationFailed.field("deprecation", "deprecate or undeprecate")
    if changes.deprecation != DEPRECATE and (changes.replacement or "").strip():
        raise ValidationFailed.field("replacement", "a replacement goes with deprecate")
    color = names.clean_color(changes.color or None) if changes.color is not UNSET else None
    description = (names.clean_description(changes.description or None)
                   if changes.description is not UNSET else None)
    return color, description


_EXTRA = (Tag.deprecated_at, Tag.replacement_id)


def _selected_ids(scope_id: int, selection: Selection) -> Any:
    """The selected live tags' ids: a list (ticked rows; an unknown one is NotFound) or
    the filters' SELECT, capped at :data:`MAX_EDIT` (a larger selection is refused)."""
    if selection.filters is None:
        handles = list(selection.handles)
        if not handles:
            raise ValidationFailed.field("ids", "select at least one tag")
        if len(handles) > MAX_EDIT:
            raise LimitExceeded(f"at most {MAX_EDIT} tags at once ({len(handles)} given)",
                                [FieldError("ids", f"at most {MAX_EDIT} tags")])
        found = find_live_tags(scope_id, handles)
        missing = [str(handle) for handle, tag in zip(handles, found, strict=True)
                   if tag is None]
        if missing:
            raise NotFound(f"no live tag {missing[0]!r}",
                           [FieldError("ids", f"no live tag {missing[0]!r}")])
        return select(integer_list(sorted({tag.id for tag in found if tag}), "chosen").c.id)
    filters = dataclasses.replace(selection.filters, include_deleted=False,
                                  deleted_only=False, include_deleted_system=False)
    return tag_query(scope_id, filters).with_only_columns(Tag.id).order_by(None)


def _read(scope_id: int, selection: Selection) -> list[_Row]:
    """The selection in one statement (with the name of each one's replacement)."""
    ids = _selected_ids(scope_id, selection)
    named = aliased(Tag)
    named_group = aliased(TagGroup)
    rows = db.session.execute(
        select(*FACT_COLUMNS, *_EXTRA, named.path, named_group.identifier)
        .outerjoin(TagGroup, TagGroup.id == Tag.group_id)
        .outerjoin(named, named.id == Tag.replacement_id)
        .outerjoin(named_group, named_group.id == named.group_id)
        .where(Tag.scope_id == scope_id, Tag.deleted_at.is_(None), Tag.id.in_(ids))
        .order_by(Tag.path_key)
        .limit(MAX_EDIT + 1)
    ).all()
    if len(rows) > MAX_EDIT:
        raise LimitExceeded(f"at most {MAX_EDIT} tags at once: more match; narrow the filters",
                            [FieldError("ids", f"at most {MAX_EDIT} tags")])
    if not rows:
        raise ValidationFailed.field("ids", "no tag matches")
    width = len(FACT_COLUMNS)
    return [_Row(TagFacts(*row[:width]), row[width], row[width + 1],
                 None if row[width + 2] is None else (
                     f"{row[width + 3]}{names.GROUP_SEPARATOR}{row[width + 2]}"
                     if row[width + 3] else row[width + 2]))
            for row in rows]


def _plan(actor: Actor, scope_id: int, selection: Selection, changes: Changes) -> _Plan:
    authorize(actor, scope_id, Permission.TAGS_WRITE)
    color, description = _clean(changes)
    parent = group = replacement = None
    if changes.parent is not UNSET and (changes.parent or "").strip():
        parent = live_tag(scope_id, changes.parent.strip(), "parent", reading=Reading.NAME,
                          missing=ValidationFailed)
    if changes.group is not UNSET and (changes.group or "").strip():
        group = find_group(scope_id, changes.group.strip())
        if group is None:
            raise ValidationFailed.field("group", f"no group {changes.group.strip()!r}")
    if changes.deprecation == DEPRECATE and (changes.replacement or "").strip():
        replacement = live_tag(scope_id, changes.replacement.strip(), "replacement",
                               reading=Reading.NAME, missing=ValidationFailed)
        if replacement.deprecated_at is not None:
            raise ValidationFailed.field(
                "replacement", f"{replacement.qualified_name!r} is deprecated itself")
    rows = _read(scope_id, selection)
    plan = _Plan(rows, parent, group, replacement, color, description,
                 changes.parent is not UNSET or changes.group is not UNSET)
    heirs = _heirs(scope_id, rows) if changes.deprecation == DEPRECATE else {}
    for row in rows:
        _decide(actor, plan, changes, row, heirs)
    if plan.moves:
        _refuse_move_clashes(actor, scope_id, plan)
    return plan


def _heirs(scope_id: int, rows: Sequence[_Row]) -> dict[int, int]:
    """How many deprecated tags name each selected tag as their replacement (one
    statement)."""
    chosen = integer_list([row.facts.id for row in rows], "bulk_heirs")
    return dict(db.session.execute(
        select(Tag.replacement_id, func.count())
        .where(Tag.scope_id == scope_id, Tag.deprecated_at.is_not(None),
               Tag.replacement_id.in_(select(chosen.c.id)))
        .group_by(Tag.replacement_id)).tuples().all())


def _decide(actor: Actor, plan: _Plan, changes: Changes, row: _Row,
            heirs: dict[int, int]) -> None:
    tag = row.facts
    if tag.protected and not actor.is_system:
        row.refusal = "protected: only the system changes it"
        return
    if changes.color is not UNSET and tag.color != plan.color:
        row.changes["color"] = (tag.color, plan.color)
    if changes.description is not UNSET and tag.description != plan.description:
        row.changes["description"] = (tag.description, plan.description)
    if changes.group is not UNSET:
        wanted = plan.group.id if plan.group else None
        if tag.group_id != wanted:
            if tag.parent_id is not None:
                row.refusal = ("a child takes its parent's group: change the group of its "
                               "top-level tag, or move it to the top level")
                return
            row.changes["group"] = (tag.group, plan.group.identifier if plan.group else None)
    if changes.parent is not UNSET:
        parent = plan.parent
        if parent is not None and parent.id_path.startswith(tag.id_path):
            row.refusal = (f"{parent.qualified_name} is the tag or lies under it: the move "
                           "would make a cycle")
            return
        if tag.parent_id != (parent.id if parent else None):
            old = tag.path.rpartition(names.PATH_SEPARATOR)[0] or None
            row.changes["parent"] = (old, parent.qualified_name if parent else None)
    if changes.deprecation == DEPRECATE:
        new_id = plan.replacement.id if plan.replacement else None
        if plan.replacement is not None and plan.replacement.id == tag.id:
            row.refusal = "it is the replacement named: a replacement is never deprecated"
            return
        if heirs.get(tag.id):
            row.refusal = (f"{counted(heirs[tag.id], 'deprecated tag')} name it as their "
                           "replacement: deprecate it on its own page")
            return
        if row.deprecated_at is None or row.replacement_id != new_id:
            new = plan.replacement.qualified_name if plan.replacement else None
            row.changes["deprecation"] = (_deprecation_text(row.deprecated_at, row.replacement),
                                          _deprecation_text(True, new))
    elif changes.deprecation == UNDEPRECATE and row.deprecated_at is not None:
        row.changes["deprecation"] = (_deprecation_text(True, row.replacement), "not deprecated")


def _deprecation_text(deprecated: object, replacement: str | None) -> str:
    if not deprecated:
        return "not deprecated"
    return f"deprecated (use {replacement})" if replacement else "deprecated"


def _refuse_move_clashes(actor: Actor, scope_id: int, plan: _Plan) -> None:
    """Refuse the movers whose new name a live tag or an alias holds (another than the
    tag itself), or that two movers would share; and those with protected tags under
    them (one statement each)."""
    movers = [row for row in plan.rows if row.refusal is None
              and ("group" in row.changes or "parent" in row.changes)]
    if not movers:
        return
    places = {row.facts.id: _place(plan, row) for row in movers}
    keys = json_rows([[key] for _, key in places.values()], [("key", "text")], "bulk_keys")
    holders = name_holders(scope_id, select(keys.c.key)).subquery()
    taken = {row.key: (row.tag_id, f"{row.text} (an alias)" if row.is_alias else row.text)
             for row in db.session.execute(select(holders))}
    seen: dict[str, str] = {}
    for row in movers:
        _path, key = places[row.facts.id]
        holder = taken.get(key)
        if holder is not None and holder[0] != row.facts.id:
            row.refusal = f"a tag named {holder[1]!r} already exists there"
        elif key in seen:
            row.refusal = f"{seen[key]} takes the same name there"
        else:
            seen[key] = row.facts.qualified_name
    if actor.is_system:
        return
    movers = [row for row in movers if row.refusal is None]
    if not movers:
        return
    ranges = subtree_ranges([row.facts for row in movers], "bulk_moving")
    locked = dict(db.session.execute(
        select(ranges.c.top, func.count())
        .select_from(ranges).join(Tag, and_(in_range(ranges), Tag.id != ranges.c.top))
        .where(Tag.protected.is_(True), Tag.deleted_at.is_(None))
        .group_by(ranges.c.top)).tuples().all())
    for row in movers:
        if locked.get(row.facts.id):
            row.refusal = (f"the move would change {counted(locked[row.facts.id], 'protected tag')}"
                           " under it")


def _place(plan: _Plan, row: _Row) -> tuple[str, str]:
    tag = row.facts
    if "parent" in row.changes or plan.parent is not None:
        parent = plan.parent
        if parent is None:
            return tag.name, names.qualified_key(tag.group, tag.name)
        path = f"{parent.path}{names.PATH_SEPARATOR}{tag.name}"
        return path, names.qualified_key(
            parent.group.identifier if parent.group else None, path)
    return tag.name, names.qualified_key(plan.group.identifier if plan.group else None,
                                         tag.name)


def _summary(plan: _Plan, changes: Changes) -> str:
    asked = [{"color": "colour"}.get(name, name) for name in changes.asked()]
    return f"Edit {counted(len(plan.accepted()), 'tag')}: {', '.join(asked)}"


def _show(value: Any) -> str:
    return "—" if value in (None, "") else str(value)


def _preview(plan: _Plan, changes: Changes) -> BulkEditPreview:
    accepted = plan.accepted()
    refused = [row for row in plan.rows if row.refusal is not None]
    return BulkEditPreview(
        selected=len(plan.rows),
        changed=len(accepted),
        unchanged=len(plan.rows) - len(accepted) - len(refused),
        refusals=[Refusal(row.facts.qualified_name, row.refusal or "") for row in refused],
        sample=[SampleRow(row.facts.qualified_name, tuple(
            (name, _show(before), _show(after)) for name, (before, after) in row.changes.items()
        )) for row in accepted[:SAMPLE_SIZE]],
        summary=_summary(plan, changes),
    )


# --- the services ------------------------------------------------------------------------------


def preview_bulk_edit(actor: Actor, scope_id: int, selection: Selection, changes: Changes
                      ) -> BulkEditPreview:
    """What :func:`apply_bulk_edit` would do, without writing (refused as it would be),
    with the enforced policy its moves would break, if one would."""
    with collector_paused():
        plan = _plan(actor, scope_id, selection, changes)
        preview = _preview(plan, changes)
        preview.policy_refusal = find_policy_breaking_move(scope_id, _planned_moves(plan),
                                                           written=False)
        return preview


def _planned_moves(plan: _Plan) -> list[TagMove]:
    """Where the accepted rows' subtrees would go: under the new parent (taking its
    group) or the top level, or into the new group."""
    moves = []
    for row in plan.accepted():
        tag = row.facts
        if "parent" in row.changes:
            parent = plan.parent
            moves.append(TagMove(tag.id_path, f"{parent.id_path if parent else '/'}{tag.id}/",
                                 tag.group_id, parent.group_id if parent else tag.group_id))
        elif "group" in row.changes:
            moves.append(TagMove(tag.id_path, tag.id_path, tag.group_id,
                                 plan.group.id if plan.group else None))
    return moves


def apply_bulk_edit(actor: Actor, scope_id: int, selection: Selection, changes: Changes
                    ) -> BulkEditPreview:
    """Set the attributes of every selected tag the preview accepts, in one change set
    (none when nothing changes); the refused tags stay as they are.  Returns the preview
    of what was done, with ``change_set_id``."""
    with collector_paused(), writing(actor, scope_id, "Edit tags") as recorder:
        plan = _plan(actor, scope_id, selection, changes)
        done = _preview(plan, changes)
        accepted = plan.accepted()
        if not accepted:
            return done
        recorder.summary = done.summary
        _set_attributes(recorder, plan, accepted)
        _set_deprecation(scope_id, recorder, plan, changes, accepted)
        _move(actor, scope_id, recorder, plan, accepted)
        expire_tags({row.facts.id for row in accepted})
        done.change_set_id = recorder.change_set_id()
        return done


def _set_attributes(recorder: ChangeRecorder, plan: _Plan, accepted: Sequence[_Row]) -> None:
    """One UPDATE per attribute; an ``update`` event per tag whose colour or description
    changes."""
    now = utcnow()
    for name, value in (("color", plan.color), ("description", plan.description)):
        ids = [row.facts.id for row in accepted if name in row.changes]
        if ids:
            chosen = integer_list(ids, f"bulk_{name}")
            db.session.execute(
                update(Tag).where(Tag.id.in_(select(chosen.c.id)))
                .values({name: value, "updated_at": now}),
                execution_options={"synchronize_session": False})
    events = []
    for row in accepted:
        edited = {name: row.changes[name][1] for name in ("color", "description")
                  if name in row.changes}
        if edited:
            before = row.facts.snapshot()
            events.append({"object_type": "tag", "object_id": row.facts.id,
                           "action": "update", "before": before, "after": {**before, **edited}})
            row.facts = row.facts._replace(**edited)
    recorder.record_many(events)


def _set_deprecation(scope_id: int, recorder: ChangeRecorder, plan: _Plan, changes: Changes,
                     accepted: Sequence[_Row]) -> None:
    """One UPDATE; a ``deprecate`` / ``undeprecate`` event per tag (the deprecation time
    of a tag already deprecated stays: only its replacement changes)."""
    rows = [row for row in accepted if "deprecation" in row.changes]
    if not rows:
        return
    chosen = integer_list([row.facts.id for row in rows], "bulk_deprecation")
    now = utcnow()
    new = plan.replacement
    if changes.deprecation == DEPRECATE:
        values: dict[str, Any] = {
            "deprecated_at": func.coalesce(Tag.deprecated_at, type_coerce(now, UTCDateTime())),
            "replacement_id": new.id if new else None}
    else:
        values = {"deprecated_at": None, "replacement_id": None}
    db.session.execute(update(Tag).where(Tag.id.in_(select(chosen.c.id)))
                       .values(**values, updated_at=now),
                       execution_options={"synchronize_session": False})

    def state(deprecated_at: datetime | None, replacement_id: int | None,
              replacement: str | None) -> dict[str, Any]:
        return {"deprecated": deprecated_at is not None,
                "deprecated_at": deprecated_at.isoformat() if deprecated_at else None,
                "replacement_id": replacement_id, "replacement": replacement}

    recorder.record_many([
        {"object_type": "tag", "object_id": row.facts.id, "action": changes.deprecation,
         "before": state(row.deprecated_at, row.replacement_id, row.replacement),
         "after": state(row.deprecated_at or now, new.id, new.qualified_name) if (
             changes.deprecation == DEPRECATE and new is not None) else state(
             (row.deprecated_at or now) if changes.deprecation == DEPRECATE else None,
             None, None)}
        for row in rows
    ])


def _move(actor: Actor, scope_id: int, recorder: ChangeRecorder, plan: _Plan,
          accepted: Sequence[_Row]) -> None:
    movers = [row.facts for row in accepted if "parent" in row.changes]
    if movers:
        relocate_all(actor, scope_id, recorder, movers, plan.parent,
                     lambda tag_id, error: error)
    regrouped = [row.facts for row in accepted if "group" in row.changes]
    if regrouped:
        group_id = plan.group.id if plan.group else None
        recorder.record_many([
            {"object_type": "tag", "object_id": moved.id, "action": "update",
             "before": moved.before, "after": moved.after}
            for moved in relocate_each(scope_id, {tag.id: Place(None, group_id)
                                                  for tag in regrouped})
            if moved.before != moved.after
        ])


# --- undo: runs of attribute and deprecation events, a fixed number of statements -----------


def undo_attribute_run(recorder: ChangeRecorder, events: Sequence[Any]) -> None:
    """Put back the colour and description of every tag of a run of ``update`` events
    that changed only those (the oldest event's ``before`` wins): one read, one UPDATE …
    FROM, one insert of ``undo update`` events."""
    wanted: dict[int, dict[str, Any]] = {}
    for event in events:  # newest first: the oldest state is written last
        wanted[event.object_id] = event.before
    chosen = integer_list(sorted(wanted), "undo_attrs")
    now_rows = {facts.id: facts for facts in (
        TagFacts(*row) for row in db.session.execute(
            select(*FACT_COLUMNS).outerjoin(TagGroup, TagGroup.id == Tag.group_id)
            .where(Tag.id.in_(select(chosen.c.id)))))}
    table = json_rows([(tag_id, state.get("color"), state.get("description"))
                       for tag_id, state in wanted.items() if tag_id in now_rows],
                      [("id", "integer"), ("color", "text"), ("description", "text")],
                      "undo_attr_values")
    db.session.execute(
        update(Tag).where(Tag.id == table.c.id)
        .values(color=table.c.color, description=table.c.description, updated_at=utcnow()),
        execution_options={"synchronize_session": False})
    expire_tags(set(now_rows))
    recorder.record_many([
        {"object_type": "tag", "object_id": tag_id, "action": "undo update",
         "before": facts.snapshot(),
         "after": {**facts.snapshot(), "color": wanted[tag_id].get("color"),
                   "description": wanted[tag_id].get("description")}}
        for tag_id, facts in now_rows.items()
    ])


def _stored(raw: str | None) -> str | None:
    """An event's ISO time as the database reads it back from text."""
    if raw is None:
        return None
    when = datetime.fromisoformat(raw)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    if dialect_name() == "postgresql":
        return when.isoformat()
    return when.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


def undo_deprecation_run(scope_id: int, recorder: ChangeRecorder, events: Sequence[Any]
                         ) -> None:
    """Put back the deprecation state of every tag of a run of ``deprecate`` /
    ``undeprecate`` events, by the rules of
    :func:`~webapp.services.tags.deprecation.restore_deprecation` judged on the state
    after the whole run (a replacement named must not stay deprecated; a tag deprecated
    again must not stay the replacement of a deprecated tag): one read, one check, two
    UPDATEs, one insert of events."""
    wanted: dict[int, tuple[str, dict[str, Any]]] = {}
    for event in events:  # newest first: the oldest state wins
        wanted[event.object_id] = (event.action, event.before or {})
    named_ids = {state.get("replacement_id") for _, state in wanted.values()
                 if state.get("deprecated") and state.get("replacement_id") is not None}
    chosen = integer_list(sorted(set(wanted) | named_ids), "undo_deprecations")
    known = {row.id: row for row in db.session.execute(
        select(Tag.id, Tag.path, TagGroup.identifier, Tag.deprecated_at, Tag.replacement_id)
        .outerjoin(TagGroup, TagGroup.id == Tag.group_id)
        .where(Tag.id.in_(select(chosen.c.id))))}

    def final_deprecated(tag_id: int) -> bool:
        if tag_id in wanted:
            return bool(wanted[tag_id][1].get("deprecated"))
        row = known.get(tag_id)
        return row is not None and row.deprecated_at is not None

    def qualified(tag_id: int | None) -> str | None:
        row = known.get(tag_id) if tag_id is not None else None
        if row is None:
            return None
        return f"{row.identifier}{names.GROUP_SEPARATOR}{row.path}" if row.identifier else row.path

    for tag_id, (_, state) in wanted.items():
        named = state.get("replacement_id")
        if state.get("deprecated") and named in known and final_deprecated(named):
            raise Conflict(f"{qualified(named)!r}, the replacement of {qualified(tag_id)!r} "
                           "then, is deprecated now")
    again = [tag_id for tag_id, (_, state) in wanted.items() if state.get("deprecated")
             and tag_id in known and known[tag_id].deprecated_at is None]
    if again:
        for heir_id, heir_path, named in db.session.execute(
            select(Tag.id, Tag.path, Tag.replacement_id)
            .where(Tag.scope_id == scope_id, Tag.deprecated_at.is_not(None),
                   Tag.replacement_id.in_(again))).tuples():
            replacement = (wanted[heir_id][1].get("replacement_id") if heir_id in wanted
                           else named)
            if final_deprecated(heir_id) and replacement in again:
                raise Conflict(f"{qualified(named)!r} is the replacement of {heir_path!r} "
                               "now; a replacement is never deprecated")
    now = utcnow()
    cleared = [tag_id for tag_id, (_, state) in wanted.items()
               if tag_id in known and not state.get("deprecated")]
    if cleared:
        db.session.execute(
            update(Tag).where(Tag.id.in_(select(integer_list(cleared, "undo_cleared").c.id)))
            .values(deprecated_at=None, replacement_id=None, updated_at=now),
            execution_options={"synchronize_session": False})
    restored = [(tag_id, _stored(state.get("deprecated_at")),
                 state.get("replacement_id") if state.get("replacement_id") in known else None)
                for tag_id, (_, state) in wanted.items()
                if tag_id in known and state.get("deprecated")]
    if restored:
        table = json_rows(restored, [("id", "integer"), ("at", "text"),
                                     ("replacement_id", "integer")], "undo_deprecated")
        at = (cast(table.c.at, DateTime(timezone=True)) if dialect_name() == "postgresql"
              else type_coerce(table.c.at, DateTime()))
        db.session.execute(
            update(Tag).where(Tag.id == table.c.id)
            .values(deprecated_at=case((table.c.at.is_(None), Tag.deprecated_at), else_=at),
                    replacement_id=table.c.replacement_id, updated_at=now),
            execution_options={"synchronize_session": False})
    expire_tags(set(wanted))

    def state_now(tag_id: int) -> dict[str, Any]:
        row = known[tag_id]
        return {"deprecated": row.deprecated_at is not None,
                "deprecated_at": row.deprecated_at.isoformat() if row.deprecated_at else None,
                "replacement_id": row.replacement_id,
                "replacement": qualified(row.replacement_id)}

    recorder.record_many([
        {"object_type": "tag", "object_id": tag_id, "action": "undo " + action,
         "before": state_now(tag_id),
         "after": {**state, "replacement_id": state.get("replacement_id")
                   if state.get("replacement_id") in known else None}}
        for tag_id, (action, state) in wanted.items() if tag_id in known
    ])
