"""The diff of a taxonomy file against a scope: what an import would create, update (each
field before and after), leave unchanged and, in mirror mode, delete; and every row the
scope refuses, with its line and field.  Read-only, so the dry run and the real run share
it: the real run applies exactly the plan the dry run shows.

Records are matched by key (a tag by its qualified name, a group by its identifier, both
NFKC + casefold, as everywhere): an import never renames, and the display spelling of an
existing tag or group stays as it is.  A tag's ancestors come first, whatever the order of
the file; an ancestor the file does not list is created as a plain tag (``implied``), or
left as it is when it exists.

Set-based: the scope's groups, its live tags (mirror: all; merge: those the file names and
their ancestors), their aliases and the aliases the file names are read in one statement
each, so the number of statements does not grow with the number of tags.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sqlalchemy import Select, or_, select

from webapp.extensions import db
from webapp.models import Tag, TagAlias, TagGroup
from webapp.services import names
from webapp.services.actor import Permission
from webapp.services.errors import ServiceError
from webapp.services.groups import check_allowed_types, check_exclusive
from webapp.services.sql import json_rows
from webapp.services.taxonomy.records import (
    PROVENANCE_FIELDS,
    Mode,
    ParsedFile,
    RowError,
    TagRecord,
    group_defaults,
    tag_defaults,
)


class Action(enum.StrEnum):
    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    DELETE = "delete"
    KEPT = "kept"  # mirror mode: not in the file, but not deleted (see ``reason``)


@dataclass(frozen=True, slots=True)
class FieldChange:
    field: str
    before: Any
    after: Any


@dataclass(slots=True)
class GroupStep:
    """What happens to one group.  ``values``: every field of a group to create, the new
    values of the changed fields of one to update."""

    action: Action
    identifier: str
    line: int | None = None
    values: dict[str, Any] = field(default_factory=dict)
    changes: list[FieldChange] = field(default_factory=list)
    group_id: int | None = None
    implied: bool = False  # not listed: named by a tag's path
    reason: str | None = None

    @property
    def key(self) -> str:
        return names.key(self.identifier)


@dataclass(slots=True)
class TagStep:
    """What happens to one tag; ``values`` as for :class:`GroupStep`."""

    action: Action
    path: str  # the qualified name
    key: str  # its key
    qname: names.QualifiedName | None = None
    line: int | None = None
    values: dict[str, Any] = field(default_factory=dict)
    # A shared empty tuple until a field changes (most steps of a big file create tags:
    # no list each).
    changes: Sequence[FieldChange] = ()
    tag_id: int | None = None
    implied: bool = False  # not listed: the ancestor of a tag that is
    reason: str | None = None

    @property
    def depth(self) -> int:
        return len(self.qname.segments) if self.qname else self.key.count(".") + 1


@dataclass
class Plan:
    mode: Mode
    groups: list[GroupStep] = field(default_factory=list)
    tags: list[TagStep] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    live_ids: dict[str, int] = field(default_factory=dict)  # live tags read, by key

    def group_steps(self, action: Action) -> list[GroupStep]:
        return [step for step in self.groups if step.action is action]

    def tag_steps(self, action: Action) -> list[TagStep]:
        return [step for step in self.tags if step.action is action]

    def counts(self) -> dict[str, dict[str, int]]:
        """How many groups and tags each action takes (one pass over the steps)."""
        found: dict[str, dict[str, int]] = {}
        for kind, steps in (("groups", self.groups), ("tags", self.tags)):
            tally = Counter(step.action for step in steps)
            found[kind] = {action.value: tally[action] for action in Action}
        return found

    @property
    def changes_anything(self) -> bool:
        return any(step.action in (Action.CREATE, Action.UPDATE, Action.DELETE)
                   for step in [*self.groups, *self.tags])

    def needs(self) -> list[Permission]:
        """The permissions applying the plan takes: ``tags.write`` always; ``groups.write``
        to create (but for a plain group only a tag's path names), change or delete a
        group; ``tags.delete`` to delete tags."""
        needed = [Permission.TAGS_WRITE]
        if any(step.action in (Action.UPDATE, Action.DELETE)
               or (step.action is Action.CREATE and not step.implied) for step in self.groups):
            needed.append(Permission.GROUPS_WRITE)
        if any(step.action is Action.DELETE for step in self.tags):
            needed.append(Permission.TAGS_DELETE)
        return needed


class Current(NamedTuple):
    """A live tag as the plan compares it."""

    id: int
    path_key: str
    path: str
    group: str | None
    parent_id: int | None
    label: str
    color: str | None
    description: str | None
    protected: bool
    system_created: bool
    source: str
    deprecated: bool
    replacement_id: int | None

    @property
    def qualified_name(self) -> str:
        return f"{self.group}{names.GROUP_SEPARATOR}{self.path}" if self.group else self.path


_CURRENT_COLUMNS = (Tag.id, Tag.path_key, Tag.path, TagGroup.identifier, Tag.parent_id,
                    Tag.label, Tag.color, Tag.description, Tag.protected, Tag.system_created,
                    Tag.source, Tag.deprecated_at.is_not(None), Tag.replacement_id)


def plan_import(scope_id: int, parsed: ParsedFile, mode: Mode, *, system: bool = False
                ) -> Plan:
    """The plan of importing ``parsed`` into the scope (nothing written).  ``system``: the
    actor may change protected tags (only the system may)."""
    plan = Plan(mode, errors=list(parsed.errors))
    records = _unique_tags(parsed.tags, plan.errors)
    wanted = _wanted_keys(records.values())
    current = _live_tags(scope_id, None if mode is Mode.MIRROR else wanted)
    by_key = {tag.path_key: tag for tag in current.values()}
    plan.live_ids = {key: tag.id for key, tag in by_key.items()}
    _plan_tags(plan, records, by_key, system)
    if mode is Mode.MIRROR:
        _plan_deletions(plan, current)
    _plan_lifecycle(scope_id, plan, records, current, by_key)
    _plan_groups(scope_id, plan, parsed, records)
    plan.errors.sort(key=lambda error: (error.line or 0, error.field or ""))
    return plan


def _unique_tags(tags: Sequence[TagRecord], errors: list[RowError]) -> dict[str, TagRecord]:
    records: dict[str, TagRecord] = {}
    for record in tags:
        first = records.get(record.key)
        if first is not None:
            errors.append(RowError(record.line, "path", f"{record.qname.text!r} is listed "
                                                        f"twice (first on line {first.line})"))
            continue
        records[record.key] = record
    return records


def _wanted_keys(records: Iterable[TagRecord]) -> set[str]:
    """The keys a merge looks up: every record, its ancestors, its aliases and
    replacement."""
    wanted: set[str] = set()
    for record in records:
        wanted.update(record.prefix_keys)
        wanted.update(names.key(alias) for alias in record.given.get("aliases") or ())
        if record.given.get("replacement"):
            wanted.add(names.key(record.given["replacement"]))
    return wanted


def _live_tags(scope_id: int, keys: set[str] | None) -> dict[int, Current]:
    """The scope's live tags (only those with these keys, unless None), by id."""
    query: Select[Any] = (select(*_CURRENT_COLUMNS)
                          .outerjoin(TagGroup, TagGroup.id == Tag.group_id)
                          .where(Tag.scope_id == scope_id, Tag.deleted_at.is_(None)))
    if keys is not None:
        if not keys:
            return {}
        table = json_rows([[key] for key in sorted(keys)], [("key", "text")], "wanted")
        query = query.where(Tag.path_key.in_(select(table.c.key)))
    return {row[0]: Current(*row) for row in db.session.execute(query).tuples()}


def _record_values(record: TagRecord) -> dict[str, Any]:
    """The values a record asks for, the label of its name when given empty."""
    values = dict(record.given)
    if "label" in values and values["label"] is None:
        values["label"] = record.qname.leaf
    return values


def _compared(tag: Current) -> dict[str, Any]:
    """A live tag's fields as a record spells them (lifecycle fields apart)."""
    return {"label": tag.label, "color": tag.color, "description": tag.description,
            "protected": bool(tag.protected), "system_created": bool(tag.system_created),
            "source": tag.source}


def _plan_tags(plan: Plan, records: dict[str, TagRecord], by_key: dict[str, Current],
               system: bool) -> None:
    """Create, update or leave each record's tag, parents first; create the missing
    ancestors the file does not list."""
    steps: dict[str, TagStep] = {}
    for record in records.values():
        for depth, key in enumerate(record.prefix_keys[:-1], start=1):
            if key in records or key in steps:
                continue
            prefix = names.QualifiedName(record.qname.group, record.qname.segments[:depth])
            existing = by_key.get(key)
            steps[key] = (
                TagStep(Action.UNCHANGED, existing.qualified_name, key, prefix,
                        line=record.line, tag_id=existing.id, implied=True)
                if existing is not None else
                TagStep(Action.CREATE, prefix.text, key, prefix, line=record.line,
                        implied=True, values=tag_defaults(prefix.leaf)))
        existing = by_key.get(record.key)
        wanted = _record_values(record)
        if existing is None:
            steps[record.key] = TagStep(Action.CREATE, record.qname.text, record.key,
                                        record.qname, record.line,
                                        {**tag_defaults(record.qname.leaf), **wanted})
            continue
        have = _compared(existing)
        changes = [FieldChange(name, have[name], value) for name, value in wanted.items()
                   if name in have and have[name] != value]
        step = TagStep(Action.UPDATE if changes else Action.UNCHANGED,
                       existing.qualified_name, record.key, record.qname, record.line,
                       {change.field: change.after for change in changes}, changes,
                       existing.id)
        for change in changes:
            if change.field in PROVENANCE_FIELDS:
                plan.errors.append(RowError(record.line, change.field, (
                    f"is {change.before!r} on the existing tag; an import sets who owns a "
                    "tag when it creates it, and never changes it")))
            elif existing.protected and not system:
                plan.errors.append(RowError(record.line, change.field, (
                    "the tag is protected (its source owns it): an import cannot change it")))
        steps[record.key] = step
    plan.tags.extend(sorted(steps.values(), key=lambda step: (step.depth, step.path)))


def _plan_deletions(plan: Plan, current: dict[int, Current]) -> None:
    """Mirror mode: every live tag the file does not name goes, but for protected tags
    and the ancestors of tags that stay."""
    named = {step.tag_id for step in plan.tags if step.tag_id is not None}
    kept: dict[int, str] = {}
    for tag in current.values():
        if tag.id in named or not tag.protected:
            continue
        kept[tag.id] = "protected: its source owns it"
        parent = tag.parent_id
        while parent is not None and parent in current and parent not in named:
            if parent not in kept:
                kept[parent] = "holds a protected tag"
            parent = current[parent].parent_id
    for tag in sorted(current.values(), key=lambda tag: tag.path_key):
        if tag.id in named:
            continue
        if tag.id in kept:
            plan.tags.append(TagStep(Action.KEPT, tag.qualified_name, tag.path_key,
                                     tag_id=tag.id, reason=kept[tag.id]))
        else:
            plan.tags.append(TagStep(Action.DELETE, tag.qualified_name, tag.path_key,
                                     tag_id=tag.id))


# --- aliases and deprecation -------------------------------------------------------------

LIFECYCLE_FIELDS = ("aliases", "deprecated", "replacement")


def _plan_lifecycle(scope_id: int, plan: Plan, records: dict[str, TagRecord],
                    current: dict[int, Current], by_key: dict[str, Current]) -> None:
    """Compare the aliases, ``deprecated`` and ``replacement`` a record gives, and refuse
    by the rules of aliases and deprecation: an alias taken by a tag's path or another
    tag's alias, a tag whose path is another tag's alias; a replacement that names no tag
    that stays, the tag itself or a deprecated tag, a replacement on a tag that is not
    deprecated, and deprecating a tag that stays another deprecated tag's replacement."""
    going = {step.tag_id for step in plan.tag_steps(Action.DELETE) if step.tag_id}
    staying = {key for key, tag in by_key.items() if tag.id not in going}
    staying |= {step.key for step in plan.tag_steps(Action.CREATE)}
    ids = [step.tag_id for step in plan.tags
           if step.tag_id is not None and step.action is not Action.DELETE]
    alias_keys = sorted({names.key(alias) for record in records.values()
                         for alias in record.given.get("aliases") or ()}
                        | {step.key for step in plan.tag_steps(Action.CREATE)})
    held, taken = _alias_rows(scope_id, ids, alias_keys)
    replacement_paths = _replacement_paths(current, [
        tag.replacement_id for tag in current.values() if tag.replacement_id is not None])
    compared: list[tuple[TagStep, TagRecord, dict[str, Any], dict[str, Any]]] = []
    deprecated_after = {key: tag.deprecated for key, tag in by_key.items()}
    for step in plan.tags:
        if step.qname is None or step.action is Action.DELETE:
            continue
        existing = current.get(step.tag_id) if step.tag_id is not None else None
        if step.action is Action.CREATE:
            holder = taken.get(step.key)
            if holder is not None and not _released(records, going, holder):
                plan.errors.append(RowError(step.line, "path", (
                    f"is an alias of {_holder_name(holder)!r}; a tag's path cannot be "
                    "another tag's alias")))
        record = records.get(step.key)
        if record is None:
            continue
        wanted = {name: record.given[name] for name in LIFECYCLE_FIELDS
                  if name in record.given}
        if wanted.get("deprecated") is False and "replacement" not in wanted:
            wanted["replacement"] = None  # a tag in use again has no replacement
        if step.action is Action.CREATE and not wanted:
            deprecated_after[step.key] = False
            continue  # nothing to compare nor check (most rows of a big new file)
        have = {"aliases": sorted(held.get(step.tag_id or 0, []), key=names.key),
                "deprecated": bool(existing and existing.deprecated),
                "replacement": replacement_paths.get(existing.replacement_id or 0)
                if existing else None}
        deprecated_after[step.key] = wanted.get("deprecated", have["deprecated"])
        compared.append((step, record, wanted, have))
    claimed: dict[str, tuple[str, int]] = {}
    for step, record, wanted, have in compared:
        for alias in wanted.get("aliases") or ():
            problem = _alias_problem(alias, step, staying, taken, claimed, going, records)
            if problem:
                plan.errors.append(RowError(record.line, "aliases", problem))
            claimed.setdefault(names.key(alias), (record.qname.text, record.line))
        if wanted.get("replacement") is not None:
            problem = _replacement_problem(wanted["replacement"], record,
                                           deprecated_after[record.key], staying,
                                           deprecated_after)
            if problem:
                plan.errors.append(RowError(record.line, "replacement", problem))
        _record_changes(plan, step, record, wanted, have, current)
    _refuse_deprecated_replacements(scope_id, plan, records)


def _record_changes(plan: Plan, step: TagStep, record: TagRecord, wanted: dict[str, Any],
                    have: dict[str, Any], current: dict[int, Current]) -> None:
    if step.action is Action.CREATE:
        step.values.update(wanted)
        return
    changes = [FieldChange(name, have[name], value) for name, value in wanted.items()
               if _differs(name, have[name], value)]
    existing = current.get(step.tag_id) if step.tag_id is not None else None
    if changes and existing is not None and existing.protected:
        plan.errors.append(RowError(record.line, changes[0].field, (
            "the tag is protected (its source owns it): an import cannot change it")))
    if changes:
        step.changes = [*step.changes, *changes]
    step.values.update({change.field: change.after for change in changes})
    if changes and step.action is Action.UNCHANGED:
        step.action = Action.UPDATE


def _refuse_deprecated_replacements(scope_id: int, plan: Plan,
                                    records: dict[str, TagRecord]) -> None:
    """A tag the import deprecates must not stay the replacement of a deprecated tag the
    file leaves as it is (one statement, only when the import deprecates existing
    tags)."""
    newly = {step.tag_id: step for step in plan.tag_steps(Action.UPDATE)
             if step.values.get("deprecated") is True and step.tag_id is not None}
    if not newly:
        return
    table = json_rows([[tag_id] for tag_id in newly], [("id", "integer")], "deprecating")
    for heir_path, heir_key, group, replacement_id in db.session.execute(
        select(Tag.path, Tag.path_key, TagGroup.identifier, Tag.replacement_id)
        .outerjoin(TagGroup, TagGroup.id == Tag.group_id)
        .where(Tag.scope_id == scope_id, Tag.deleted_at.is_(None),
               Tag.deprecated_at.is_not(None), Tag.replacement_id.in_(select(table.c.id)))
    ).tuples():
        heir_record = records.get(heir_key)
        if heir_record is not None and ("replacement" in heir_record.given
                                        or "deprecated" in heir_record.given):
            continue  # the file says what becomes of it (and is checked as such)
        step = newly[replacement_id or 0]
        heir = f"{group}{names.GROUP_SEPARATOR}{heir_path}" if group else heir_path
        plan.errors.append(RowError(step.line, "deprecated", (
            f"{step.path!r} is the replacement of {heir!r}, which stays deprecated; a "
            "replacement is never deprecated (list that tag with another replacement)")))


def _differs(name: str, before: Any, after: Any) -> bool:
    if name == "aliases":
        return [names.key(a) for a in before] != [names.key(a) for a in after]
    if name == "replacement":
        return (names.key(before) if before else None) != (names.key(after) if after else None)
    return bool(before != after)


def _alias_problem(alias: str, step: TagStep, staying: set[str], taken: dict[str, Holder],
                   claimed: dict[str, tuple[str, int]], going: set[int],
                   records: dict[str, TagRecord]) -> str | None:
    key = names.key(alias)
    if key in staying:
        return f"{alias!r} is the path of a tag; an alias cannot be one"
    if key in claimed and names.key(claimed[key][0]) != step.key:
        return f"{alias!r} is an alias of {claimed[key][0]!r} too (line {claimed[key][1]})"
    holder = taken.get(key)
    if holder is not None and holder.tag_id != step.tag_id and not _released(records, going,
                                                                             holder):
        return f"{alias!r} is an alias of {_holder_name(holder)!r} already"
    return None


def _replacement_problem(replacement: str, record: TagRecord, deprecated: bool,
                         staying: set[str], deprecated_after: dict[str, bool]) -> str | None:
    key = names.key(replacement)
    if not deprecated:
        return "only a deprecated tag has a replacement"
    if key == record.key:
        return "a tag cannot replace itself"
    if key not in staying:
        return f"no tag {replacement!r} in the file or the scope"
    if deprecated_after.get(key):
        return f"{replacement!r} is deprecated itself; name a tag that is not"
    return None


class Holder(NamedTuple):
    """An alias row: the tag holding it (its qualified name, whether it is live) and the
    alias as typed."""

    tag_id: int
    alias: str
    tag: str
    live: bool


def _released(records: dict[str, TagRecord], going: set[int], holder: Holder) -> bool:
    """Whether the import takes the alias from its holder: mirror mode deletes the
    holder, or the file lists the holder with aliases that leave it out.  (A tag deleted
    before keeps its aliases, as everywhere: restoring it brings them back.)"""
    if holder.tag_id in going:
        return True
    record = records.get(names.key(holder.tag)) if holder.live else None
    if record is None or "aliases" not in record.given:
        return False
    return names.key(holder.alias) not in {names.key(alias)
                                           for alias in record.given["aliases"] or ()}


def _alias_rows(scope_id: int, tag_ids: Sequence[int], keys: Sequence[str]
                ) -> tuple[dict[int, list[str]], dict[str, Holder]]:
    """The aliases of these tags (by tag id, as typed) and the holders of these alias
    keys, in one statement."""
    held: dict[int, list[str]] = {}
    taken: dict[str, Holder] = {}
    conditions = []
    if tag_ids:
        table = json_rows([[tag_id] for tag_id in tag_ids], [("id", "integer")], "holders")
        conditions.append(TagAlias.tag_id.in_(select(table.c.id)))
    if keys:
        table = json_rows([[key] for key in keys], [("key", "text")], "alias_keys")
        conditions.append(TagAlias.alias_key.in_(select(table.c.key)))
    if not conditions:
        return held, taken
    for tag_id, alias, key, path, group, live in db.session.execute(
        select(TagAlias.tag_id, TagAlias.alias, TagAlias.alias_key, Tag.path,
               TagGroup.identifier, Tag.deleted_at.is_(None))
        .join(Tag, Tag.id == TagAlias.tag_id)
        .outerjoin(TagGroup, TagGroup.id == Tag.group_id)
        .where(TagAlias.scope_id == scope_id, or_(*conditions))
    ).tuples():
        name = f"{group}{names.GROUP_SEPARATOR}{path}" if group else path
        taken[key] = Holder(tag_id, alias, name, bool(live))
        held.setdefault(tag_id, []).append(alias)
    wanted = set(tag_ids)
    return {tag_id: aliases for tag_id, aliases in held.items() if tag_id in wanted}, taken


def _holder_name(holder: Holder) -> str:
    return holder.tag if holder.live else f"{holder.tag} (a deleted tag)"


def _replacement_paths(current: dict[int, Current], ids: Sequence[int]) -> dict[int, str]:
    """The qualified names of these replacements, when they are live tags (read in one
    statement for those the plan did not read)."""
    paths = {tag_id: current[tag_id].qualified_name for tag_id in ids if tag_id in current}
    missing = sorted(set(ids) - set(paths))
    if missing:
        table = json_rows([[tag_id] for tag_id in missing], [("id", "integer")], "replacements")
        for tag_id, path, group in db.session.execute(
            select(Tag.id, Tag.path, TagGroup.identifier)
            .outerjoin(TagGroup, TagGroup.id == Tag.group_id)
            .where(Tag.id.in_(select(table.c.id)), Tag.deleted_at.is_(None))
        ).tuples():
            paths[tag_id] = f"{group}{names.GROUP_SEPARATOR}{path}" if group else path
    return paths


# --- groups ----------------------------------------------------------------------------


def _plan_groups(scope_id: int, plan: Plan, parsed: ParsedFile,
                 records: dict[str, TagRecord]) -> None:
    existing = {group.identifier_key: group for group in db.session.scalars(
        select(TagGroup).where(TagGroup.scope_id == scope_id))}
    steps: dict[str, GroupStep] = {}
    for record in parsed.groups:
        if record.key in steps:
            plan.errors.append(RowError(record.line, "identifier", (
                f"{record.identifier!r} is listed twice (first on line "
                f"{steps[record.key].line})")))
            continue
        wanted = dict(record.given)
        if "label" in wanted and wanted["label"] is None:
            wanted["label"] = record.identifier
        group = existing.get(record.key)
        if group is None:
            steps[record.key] = GroupStep(Action.CREATE, record.identifier, record.line,
                                          {**group_defaults(record.identifier), **wanted})
            continue
        have = {"label": group.label, "color": group.color, "description": group.description,
                "exclusive": bool(group.exclusive),
                "allowed_types": sorted(group.allowed_types or []),
                "assign_role": group.assign_role}
        changes = [FieldChange(name, have[name], value) for name, value in wanted.items()
                   if have[name] != value]
        steps[record.key] = GroupStep(Action.UPDATE if changes else Action.UNCHANGED,
                                      group.identifier, record.line,
                                      {change.field: change.after for change in changes},
                                      changes, group.id)
        _check_group_rules(plan, group, steps[record.key])
    for step in plan.tags:
        if step.qname is None or not step.qname.group or step.action is Action.DELETE:
            continue
        key = names.key(step.qname.group)
        if key in steps:
            continue
        group = existing.get(key)
        steps[key] = (GroupStep(Action.UNCHANGED, group.identifier, step.line,
                                group_id=group.id, implied=True) if group is not None else
                      GroupStep(Action.CREATE, step.qname.group, step.line,
                                group_defaults(step.qname.group), implied=True))
    if plan.mode is Mode.MIRROR:
        going = {step.tag_id for step in plan.tag_steps(Action.DELETE)}
        members = _group_members(scope_id, [group.id for key, group in existing.items()
                                            if key not in steps])
        for key, group in sorted(existing.items()):
            if key in steps:
                continue
            tags = members.get(group.id, set())
            if tags - going:
                steps[key] = GroupStep(Action.KEPT, group.identifier, group_id=group.id,
                                       reason="holds tags that stay")
            elif tags:
                steps[key] = GroupStep(Action.KEPT, group.identifier, group_id=group.id,
                                       reason="this import deletes its tags; it goes once "
                                       "empty (on the groups page, or by the next mirror "
                                       "import), so that undoing this one brings them back "
                                       "in their group")
            else:
                steps[key] = GroupStep(Action.DELETE, group.identifier, group_id=group.id)
    plan.groups.extend(sorted(steps.values(), key=lambda step: step.key))


def _check_group_rules(plan: Plan, group: TagGroup, step: GroupStep) -> None:
    """Turning a group exclusive, or narrowing its types, is refused while its links
    disagree (the checks of update_group, run here so the dry run shows them)."""
    try:
        if step.values.get("allowed_types"):
            probe = TagGroup(id=group.id, identifier=group.identifier,
                             allowed_types=step.values["allowed_types"])
            check_allowed_types(probe, [], by_group=True)
        if step.values.get("exclusive"):
            check_exclusive(group)
    except ServiceError as error:
        detail = error.details[0] if error.details else None
        plan.errors.append(RowError(step.line, detail.field if detail else None,
                                    error.message))


def _group_members(scope_id: int, group_ids: Sequence[int]) -> dict[int, set[int]]:
    """The live tags of these groups, by group (one statement)."""
    if not group_ids:
        return {}
    members: dict[int, set[int]] = {}
    for tag_id, group_id in db.session.execute(
        select(Tag.id, Tag.group_id).where(Tag.scope_id == scope_id,
                                           Tag.group_id.in_(list(group_ids)),
                                           Tag.deleted_at.is_(None))
    ).tuples():
        members.setdefault(group_id, set()).add(tag_id)
    return members
