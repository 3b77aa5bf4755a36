"""Merging tags into another: links move, children move, the sources are soft-deleted."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Integer, Select, func, select

from webapp.extensions import db
from webapp.models import Assignment, Resource, Tag, TagGroup
from webapp.services.actor import Actor, Permission, authorize
from webapp.services.assignments import (
    insert_links,
    remove_links,
    replace_in_exclusive_groups,
    typed_literal,
)
from webapp.services.errors import ServiceError, ValidationFailed
from webapp.services.link_plan import check_group_rules, refuse_unassignable
from webapp.services.policies.enforce import refuse_policy_violations
from webapp.services.sql import integer_list, json_rows
from webapp.services.tags.aliases import transfer_aliases
from webapp.services.tags.deletion import live_children, mark_deleted
from webapp.services.tags.deprecation import pass_replacements_on
from webapp.services.tags.hierarchy import Blame, relocate_all
from webapp.services.tags.lookup import TagFacts, live_tag, refuse_protected
from webapp.services.uow import ChangeRecorder, writing


def merge_tags(actor: Actor, scope_id: int, source: int | str, target: int | str) -> Tag:
    """Merge ``source`` into ``target`` in one change set (see :func:`merge_all`)."""
    with writing(actor, scope_id, f"Merge {source} into {target}") as recorder:
        authorize(actor, scope_id, Permission.TAGS_WRITE)
        authorize(actor, scope_id, Permission.TAGS_DELETE)
        gone = live_tag(scope_id, source, "source")
        kept = live_tag(scope_id, target, "target")
        if gone.id == kept.id:
            raise ValidationFailed.field("target", "a tag cannot be merged into itself")
        merge_all(actor, scope_id, recorder, [TagFacts.of(gone)], kept, _as_is)
        return kept


def _as_is(_tag_id: int, error: ServiceError) -> ServiceError:
    return error


def _refuse_unassignable(actor: Actor, scope_id: int, sources: Sequence[TagFacts],
                         kept: Tag) -> None:
    """A merge detaches the sources and attaches ``kept``: every group involved must be
    one the actor may assign (one query, only when a source has a group)."""
    group_ids = {gone.group_id for gone in sources if gone.group_id is not None}
    groups = {group.id: group for group in db.session.scalars(
        select(TagGroup).where(TagGroup.id.in_(sorted(group_ids))))} if group_ids else {}
    refuse_unassignable(actor, scope_id, [(kept.qualified_name, kept.group)] + [
        (gone.qualified_name, groups.get(gone.group_id or 0)) for gone in sources])


def merge_all(actor: Actor, scope_id: int, recorder: ChangeRecorder,
              sources: Sequence[TagFacts], kept: Tag, blame: Blame) -> None:
    """Merge every source into ``kept`` inside the running write.

    Every resource carrying a source ends up carrying ``kept`` (its group rules apply:
    exclusive groups replace rivals, disallowed resource types refuse the merge); the
    sources' live children that are not sources themselves move under ``kept`` (a clash
    with a child of ``kept`` is a Conflict, unless that child is a source too, which goes);
    the sources are soft-deleted and their names and aliases become aliases of ``kept``.
    A source may not be protected nor hold ``kept``.

    Deprecated tags that named a source as their replacement name ``kept`` instead.

    Set-based: a fixed number of statements whatever the number of sources.  Events: a
    delete per source, an update per moved child, a deprecate per re-pointed deprecated
    tag, and per source an ``assignments``
    merge event with the links it added (a resource carrying several sources counts for
    the first of them, as merging them one at a time would)."""
    _refuse_unassignable(actor, scope_id, sources, kept)
    for gone in sources:
        try:
            if kept.id_path.startswith(gone.id_path):
                raise ValidationFailed.field(
                    "target", f"{kept.path!r} lies under {gone.path!r}; move it out first")
            refuse_protected(actor, [gone])
        except ServiceError as error:
            raise blame(gone.id, error) from error
    if not sources:
        return
    gone_ids = [gone.id for gone in sources]

    def source_ids() -> Select[Any]:
        return select(integer_list(gone_ids, "sources").c.id)

    carriers = select(Assignment.resource_id).where(Assignment.tag_id.in_(source_ids()))
    types = set(db.session.scalars(
        select(Resource.type).where(Resource.id.in_(carriers)).distinct()))
    try:
        check_group_rules([kept], types)
    except ServiceError as error:
        raise blame(sources[0].id, error) from error
    position = {tag_id: index for index, tag_id in enumerate(gone_ids)}
    heirs = sorted(  # each source's children in turn, as one merge at a time would
        (child for child in live_children(gone_ids) if child.id not in position),
        key=lambda tag: (position[tag.parent_id or 0], tag.id_path))
    added = _links_added(gone_ids, kept.id)
    refuse_policy_violations(
        scope_id,
        added=select(typed_literal(kept.id, Integer()).label("tag_id"),
                     Assignment.resource_id.label("resource_id"))
        .where(Assignment.tag_id.in_(source_ids())).distinct(),
        removed=select(Assignment.tag_id, Assignment.resource_id)
        .where(Assignment.tag_id.in_(source_ids())),
    )
    change_set_id = recorder.change_set_id()
    insert_links(
        change_set_id, actor, "manual",
        select(typed_literal(kept.id, Integer()).label("tag_id"),
               Assignment.resource_id.label("resource_id"))
        .where(Assignment.tag_id.in_(source_ids())).distinct(),
    )
    replace_in_exclusive_groups(
        change_set_id, [kept], select(Assignment.resource_id).where(Assignment.tag_id == kept.id)
    )
    remove_links(change_set_id, Assignment.tag_id.in_(source_ids()))
    # Deprecated tags that named a source as their replacement name the kept tag now
    # (none, when it is deprecated itself: a replacement is never deprecated).
    pass_replacements_on(recorder, scope_id, gone_ids,
                         kept if kept.deprecated_at is None else None)
    mark_deleted(recorder, gone_ids)
    parent_of = {heir.id: heir.parent_id for heir in heirs}
    relocate_all(actor, scope_id, recorder, heirs, kept,
                 lambda tag_id, error: blame(parent_of[tag_id] or tag_id, error),
                 check_protected=False)
    recorder.record_many([
        {"object_type": "assignments", "object_id": kept.id, "action": "merge",
         "before": None, "after": {"from": gone.qualified_name,
                                   "links_added": added.get(gone.id, 0)}}
        for gone in sources
    ])
    # Last, so that an undo takes the names back before it restores the sources.
    transfer_aliases(actor, scope_id, recorder,
                     [(gone.id, gone.qualified_name) for gone in sources], kept.id)


def _links_added(gone_ids: Sequence[int], kept_id: int) -> dict[int, int]:
    """Per source, the resources it carries and ``kept`` does not, each counted for the
    first source (in the given order) that carries it: the links a merge adds."""
    order = json_rows([(tag_id, position) for position, tag_id in enumerate(gone_ids)],
                      [("tag_id", "integer"), ("position", "integer")], "merge_order")
    first = (
        select(Assignment.resource_id, func.min(order.c.position).label("position"))
        .join(order, order.c.tag_id == Assignment.tag_id)
        .where(Assignment.resource_id.not_in(
            select(Assignment.resource_id).where(Assignment.tag_id == kept_id)))
        .group_by(Assignment.resource_id)
        .subquery("first_carrier")
    )
    return {gone_ids[position]: count for position, count in db.session.execute(
        select(first.c.position, func.count()).group_by(first.c.position)
    ).tuples()}
