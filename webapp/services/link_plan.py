"""The one planner of every attach and detach: tag names × resource types → the plan.

Every path that links tags to resources — the API's attach and detach (each dialect), the
bulk page's preview and apply — plans here first, so the rules are checked once and read
the same everywhere:

* names: at most :data:`MAX_NAMES`, each a valid (qualified) tag name, duplicates by key
  dropped; at most :data:`MAX_LINKS` tag × resource links in one change;
* attach: two tags of one exclusive group cannot go on one resource;
* attach and detach: only members at a group's ``assign_role`` (or above) change its
  tags' links (PermissionDenied naming the group);
* names resolve through aliases: an alias names its tag and never creates a new one;
* attach: a group's ``allowed_types`` decide which of the selected resource types each tag
  goes on, and a deprecated tag is not attached again.  What happens to what these refuse
  depends on the entry point (see :class:`OnRefusal` and docs/decisions.md): an API
  client that named resources is refused as a whole; the bulk page, whose selection is a
  filter, skips it and says so;
* attach: the tags (with their ancestors) and groups that do not exist yet are listed, to
  be created by the executor (:func:`webapp.services.assignments.execute_attach`).

Planning reads (one query for the tags and their groups, one more only when a new
``group::name`` names groups) and never writes.  The bulk preview adds its counts and
sample to a plan; the executors write exactly what it says.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import false, select, true, union_all

from webapp.extensions import db
from webapp.models import Role, Tag, TagAlias, TagGroup
from webapp.services import names
from webapp.services.actor import Actor
from webapp.services.errors import (
    Conflict,
    FieldError,
    LimitExceeded,
    PermissionDenied,
    TagDeprecated,
    ValidationFailed,
)

MAX_NAMES = 100
MAX_LINKS = 100_000


class LinkAction(enum.StrEnum):
    ATTACH = "attach"
    DETACH = "detach"


class OnRefusal(enum.StrEnum):
    """What an attach does with what a rule refuses: resources whose type a tag's group
    does not allow, and deprecated tags."""

    FAIL = "fail"  # the whole change fails, nothing is written (the API)
    SKIP = "skip"  # the rest goes ahead; what is skipped is in the plan (the bulk page)


# --- names ------------------------------------------------------------------------------


def parse_names(raw_names: Sequence[str]) -> list[names.QualifiedName]:
    """The tag names of one change, parsed, duplicates (by key) dropped, order kept.

    The count is checked before any name is parsed, so an oversized list costs nothing.
    Errors name the field ``names[i]`` and the name as it was typed.
    """
    if isinstance(raw_names, str) or not raw_names:
        raise ValidationFailed.field("names", "give at least one tag name")
    if len(raw_names) > MAX_NAMES:
        raise LimitExceeded(
            f"at most {MAX_NAMES} tag names at once ({len(raw_names)} given)",
            [FieldError("names", f"at most {MAX_NAMES} tag names at once")],
        )
    unique: dict[str, names.QualifiedName] = {}
    for index, raw in enumerate(raw_names):
        try:
            qname = names.parse_name(raw, f"names[{index}]")
        except ValidationFailed as error:
            typed = str(raw).strip() if isinstance(raw, str) else repr(raw)
            message = f"“{typed}” is not a valid tag name: {error.details[0].message}"
            raise ValidationFailed(message, [FieldError(f"names[{index}]", message)]) from error
        unique.setdefault(qname.key, qname)
    return list(unique.values())


def check_size(name_count: int, resource_count: int) -> None:
    """At most :data:`MAX_LINKS` tag × resource links in one change."""
    links = name_count * resource_count
    if links > MAX_LINKS:
        raise LimitExceeded(
            f"{name_count} tag(s) × {resource_count:,} resources = {links:,} links; at "
            f"most {MAX_LINKS:,} at once",
            [FieldError("resources", f"at most {MAX_LINKS:,} tag × resource links at once "
                                     f"({links:,} asked); name fewer resources or tags")],
        )


@dataclass(frozen=True)
class ResolvedName:
    """A parsed name and what it stands for now: its live tag (with its group), or, for a
    tag still to be created, the existing group a ``group::name`` would join."""

    qname: names.QualifiedName
    tag: Tag | None
    group: TagGroup | None
    group_missing: bool  # a ``group::name`` whose group does not exist yet
    via_alias: bool = False  # the name is an alias of ``tag``

    @property
    def text(self) -> str:
        return self.tag.qualified_name if self.tag else self.qname.text

    @property
    def allowed(self) -> frozenset[str] | None:
        """The resource types its group allows, None for any."""
        if self.group is None or not self.group.allowed_types:
            return None
        return frozenset(self.group.allowed_types)

    @property
    def exclusive(self) -> bool:
        return bool(self.group and self.group.exclusive)

    @property
    def deprecated(self) -> bool:
        return self.tag is not None and self.tag.deprecated_at is not None


@dataclass(frozen=True)
class Resolution:
    """The names resolved, and what the look-up found on the way."""

    names: list[ResolvedName]
    live: dict[str, Tag]  # live tags among the names (and ancestors) by path key
    aliased: dict[str, Tag]  # the tags the names (and ancestors) that are aliases mean


def resolve_names(scope_id: int, qnames: Sequence[names.QualifiedName], *,
                  with_ancestors: bool = True) -> Resolution:
    """Each name's live tag (by its path, else by an alias) and group; every live tag
    among the names (and, with ``with_ancestors``, their ancestors) by path key; and the
    tags those that are aliases mean.

    One query reads the tags by path and by alias together; a second runs only when a new
    ``group::name`` needs its group looked up.
    """
    keys = ({prefix.key for qname in qnames for prefix in qname.prefixes()}
            if with_ancestors else {qname.key for qname in qnames})
    matches = union_all(
        select(Tag.id.label("tag_id"), Tag.path_key.label("key"), false().label("alias"))
        .where(Tag.scope_id == scope_id, Tag.deleted_at.is_(None),
               Tag.path_key.in_(sorted(keys))),
        select(TagAlias.tag_id, TagAlias.alias_key, true())
        .where(TagAlias.scope_id == scope_id, TagAlias.alias_key.in_(sorted(keys))),
    ).subquery("matches")
    live: dict[str, Tag] = {}
    aliased: dict[str, Tag] = {}
    for tag, key, is_alias in db.session.execute(
        select(Tag, matches.c.key, matches.c.alias)
        .join(matches, matches.c.tag_id == Tag.id)
        .where(Tag.deleted_at.is_(None))
    ).tuples():
        (aliased if is_alias else live)[key] = tag
    wanted_groups = {names.key(q.group) for q in qnames
                     if q.group and q.key not in live and q.key not in aliased}
    groups: dict[str, TagGroup] = {}
    if wanted_groups:
        groups = {
            group.identifier_key: group
            for group in db.session.scalars(
                select(TagGroup).where(TagGroup.scope_id == scope_id,
                                       TagGroup.identifier_key.in_(sorted(wanted_groups)))
            )
        }
    resolved = []
    for qname in qnames:
        tag = live.get(qname.key)
        if tag is not None:
            resolved.append(ResolvedName(qname, tag, tag.group, False))
        elif qname.key in aliased:
            tag = aliased[qname.key]
            resolved.append(ResolvedName(qname, tag, tag.group, False, via_alias=True))
        else:
            group = groups.get(names.key(qname.group)) if qname.group else None
            resolved.append(ResolvedName(qname, None, group,
                                         bool(qname.group) and group is None))
    return Resolution(resolved, live, aliased)


# --- group rules ------------------------------------------------------------------------


def refuse_exclusive_pairs(tags: Sequence[tuple[str, TagGroup | None]]) -> None:
    """Two tags (name, group) of one exclusive group cannot both go on a resource."""
    seen: dict[int, str] = {}
    for text, group in tags:
        if group is not None and group.exclusive:
            if group.id in seen:
                raise ValidationFailed.field(
                    "names", f"{seen[group.id]!r} and {text!r} belong to the exclusive group "
                    f"{group.identifier!r}; a resource carries at most one of them"
                )
            seen[group.id] = text


def refuse_disallowed_types(tags: Sequence[tuple[str, TagGroup | None]],
                            resource_types: set[str]) -> None:
    """Every resource type must be allowed by the group of every tag (name, group)."""
    for _, group in tags:
        if group is None or not group.allowed_types:
            continue
        refused = sorted(resource_types - set(group.allowed_types))
        if refused:
            raise ValidationFailed.field(
                "names", f"tags of group {group.identifier!r} cannot be attached to "
                f"{', '.join(refused)} resources (allowed: {', '.join(group.allowed_types)})"
            )


def refuse_unassignable(actor: Actor, scope_id: int,
                        tags: Sequence[tuple[str, TagGroup | None]]) -> None:
    """Only members at a group's ``assign_role`` (or above) attach or detach its tags
    (site admins always; an API key acts with its owner's role)."""
    for text, group in tags:
        if group is None or group.assign_role == Role.EDITOR:
            continue
        least = Role(group.assign_role)
        if not actor.has_role(scope_id, least):
            message = (f"only {least.value}s may attach or detach the tags of group "
                       f"{group.identifier!r} ({text!r})")
            raise PermissionDenied(message, [FieldError("names", message)])


def deprecation_message(tag: Tag) -> str:
    """Why a deprecated tag is not attached, naming what to use instead."""
    replacement = tag.replacement
    instead = (f"; use {replacement.qualified_name!r} instead"
               if replacement is not None and replacement.deleted_at is None else "")
    return f"{tag.qualified_name!r} is deprecated{instead}"


def check_group_rules(tags: Sequence[Tag], resource_types: set[str]) -> None:
    """The attach rules for tags that already exist (a merge's target, say): no two tags
    of one exclusive group, and only resource types their groups allow."""
    pairs = [(tag.qualified_name, tag.group) for tag in tags]
    refuse_exclusive_pairs(pairs)
    refuse_disallowed_types(pairs, resource_types)


# --- the plan ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedName(ResolvedName):
    """A name of the plan and the selected resource types it goes on (attach) or comes
    off (detach); ``refused_types`` are those its group does not allow (attach)."""

    takes: tuple[str, ...] = ()
    refused_types: tuple[str, ...] = ()
    refusal: str | None = None  # why the whole name is skipped (a deprecated tag)


@dataclass(frozen=True)
class LinkPlan:
    """The exact change one attach or detach makes, before any write."""

    action: LinkAction
    names: list[PlannedName]  # in the order given, duplicates dropped
    resource_types: dict[str, int]  # the resources of the change, per type
    live: dict[str, Tag]  # every live tag among the names and their ancestors, by key
    created: list[names.QualifiedName] = field(default_factory=list)  # ancestors first
    groups_created: list[str] = field(default_factory=list)

    @property
    def resources(self) -> int:
        return sum(self.resource_types.values())

    @property
    def known(self) -> list[PlannedName]:
        """The names of live tags."""
        return [item for item in self.names if item.tag is not None]

    @property
    def unknown(self) -> list[PlannedName]:
        """The names of no live tag (a detach skips them; an attach creates them)."""
        return [item for item in self.names if item.tag is None]

    @property
    def applied(self) -> list[PlannedName]:
        """The names that go on (or come off) at least one resource."""
        return [item for item in self.names if item.takes]

    @property
    def winners(self) -> list[PlannedName]:
        """Attached tags of exclusive groups: they replace their group's other tags."""
        return [item for item in self.applied if item.exclusive]

    @property
    def refused(self) -> int:
        """Tag × resource links skipped: a group does not allow the type, or the tag is
        deprecated."""
        return sum(self.resource_types[rtype] for item in self.names
                   for rtype in item.refused_types)

    def partitions(self) -> dict[tuple[str, ...], list[PlannedName]]:
        """The applied names grouped by the resource types they go on (usually one
        group: every name on every type), so each group is one set-based write."""
        grouped: dict[tuple[str, ...], list[PlannedName]] = {}
        for item in self.applied:
            grouped.setdefault(item.takes, []).append(item)
        return grouped


def plan_links(
    actor: Actor,
    scope_id: int,
    action: LinkAction,
    qnames: Sequence[names.QualifiedName],
    resource_types: Mapping[str, int],
    on_refusal: OnRefusal = OnRefusal.FAIL,
) -> LinkPlan:
    """Plan attaching (or detaching) the named tags on resources of these types (counts
    per type), as one change by ``actor``.  Reads, never writes.

    Raises LimitExceeded past :data:`MAX_LINKS`, PermissionDenied for a tag of a group
    the actor may not assign; for an attach, ValidationFailed for two tags of one
    exclusive group, and — when ``on_refusal`` is FAIL — TagDeprecated for a deprecated
    tag and ValidationFailed for a type a group does not allow (with SKIP, the plan says
    what each name skips and why).
    """
    action = LinkAction(action)
    selected = {rtype: count for rtype, count in resource_types.items() if count}
    check_size(len(qnames), sum(selected.values()))
    attaching = action is LinkAction.ATTACH
    resolution = resolve_names(scope_id, qnames, with_ancestors=attaching)
    resolved, live = resolution.names, resolution.live
    pairs = [(item.text, item.group) for item in resolved]
    refuse_unassignable(actor, scope_id, pairs)
    if not attaching:
        planned = [PlannedName(r.qname, r.tag, r.group, r.group_missing, r.via_alias,
                               takes=tuple(sorted(selected)) if r.tag is not None else ())
                   for r in resolved]
        return LinkPlan(action, planned, selected, live)

    refuse_exclusive_pairs(pairs)
    _refuse_through_aliases(resolution)
    if on_refusal is OnRefusal.FAIL:
        for item in resolved:
            if item.deprecated and item.tag is not None:
                message = deprecation_message(item.tag)
                raise TagDeprecated(message, [FieldError("names", message)])
        refuse_disallowed_types(pairs, set(selected))
    planned = []
    for item in resolved:
        allowed = item.allowed
        takes = tuple(sorted(t for t in selected if allowed is None or t in allowed))
        refusal = None
        if item.deprecated and item.tag is not None:
            takes, refusal = (), deprecation_message(item.tag)
        planned.append(PlannedName(
            item.qname, item.tag, item.group, item.group_missing, item.via_alias,
            takes=takes, refused_types=tuple(sorted(set(selected) - set(takes))),
            refusal=refusal,
        ))
    applied = [item for item in planned if item.takes]
    created = sorted(
        {prefix.key: prefix for item in applied if item.tag is None
         for prefix in item.qname.prefixes() if prefix.key not in live}.values(),
        key=lambda q: (len(q.segments), q.key),
    )
    groups_created = sorted({item.qname.group for item in applied
                             if item.group_missing and item.qname.group})
    return LinkPlan(action, planned, selected, live, created, groups_created)


def _refuse_through_aliases(resolution: Resolution) -> None:
    """A new tag may not be created under a name an alias holds (``Old.child`` when
    ``Old`` is an alias of ``New``): name the tag itself."""
    for item in resolution.names:
        if item.tag is not None:
            continue
        for prefix in item.qname.prefixes():
            meant = resolution.aliased.get(prefix.key)
            if meant is not None:
                message = (f"{prefix.text!r} is an alias of {meant.qualified_name!r}; "
                           f"name the tag itself instead of {item.qname.text!r}")
                raise Conflict(message, [FieldError("names", message)])


def refuse_unknown(plan: LinkPlan) -> None:
    """An attach that may not create tags: every name must be a live tag."""
    unknown = plan.unknown
    if unknown:
        position = {item.qname.key: index for index, item in enumerate(plan.names)}
        raise ValidationFailed(
            f"unknown or deleted tag(s): {', '.join(i.qname.text for i in unknown)}; "
            "nothing was added",
            [FieldError(f"names[{position[i.qname.key]}]",
                        f"unknown or deleted tag {i.qname.text!r}") for i in unknown],
        )
