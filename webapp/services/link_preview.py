"""Bulk tagging from the web admin: preview the exact change, apply it, read it back.

:func:`preview_links` shows the plan of :func:`webapp.services.link_plan.plan_links` —
links added, already present, replaced in an exclusive group (which rival tags lose how
many links), refused by a group's allowed types, tags and groups to be created; for a
detach, links removed and not present — counted on the selection without writing
anything, in a fixed number of statements whatever the number of tags or resources.

:func:`apply_links` plans again on the selection as it is inside the write transaction
and executes that plan with the same executors as the API's attach and detach, in one
change set.  The page's selection is a filter, so resources a group's allowed types refuse
are skipped (the preview shows them; a ``skip`` event records them) where the API refuses
the call (docs/decisions.md).

:func:`change_set_outcome` reads back what an applied change set did, per tag, from the
link tables and the audit trail (so it stays right after an undo).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select, union

from webapp.extensions import db
from webapp.models import (
    Assignment,
    AssignmentContext,
    AssignmentRemoval,
    ChangeSet,
    Resource,
    Tag,
    TagGroup,
)
from webapp.services import names
from webapp.services.actor import Actor, Permission, authorize
from webapp.services.assignments import execute_attach, execute_detach, link_pairs, union_links
from webapp.services.errors import PolicyViolation, ValidationFailed
from webapp.services.link_plan import (
    LinkAction,
    LinkPlan,
    OnRefusal,
    PlannedName,
    parse_names,
    plan_links,
    resolve_names,
)
from webapp.services.policies.enforce import find_policy_violation
from webapp.services.resource_selection import (
    ResourceCriteria,
    count_selection,
    selected_ids,
    selection_pairs,
    selection_query,
)
from webapp.services.tags.queries import usage_counts
from webapp.services.undo import get_change_set
from webapp.services.uow import writing

SAMPLE_SIZE = 12


# --- names ------------------------------------------------------------------------------


@dataclass(frozen=True)
class NameStatus:
    """A tag name as the user typed it: the live tag it names, or the group a new tag
    would join, or why it is not a valid name."""

    text: str
    tag: Tag | None = None
    group: TagGroup | None = None  # the tag's group, or the existing group a new tag joins
    error: str | None = None

    @property
    def is_new(self) -> bool:
        return self.tag is None and self.error is None

    @property
    def group_is_new(self) -> bool:
        """A ``group::name`` whose group does not exist yet."""
        return self.is_new and self.group is None and names.GROUP_SEPARATOR in self.text


def describe_names(actor: Actor, scope_id: int, raw_names: Sequence[str]) -> list[NameStatus]:
    """What each typed name stands for (existing tag, new tag, or invalid name), in at
    most two queries.  Duplicates (by case-insensitive key) are dropped."""
    authorize(actor, scope_id, Permission.TAGS_READ)
    statuses: list[NameStatus | names.QualifiedName] = []
    seen: set[str] = set()
    for raw in raw_names:
        try:
            qname = names.parse_name(raw, "names")
        except ValidationFailed as error:
            statuses.append(NameStatus(str(raw).strip(), error=error.details[0].message))
            continue
        if qname.key not in seen:
            seen.add(qname.key)
            statuses.append(qname)
    parsed = [s for s in statuses if isinstance(s, names.QualifiedName)]
    resolved = ({r.qname.key: r for r in resolve_names(scope_id, parsed).names}
                if parsed else {})
    result = []
    for status in statuses:
        if isinstance(status, NameStatus):
            result.append(status)
        else:
            found = resolved[status.key]
            result.append(NameStatus(found.text, found.tag, found.group))
    return result


# --- preview ----------------------------------------------------------------------------


@dataclass(frozen=True)
class TagPlan:
    """What the change does with one tag.

    For an attach, ``change`` links are added, ``unchanged`` are already present and
    ``refused`` resources are skipped because the tag's group does not allow their type
    (``refused_types``) or, for a deprecated tag, all of them (``refusal`` says why and
    names the replacement).  For a detach, ``change`` links are removed and ``unchanged``
    resources do not carry the tag.
    """

    name: str
    tag: Tag | None  # None: the tag will be created
    group: TagGroup | None
    change: int
    unchanged: int
    refused: int = 0
    refused_types: tuple[str, ...] = ()
    refusal: str | None = None

    @property
    def is_new(self) -> bool:
        return self.tag is None


@dataclass(frozen=True)
class Replacement:
    """A rival tag of an exclusive group that loses ``links`` links to ``winner``."""

    tag: Tag
    winner: str
    links: int


@dataclass(frozen=True)
class SampleRow:
    """One selected resource and, per plan (same order), what happens to it: ``add``,
    ``present``, ``refused`` (attach) or ``remove``, ``absent`` (detach); and the rival
    tags it loses."""

    resource: Resource
    cells: tuple[str, ...]
    losing: tuple[Tag, ...] = ()


@dataclass(frozen=True)
class LinkPreview:
    action: LinkAction
    resources: int  # resources selected
    by_type: dict[str, int]  # of them, per type
    plans: list[TagPlan]
    unknown: list[str] = field(default_factory=list)  # detach: names of no live tag
    created: list[str] = field(default_factory=list)  # tags to create, ancestors first
    groups_created: list[str] = field(default_factory=list)
    replacements: list[Replacement] = field(default_factory=list)
    sample: list[SampleRow] = field(default_factory=list)
    # An enforced policy that refuses the change as planned: applying it is refused whole.
    policy_refusal: PolicyViolation | None = None

    @property
    def change(self) -> int:
        return sum(plan.change for plan in self.plans)

    @property
    def unchanged(self) -> int:
        return sum(plan.unchanged for plan in self.plans)

    @property
    def refused(self) -> int:
        return sum(plan.refused for plan in self.plans)

    @property
    def replaced(self) -> int:
        return sum(item.links for item in self.replacements)

    @property
    def has_effect(self) -> bool:
        """Applying it would change links or create tags."""
        return bool(self.change or self.replaced or self.created)


def preview_links(
    actor: Actor,
    scope_id: int,
    action: LinkAction,
    tag_names: Sequence[str],
    criteria: ResourceCriteria,
    *,
    sample_size: int = SAMPLE_SIZE,
) -> LinkPreview:
    """The exact change :func:`apply_links` would make now; writes nothing.

    Raises what :func:`~webapp.services.link_plan.plan_links` raises (bad names, two tags
    of one exclusive group, no tag allowed anywhere, past the link limit) and
    ValidationFailed for an empty selection.  At most eight statements, and the enforced
    policies' check (one statement when the scope enforces none).
    """
    authorize(actor, scope_id, Permission.TAGS_WRITE)
    qnames = parse_names(tag_names)
    counts = count_selection(actor, scope_id, criteria)
    if not counts.total:
        raise ValidationFailed.field("selection", "no resources are selected")
    selected = ({criteria.rtype: counts.total} if criteria.rtype else dict(counts.by_type))
    plan = plan_links(actor, scope_id, action, qnames, selected, OnRefusal.SKIP)
    ids = selected_ids(scope_id, criteria)
    present = _present(ids, [item.tag.id for item in plan.known if item.tag is not None])

    def carried(item: PlannedName) -> int:
        if item.tag is None:
            return 0
        return sum(present.get((item.tag.id, rtype), 0) for rtype in item.takes)

    if plan.action is LinkAction.DETACH:
        return LinkPreview(
            plan.action, counts.total, selected,
            [TagPlan(item.text, item.tag, item.group, carried(item),
                     counts.total - carried(item)) for item in plan.known],
            unknown=[item.qname.text for item in plan.unknown],
            sample=_sample(scope_id, criteria, plan, {}, sample_size),
            policy_refusal=_policy_refusal(scope_id, plan, ids),
        )
    plans = [
        TagPlan(item.text, item.tag, item.group,
                change=sum(selected[rtype] for rtype in item.takes) - carried(item),
                unchanged=carried(item),
                refused=sum(selected[rtype] for rtype in item.refused_types),
                refused_types=item.refused_types, refusal=item.refusal)
        for item in plan.names
    ]
    replacements = _replacements(ids, plan.winners)
    rivals = {replacement.tag.id: replacement.tag for replacement in replacements}
    return LinkPreview(
        plan.action, counts.total, selected, plans,
        created=[q.text for q in plan.created],
        groups_created=plan.groups_created,
        replacements=replacements,
        sample=_sample(scope_id, criteria, plan, rivals, sample_size),
        policy_refusal=_policy_refusal(scope_id, plan, ids),
    )


def _policy_refusal(scope_id: int, plan: LinkPlan, ids: Select[Any]) -> PolicyViolation | None:
    """What an enforced policy would refuse of the plan's links to the selected
    resources: those of existing tags, and of the tags it would create under a forbidden
    tag."""
    if plan.action is LinkAction.DETACH:
        tag_ids = [item.tag.id for item in plan.known if item.tag is not None]
        if not tag_ids:
            return None
        return find_policy_violation(scope_id, removed=select(
            Assignment.tag_id, Assignment.resource_id).where(
                Assignment.tag_id.in_(tag_ids), Assignment.resource_id.in_(ids)))
    added = [
        link_pairs(tag_ids, ids.where(Resource.type.in_(takes)))
        for takes, members in plan.partitions().items()
        if (tag_ids := [item.tag.id for item in members if item.tag is not None])
    ]
    return find_policy_violation(
        scope_id, added=union_links(added) if added else None,
        created=[(item.qname.key, takes) for takes, members in plan.partitions().items()
                 for item in members if item.tag is None], created_on=ids)


def _present(ids: Select[Any], tag_ids: Sequence[int]) -> dict[tuple[int, str], int]:
    """Links of the given tags on the selection, per tag and resource type."""
    if not tag_ids:
        return {}
    rows = db.session.execute(
        select(Assignment.tag_id, Resource.type, func.count())
        .join(Resource, Resource.id == Assignment.resource_id)
        .where(Assignment.tag_id.in_(list(tag_ids)), Assignment.resource_id.in_(ids))
        .group_by(Assignment.tag_id, Resource.type)
    ).all()
    return {(tag_id, rtype): number for tag_id, rtype, number in rows}


def _rival_condition(winners: Sequence[PlannedName]) -> ColumnElement[bool] | None:
    """Links (joined to their tag and resource) an exclusive winner would replace: the
    other tags of its group, on the resource types it goes on."""
    conditions = []
    for item in winners:
        assert item.group is not None
        parts: list[ColumnElement[bool]] = [Tag.group_id == item.group.id,
                                            Resource.type.in_(item.takes)]
        if item.tag is not None:
            parts.append(Tag.id != item.tag.id)
        conditions.append(and_(*parts))
    return or_(*conditions) if conditions else None


def _replacements(ids: Select[Any], winners: Sequence[PlannedName]) -> list[Replacement]:
    condition = _rival_condition(winners)
    if condition is None:
        return []
    lost = (
        select(Assignment.tag_id.label("tag_id"), func.count().label("links"))
        .join(Tag, Tag.id == Assignment.tag_id)
        .join(Resource, Resource.id == Assignment.resource_id)
        .where(Assignment.resource_id.in_(ids), condition)
        .group_by(Assignment.tag_id)
        .subquery()
    )
    winner_of = {item.group.id: item.text for item in winners if item.group is not None}
    rows = db.session.execute(
        select(Tag, lost.c.links).join(lost, lost.c.tag_id == Tag.id).order_by(Tag.path_key)
    ).all()
    return [Replacement(tag, winner_of[tag.group_id], links) for tag, links in rows
            if tag.group_id is not None]


def _sample(scope_id: int, criteria: ResourceCriteria, plan: LinkPlan,
            rivals: Mapping[int, Tag], size: int) -> list[SampleRow]:
    """The first ``size`` selected resources and what happens to each (two queries)."""
    if size <= 0:
        return []
    resources = db.session.scalars(
        selection_query(scope_id, criteria)
        .order_by(Resource.type, Resource.external_id).limit(size)
    ).all()
    items = plan.known if plan.action is LinkAction.DETACH else plan.names
    tag_ids = [item.tag.id for item in items if item.tag is not None]
    linked: set[tuple[int, int]] = set()
    if resources and (tag_ids or rivals):
        linked = set(db.session.execute(
            select(Assignment.resource_id, Assignment.tag_id).where(
                Assignment.resource_id.in_([r.id for r in resources]),
                Assignment.tag_id.in_(tag_ids + list(rivals)),
            )
        ).tuples().all())
    rows = []
    for resource in resources:
        cells = []
        for item in items:
            has = item.tag is not None and (resource.id, item.tag.id) in linked
            if plan.action is LinkAction.DETACH:
                cells.append("remove" if has else "absent")
            elif resource.type not in item.takes:
                cells.append("refused")
            else:
                cells.append("present" if has else "add")
        losing = tuple(
            rival for rival_id, rival in rivals.items()
            if (resource.id, rival_id) in linked and any(
                w.group is not None and w.group.id == rival.group_id
                and resource.type in w.takes for w in plan.winners)
        )
        rows.append(SampleRow(resource, tuple(cells), losing))
    return rows


# --- apply ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AppliedLinks:
    """What :func:`apply_links` did, as the services counted it."""

    change_set_id: int | None  # None when nothing was written
    resources: int
    changed: int  # links added (attach) or removed (detach)
    unchanged: int  # links already present (attach) or not present (detach)
    replaced: int = 0
    refused: int = 0


def apply_links(
    actor: Actor,
    scope_id: int,
    action: LinkAction,
    tag_names: Sequence[str],
    criteria: ResourceCriteria,
) -> AppliedLinks:
    """Attach or detach the tags on the resources ``criteria`` selects now, as
    :func:`preview_links` described, in one change set (manual context).

    The selection is read and planned again inside the write transaction, so if the data
    changed since the preview the counts returned are the real ones.
    """
    action = LinkAction(action)
    qnames = parse_names(tag_names)
    shown = ", ".join(q.text for q in qnames[:3]) + (" …" if len(qnames) > 3 else "")
    with writing(actor, scope_id, f"Bulk {action.value} {shown}") as recorder:
        authorize(actor, scope_id, Permission.TAGS_WRITE)
        pairs = selection_pairs(scope_id, criteria)
        if not pairs:
            raise ValidationFailed.field("selection", "no resources are selected")
        plan = plan_links(actor, scope_id, action, qnames,
                          dict(Counter(t for t, _ in pairs)), OnRefusal.SKIP)
        recorder.summary = f"Bulk {action.value} {shown} on {len(pairs)} resource(s)"
        if action is LinkAction.DETACH:
            outcome = execute_detach(scope_id, recorder, plan, pairs)
        else:
            outcome = execute_attach(actor, scope_id, recorder, plan, pairs,
                                     context=AssignmentContext.MANUAL)
    change_set = recorder.change_set
    return AppliedLinks(change_set.id if change_set else None, len(pairs), outcome.changed,
                        outcome.already_present, outcome.replaced, outcome.refused)


# --- outcome ----------------------------------------------------------------------------


@dataclass(frozen=True)
class TagOutcome:
    """What a change set did with one tag it attached or detached."""

    tag: Tag
    action: str  # attach or detach
    resources: int  # resources it was attached to or detached from
    changed: int  # links added or removed
    refused: int  # resources skipped: its group does not allow their type
    usage: int  # resources carrying it now
    created: bool  # the change set created the tag

    @property
    def unchanged(self) -> int:
        return max(self.resources - self.changed, 0)


@dataclass(frozen=True)
class ChangeOutcome:
    change_set: ChangeSet
    tags: list[TagOutcome]
    replaced: list[tuple[Tag, int]]  # rival tags and the links they lost
    created: list[Tag]  # every tag the change set created, ancestors included

    @property
    def action(self) -> str | None:
        return self.tags[0].action if self.tags else None

    @property
    def undone(self) -> bool:
        return self.change_set.reverted_by_id is not None

    @property
    def resources(self) -> int:
        return max((t.resources + t.refused for t in self.tags), default=0)

    @property
    def changed(self) -> int:
        return sum(t.changed for t in self.tags)

    @property
    def unchanged(self) -> int:
        return sum(t.unchanged for t in self.tags)

    @property
    def refused(self) -> int:
        return sum(t.refused for t in self.tags)

    @property
    def replaced_links(self) -> int:
        return sum(links for _, links in self.replaced)


def change_set_outcome(actor: Actor, scope_id: int, change_set_id: int) -> ChangeOutcome:
    """Per tag, what a change set attached or detached, and each tag's usage now.

    Links added are those the change set made, including any an undo removed since, so
    the numbers stay those of the change; usage is live.  Six statements.
    """
    change_set = get_change_set(actor, scope_id, change_set_id)
    events = [e for e in change_set.events if e.object_type in ("assignments", "tag")]
    linked: dict[int, tuple[str, int]] = {}
    refused: dict[int, int] = defaultdict(int)
    rival_ids: list[int] = []
    created_ids: list[int] = []
    for event in events:
        after = event.after or {}
        if event.object_type == "tag":
            if event.action == "create":
                created_ids.append(event.object_id)
        elif event.action in ("attach", "detach"):
            linked[event.object_id] = (event.action, int(after.get("resources", 0)))
        elif event.action == "skip":
            refused[event.object_id] += int(after.get("resources", 0))
        elif event.action == "replace":
            rival_ids.append(event.object_id)
    for tag_id in refused:  # a tag none of whose resources its group allowed
        linked.setdefault(tag_id, ("attach", 0))
    made = union(
        select(Assignment.tag_id, Assignment.resource_id)
        .where(Assignment.change_set_id == change_set.id),
        select(AssignmentRemoval.tag_id, AssignmentRemoval.resource_id)
        .where(AssignmentRemoval.origin_change_set_id == change_set.id),
    ).subquery()
    added = dict(db.session.execute(
        select(made.c.tag_id, func.count()).group_by(made.c.tag_id)
    ).tuples().all())
    removed = dict(db.session.execute(
        select(AssignmentRemoval.tag_id, func.count())
        .where(AssignmentRemoval.change_set_id == change_set.id)
        .group_by(AssignmentRemoval.tag_id)
    ).tuples().all())
    wanted = set(linked) | set(rival_ids) | set(created_ids)
    tags = {tag.id: tag for tag in db.session.scalars(
        select(Tag).where(Tag.scope_id == scope_id, Tag.id.in_(list(wanted)))
    )} if wanted else {}
    usage = usage_counts([tag_id for tag_id in linked if tag_id in tags])
    outcomes = [
        TagOutcome(
            tag=tags[tag_id],
            action=action,
            resources=resources,
            changed=(added if action == "attach" else removed).get(tag_id, 0),
            refused=refused.get(tag_id, 0),
            usage=usage.get(tag_id, 0),
            created=tag_id in created_ids,
        )
        for tag_id, (action, resources) in linked.items() if tag_id in tags
    ]
    replaced = [(tags[tag_id], removed.get(tag_id, 0)) for tag_id in dict.fromkeys(rival_ids)
                if tag_id in tags]
    created = [tags[tag_id] for tag_id in created_ids if tag_id in tags]
    return ChangeOutcome(change_set, outcomes, replaced, created)
