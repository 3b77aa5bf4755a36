"""Create, read, change and delete tag policies: managers (``groups.write``), audited as
``tag_policy`` events (create / update / delete with the policy's snapshot), undoable."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import TagPolicy
from webapp.models.types import utcnow
from webapp.services import names
from webapp.services.actor import Actor, Permission, authorize
from webapp.services.errors import Conflict, FieldError, NotFound, ValidationFailed
from webapp.services.expressions.compiler import resolve
from webapp.services.expressions.syntax import parse
from webapp.services.groups import clean_allowed_types, find_group
from webapp.services.policies.rules import MODES, ResolvedPolicy, resolve_policies
from webapp.services.sql import integer_key
from webapp.services.tags.lookup import find_tag
from webapp.services.uow import ChangeRecorder, writing

MAX_ITEMS = 50  # required groups, forbidden tags


@dataclass(frozen=True)
class PolicyInput:
    """A policy as typed: groups by identifier, public id or id; tags by (qualified)
    path, public id or id."""

    name: str
    resource_types: Sequence[str] = ()
    where: str | None = None
    require_groups: Sequence[str | int] = ()
    forbid_tags: Sequence[str | int] = ()
    mode: str = "report"
    description: str | None = None


@dataclass(frozen=True)
class PolicyView:
    """A policy as shown: groups by identifier, tags by qualified name."""

    id: int
    name: str
    description: str | None
    resource_types: list[str]
    where: str | None
    require_groups: list[str]
    forbid_tags: list[str]
    mode: str
    broken: str | None
    created_at: Any
    updated_at: Any
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, resolved: ResolvedPolicy) -> PolicyView:
        policy = resolved.policy
        return cls(policy.id, policy.name, policy.description,
                   list(policy.resource_types or []), policy.where_expression,
                   [g.identifier for g in resolved.groups],
                   [t.name for t in resolved.forbidden], policy.mode, resolved.broken,
                   policy.created_at, policy.updated_at)


def list_policies(actor: Actor, scope_id: int) -> list[PolicyView]:
    authorize(actor, scope_id, Permission.TAGS_READ)
    policies = db.session.scalars(
        select(TagPolicy).where(TagPolicy.scope_id == scope_id).order_by(TagPolicy.name_key))
    return [PolicyView.of(p) for p in resolve_policies(list(policies))]


def get_policy(actor: Actor, scope_id: int, policy_id: int | str) -> PolicyView:
    authorize(actor, scope_id, Permission.TAGS_READ)
    return PolicyView.of(resolve_policies([_existing(scope_id, policy_id)])[0])


def _existing(scope_id: int, policy_id: int | str) -> TagPolicy:
    row_id = integer_key(policy_id)
    policy = db.session.get(TagPolicy, row_id) if row_id else None
    if policy is None or policy.scope_id != scope_id:
        raise NotFound(f"tag policy {policy_id!r} not found")
    return policy


def clean_policy(scope_id: int, data: PolicyInput, *, own_id: int | None = None
                 ) -> dict[str, Any]:
    """The columns of a policy from what was typed; every problem at once, by field."""
    problems: list[FieldError] = []

    def attempt(fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except ValidationFailed as error:
            problems.extend(error.details or [FieldError("policy", error.message)])
            return None

    name = attempt(names.clean_label, data.name, "name")
    description = attempt(names.clean_description, data.description, "description")
    types = attempt(clean_allowed_types, list(data.resource_types or []), "resource_types")
    where = (data.where or "").strip() or None
    if where is not None:
        attempt(lambda: resolve(scope_id, parse(where, "where"), "where"))
    mode = str(data.mode or "").strip().lower()
    if mode not in MODES:
        problems.append(FieldError("mode", f"must be one of {', '.join(MODES)}"))
    group_ids: list[int] = []
    for index, handle in enumerate(_items(data.require_groups, "require_groups", problems)):
        group = find_group(scope_id, handle) if str(handle).strip() else None
        if group is None:
            problems.append(FieldError(f"require_groups[{index}]", f"unknown group {handle!r}"))
        elif group.id not in group_ids:
            group_ids.append(group.id)
    tag_ids: list[int] = []
    for index, handle in enumerate(_items(data.forbid_tags, "forbid_tags", problems)):
        tag = find_tag(scope_id, handle) if str(handle).strip() else None
        if tag is None or tag.deleted_at is not None:
            problems.append(FieldError(f"forbid_tags[{index}]", f"no live tag named {handle!r}"))
        elif tag.id not in tag_ids:
            tag_ids.append(tag.id)
    if not problems and not group_ids and not tag_ids:
        problems.append(FieldError("require_groups",
                                   "require at least one group or forbid at least one tag"))
    if name and not problems:
        clash = db.session.scalar(select(TagPolicy.id).where(
            TagPolicy.scope_id == scope_id, TagPolicy.name_key == names.key(name),
            TagPolicy.id != (own_id or 0)))
        if clash is not None:
            raise Conflict(f"a policy named {name!r} exists in this scope",
                           [FieldError("name", f"a policy named {name!r} exists")])
    if problems:
        raise ValidationFailed("; ".join(f"{p.field}: {p.message}" for p in problems),
                               problems)
    return {"name": name, "name_key": names.key(name), "description": description,
            "resource_types": types, "where_expression": where,
            "require_groups": group_ids, "forbid_tags": tag_ids, "mode": mode}


def _items(raw: Sequence[str | int] | None, field_name: str,
           problems: list[FieldError]) -> list[str | int]:
    if raw is None:
        return []
    if isinstance(raw, str | bytes) or not isinstance(raw, Sequence):
        problems.append(FieldError(field_name, "must be a list"))
        return []
    if len(raw) > MAX_ITEMS:
        problems.append(FieldError(field_name, f"at most {MAX_ITEMS}"))
        return []
    return [item if isinstance(item, int) else str(item) for item in raw]


def create_policy(actor: Actor, scope_id: int, data: PolicyInput) -> PolicyView:
    with writing(actor, scope_id, f"Create tag policy {data.name}") as recorder:
        authorize(actor, scope_id, Permission.GROUPS_WRITE)
        values = clean_policy(scope_id, data)
        now = utcnow()
        policy = TagPolicy(scope_id=scope_id, created_by_id=actor.user_id,
                           updated_by_id=actor.user_id, created_at=now, updated_at=now,
                           **values)
        db.session.add(policy)
        db.session.flush()
        recorder.record("tag_policy", policy.id, "create", None, policy.snapshot())
        return PolicyView.of(resolve_policies([policy])[0])


def update_policy(actor: Actor, scope_id: int, policy_id: int | str, data: PolicyInput
                  ) -> PolicyView:
    """Replace a policy's fields with ``data`` (a PATCH merges into :func:`as_input`
    first)."""
    with writing(actor, scope_id, "Update tag policy") as recorder:
        authorize(actor, scope_id, Permission.GROUPS_WRITE)
        policy = _existing(scope_id, policy_id)
        values = clean_policy(scope_id, data, own_id=policy.id)
        before = policy.snapshot()
        for key, value in values.items():
            setattr(policy, key, value)
        after = policy.snapshot()
        if after != before:
            policy.updated_at = utcnow()
            policy.updated_by_id = actor.user_id
            recorder.retitle("Update tag policy", f"Update tag policy {policy.name}")
            recorder.record("tag_policy", policy.id, "update", before, after)
        db.session.flush()
        return PolicyView.of(resolve_policies([policy])[0])


def patch_policy(actor: Actor, scope_id: int, policy_id: int | str, changes: dict[str, Any]
                 ) -> PolicyView:
    """Change the fields named in ``changes`` (PolicyInput's names); the rest stay."""
    with writing(actor, scope_id, "Update tag policy"):
        authorize(actor, scope_id, Permission.GROUPS_WRITE)
        stored = as_input(PolicyView.of(resolve_policies([_existing(scope_id, policy_id)])[0]))
        return update_policy(actor, scope_id, policy_id,
                             PolicyInput(**{**stored.__dict__, **changes}))


def delete_policy(actor: Actor, scope_id: int, policy_id: int | str) -> None:
    with writing(actor, scope_id, "Delete tag policy") as recorder:
        authorize(actor, scope_id, Permission.GROUPS_WRITE)
        policy = _existing(scope_id, policy_id)
        recorder.retitle("Delete tag policy", f"Delete tag policy {policy.name}")
        recorder.record("tag_policy", policy.id, "delete", policy.snapshot(), None)
        db.session.delete(policy)
        db.session.flush()


def as_input(view: PolicyView) -> PolicyInput:
    """A stored policy as input, for a partial change."""
    return PolicyInput(view.name, view.resource_types, view.where, view.require_groups,
                       view.forbid_tags, view.mode, view.description)


def revert_policy_event(scope_id: int, recorder: ChangeRecorder, action: str, policy_id: int,
                        before: dict[str, Any] | None) -> None:
    """Undo one ``tag_policy`` event: delete what it created, put back what it changed or
    deleted (with its id; a name taken since is a Conflict)."""
    policy = db.session.get(TagPolicy, policy_id)
    if action == "create" and policy is not None:
        recorder.record("tag_policy", policy.id, "undo create", policy.snapshot(), None)
        db.session.delete(policy)
        db.session.flush()
        return
    if before is None or action not in ("update", "delete"):
        return
    values = {"name": before["name"], "name_key": names.key(before["name"]),
              "description": before.get("description"),
              "resource_types": before.get("resource_types") or [],
              "where_expression": before.get("where"),
              "require_groups": before.get("require_groups") or [],
              "forbid_tags": before.get("forbid_tags") or [], "mode": before["mode"]}
    clash = db.session.scalar(select(TagPolicy.name).where(
        TagPolicy.scope_id == scope_id, TagPolicy.name_key == values["name_key"],
        TagPolicy.id != policy_id))
    if clash is not None:
        raise Conflict(f"a policy named {clash!r} exists; rename it before undoing")
    if action == "update" and policy is not None:
        old = policy.snapshot()
        for key, value in values.items():
            setattr(policy, key, value)
        policy.updated_at = utcnow()
        recorder.record("tag_policy", policy.id, "undo update", old, policy.snapshot())
    elif action == "delete" and policy is None:
        now = utcnow()
        revived = TagPolicy(id=policy_id, scope_id=scope_id, created_at=now, updated_at=now,
                            **values)
        db.session.add(revived)
        db.session.flush()
        recorder.record("tag_policy", policy_id, "undo delete", None, revived.snapshot())

