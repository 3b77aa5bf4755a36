"""Attach and detach many tag names × many resources, set-based.

One call costs a constant number of statements whatever the number of resources: the
names resolve in one query, the resources are upserted in one statement, and the links
are written with one ``INSERT … SELECT … ON CONFLICT DO NOTHING`` that reads the resource
references from a single JSON parameter.  Links removed (detach, or replaced in an
exclusive group) are copied to ``assignment_removals`` first, so an undo can restore them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    and_,
    cast,
    delete,
    func,
    insert,
    literal,
    select,
    true,
    update,
)
from sqlalchemy.types import TypeEngine

from webapp.extensions import db
from webapp.models import (
    Assignment,
    AssignmentContext,
    AssignmentRemoval,
    Resource,
    Tag,
    TagGroup,
)
from webapp.models.types import UTCDateTime, utcnow
from webapp.services import names
from webapp.services.actor import Actor, Permission, authorize
from webapp.services.errors import FieldError, LimitExceeded, ValidationFailed
from webapp.services.resources import clean_external_id, clean_type
from webapp.services.sql import dialect_name, integer_list, reference_pairs, upsert_insert
from webapp.services.tags.creation import Provenance, ensure_paths
from webapp.services.uow import ChangeRecorder, writing

# SQLAlchemy reads an INSERT's rowcount only when asked; psycopg's is -1 afterwards.
_ROWCOUNT = {"preserve_rowcount": True}

MAX_NAMES = 100
MAX_LINKS = 100_000

ResourceRefs = Mapping[str, Sequence[str]]  # resource type -> external ids


@dataclass
class LinkOutcome:
    """What an attach or detach did."""

    tags: list[Tag]
    resources: int  # distinct resources named
    changed: int  # links added (attach) or removed (detach)
    replaced: int = 0  # links removed because an exclusive group allows one tag

    @property
    def already_present(self) -> int:
        return len(self.tags) * self.resources - self.changed


def attach(
    actor: Actor,
    scope_id: int,
    tag_names: Sequence[str],
    refs: ResourceRefs,
    *,
    context: AssignmentContext = AssignmentContext.API,
    create_missing: bool = True,
    provenance: Provenance | None = None,
) -> LinkOutcome:
    """Attach every named tag to every named resource, all or nothing.

    Missing tags are created (with ancestors) unless ``create_missing`` is False, in which
    case an unknown or deleted name fails the whole call.  Unregistered resources are
    registered.  A tag of an exclusive group replaces the group's other tags on each
    resource; two tags of one exclusive group in one call, or a resource type the tag's
    group does not allow, fail the call.
    """
    qnames = _parse_names(tag_names)
    pairs = _parse_refs(refs)
    _check_size(qnames, pairs)
    with writing(actor, scope_id, _summary("Attach", qnames, pairs)) as recorder:
        authorize(actor, scope_id, Permission.TAGS_WRITE)
        if create_missing:
            by_key = ensure_paths(actor, scope_id, recorder, qnames, provenance or Provenance())
        else:
            by_key = _existing(scope_id, qnames)
            unknown = [q.text for q in qnames if q.key not in by_key]
            if unknown:
                raise ValidationFailed(
                    f"unknown or deleted tag(s): {', '.join(unknown)}; nothing was added",
                    [FieldError("name", f"unknown or deleted tag {name!r}") for name in unknown],
                )
        tags = [by_key[q.key] for q in qnames]
        check_group_rules(tags, {rtype for rtype, _ in pairs})
        _register_missing(scope_id, recorder, pairs)
        targets = _resource_ids(scope_id, pairs)
        change_set_id = recorder.change_set_id()
        _record_replaced(recorder, tags, targets)
        replaced = replace_in_exclusive_groups(change_set_id, tags, targets)
        added = _insert_links(change_set_id, actor, context, [t.id for t in tags], targets)
        _touch(tags)
        _record(recorder, "attach", tags, len(pairs))
        return LinkOutcome(tags, len(pairs), added, replaced)


def detach(actor: Actor, scope_id: int, tag_names: Sequence[str], refs: ResourceRefs
           ) -> LinkOutcome:
    """Remove the links between every named tag and every named resource.

    Unknown names and unregistered resources are skipped; the tags themselves stay.
    """
    qnames = _parse_names(tag_names)
    pairs = _parse_refs(refs)
    _check_size(qnames, pairs)
    with writing(actor, scope_id, _summary("Detach", qnames, pairs)) as recorder:
        authorize(actor, scope_id, Permission.TAGS_WRITE)
        by_key = _existing(scope_id, qnames)
        tags = [by_key[q.key] for q in qnames if q.key in by_key]
        if not tags:
            return LinkOutcome([], len(pairs), 0)
        links = and_(
            Assignment.tag_id.in_([t.id for t in tags]),
            Assignment.resource_id.in_(_resource_ids(scope_id, pairs)),
        )
        removed = remove_links(recorder.change_set_id(), links)
        _touch(tags)
        _record(recorder, "detach", tags, len(pairs))
        return LinkOutcome(tags, len(pairs), removed)


# --- building blocks, shared with merge and undo ----------------------------------------


def typed_literal(value: Any, type_: TypeEngine[Any]) -> ColumnElement[Any]:
    """A bound value in a SELECT list; PostgreSQL needs its type spelled out."""
    bound = literal(value, type_)
    return cast(bound, type_) if dialect_name() == "postgresql" else bound


def insert_links(
    change_set_id: int,
    actor: Actor,
    context: str,
    pairs: Select[Any],
) -> int:
    """``INSERT … SELECT tag_id, resource_id … ON CONFLICT DO NOTHING``; returns rows added."""
    now: datetime = utcnow()
    subquery = pairs.subquery("new_links")
    source = select(
        subquery.c.tag_id,
        subquery.c.resource_id,
        typed_literal(actor.user_id, Integer()),
        typed_literal(now, UTCDateTime()),
        typed_literal(str(context), String()),
        typed_literal(change_set_id, Integer()),
    ).where(true())  # SQLite needs a WHERE before ON CONFLICT in INSERT … SELECT
    statement = upsert_insert(Assignment.__table__).from_select(
        ["tag_id", "resource_id", "added_by_id", "added_at", "context", "change_set_id"],
        source,
    ).on_conflict_do_nothing()
    return db.session.execute(statement, execution_options=_ROWCOUNT).rowcount


_REMOVAL_COLUMNS = ["change_set_id", "tag_id", "resource_id", "added_by_id", "added_at",
                    "context", "origin_change_set_id"]


def remove_links(change_set_id: int, condition: ColumnElement[bool]) -> int:
    """Copy the links matching ``condition`` to the removals, then delete them.

    PostgreSQL does both in one statement (``WITH gone AS (DELETE … RETURNING …) INSERT
    … SELECT … FROM gone``), so the condition is evaluated once; SQLite, which has no
    data-modifying CTE, copies then deletes."""
    if dialect_name() == "postgresql":
        gone = (
            delete(Assignment).where(condition)
            .returning(Assignment.tag_id, Assignment.resource_id, Assignment.added_by_id,
                       Assignment.added_at, Assignment.context, Assignment.change_set_id)
            .cte("gone")
        )
        copied = db.session.execute(
            insert(AssignmentRemoval).from_select(
                _REMOVAL_COLUMNS,
                select(typed_literal(change_set_id, Integer()), gone.c.tag_id,
                       gone.c.resource_id, gone.c.added_by_id, gone.c.added_at,
                       gone.c.context, gone.c.change_set_id),
            ),
            execution_options=_ROWCOUNT,
        )
        return copied.rowcount or 0
    db.session.execute(
        insert(AssignmentRemoval).from_select(
            _REMOVAL_COLUMNS,
            select(
                typed_literal(change_set_id, Integer()),
                Assignment.tag_id,
                Assignment.resource_id,
                Assignment.added_by_id,
                Assignment.added_at,
                Assignment.context,
                Assignment.change_set_id,
            ).where(condition),
        )
    )
    result = db.session.execute(
        delete(Assignment).where(condition), execution_options={"synchronize_session": False}
    )
    return result.rowcount or 0


def _rival_links(tags: Sequence[Tag], resource_ids: Select[Any]) -> ColumnElement[bool] | None:
    """The links, on the given resources, of the other tags of each exclusive group in
    ``tags`` (None when no tag is in an exclusive group)."""
    winners = {tag.group_id: tag.id for tag in tags if tag.group and tag.group.exclusive}
    if not winners:
        return None
    rivals = select(Tag.id).where(
        Tag.group_id.in_(list(winners)), Tag.id.not_in(list(winners.values()))
    )
    return and_(Assignment.tag_id.in_(rivals), Assignment.resource_id.in_(resource_ids))


def replace_in_exclusive_groups(change_set_id: int, tags: Sequence[Tag],
                                resource_ids: Select[Any]) -> int:
    """Remove, from the given resources, the other tags of each exclusive group in ``tags``."""
    condition = _rival_links(tags, resource_ids)
    return remove_links(change_set_id, condition) if condition is not None else 0


def _record_replaced(recorder: ChangeRecorder, tags: Sequence[Tag], resource_ids: Select[Any]
                     ) -> None:
    """One ``replace`` event per tag about to lose links to its exclusive rival, so that
    tag's history shows the change (one query, only when an exclusive group is named)."""
    condition = _rival_links(tags, resource_ids)
    if condition is None:
        return
    rows = db.session.execute(
        select(Tag.id, TagGroup.identifier, Tag.path, func.count())
        .join(Assignment, Assignment.tag_id == Tag.id)
        .join(TagGroup, TagGroup.id == Tag.group_id)
        .where(condition)
        .group_by(Tag.id, TagGroup.identifier, Tag.path)
        .order_by(Tag.id)
    ).all()
    recorder.record_many([
        {"object_type": "assignments", "object_id": tag_id, "action": "replace",
         "before": None,
         "after": {"tag": f"{group}{names.GROUP_SEPARATOR}{path}", "resources": lost}}
        for tag_id, group, path, lost in rows
    ])


def check_group_rules(tags: Sequence[Tag], resource_types: set[str]) -> None:
    """Refuse two tags of one exclusive group, and types a tag's group does not allow."""
    seen: dict[int, Tag] = {}
    for tag in tags:
        group = tag.group
        if group is None:
            continue
        if group.exclusive:
            if group.id in seen:
                raise ValidationFailed.field(
                    "names", f"{seen[group.id].qualified_name!r} and {tag.qualified_name!r} "
                    f"belong to the exclusive group {group.identifier!r}; a resource carries "
                    "at most one of them"
                )
            seen[group.id] = tag
        refused = sorted(resource_types - set(group.allowed_types)) if group.allowed_types else []
        if refused:
            raise ValidationFailed.field(
                "names", f"tags of group {group.identifier!r} cannot be attached to "
                f"{', '.join(refused)} resources (allowed: {', '.join(group.allowed_types)})"
            )


# --- internals --------------------------------------------------------------------------

def _insert_links(change_set_id: int, actor: Actor, context: str, tag_ids: list[int],
                  resource_ids: Select[Any]) -> int:
    tag_table = integer_list(tag_ids, "tag_ids")
    targets = resource_ids.subquery("targets")
    pairs = select(tag_table.c.id.label("tag_id"), targets.c.id.label("resource_id")).join(
        targets, true()
    )
    return insert_links(change_set_id, actor, context, pairs)


def _parse_names(tag_names: Sequence[str]) -> list[names.QualifiedName]:
    if isinstance(tag_names, str) or not tag_names:
        raise ValidationFailed.field("names", "give at least one tag name")
    if len(tag_names) > MAX_NAMES:
        raise LimitExceeded(
            f"at most {MAX_NAMES} names per call ({len(tag_names)} given)",
            [FieldError("names", f"at most {MAX_NAMES} names")],
        )
    unique: dict[str, names.QualifiedName] = {}
    for index, raw in enumerate(tag_names):
        qname = names.parse_name(raw, f"names[{index}]")
        unique.setdefault(qname.key, qname)
    return list(unique.values())


def _parse_refs(refs: ResourceRefs) -> list[tuple[str, str]]:
    pairs: dict[tuple[str, str], None] = {}
    if not isinstance(refs, Mapping):
        raise ValidationFailed.field("resources", "must map resource types to lists of ids")
    for raw_type, ids in refs.items():
        rtype = clean_type(raw_type, "resources")
        if isinstance(ids, str | bytes) or not isinstance(ids, Sequence):
            # A bare string would be read as one id per character.
            raise ValidationFailed.field(f"{rtype}s", "must be a list of ids")
        for index, raw_id in enumerate(ids):
            pairs[(rtype, clean_external_id(raw_id, f"{rtype}s[{index}]"))] = None
    if not pairs:
        raise ValidationFailed.field("resources", "name at least one resource id")
    return list(pairs)


def _check_size(qnames: Sequence[names.QualifiedName], pairs: Sequence[tuple[str, str]]
                ) -> None:
    links = len(qnames) * len(pairs)
    if links > MAX_LINKS:
        raise LimitExceeded(
            f"{len(qnames)} names × {len(pairs)} resources = {links} links; at most "
            f"{MAX_LINKS} per call",
            [FieldError("resources", f"at most {MAX_LINKS} tag × resource links per call")],
        )


def _summary(verb: str, qnames: Sequence[names.QualifiedName],
             pairs: Sequence[tuple[str, str]]) -> str:
    shown = ", ".join(q.text for q in qnames[:3]) + (" …" if len(qnames) > 3 else "")
    return f"{verb} {shown} on {len(pairs)} resource(s)"


def _existing(scope_id: int, qnames: Sequence[names.QualifiedName]) -> dict[str, Tag]:
    return {
        tag.path_key: tag
        for tag in db.session.scalars(
            select(Tag).where(
                Tag.scope_id == scope_id,
                Tag.deleted_at.is_(None),
                Tag.path_key.in_([q.key for q in qnames]),
            )
        )
    }


def _register_missing(scope_id: int, recorder: ChangeRecorder, pairs: list[tuple[str, str]]
                      ) -> None:
    """Register unknown resources in one statement (existing ones are left untouched)."""
    now = utcnow()
    refs = reference_pairs(pairs)
    statement = upsert_insert(Resource.__table__).from_select(
        ["scope_id", "type", "external_id", "created_at"],
        select(
            typed_literal(scope_id, Integer()),
            refs.c.type,
            refs.c.external_id,
            typed_literal(now, UTCDateTime()),
        ).where(true()),
    ).on_conflict_do_nothing()
    registered = db.session.execute(statement, execution_options=_ROWCOUNT).rowcount
    if registered:
        recorder.record("resources", scope_id, "register", None, {"count": registered})


def _resource_ids(scope_id: int, pairs: list[tuple[str, str]]) -> Select[Any]:
    """The ids of the named resources that are registered.

    The references drive the loop and each does one unique-index probe; a plain join lets
    SQLite scan the JSON once per resource of the scope instead.
    """
    refs = reference_pairs(pairs)
    probe = (
        select(Resource.id)
        .where(
            Resource.scope_id == scope_id,
            Resource.type == refs.c.type,
            Resource.external_id == refs.c.external_id,
        )
        .scalar_subquery()
    )
    found = select(probe.label("id")).select_from(refs).subquery("found")
    return select(found.c.id).where(found.c.id.is_not(None))


def _touch(tags: Sequence[Tag]) -> None:
    now = utcnow()
    db.session.execute(
        update(Tag).where(Tag.id.in_([t.id for t in tags])).values(updated_at=now),
        execution_options={"synchronize_session": False},
    )
    for tag in tags:
        tag.updated_at = now


def _record(recorder: ChangeRecorder, action: str, tags: Sequence[Tag], resources: int) -> None:
    recorder.record_many([
        {"object_type": "assignments", "object_id": tag.id, "action": action, "before": None,
         "after": {"tag": tag.qualified_name, "resources": resources}}
        for tag in tags
    ])
