"""One resource as its page shows it: the resource, where each of its tags came from (who
added it, when, how: the assignment's ``context``, and for a rule the rule's name when
the audit trail names it), and its history (the change sets that added or removed its
links, with what each did to it).  Each read is a fixed number of statements, whatever
the number of tags or change sets.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, func, literal, select, union, union_all

from webapp.extensions import db
from webapp.models import (
    Assignment,
    AssignmentContext,
    AssignmentRemoval,
    AuditEvent,
    ChangeSet,
    Resource,
    Tag,
    User,
)
from webapp.services.actor import Actor, Permission, authorize
from webapp.services.errors import NotFound, ValidationFailed
from webapp.services.paging import Page, PageRequest
from webapp.services.resources import clean_type

# How a link was made, as people read it (a context not listed shows as stored).
CONTEXT_LABELS = {
    AssignmentContext.MANUAL.value: "manual",
    AssignmentContext.API.value: "API",
    AssignmentContext.RULE.value: "rule",
    AssignmentContext.IMPORT.value: "import",
    "refresh": "refresh",
}


@dataclass(frozen=True)
class TagLink:
    """A tag on a resource and where it came from."""

    tag: Tag
    context: str
    added_at: datetime
    added_by_id: int | None
    added_by_public_id: str | None
    added_by_email: str | None
    added_by_name: str | None
    change_set_id: int | None
    rule_name: str | None = None

    @property
    def context_label(self) -> str:
        return CONTEXT_LABELS.get(self.context, self.context)

    @property
    def added_by_label(self) -> str | None:
        """The adder as people read them (None: the system)."""
        return self.added_by_name or self.added_by_email


@dataclass(frozen=True)
class LinkChange:
    """One tag a change set added to or removed from the resource."""

    tag: Tag
    added: bool


@dataclass(frozen=True)
class HistoryEntry:
    change_set: ChangeSet
    changes: list[LinkChange]


def find_resource(actor: Actor, scope_id: int, rtype: str, external_id: str) -> Resource:
    """The scope's resource of that type and id (one query); NotFound otherwise."""
    authorize(actor, scope_id, Permission.TAGS_READ)
    try:
        cleaned = clean_type(rtype)
    except ValidationFailed:  # an unknown type holds no resource
        raise NotFound(f"there is no resource type {rtype!r}") from None
    resource = db.session.scalar(select(Resource).where(
        Resource.scope_id == scope_id, Resource.type == cleaned,
        Resource.external_id == external_id,
    ))
    if resource is None:
        raise NotFound(f"{cleaned} {external_id!r} not found")
    return resource


def _link_rows(resource_ids: Sequence[int]) -> Any:
    return (
        select(Assignment.resource_id, Assignment.context, Assignment.added_at,
               Assignment.added_by_id, Assignment.change_set_id, Tag,
               User.public_id, User.email, User.display_name)
        .join(Tag, Tag.id == Assignment.tag_id)
        .outerjoin(User, User.id == Assignment.added_by_id)
        .where(Assignment.resource_id.in_(list(resource_ids)), Tag.deleted_at.is_(None))
    )


def _link(row: Any, rules: dict[tuple[int, int], str] | None = None) -> TagLink:
    rule_name = None
    if rules and row.change_set_id is not None:
        rule_name = rules.get((row.change_set_id, row.Tag.id))
    return TagLink(tag=row.Tag, context=row.context, added_at=row.added_at,
                   added_by_id=row.added_by_id, added_by_public_id=row.public_id,
                   added_by_email=row.email, added_by_name=row.display_name or None,
                   change_set_id=row.change_set_id, rule_name=rule_name)


def links_by_resource(resource_ids: Sequence[int]) -> dict[int, list[TagLink]]:
    """The live tags of each resource with where each came from, in one query (by tag
    path, as ``tags_by_resource`` orders them)."""
    found: dict[int, list[TagLink]] = {resource_id: [] for resource_id in resource_ids}
    if not resource_ids:
        return found
    for row in db.session.execute(_link_rows(resource_ids).order_by(Tag.path_key)):
        found[row.resource_id].append(_link(row))
    return found


def rule_names(links: Sequence[tuple[int, int]]) -> dict[tuple[int, int], str]:
    """For each (change set, tag) link, the rule its attach event names, in one query (a
    rule's attach events carry ``rule`` beside the tag: ``webapp.services.rules``)."""
    if not links:
        return {}
    wanted = set(links)
    names: dict[tuple[int, int], str] = {}
    for change_set_id, tag_id, after in db.session.execute(
        select(AuditEvent.change_set_id, AuditEvent.object_id, AuditEvent.after)
        .where(AuditEvent.change_set_id.in_(sorted({cs for cs, _ in wanted})),
               AuditEvent.object_type == "assignments",
               AuditEvent.object_id.in_(sorted({tag for _, tag in wanted})),
               AuditEvent.action == "attach")
        .order_by(AuditEvent.id)
    ):
        name = after.get("rule") if isinstance(after, dict) else None
        key = (change_set_id, tag_id)
        if isinstance(name, str) and key in wanted and key not in names:
            names[key] = name
    return names


def resource_tags(actor: Actor, scope_id: int, resource: Resource, paging: PageRequest
                  ) -> Page[TagLink]:
    """A page of the resource's live tags with who added each, when and how: a count and
    a page (and the rules' names when a link on the page came from a rule)."""
    authorize(actor, scope_id, Permission.TAGS_READ)
    rows = _link_rows([resource.id])
    total = db.session.scalar(select(func.count()).select_from(rows.subquery())) or 0
    page = db.session.execute(
        rows.order_by(Tag.path_key, Tag.id).limit(paging.per_page).offset(paging.offset)
    ).all()
    ruled = [(row.change_set_id, row.Tag.id) for row in page
             if row.context == AssignmentContext.RULE.value and row.change_set_id is not None]
    names = rule_names(ruled)
    return Page([_link(row, names) for row in page], total, paging.page, paging.per_page)


def _touching(resource_id: int) -> Any:
    """The ids of the change sets that added or removed a link of the resource, and of
    the undos of those."""
    direct = union(
        select(Assignment.change_set_id.label("id")).where(
            Assignment.resource_id == resource_id, Assignment.change_set_id.is_not(None)),
        select(AssignmentRemoval.change_set_id.label("id")).where(
            AssignmentRemoval.resource_id == resource_id),
        select(AssignmentRemoval.origin_change_set_id.label("id")).where(
            AssignmentRemoval.resource_id == resource_id,
            AssignmentRemoval.origin_change_set_id.is_not(None)),
    ).subquery("direct")
    return union(
        select(direct.c.id),
        select(ChangeSet.id).where(ChangeSet.reverts_id.in_(select(direct.c.id))),
    ).subquery("touching")


def resource_history(actor: Actor, scope_id: int, resource: Resource, paging: PageRequest
                     ) -> Page[HistoryEntry]:
    """A page of the change sets that touched the resource's links, newest first, with
    the tags each added or removed (three queries whatever the page size).

    An undo that put removed links back writes no row of its own (the links return with
    their first change set): it shows the inverse of what it undid."""
    authorize(actor, scope_id, Permission.TAGS_READ)
    touching = _touching(resource.id)
    query = select(ChangeSet).where(ChangeSet.scope_id == scope_id,
                                    ChangeSet.id.in_(select(touching.c.id)))
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    change_sets = list(db.session.scalars(
        query.order_by(ChangeSet.id.desc()).limit(paging.per_page).offset(paging.offset)
    ).unique())
    ids = {cs.id for cs in change_sets} | {cs.reverts_id for cs in change_sets
                                           if cs.reverts_id is not None}
    changes = _changes(resource.id, sorted(ids))
    entries = []
    for cs in change_sets:
        own = changes.get(cs.id, {})
        if cs.reverts_id is not None:  # links the undone change set removed came back
            for tag_id, (tag, added) in changes.get(cs.reverts_id, {}).items():
                if not added:
                    own.setdefault(tag_id, (tag, True))
        listed = sorted(own.values(), key=lambda pair: (not pair[1], pair[0].path_key))
        entries.append(HistoryEntry(cs, [LinkChange(tag, added) for tag, added in listed]))
    return Page(entries, total, paging.page, paging.per_page)


def _changes(resource_id: int, change_set_ids: list[int]
             ) -> dict[int, dict[int, tuple[Tag, bool]]]:
    """For each change set, the resource's tags it added (True) or removed (False), in
    one query."""
    found: dict[int, dict[int, tuple[Tag, bool]]] = {}
    if not change_set_ids:
        return found
    added, removed = literal("added", String()), literal("removed", String())
    rows = union_all(
        select(Assignment.change_set_id.label("cs"), Assignment.tag_id.label("tag_id"),
               added.label("kind"))
        .where(Assignment.resource_id == resource_id,
               Assignment.change_set_id.in_(change_set_ids)),
        select(AssignmentRemoval.origin_change_set_id, AssignmentRemoval.tag_id, added)
        .where(AssignmentRemoval.resource_id == resource_id,
               AssignmentRemoval.origin_change_set_id.in_(change_set_ids)),
        select(AssignmentRemoval.change_set_id, AssignmentRemoval.tag_id, removed)
        .where(AssignmentRemoval.resource_id == resource_id,
               AssignmentRemoval.change_set_id.in_(change_set_ids)),
    ).subquery("changes")
    for change_set_id, kind, tag in db.session.execute(
        select(rows.c.cs, rows.c.kind, Tag).join(Tag, Tag.id == rows.c.tag_id)
    ):
        found.setdefault(change_set_id, {})[tag.id] = (tag, kind == "added")
    return found
