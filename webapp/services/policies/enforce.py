"""The one policy check of every write path that adds or removes links.

The executors of attach and detach (:mod:`webapp.services.assignments`: the API in every
dialect, the bulk page, CSV import, seeds), merge and undo call
:func:`refuse_policy_violations` with the links they are about to add and remove, before
writing them.  An enforced policy refuses the change when it would

* add a tag of a forbidden subtree to a resource the policy covers, or
* take from a covered resource the last tag it carries of a required group.

Coverage is read as the resources are before the change.  A resource that already
violates a policy may still be changed in any other way (it stays reported); a new
resource is never refused for the tags it lacks.  Policies in ``report`` mode never
refuse.  Cost: one statement when the scope enforces nothing; else one per resolved
policy's ``where`` that names tags, plus one per forbidden-tag policy and one per
required group, whatever the number of links.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Select, exists, func, literal, or_, select

from webapp.extensions import db
from webapp.models import Assignment, Resource, Tag
from webapp.services import names
from webapp.services.errors import FieldError, PolicyViolation
from webapp.services.policies.rules import ResolvedPolicy, resolve_policies, scope_policies
from webapp.services.sql import integer_list
from webapp.services.tags.lookup import subtree_of
from webapp.services.wording import counted

SHOWN = 20  # resources named in a refusal


def refuse_policy_violations(scope_id: int, *, added: Select[Any] | None = None,
                             removed: Select[Any] | None = None) -> None:
    """Raise :class:`PolicyViolation` when an enforced policy of the scope refuses adding
    the links ``added`` and removing the links ``removed`` (each a ``SELECT tag_id,
    resource_id``, in that order; links ``added`` that exist already change nothing)."""
    violation = find_policy_violation(scope_id, added=added, removed=removed)
    if violation is not None:
        raise violation


def tag_links(tag_ids: Sequence[int], name: str = "policy_tags") -> Select[Any] | None:
    """``SELECT tag_id, resource_id`` of the tags' links: what deleting the tags takes from
    their resources, or restoring them gives back; None for no tags."""
    if not tag_ids:
        return None
    return select(Assignment.tag_id, Assignment.resource_id).where(
        Assignment.tag_id.in_(select(integer_list(list(tag_ids), name).c.id)))


def find_policy_violation(scope_id: int, *, added: Select[Any] | None = None,
                          removed: Select[Any] | None = None,
                          created: Sequence[tuple[str, Sequence[str]]] = (),
                          created_on: Select[Any] | None = None) -> PolicyViolation | None:
    """The first refusal :func:`refuse_policy_violations` would raise, without raising it
    (previews show it beside the plan).  A preview also names the tags it would create
    (``created``: each one's qualified key and the resource types it goes on, attached to
    the resources ``created_on`` selects): one under a forbidden tag is refused too."""
    if added is None and removed is None and not created:
        return None
    policies = scope_policies(scope_id, enforced_only=True)
    if not policies:
        return None
    for policy in resolve_policies(policies):
        if policy.broken is not None:
            continue
        found = None
        if added is not None and policy.forbidden:
            found = _forbidden(policy, added)
        if found is None and created and created_on is not None:
            found = _forbidden_new(policy, created, created_on)
        if found is None and removed is not None and policy.groups:
            found = _last_of_group(policy, removed, added)
        if found is not None:
            return found
    return None


def _forbidden_new(policy: ResolvedPolicy, created: Sequence[tuple[str, Sequence[str]]],
                   created_on: Select[Any]) -> PolicyViolation | None:
    for forbidden in policy.forbidden:
        prefix = names.parse_name(forbidden.name, "forbid_tags").key + names.PATH_SEPARATOR
        types = sorted({rtype for key, takes in created if key.startswith(prefix)
                        for rtype in takes})
        if not types:
            continue
        rows = _refused(Resource.id.in_(created_on), Resource.type.in_(types), policy.covers())
        if rows:
            return _violation(policy, list(rows),
                              f"it would add a tag it forbids ({forbidden.name})")
    return None


def _forbidden(policy: ResolvedPolicy, added: Select[Any]) -> PolicyViolation | None:
    new = added.subquery("policy_added")
    tag_id, resource_id = new.c[0], new.c[1]
    forbidden = or_(*(subtree_of(t.id_path) for t in policy.forbidden))
    already = exists().where(Assignment.tag_id == tag_id,
                             Assignment.resource_id == resource_id)
    statement = (
        select(Resource.type, Resource.external_id, func.count().over(), Resource.name)
        .select_from(new)
        .join(Tag, Tag.id == tag_id)
        .join(Resource, Resource.id == resource_id)
        # A link already stored adds nothing, unless its tag is deleted (a restore).
        .where(forbidden, ~(already & Tag.deleted_at.is_(None)), policy.covers())
        .group_by(Resource.id, Resource.type, Resource.external_id, Resource.name)
        .order_by(Resource.id)
        .limit(SHOWN)
    )
    rows = db.session.execute(statement).all()
    if not rows:
        return None
    names = ", ".join(t.name for t in policy.forbidden)
    return _violation(policy, rows, f"it would add a tag it forbids ({names})")


def _last_of_group(policy: ResolvedPolicy, removed: Select[Any],
                   added: Select[Any] | None) -> PolicyViolation | None:
    gone = removed.subquery("policy_removed")
    gone_tag, gone_resource = gone.c[0], gone.c[1]
    for group in policy.groups:
        # A link of the group that stays: not among the removed ones.
        stays = (
            select(literal(1))
            .select_from(Assignment)
            .join(Tag, Tag.id == Assignment.tag_id)
            .where(Assignment.resource_id == Resource.id, Tag.deleted_at.is_(None),
                   Tag.group_id == group.id,
                   ~exists().where(gone_tag == Assignment.tag_id,
                                   gone_resource == Assignment.resource_id))
            .correlate(Resource)
            .exists()
        )
        condition = [~stays, policy.covers()]
        if added is not None:
            new = added.subquery("policy_added")
            condition.append(~(
                select(literal(1)).select_from(new).join(Tag, Tag.id == new.c[0])
                .where(new.c[1] == Resource.id, Tag.group_id == group.id)
                .correlate(Resource).exists()
            ))
        rows = _refused(Resource.id.in_(
            select(gone_resource).select_from(gone).join(Tag, Tag.id == gone_tag)
            .where(Tag.group_id == group.id, Tag.deleted_at.is_(None))
        ), *condition)
        if rows:
            return _violation(
                policy, rows,
                f"it would remove the last tag of required group {group.identifier}")
    return None


def _refused(*conditions: ColumnElement[bool]) -> list[Any]:
    """The first :data:`SHOWN` resources meeting ``conditions``, as :func:`_violation`
    reads them: type, external id, the count of all, name."""
    return list(db.session.execute(
        select(Resource.type, Resource.external_id, func.count().over(), Resource.name)
        .where(*conditions).order_by(Resource.id).limit(SHOWN)).all())


def _violation(policy: ResolvedPolicy, rows: list[Any], why: str) -> PolicyViolation:
    """The refusal, naming the first :data:`SHOWN` resources (``rows``: type, external
    id, the count of all, name) by name where they have one."""
    refs = [f"{rtype}:{external_id}" for rtype, external_id, *_ in rows]
    shown = [f"{row[3]} ({ref})" if row[3] else ref for row, ref in zip(rows, refs, strict=True)]
    count = int(rows[0][2])
    more = f" and {count - len(shown)} more" if count > len(shown) else ""
    message = (f'policy "{policy.name}" (enforced) refuses this change: {why} on '
               f"{counted(count, 'resource')}: {', '.join(shown)}{more}")
    return PolicyViolation(message, policy.name, refs, count,
                           [FieldError("resources", message)])


class TagMove(NamedTuple):
    """A moved subtree: its root's ``id_path`` and group before and after the move."""

    old_id_path: str
    new_id_path: str
    old_group_id: int | None
    new_group_id: int | None


def refuse_policy_breaking_moves(scope_id: int, moves: Sequence[TagMove]) -> None:
    """Raise :class:`PolicyViolation` when moved subtrees (already rewritten, inside the
    running write) break an enforced policy for a resource that carries one of their
    tags: the subtree came under a forbidden tag, or left a required group the resource
    now carries no other tag of.  Moving a tag is a change of what every resource carrying
    it carries, so it answers to the policies as attach and detach do.  One statement
    when the scope enforces nothing (none for a rename in place); else one per policy
    that a move concerns."""
    violation = find_policy_breaking_move(scope_id, moves, written=True)
    if violation is not None:
        raise violation


def find_policy_breaking_move(scope_id: int, moves: Sequence[TagMove], *, written: bool
                              ) -> PolicyViolation | None:
    """The refusal of :func:`refuse_policy_breaking_moves`, without raising it; with
    ``written=False`` the subtrees are still where they were (a preview)."""
    moves = [move for move in moves if (move.old_id_path, move.old_group_id) != (
        move.new_id_path, move.new_group_id)]
    if not moves:
        return None
    policies = scope_policies(scope_id, enforced_only=True)
    if not policies:
        return None
    for policy in resolve_policies(policies):
        if policy.broken is not None:
            continue
        for forbidden in policy.forbidden:
            entered = [move for move in moves
                       if move.new_id_path.startswith(forbidden.id_path)
                       and not move.old_id_path.startswith(forbidden.id_path)]
            found = _carriers(policy, entered, written) if entered else None
            if found is not None:
                return _violation(policy, found, "it would move tags under a tag it "
                                  f"forbids ({forbidden.name})")
        for group in policy.groups:
            left = [move for move in moves
                    if move.old_group_id == group.id and move.new_group_id != group.id]
            found = _carriers(policy, left, written, without_group=group.id) if left else None
            if found is not None:
                return _violation(policy, found, "it would take the last tag of required "
                                  f"group {group.identifier} out of the group")
    return None


def _carriers(policy: ResolvedPolicy, moves: Sequence[TagMove], written: bool,
              without_group: int | None = None) -> list[Any] | None:
    """The first covered resources carrying a live tag of the moved subtrees (and, with
    ``without_group``, no live tag of that group outside them), or None."""
    in_moved = or_(*(subtree_of(move.new_id_path if written else move.old_id_path)
                     for move in moves))
    carries = (select(literal(1)).select_from(Assignment).join(Tag, Tag.id == Assignment.tag_id)
               .where(Assignment.resource_id == Resource.id, Tag.deleted_at.is_(None))
               .correlate(Resource))
    conditions = [policy.covers(), carries.where(in_moved).exists()]
    if without_group is not None:
        conditions.append(~carries.where(Tag.group_id == without_group, ~in_moved).exists())
    return _refused(*conditions) or None

