"""The taxonomy services: export a scope's groups and tags, and import a file with a dry
run (the exact diff, nothing written) or for real (all or nothing, one change set, which an
undo reverts).

Permissions: an export needs ``tags.read``.  An import needs ``tags.write``; and
``groups.write`` when it creates a group the file lists, changes a group or deletes one
(a plain group that only a tag's path names is created with tag permissions, as
everywhere); and ``tags.delete`` when it deletes tags (mirror mode).  The dry run asks the
same, so a key learns before it tries.  Protected tags are the system's alone: an import
refuses to change one (a row error), mirror mode never deletes one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import (
    Boolean,
    Integer,
    String,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    text,
)

from webapp.extensions import db
from webapp.ids import public_id as new_public_id
from webapp.ids import uuid7
from webapp.models import ChangeSet, Scope, Tag, TagAlias, TagGroup
from webapp.models.types import UTCDateTime, utcnow
from webapp.services import names
from webapp.services.actor import Actor, Permission, authorize
from webapp.services.errors import (
    Conflict,
    FieldError,
    NotFound,
    ServiceError,
    ValidationFailed,
)
from webapp.services.groups import create_group, ensure_group, remove_group, update_group
from webapp.services.memory import collector_paused
from webapp.services.sql import dialect_name, integer_list, json_rows
from webapp.services.tags.deletion import mark_deleted
from webapp.services.tags.deprecation import deprecation_state
from webapp.services.taxonomy import export, plan
from webapp.services.taxonomy.parse import decode, parse
from webapp.services.taxonomy.plan import Action, Plan, TagStep
from webapp.services.taxonomy.records import (
    EXTENSIONS,
    MAX_LISTED_ERRORS,
    MEDIA_TYPES,
    Format,
    Mode,
    RowError,
)
from webapp.services.uow import ChangeRecorder, writing
from webapp.services.wording import counted


@dataclass(frozen=True)
class Export:
    """A file being written: stream ``chunks`` (the scope is read as they are taken)."""

    format: Format
    filename: str
    media_type: str
    chunks: Iterator[str]


def export_taxonomy(actor: Actor, scope_id: int, fmt: Format) -> Export:
    """The scope's taxonomy as a file (needs ``tags.read``; checked now, not when the
    first chunk is taken).  The groups are read now, the tags as the chunks are taken."""
    authorize(actor, scope_id, Permission.TAGS_READ)
    scope = db.session.get(Scope, scope_id)
    if scope is None:
        raise NotFound(f"scope {scope_id} not found")
    groups = export.group_records(scope_id)
    chunks = export.render(fmt, groups, export.tag_records(scope_id))
    return Export(fmt, f"{scope.slug}-taxonomy.{fmt.value}",
                  MEDIA_TYPES[fmt] + ("; charset=utf-8" if fmt is not Format.JSON else ""),
                  chunks)


def format_of(name: str | None, field: str = "format") -> Format:
    """A format by its name or a file extension (``json``, ``csv``, ``yaml``, ``yml``)."""
    found = EXTENSIONS.get((name or "").strip().lower().rsplit(".", 1)[-1])
    if found is None:
        raise ValidationFailed.field(field, "must be json, csv or yaml")
    return found


def guess_format(text: str, filename: str | None = None) -> Format:
    """A file's format by its name's extension, else by its first characters: ``{``
    JSON, a header line naming ``kind`` CSV, anything else YAML."""
    if filename and "." in filename and filename.rsplit(".", 1)[-1].lower() in EXTENSIONS:
        return EXTENSIONS[filename.rsplit(".", 1)[-1].lower()]
    start = text.lstrip("\ufeff \t\r\n")
    if start.startswith(("{", "[")):
        return Format.JSON
    header = [cell.strip().strip('"').lower() for cell in start.split("\n", 1)[0].split(",")]
    return Format.CSV if "kind" in header and len(header) > 1 else Format.YAML


@dataclass(frozen=True)
class ImportResult:
    """What an import did or, for a dry run, would do."""

    plan: Plan
    format: Format
    dry_run: bool
    change_set_id: int | None

    @property
    def summary(self) -> str:
        return summary(self.plan, done=not self.dry_run)


def summary(plan: Plan, *, done: bool = True) -> str:
    """``3 tags created, 1 updated, 2 deleted; 1 group created`` (``done``), or ``3 tags
    to create, 1 to update, …`` (a preview); ``nothing to change``."""
    words = (("create", "created"), ("update", "updated"), ("delete", "deleted"))
    parts = []
    for kind, one in (("tags", "tag"), ("groups", "group")):
        counts = plan.counts()[kind]
        done_here = [(counts[action], past if done else f"to {action}")
                     for action, past in words if counts[action]]
        if done_here:
            (number, word), *rest = done_here
            parts.append(", ".join([f"{counted(number, one)} {word}",
                                    *(f"{more:,} {then}" for more, then in rest)]))
    return "; ".join(parts) or "nothing to change"


def preview_fingerprint(scope_id: int, text: str, fmt: Format, mode: Mode) -> str:
    """What a preview was made of: the file, its format, the mode and the scope's latest
    change set (one statement).  An apply given it refuses to run once any of them
    changed, so it applies the diff that was shown."""
    latest = db.session.scalar(select(func.max(ChangeSet.id))
                               .where(ChangeSet.scope_id == scope_id)) or 0
    digest = hashlib.sha256()
    for part in (text, fmt.value, mode.value, str(latest)):
        digest.update(part.encode("utf-8", "surrogatepass") + b"\x00")
    return digest.hexdigest()


def import_taxonomy(actor: Actor, scope_id: int, data: bytes | str, fmt: Format, *,
                    mode: Mode = Mode.MERGE, dry_run: bool = True,
                    field: str = "body", previewed: str | None = None) -> ImportResult:
    """Import a taxonomy file.

    A file that does not read (not the format, a field against its rules) is refused
    whether it is a dry run or not: ValidationFailed, one detail per problem (``line 7:
    color``).  A dry run of a file that reads returns the plan, with the rows the scope
    refuses (a protected tag changed, an alias taken, a tag listed twice) as its errors,
    and writes nothing.  A real run refuses a plan with errors (Conflict, the same
    details), else applies it whole in one change set; given ``previewed`` (a
    :func:`preview_fingerprint`), it first refuses (Conflict) when the file or the scope
    changed since that preview."""
    authorize(actor, scope_id, Permission.TAGS_WRITE)
    with collector_paused():
        return _import(actor, scope_id, data, fmt, mode, dry_run, field, previewed)


def _import(actor: Actor, scope_id: int, data: bytes | str, fmt: Format, mode: Mode,
            dry_run: bool, field: str, previewed: str | None) -> ImportResult:
    parsed = parse(data, fmt, field)
    if parsed.errors:
        raise _refusal(parsed.errors, ValidationFailed, "does not read")
    if dry_run:
        planned = plan.plan_import(scope_id, parsed, mode, system=actor.is_system)
        _authorize_plan(actor, scope_id, planned)
        return ImportResult(planned, fmt, True, None)
    with writing(actor, scope_id, "Import taxonomy") as recorder:
        if previewed is not None and previewed != preview_fingerprint(
                scope_id, decode(data, field), fmt, mode):
            raise Conflict("the scope (or the file) changed since the preview; preview the "
                           "import again", [FieldError("previewed", "out of date")])
        planned = plan.plan_import(scope_id, parsed, mode, system=actor.is_system)
        del parsed  # the plan holds what it needs of the records; the rest goes now
        _authorize_plan(actor, scope_id, planned)
        if planned.errors:
            raise _refusal(planned.errors, Conflict, "clashes with the scope")
        recorder.summary = f"Import taxonomy ({mode.value}): {summary(planned)}"
        _apply(actor, scope_id, recorder, planned)
    change_set = recorder.change_set  # made when the write's events were flushed
    return ImportResult(planned, fmt, False, change_set.id if change_set else None)


def _authorize_plan(actor: Actor, scope_id: int, planned: Plan) -> None:
    for permission in planned.needs():
        authorize(actor, scope_id, permission)


def _refusal(errors: Sequence[RowError], kind: type[ServiceError], what: str
             ) -> ServiceError:
    """The error refusing a file: its message names the first problem, a detail each
    (the first MAX_LISTED_ERRORS, then how many more)."""
    shown = [FieldError(error.where, error.message) for error in errors[:MAX_LISTED_ERRORS]]
    more = len(errors) - len(shown)
    if more:
        shown.append(FieldError("file", f"and {counted(more, 'more problem')}"))
    first = errors[0]
    return kind(f"the file {what} ({counted(len(errors), 'problem')}), nothing was "
                f"imported; {first.where}: {first.message}", shown)


# --- applying a plan --------------------------------------------------------------------


def _apply(actor: Actor, scope_id: int, recorder: ChangeRecorder, planned: Plan) -> None:
    """Groups first (created, changed), then tags (created parents first, changed,
    deleted), then the groups that go."""
    groups = _apply_groups(actor, scope_id, planned)  # recorded in the same change set
    creating = planned.tag_steps(Action.CREATE)
    created = _new_ids(len(creating), creating)
    ids = dict(planned.live_ids)  # the new tags' keys are not live tags' keys
    ids.update(created)
    _create_tags(actor, scope_id, recorder, planned, creating, ids)
    _update_tags(recorder, planned.tag_steps(Action.UPDATE), ids)
    _set_aliases(scope_id, actor, recorder, [
        (created[step.key] if step.tag_id is None else step.tag_id, step)
        for step in planned.tags
        if step.qname is not None and "aliases" in step.values
        and (step.action is Action.UPDATE
             or (step.action is Action.CREATE and step.values["aliases"]))])
    going = [step.tag_id for step in planned.tag_steps(Action.DELETE) if step.tag_id]
    if going:
        mark_deleted(recorder, going)
    for step in planned.group_steps(Action.DELETE):
        group = groups.get(step.group_id or 0) or db.session.get(TagGroup, step.group_id)
        if group is not None:
            remove_group(recorder, group, "delete")


GROUP_OPTIONS = ("label", "color", "description", "exclusive", "allowed_types", "assign_role")


def _apply_groups(actor: Actor, scope_id: int, planned: Plan) -> dict[int, TagGroup]:
    """Create the groups the file lists and change those it changes, through the group
    services (which check their rules again and record them)."""
    touched: dict[int, TagGroup] = {}
    for step in planned.groups:
        if step.action is Action.CREATE and not step.implied:
            group = create_group(actor, scope_id, step.identifier,
                                 **{name: step.values[name] for name in GROUP_OPTIONS})
        elif step.action is Action.UPDATE:
            group = update_group(actor, scope_id, step.group_id or 0,
                                 **{name: step.values[name] for name in GROUP_OPTIONS
                                    if name in step.values})
        else:
            continue
        touched[group.id] = group
    return touched


def _new_ids(count: int, steps: Sequence[TagStep]) -> dict[str, int]:
    """Ids for the new tags, handed out before they are written (one statement), so a
    row can name its parent and its replacement and carry its ``id_path`` as it goes in:
    PostgreSQL's sequence, or on SQLite (whose writer holds the database) the ids after
    the highest, as SQLite itself hands them out."""
    if not count:
        return {}
    if dialect_name() == "postgresql":
        ids = list(db.session.scalars(text(
            "SELECT nextval(pg_get_serial_sequence('tags', 'id')) "
            "FROM generate_series(1, :count)"), {"count": count}))
    else:
        first = (db.session.scalar(select(func.max(Tag.id))) or 0) + 1
        ids = list(range(first, first + count))
    return {step.key: tag_id for step, tag_id in zip(steps, ids, strict=True)}


def typed_json_rows(columns: Sequence[tuple[str, str]], name: str) -> Any:
    """A derived table read from one JSON parameter ``{name}_json`` (as
    :func:`webapp.services.sql.json_rows`, its rows given when the statement is executed:
    :func:`json_payload`), whose columns may also be ``boolean`` and ``uuid`` (given as 32
    hex digits, as SQLite stores a UUID and PostgreSQL reads one).

    The rows are a parameter of the execution, not of the statement: an import runs with
    the cyclic collector paused, and a statement (a cycle of objects) holding its batch's
    rows kept every batch's JSON alive to the end (~2.5 MB per 10,000 tags)."""
    types: dict[str, Any] = {"integer": Integer(), "text": String(), "boolean": Boolean(),
                             "uuid": String()}
    if dialect_name() == "postgresql":
        selected = ", ".join(f"CAST(elem->>{i} AS {kind}) AS {column}"
                             for i, (column, kind) in enumerate(columns))
        clause = text(f"SELECT {selected} "
                      f"FROM jsonb_array_elements(CAST(:{name}_json AS jsonb)) AS elem")
    else:
        selected = ", ".join(f"json_extract(value, '$[{i}]') AS {column}"
                             for i, (column, _) in enumerate(columns))
        clause = text(f"SELECT {selected} FROM json_each(:{name}_json)")
    return clause.bindparams(bindparam(f"{name}_json", type_=String())).columns(
        **{column: types[kind] for column, kind in columns}).subquery(name)


def json_payload(rows: Sequence[Sequence[Any]]) -> str:
    """The rows of a :func:`typed_json_rows` table, as its parameter."""
    return json.dumps(rows, ensure_ascii=False)


# The columns of a new tag the JSON rows carry, with how each is read from them.
_NEW_TAG_COLUMNS = (
    ("id", "integer"), ("uuid", "uuid"), ("public_id", "text"), ("group_id", "integer"),
    ("parent_id", "integer"), ("name", "text"), ("label", "text"), ("color", "text"),
    ("description", "text"), ("path", "text"), ("path_key", "text"), ("id_path", "text"),
    ("depth", "integer"), ("source", "text"), ("system_created", "boolean"),
    ("protected", "boolean"), ("deprecated", "boolean"), ("replacement_id", "integer"),
)


def _create_tags(actor: Actor, scope_id: int, recorder: ChangeRecorder, planned: Plan,
                 steps: Sequence[TagStep], ids: dict[str, int]) -> None:
    """Write every new tag, parents first, in one ``INSERT … SELECT`` from a JSON
    parameter per CREATE_BATCH tags (the rows worked out here: the same a tag service
    writes, with the plan's values; the plan has checked the names and the clashes, the
    unique index stands behind it), and record a ``create`` event each, then a
    ``deprecate`` for those the file deprecates.  A plain group only a tag's path names
    is created first (``ensure_group``, with tag permissions).

    Through the ORM (``ensure_paths``) 100,000 tags took most of an import's time and
    memory: an object each, and an UPDATE each for its ``id_path``.  In batches, with
    their ``create`` events written after each (``flush_when``), so that the rows, the
    JSON parameter and the events of only one batch live at a time (100,000 tags at once
    held ~130 MB); a file under CREATE_BATCH tags keeps its one statement."""
    if not steps:
        return
    group_ids = _group_ids(actor, scope_id, recorder, planned)
    existing = _ancestor_rows(scope_id, steps, ids)
    # key -> (id_path, depth) of the new tags that are parents of new tags (only those:
    # most tags of a big file are leaves)
    parents = {step.key.rpartition(names.PATH_SEPARATOR)[0] for step in steps
               if step.qname is not None and len(step.qname.segments) > 1}
    places: dict[str, tuple[str, int]] = {}
    now = utcnow()
    deprecations: list[dict[str, Any]] = []
    for start in range(0, len(steps), CREATE_BATCH):
        batch = steps[start:start + CREATE_BATCH]
        rows = [_new_row(step, ids, group_ids, existing, places, parents)
                for step in batch]
        table = typed_json_rows(_NEW_TAG_COLUMNS, "new_tags")
        db.session.execute(insert(Tag.__table__).from_select(
            [name for name, _ in _NEW_TAG_COLUMNS if name != "deprecated"]
            + ["deprecated_at", "scope_id", "created_by_id", "created_at", "updated_at"],
            select(*(table.c[name] for name, _ in _NEW_TAG_COLUMNS if name != "deprecated"),
                   case((table.c.deprecated, literal(now, UTCDateTime())), else_=None),
                   literal(scope_id), literal(actor.user_id, Integer()),
                   literal(now, UTCDateTime()), literal(now, UTCDateTime()))),
            {"new_tags_json": json_payload(rows)})
        del table
        recorder.record_many([_row_event(row, "create", None, _row_snapshot(row))
                              for row in rows])
        deprecations.extend(
            _row_event(row, "deprecate", _state(_Deprecation(None, None), None),
                       _state(_Deprecation(now, row[-1]), step.values.get("replacement")))
            for row, step in zip(rows, batch, strict=True) if row[-2])
        del rows
        # The creates written in batches (the deprecations after them all, as before).
        recorder.flush_when(CREATE_BATCH)
    recorder.record_many(deprecations)


CREATE_BATCH = 10_000  # new tags per INSERT (and audit events per write of them)


def _new_row(step: TagStep, ids: dict[str, int], group_ids: dict[str, int],
             existing: dict[str, tuple[str, int]], places: dict[str, tuple[str, int]],
             parents: set[str]) -> list[Any]:
    """A new tag's row (the columns of _NEW_TAG_COLUMNS), its parent's written before;
    notes its (``id_path``, depth) in ``places`` when it is one of the ``parents``."""
    qname = step.qname
    assert qname is not None
    tag_id = ids[step.key]
    parent_key = step.key.rpartition(names.PATH_SEPARATOR)[0] if len(
        qname.segments) > 1 else None
    parent_id = ids[parent_key] if parent_key else None
    above = (places.get(parent_key) or existing[parent_key]) if parent_key else ("/", -1)
    id_path, depth = f"{above[0]}{tag_id}/", above[1] + 1
    if step.key in parents:
        places[step.key] = (id_path, depth)
    values = step.values
    group_id = group_ids[names.key(qname.group)] if qname.group else None
    replacement = values.get("replacement")
    tag_uuid = uuid7()
    return [tag_id, tag_uuid.hex, new_public_id("tag", tag_uuid), group_id,
            parent_id, qname.leaf, values["label"], values["color"],
            values["description"], qname.path, step.key, id_path, depth,
            values["source"], values["system_created"], values["protected"],
            bool(values.get("deprecated")),
            ids.get(names.key(replacement)) if replacement else None]


def _row_snapshot(row: list[Any]) -> dict[str, Any]:
    """A new tag's snapshot from its row: the same as
    :meth:`webapp.services.tags.lookup.TagFacts.snapshot`."""
    return {"name": row[5], "label": row[6], "color": row[7], "description": row[8],
            "parent_id": row[4], "group_id": row[3], "path": row[9], "deleted": False}


def _row_event(row: list[Any], action: str, before: dict[str, Any] | None,
               after: dict[str, Any]) -> dict[str, Any]:
    return {"object_type": "tag", "object_id": row[0], "action": action, "before": before,
            "after": after}


class _Deprecation(NamedTuple):
    """What :func:`deprecation_state` reads of a tag, for a tag written without an
    object."""

    deprecated_at: Any
    replacement_id: int | None


def _group_ids(actor: Actor, scope_id: int, recorder: ChangeRecorder, planned: Plan
               ) -> dict[str, int]:
    """Every group of the scope by key, after creating the plain groups only a tag's path
    names (the groups the file lists were created before)."""
    for step in planned.group_steps(Action.CREATE):
        if step.implied:
            ensure_group(actor, scope_id, recorder, step.identifier)
    return dict(db.session.execute(
        select(TagGroup.identifier_key, TagGroup.id).where(TagGroup.scope_id == scope_id)
    ).tuples().all())


def _ancestor_rows(scope_id: int, steps: Sequence[TagStep], ids: dict[str, int]
                   ) -> dict[str, tuple[str, int]]:
    """(``id_path``, depth) of the live tags the new tags go under (one statement)."""
    new = {step.key for step in steps}
    wanted = sorted({step.key.rpartition(names.PATH_SEPARATOR)[0] for step in steps
                     if step.qname is not None and len(step.qname.segments) > 1} - new)
    if not wanted:
        return {}
    table = json_rows([[key] for key in wanted], [("key", "text")], "parents")
    found = {key: (id_path, depth) for key, id_path, depth in db.session.execute(
        select(Tag.path_key, Tag.id_path, Tag.depth).where(
            Tag.scope_id == scope_id, Tag.deleted_at.is_(None),
            Tag.path_key.in_(select(table.c.key)))
    ).tuples()}
    del ids
    return found


def _update_tags(recorder: ChangeRecorder, steps: Sequence[TagStep], ids: dict[str, int]
                 ) -> None:
    """Change the fields each step changes, on the tags read as objects in one
    statement (the ORM writes them back in one statement per set of changed columns).
    Events: an ``update`` with the tag's snapshot for its own fields, and a
    ``deprecate`` / ``undeprecate`` with its deprecation state, as the deprecation
    services record them (un-deprecations first, so an undo, newest first, deprecates
    again only once the tags that replaced them are back).  Aliases: :func:`_set_aliases`."""
    if not steps:
        return
    chosen = integer_list([step.tag_id for step in steps if step.tag_id], "updated")
    tags = {tag.id: tag for tag in db.session.scalars(
        select(Tag).where(Tag.id.in_(select(chosen.c.id))))}
    now = utcnow()
    events: list[dict[str, Any]] = []
    lifted: list[dict[str, Any]] = []
    deprecated: list[dict[str, Any]] = []
    for step in steps:
        tag = tags[step.tag_id or 0]
        own = [name for name in ("label", "color", "description") if name in step.values]
        if own:
            before = tag.snapshot()
            for name in own:
                setattr(tag, name, step.values[name])
            events.append(_event(tag, "update", before, tag.snapshot()))
        if "deprecated" in step.values or "replacement" in step.values:
            names_of = {change.field: change for change in step.changes}
            replaced = names_of.get("replacement")
            before = _state(tag, replaced.before if replaced else None)
            _deprecate(tag, step, ids)
            after = _state(tag, replaced.after if replaced else None)
            if tag.deprecated_at is None:
                lifted.append(_event(tag, "undeprecate", before, after))
            else:
                deprecated.append(_event(tag, "deprecate", before, after))
        tag.updated_at = now
    db.session.flush()
    recorder.record_many(events + lifted + deprecated)


def _event(tag: Tag, action: str, before: dict[str, Any], after: dict[str, Any]
           ) -> dict[str, Any]:
    return {"object_type": "tag", "object_id": tag.id, "action": action, "before": before,
            "after": after}


class _Named(NamedTuple):
    """A replacement as :func:`deprecation_state` names it (the plan read its name)."""

    qualified_name: str


def _state(tag: Tag | _Deprecation, replacement: str | None) -> dict[str, Any]:
    """The tag's deprecation as the deprecation services' events store it."""
    return deprecation_state(tag, _Named(replacement) if replacement else None)  # type: ignore[arg-type]


def _deprecate(tag: Tag, step: TagStep, ids: dict[str, int]) -> None:
    if "deprecated" in step.values:
        if step.values["deprecated"] and tag.deprecated_at is None:
            tag.deprecated_at = utcnow()
        elif not step.values["deprecated"]:
            tag.deprecated_at = None
    if "replacement" in step.values:
        replacement = step.values["replacement"]
        tag.replacement_id = ids.get(names.key(replacement)) if replacement else None


def _set_aliases(scope_id: int, actor: Actor, recorder: ChangeRecorder,
                 changed: Sequence[tuple[int, TagStep]]) -> None:
    """Give each tag exactly the aliases its step lists (as keys: a respelt alias stays as
    it is), in three statements: read the rows of those tags and of those alias keys (the
    plan made sure another tag holding one gives it up), delete those that go, insert the
    new ones.  Events: ``tag_alias`` ``remove`` and ``add`` with ``{"tag_id", "alias"}``,
    the aliases services' own, which an undo reverts."""
    if not changed:
        return
    wanted = {(tag_id, names.key(alias)): alias
              for tag_id, step in changed for alias in step.values["aliases"]}
    holders = integer_list(sorted({tag_id for tag_id, _ in changed}), "alias_owners")
    keys = json_rows([[key] for key in sorted({key for _, key in wanted})], [("key", "text")],
                     "alias_keys")
    rows = db.session.execute(
        select(TagAlias.id, TagAlias.tag_id, TagAlias.alias, TagAlias.alias_key)
        .where(TagAlias.scope_id == scope_id, or_(
            TagAlias.tag_id.in_(select(holders.c.id)),
            TagAlias.alias_key.in_(select(keys.c.key))))
    ).all()
    going = [row for row in rows if (row.tag_id, row.alias_key) not in wanted]
    kept = {(row.tag_id, row.alias_key) for row in rows} - {(r.tag_id, r.alias_key)
                                                            for r in going}
    new = [(tag_id, key, alias) for (tag_id, key), alias in wanted.items()
           if (tag_id, key) not in kept]
    if going:
        db.session.execute(delete(TagAlias).where(TagAlias.id.in_(
            select(integer_list([row.id for row in going], "alias_rows").c.id))),
            execution_options={"synchronize_session": False})
    if new:
        now = utcnow()
        db.session.execute(insert(TagAlias.__table__), [
            {"scope_id": scope_id, "tag_id": tag_id, "alias": alias, "alias_key": key,
             "created_by_id": actor.user_id, "created_at": now}
            for tag_id, key, alias in new])
    recorder.record_many(
        [_alias_event("remove", row.tag_id, row.alias) for row in going]
        + [_alias_event("add", tag_id, alias) for tag_id, _, alias in new])


def _alias_event(action: str, tag_id: int, alias: str) -> dict[str, Any]:
    return {"object_type": "tag_alias", "object_id": tag_id, "action": action,
            "before": None, "after": {"tag_id": tag_id, "alias": alias}}
