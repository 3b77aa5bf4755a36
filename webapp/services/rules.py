"""Auto-tagging rules: resources a tag expression matches get the rule's tags.

A rule (per scope) is a ``name``, a ``when`` expression (:mod:`webapp.services.expressions`),
the tag names it ``attach``-es (missing ones are created as an attach creates them) and
whether it is ``enabled``.  Managers (and keys with ``groups.write``) edit rules; every
edit is audited (``tag_rule`` events) and can be undone.

* :func:`preview_rule` answers what the bulk preview answers for the resources ``when``
  matches now (:func:`webapp.services.link_preview.preview_links`): nothing is written.
* :func:`apply_rule` back-fills every matching resource in one change set, through the one
  planner and the attach executor, with assignment context ``rule`` and the rule named in
  each attach event.
* :func:`run_rules_on_registration` runs every enabled rule on the resources a
  registration has just created, in the same transaction and change set.  Every rule is
  matched against the resources as they were registered, before any rule adds tags, so
  rules do not chain.  Set-based: a fixed number of statements per rule, whatever the
  number of resources.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import AssignmentContext, Resource, TagRule
from webapp.models.types import utcnow
from webapp.services import names
from webapp.services.actor import Actor, Permission, authorize
from webapp.services.errors import (
    Conflict,
    FieldError,
    LimitExceeded,
    NotFound,
    ValidationFailed,
)
from webapp.services.expressions.compiler import Matcher, resolve
from webapp.services.expressions.syntax import parse
from webapp.services.link_plan import LinkAction, LinkPlan, OnRefusal, parse_names, plan_links
from webapp.services.link_preview import SAMPLE_SIZE, LinkPreview, TagPlan, preview_links
from webapp.services.policies.enforce import find_policy_violation
from webapp.services.resource_selection import ResourceCriteria, selection_query
from webapp.services.sql import integer_key
from webapp.services.unset import UNSET
from webapp.services.uow import ChangeRecorder, writing

NAME_MAX = 100
MAX_RULES = 200  # per scope
OBJECT_TYPE = "tag_rule"


# --- validation -------------------------------------------------------------------------


def clean_name(raw: object, field: str = "name") -> str:
    if not isinstance(raw, str):
        raise ValidationFailed.field(field, "must be text")
    text = names.trimmed(raw, field)
    if not text:
        raise ValidationFailed.field(field, "must not be empty")
    if len(text) > NAME_MAX:
        raise ValidationFailed.field(field, f"must be at most {NAME_MAX} characters")
    return text


def resolve_when(scope_id: int, raw: object, field: str = "when") -> Matcher:
    """The expression parsed and resolved in the scope: a syntax error names its position,
    an unknown tag or group is an error (both name ``field``).  One statement."""
    if not isinstance(raw, str):
        raise ValidationFailed.field(field, "must be text")
    return resolve(scope_id, parse(raw, field), field)


def clean_attach(raw: object, field: str = "attach") -> list[str]:
    """The tag names, each a valid (qualified) tag name, duplicates dropped; errors name
    ``attach[i]``."""
    if isinstance(raw, str) or not isinstance(raw, Sequence):
        raise ValidationFailed.field(field, "must be a list of tag names")
    try:
        return [q.text for q in parse_names(list(raw))]
    except (ValidationFailed, LimitExceeded) as error:
        details = [FieldError(d.field.replace("names", field, 1), d.message)
                   for d in error.details]
        raise type(error)(error.message, details) from error


def _check_plan(actor: Actor, scope_id: int, attach: list[str]) -> None:
    """What the planner refuses for these names whatever the resources (two tags of one
    exclusive group, a group the actor may not assign, a new tag under an alias)."""
    try:
        plan_links(actor, scope_id, LinkAction.ATTACH, parse_names(attach), {},
                   OnRefusal.SKIP)
    except ValidationFailed as error:
        details = [FieldError("attach" if d.field.startswith("names") else d.field, d.message)
                   for d in error.details]
        raise type(error)(error.message, details) from error


# --- reading ----------------------------------------------------------------------------


def list_rules(actor: Actor, scope_id: int) -> list[TagRule]:
    """The scope's rules by name (one statement)."""
    authorize(actor, scope_id, Permission.TAGS_READ)
    return list(db.session.scalars(
        select(TagRule).where(TagRule.scope_id == scope_id).order_by(TagRule.name_key)
    ))


def get_rule(actor: Actor, scope_id: int, rule_id: int) -> TagRule:
    authorize(actor, scope_id, Permission.TAGS_READ)
    return _existing(scope_id, rule_id)


def _existing(scope_id: int, rule_id: int) -> TagRule:
    row_id = integer_key(rule_id)
    rule = db.session.get(TagRule, row_id) if row_id is not None else None
    if rule is None or rule.scope_id != scope_id:
        raise NotFound(f"rule {rule_id} not found")
    return rule


# --- writing ----------------------------------------------------------------------------


def _refuse_clash(scope_id: int, name_key: str, rule_id: int | None = None) -> None:
    query = select(TagRule.name).where(TagRule.scope_id == scope_id,
                                       TagRule.name_key == name_key)
    if rule_id is not None:
        query = query.where(TagRule.id != rule_id)
    clash = db.session.scalar(query)
    if clash is not None:
        raise Conflict(f"a rule {clash!r} already exists",
                       [FieldError("name", "already exists in this scope")])


def create_rule(actor: Actor, scope_id: int, *, name: object, when: object, attach: object,
                enabled: bool = True) -> TagRule:
    """Save a rule (it does not run on existing resources: :func:`apply_rule` does)."""
    with writing(actor, scope_id, "Create rule") as recorder:
        authorize(actor, scope_id, Permission.GROUPS_WRITE)
        cleaned = clean_name(name)
        errors: list[FieldError] = []
        when_text = _collect(errors, lambda: resolve_when(scope_id, when).text)
        names_ = _collect(errors, lambda: clean_attach(attach))
        if errors:
            raise ValidationFailed("; ".join(f"{e.field}: {e.message}" for e in errors), errors)
        assert when_text is not None and names_ is not None
        _check_plan(actor, scope_id, names_)
        _refuse_clash(scope_id, names.key(cleaned))
        count = db.session.scalar(
            select(func.count()).select_from(TagRule).where(TagRule.scope_id == scope_id))
        if (count or 0) >= MAX_RULES:
            raise Conflict(f"a scope holds at most {MAX_RULES} rules",
                           [FieldError("name", f"at most {MAX_RULES} rules in a scope")])
        recorder.retitle("Create rule", f"Create rule {cleaned}"[:255])
        rule = TagRule(scope_id=scope_id, name=cleaned, name_key=names.key(cleaned),
                       when=when_text, attach=names_, enabled=bool(enabled),
                       created_by_id=actor.user_id, updated_by_id=actor.user_id)
        db.session.add(rule)
        db.session.flush()
        recorder.record(OBJECT_TYPE, rule.id, "create", None, rule.snapshot())
        return rule


def _collect(errors: list[FieldError], make: Any) -> Any:
    try:
        return make()
    except ValidationFailed as error:
        errors.extend(error.details or [FieldError("", error.message)])
        return None


def update_rule(actor: Actor, scope_id: int, rule_id: int, *, name: object = UNSET,
                when: object = UNSET, attach: object = UNSET, enabled: object = UNSET
                ) -> TagRule:
    """Change some of a rule's fields (the others stay)."""
    with writing(actor, scope_id, "Update rule") as recorder:
        authorize(actor, scope_id, Permission.GROUPS_WRITE)
        rule = _existing(scope_id, rule_id)
        before = rule.snapshot()
        errors: list[FieldError] = []
        if name is not UNSET:
            cleaned = _collect(errors, lambda: clean_name(name))
            if cleaned is not None:
                _refuse_clash(scope_id, names.key(cleaned), rule.id)
                rule.name, rule.name_key = cleaned, names.key(cleaned)
        if when is not UNSET:
            text = _collect(errors, lambda: resolve_when(scope_id, when).text)
            if text is not None:
                rule.when = text
        if attach is not UNSET:
            names_ = _collect(errors, lambda: clean_attach(attach))
            if names_ is not None:
                _check_plan(actor, scope_id, names_)
                rule.attach = names_
        if enabled is not UNSET:
            if not isinstance(enabled, bool):
                errors.append(FieldError("enabled", "must be true or false"))
            else:
                rule.enabled = enabled
        if errors:
            raise ValidationFailed("; ".join(f"{e.field}: {e.message}" for e in errors), errors)
        after = rule.snapshot()
        recorder.retitle("Update rule", f"Update rule {rule.name}"[:255])
        if after != before:
            rule.updated_by_id = actor.user_id
            rule.updated_at = _now()
            recorder.record(OBJECT_TYPE, rule.id, "update", before, after)
        return rule


def delete_rule(actor: Actor, scope_id: int, rule_id: int) -> None:
    with writing(actor, scope_id, "Delete rule") as recorder:
        authorize(actor, scope_id, Permission.GROUPS_WRITE)
        rule = _existing(scope_id, rule_id)
        recorder.retitle("Delete rule", f"Delete rule {rule.name}"[:255])
        recorder.record(OBJECT_TYPE, rule.id, "delete",
                        {**rule.snapshot(), "created_by_id": rule.created_by_id}, None)
        db.session.delete(rule)
        db.session.flush()


def revert_rule_event(scope_id: int, recorder: ChangeRecorder, action: str, rule_id: int,
                      before: dict[str, Any] | None) -> None:
    """Undo one ``tag_rule`` event (for :mod:`webapp.services.undo`)."""
    rule = db.session.get(TagRule, rule_id)
    if action == "create" and rule is not None:
        recorder.record(OBJECT_TYPE, rule.id, "undo create", rule.snapshot(), None)
        db.session.delete(rule)
        db.session.flush()
    elif action == "update" and rule is not None and before:
        previous = rule.snapshot()
        _refuse_clash(scope_id, names.key(before["name"]), rule.id)
        rule.name, rule.name_key = before["name"], names.key(before["name"])
        rule.when, rule.attach = before["when"], list(before["attach"])
        rule.enabled = bool(before["enabled"])
        rule.updated_at = _now()
        recorder.record(OBJECT_TYPE, rule.id, "undo update", previous, rule.snapshot())
    elif action == "delete" and rule is None and before:
        _refuse_clash(scope_id, names.key(before["name"]))
        revived = TagRule(id=rule_id, scope_id=scope_id, name=before["name"],
                          name_key=names.key(before["name"]), when=before["when"],
                          attach=list(before["attach"]), enabled=bool(before["enabled"]),
                          created_by_id=before.get("created_by_id"))
        db.session.add(revived)
        db.session.flush()
        recorder.record(OBJECT_TYPE, revived.id, "undo delete", None, revived.snapshot())


def _now() -> datetime:
    return utcnow()


# --- preview and back-fill --------------------------------------------------------------


def preview_rule(actor: Actor, scope_id: int, when: object, attach: object, *,
                 sample_size: int = SAMPLE_SIZE) -> LinkPreview:
    """What applying a rule ``when`` → ``attach`` would do now: the bulk preview of the
    matching resources (to add, present, replaced, refused; counts and a sample).  No
    resource matching is an answer (zero everywhere), not an error.  Writes nothing;
    needs tags.read and tags.write, as the bulk preview does."""
    authorize(actor, scope_id, Permission.TAGS_READ)
    authorize(actor, scope_id, Permission.TAGS_WRITE)
    errors: list[FieldError] = []
    matcher = _collect(errors, lambda: resolve_when(scope_id, when))
    names_ = _collect(errors, lambda: clean_attach(attach))
    if errors:
        raise ValidationFailed("; ".join(f"{e.field}: {e.message}" for e in errors), errors)
    criteria = ResourceCriteria(expression=matcher)
    try:
        return preview_links(actor, scope_id, LinkAction.ATTACH, names_, criteria,
                             sample_size=sample_size)
    except ValidationFailed as error:
        if not any(d.field == "selection" for d in error.details):
            raise
    plan = plan_links(actor, scope_id, LinkAction.ATTACH, parse_names(names_), {},
                      OnRefusal.SKIP)
    return LinkPreview(LinkAction.ATTACH, 0, {},
                       [TagPlan(item.text, item.tag, item.group, 0, 0) for item in plan.names])


@dataclass(frozen=True)
class RuleApplied:
    """What :func:`apply_rule` did."""

    rule_id: int
    change_set_id: int | None  # None when nothing was written
    resources: int  # resources the rule matched
    changed: int  # links added
    unchanged: int  # links already present
    replaced: int = 0  # links removed: an exclusive group's rival tags
    refused: int = 0  # links skipped: a group does not allow the type, a deprecated tag


def rule_note(rule: TagRule) -> dict[str, Any]:
    """How a rule is named in its attach events."""
    return {"rule": rule.name, "rule_id": rule.id}


def apply_rule(actor: Actor, scope_id: int, rule_id: int) -> RuleApplied:
    """Attach the rule's tags to every resource it matches now, in one change set that
    an undo reverts (enabled or not: a back-fill is asked for)."""
    with writing(actor, scope_id, "Apply rule") as recorder:
        authorize(actor, scope_id, Permission.TAGS_WRITE)
        rule = _existing(scope_id, rule_id)
        recorder.retitle("Apply rule", f"Rule {rule.name}: back-fill"[:255])
        matcher = resolve_when(scope_id, rule.when)
        known = _matched_ids(scope_id, ResourceCriteria(expression=matcher))
        matched = sum(len(ids) for ids in known.values())
        if not matched:
            return RuleApplied(rule.id, None, 0, 0, 0)
        plan = plan_links(actor, scope_id, LinkAction.ATTACH, parse_names(rule.attach),
                          {rtype: len(ids) for rtype, ids in known.items()}, OnRefusal.SKIP)
        if not plan.applied:
            return RuleApplied(rule.id, None, matched, 0, 0, refused=plan.refused)
        recorder.summary = f"Rule {rule.name}: back-fill on {matched} resource(s)"[:255]
        from webapp.services.assignments import execute_attach

        outcome = execute_attach(actor, scope_id, recorder, plan, (), known=known,
                                 context=AssignmentContext.RULE, note=rule_note(rule))
    change_set = recorder.change_set
    return RuleApplied(rule.id, change_set.id if change_set else None, matched,
                       outcome.changed, outcome.already_present, outcome.replaced,
                       outcome.refused)


def _matched_ids(scope_id: int, criteria: ResourceCriteria) -> dict[str, list[int]]:
    """The ids of the selected resources by type, read once (one statement, through the
    connection: no ORM row processing) — the snapshot a back-fill writes, whatever its
    own links change in the selection meanwhile."""
    rows = db.session.connection().execute(
        selection_query(scope_id, criteria).with_only_columns(Resource.id, Resource.type)
        .order_by(None))
    known: dict[str, list[int]] = {}
    for resource_id, rtype in rows:
        known.setdefault(rtype, []).append(resource_id)
    for ids in known.values():
        ids.sort()
    return known


# --- on registration --------------------------------------------------------------------


def run_rules_on_registration(actor: Actor, scope_id: int, recorder: ChangeRecorder,
                              pairs: Sequence[tuple[str, str]], registered_at: datetime
                              ) -> int:
    """Run the scope's enabled rules on the resources among ``pairs`` that this write has
    just registered (their ``created_at`` is ``registered_at``); returns links added.

    Every rule is matched first, then each attaches its tags: a rule's tags never make
    another rule match (no chaining).  A rule whose expression no longer resolves (a tag
    it names was deleted) or whose tags go on none of the matches is skipped; so is one
    an enforced policy refuses (a ``skip`` event per tag names the policy): the resources
    are registered all the same.  Statements:
    one for the rules, then a fixed number per rule, whatever the number of resources.
    """
    rules = list(db.session.scalars(
        select(TagRule).where(TagRule.scope_id == scope_id, TagRule.enabled.is_(True))
        .order_by(TagRule.name_key)
    ))
    if not rules or not pairs:
        return 0
    from webapp.services.assignments import _resource_ids, execute_attach

    new_ids = _resource_ids(scope_id, list(pairs))
    matched: list[tuple[TagRule, list[tuple[str, str]]]] = []
    for rule in rules:
        try:
            matcher = resolve_when(scope_id, rule.when)
        except ValidationFailed:
            continue
        rows = db.session.execute(
            select(Resource.type, Resource.external_id).where(
                Resource.id.in_(new_ids), Resource.created_at == registered_at,
                matcher.condition())
        ).tuples().all()
        if rows:
            matched.append((rule, list(rows)))
    added = 0
    system = Actor.system()  # the rule was checked against its manager when saved
    for rule, rule_pairs in matched:
        try:
            plan = plan_links(system, scope_id, LinkAction.ATTACH, parse_names(rule.attach),
                              dict(Counter(t for t, _ in rule_pairs)), OnRefusal.SKIP)
        except (ValidationFailed, Conflict):
            continue
        if not plan.applied:
            continue
        if _refused_by_policy(scope_id, recorder, rule, plan, rule_pairs):
            continue
        outcome = execute_attach(actor, scope_id, recorder, plan, rule_pairs,
                                 context=AssignmentContext.RULE, note=rule_note(rule))
        added += outcome.changed
    return added


def _refused_by_policy(scope_id: int, recorder: ChangeRecorder, rule: TagRule,
                       plan: LinkPlan, pairs: Sequence[tuple[str, str]]) -> bool:
    """Whether an enforced policy refuses the rule's links to its existing tags on the
    resources ``pairs``; if so the refusal is recorded as a ``skip`` of each such tag."""
    from webapp.services.assignments import _resource_ids, link_pairs, union_links

    known = [(takes, [item for item in members if item.tag is not None])
             for takes, members in plan.partitions().items()]
    added = [link_pairs([item.tag.id for item in members if item.tag is not None],
                        _resource_ids(scope_id, [p for p in pairs if p[0] in takes]))
             for takes, members in known if members]
    violation = find_policy_violation(scope_id, added=union_links(added)) if added else None
    if violation is None:
        return False
    recorder.record_many([
        {"object_type": "assignments", "object_id": item.tag.id, "action": "skip",
         "before": None, "after": {"tag": item.text, "resources": len(pairs),
                                   "policy": violation.policy, **rule_note(rule)}}
        for _, members in known for item in members if item.tag is not None])
    return True
