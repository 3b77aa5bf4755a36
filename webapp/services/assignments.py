"""Attach and detach many tag names × many resources, set-based.

One call costs a constant number of statements whatever the number of resources: the
names resolve in one query, the resources are upserted in one statement, and the links
are written with one ``INSERT … SELECT … ON CONFLICT DO NOTHING`` that reads the resource
references from a single JSON parameter.  Links removed (detach, or replaced in an
exclusive group) are copied to ``assignment_removals`` first, so an undo can restore them.
"""

from __future__ import annotations

from collections import Counter
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
    union_all,
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
from webapp.services.link_plan import (
    MAX_LINKS,
    LinkAction,
    LinkPlan,
    OnRefusal,
    check_size,
    parse_names,
    plan_links,
    refuse_unknown,
)
from webapp.services.policies.enforce import refuse_policy_violations
from webapp.services.resources import clean_external_id, clean_type
from webapp.services.sql import dialect_name, integer_list, reference_pairs, upsert_insert
from webapp.services.tags.creation import Provenance, ensure_paths
from webapp.services.uow import ChangeRecorder, writing

# SQLAlchemy reads an INSERT's rowcount only when asked; psycopg's is -1 afterwards.
_ROWCOUNT = {"preserve_rowcount": True}

ResourceRefs = Mapping[str, Sequence[str]]  # resource type -> external ids


@dataclass
class LinkOutcome:
    """What an attach or detach did."""

    tags: list[Tag]  # the tags attached or detached (an attach: created ones included)
    resources: int  # distinct resources named
    changed: int  # links added (attach) or removed (detach)
    replaced: int = 0  # links removed because an exclusive group allows one tag
    offered: int = 0  # tag × resource links the change asked for (refused ones excluded)
    refused: int = 0  # tag × resource links skipped: a group does not allow the type

    @property
    def already_present(self) -> int:
        """Attach: links that were there already; detach: links that were not there."""
        return self.offered - self.changed


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
    group does not allow, fail the call (the plan's rules: :mod:`webapp.services.link_plan`).
    """
    qnames = parse_names(tag_names)
    pairs = _parse_refs(refs)
    check_size(len(qnames), len(pairs))
    with writing(actor, scope_id, _summary("Attach", qnames, pairs)) as recorder:
        authorize(actor, scope_id, Permission.TAGS_WRITE)
        plan = plan_links(actor, scope_id, LinkAction.ATTACH, qnames, _types(pairs),
                          OnRefusal.FAIL)
        if not create_missing:
            refuse_unknown(plan)
        return execute_attach(actor, scope_id, recorder, plan, pairs, context=context,
                              provenance=provenance)


def detach(actor: Actor, scope_id: int, tag_names: Sequence[str], refs: ResourceRefs
           ) -> LinkOutcome:
    """Remove the links between every named tag and every named resource.

    Unknown names and unregistered resources are skipped; the tags themselves stay.
    """
    qnames = parse_names(tag_names)
    pairs = _parse_refs(refs)
    check_size(len(qnames), len(pairs))
    with writing(actor, scope_id, _summary("Detach", qnames, pairs)) as recorder:
        authorize(actor, scope_id, Permission.TAGS_WRITE)
        plan = plan_links(actor, scope_id, LinkAction.DETACH, qnames, _types(pairs))
        return execute_detach(scope_id, recorder, plan, pairs)


def execute_attach(
    actor: Actor,
    scope_id: int,
    recorder: ChangeRecorder,
    plan: LinkPlan,
    pairs: Sequence[tuple[str, str]],
    *,
    context: AssignmentContext,
    provenance: Provenance | None = None,
    note: Mapping[str, Any] | None = None,
    known: Mapping[str, Sequence[int]] | None = None,
) -> LinkOutcome:
    """Make an attach plan's change on the resources ``pairs`` (type, external id) name:
    create its missing tags and groups, register unknown resources, replace rivals in
    exclusive groups, add the links, and record skipped resources (a ``skip`` event per
    tag) — a fixed number of statements per set of allowed types, whatever the counts.
    A plan whose tags go on none of its resources is refused.  ``note`` is added to each
    attach and skip event (a rule names itself there).

    ``known``, given instead of ``pairs`` (pass ``()``), names registered resources by id
    (type -> ids; a rule's back-fill): nothing is registered and no reference is looked
    up — the ids go to the statements as one JSON list (a 100,000-resource back-fill
    spent half its time turning ids into references and back)."""

    def chosen_count(takes: Sequence[str]) -> int:
        if known is not None:
            return sum(len(known.get(rtype, ())) for rtype in takes)
        return sum(1 for pair in pairs if pair[0] in takes)

    def chosen_ids(takes: Sequence[str], name: str) -> Select[Any]:
        if known is not None:
            ids = integer_list([i for rtype in takes for i in known.get(rtype, ())], name)
            return select(ids.c.id)
        return _resource_ids(scope_id, [pair for pair in pairs if pair[0] in takes])

    if not plan.applied:
        raise ValidationFailed.field(
            "names", "the groups of these tags allow none of the selected resource types")
    by_key = ensure_paths(actor, scope_id, recorder,
                          [item.qname for item in plan.applied if item.tag is None],
                          provenance or Provenance(), live=plan.live)
    if known is None:
        _register_missing(scope_id, recorder, list(pairs), actor)
    refuse_policy_violations(scope_id, added=union_links([
        link_pairs([(item.tag or by_key[item.qname.key]).id for item in members],
                    chosen_ids(takes, f"known_ids{index}"))
        for index, (takes, members) in enumerate(plan.partitions().items())]))
    change_set_id = recorder.change_set_id()
    tags: list[Tag] = []
    added = replaced = offered = 0
    events: list[dict[str, Any]] = []
    for takes, members in plan.partitions().items():
        chosen = chosen_count(takes)
        member_tags = [item.tag or by_key[item.qname.key] for item in members]
        targets = chosen_ids(takes, "known_ids")
        _record_replaced(recorder, member_tags, targets)
        replaced += replace_in_exclusive_groups(change_set_id, member_tags, targets)
        added += _insert_links(change_set_id, actor, context, [t.id for t in member_tags],
                               targets)
        offered += len(member_tags) * chosen
        tags.extend(member_tags)
        events.extend(_event("attach", tag, chosen, note) for tag in member_tags)
    for item in plan.names:
        tag = item.tag or by_key.get(item.qname.key)
        if item.refused_types and tag is not None:
            skipped = sum(plan.resource_types[rtype] for rtype in item.refused_types)
            events.append({"object_type": "assignments", "object_id": tag.id,
                           "action": "skip", "before": None,
                           "after": {"tag": item.text, "resources": skipped,
                                     "allowed_types": sorted(item.allowed or ()),
                                     **(note or {})}})
    _touch(tags)
    recorder.record_many(events)
    resources = len(pairs) if known is None else sum(len(ids) for ids in known.values())
    return LinkOutcome(tags, resources, added, replaced, offered, plan.refused)


def execute_detach(scope_id: int, recorder: ChangeRecorder, plan: LinkPlan,
                   pairs: Sequence[tuple[str, str]]) -> LinkOutcome:
    """Make a detach plan's change: remove its known tags' links on the named resources
    (copied to the removals first, for undo); unknown names are skipped."""
    tags = [item.tag for item in plan.known if item.tag is not None]
    if not tags:
        return LinkOutcome([], len(pairs), 0)
    links = and_(
        Assignment.tag_id.in_([t.id for t in tags]),
        Assignment.resource_id.in_(_resource_ids(scope_id, list(pairs))),
    )
    refuse_policy_violations(
        scope_id, removed=select(Assignment.tag_id, Assignment.resource_id).where(links))
    removed = remove_links(recorder.change_set_id(), links)
    _touch(tags)
    recorder.record_many([_event("detach", tag, len(pairs)) for tag in tags])
    return LinkOutcome(tags, len(pairs), removed, offered=len(tags) * len(pairs))


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


# --- internals --------------------------------------------------------------------------

def _insert_links(change_set_id: int, actor: Actor, context: str, tag_ids: list[int],
                  resource_ids: Select[Any]) -> int:
    return insert_links(change_set_id, actor, context, link_pairs(tag_ids, resource_ids))


def link_pairs(tag_ids: list[int], resource_ids: Select[Any]) -> Select[Any]:
    """``SELECT tag_id, resource_id``: every tag × every resource."""
    tag_table = integer_list(tag_ids, "tag_ids")
    targets = resource_ids.subquery("targets")
    return select(tag_table.c.id.label("tag_id"), targets.c.id.label("resource_id")).join(
        targets, true()
    )


def union_links(selects: list[Select[Any]]) -> Select[Any]:
    if len(selects) == 1:
        return selects[0]
    combined = union_all(*selects).subquery("links")
    return select(combined.c.tag_id, combined.c.resource_id)


def _parse_refs(refs: ResourceRefs) -> list[tuple[str, str]]:
    """The distinct (type, external id) pairs named.  Each list is counted as sent
    (duplicates included) before any id is read: no list longer than the link cap fits."""
    pairs: dict[tuple[str, str], None] = {}
    if not isinstance(refs, Mapping):
        raise ValidationFailed.field("resources", "must map resource types to lists of ids")
    for raw_type, ids in refs.items():
        rtype = clean_type(raw_type, "resources")
        if isinstance(ids, str | bytes) or not isinstance(ids, Sequence):
            # A bare string would be read as one id per character.
            raise ValidationFailed.field(f"{rtype}s", "must be a list of ids")
        if len(ids) > MAX_LINKS:
            raise LimitExceeded(
                f"at most {MAX_LINKS:,} ids in {rtype}s ({len(ids):,} given)",
                [FieldError(f"{rtype}s", f"at most {MAX_LINKS:,} ids in one list")])
        for index, raw_id in enumerate(ids):
            pairs[(rtype, clean_external_id(raw_id, f"{rtype}s[{index}]"))] = None
    if not pairs:
        raise ValidationFailed.field("resources", "name at least one resource id")
    return list(pairs)


def _summary(verb: str, qnames: Sequence[names.QualifiedName],
             pairs: Sequence[tuple[str, str]]) -> str:
    shown = ", ".join(q.text for q in qnames[:3]) + (" …" if len(qnames) > 3 else "")
    return f"{verb} {shown} on {len(pairs)} resource(s)"


def _register_missing(scope_id: int, recorder: ChangeRecorder, pairs: list[tuple[str, str]],
                      actor: Actor) -> None:
    """Register unknown resources in one statement (existing ones are left untouched);
    the enabled auto-tagging rules run on the new ones."""
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
        from webapp.services.rules import run_rules_on_registration

        run_rules_on_registration(actor, scope_id, recorder, pairs, now)


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


def _types(pairs: Sequence[tuple[str, str]]) -> dict[str, int]:
    """The named resources per type."""
    return dict(Counter(rtype for rtype, _ in pairs))


def _event(action: str, tag: Tag, resources: int, note: Mapping[str, Any] | None = None
           ) -> dict[str, Any]:
    return {"object_type": "assignments", "object_id": tag.id, "action": action,
            "before": None, "after": {"tag": tag.qualified_name, "resources": resources,
                                      **(note or {})}}
