"""Auto-tagging rules: ``/rules`` list and create, ``/rules/<id>`` read, change, delete,
``/rules/<id>/apply`` back-fill, ``/rules/preview`` what a rule would do now.

Reading needs ``tags.read``; changing a rule ``groups.write``; previewing and applying
one ``tags.write`` (it is a bulk attach).
"""

from __future__ import annotations

from spectree import Response

from webapp.api import api
from webapp.api.auth import caller
from webapp.api.openapi import spec
from webapp.api.schemas.common import errors
from webapp.api.schemas.rules import (
    PlannedTag,
    PolicyRefusal,
    ReplacedTag,
    RuleApplied,
    RuleCreate,
    RuleList,
    RuleOut,
    RulePatch,
    RulePreviewIn,
    RulePreviewOut,
    SampleResource,
)
from webapp.models import TagRule
from webapp.services import rules
from webapp.services.link_preview import LinkPreview

ERRORS = errors()


def rule_out(rule: TagRule) -> RuleOut:
    return RuleOut(id=rule.id, scopeId=caller().scope_public_id, name=rule.name,
                   when=rule.when, attach=list(rule.attach or []), enabled=rule.enabled,
                   createdAt=rule.created_at, updatedAt=rule.updated_at)


def preview_out(preview: LinkPreview) -> RulePreviewOut:
    names = [plan.name for plan in preview.plans]
    return RulePreviewOut(
        resources=preview.resources, byType=preview.by_type, toAdd=preview.change,
        alreadyPresent=preview.unchanged, refused=preview.refused, replaced=preview.replaced,
        tags=[PlannedTag(name=plan.name, isNew=plan.is_new,
                         group=plan.group.identifier if plan.group else None,
                         toAdd=plan.change, alreadyPresent=plan.unchanged,
                         refused=plan.refused, refusedTypes=list(plan.refused_types),
                         refusal=plan.refusal)
              for plan in preview.plans],
        created=preview.created, groupsCreated=preview.groups_created,
        replacements=[ReplacedTag(tag=item.tag.qualified_name, winner=item.winner,
                                  links=item.links) for item in preview.replacements],
        sample=[SampleResource(type=row.resource.type, id=row.resource.external_id,
                               name=row.resource.name, slug=row.resource.slug,
                               tags=dict(zip(names, row.cells, strict=True)),  # type: ignore[arg-type]
                               losing=[tag.qualified_name for tag in row.losing])
                for row in preview.sample],
        policyRefusal=None if (refusal := preview.policy_refusal) is None else PolicyRefusal(
            policy=refusal.policy, message=refusal.message, resources=refusal.resources,
            count=refusal.count),
    )


@api.post("/rules/preview")
@spec.validate(json=RulePreviewIn, resp=Response(HTTP_200=RulePreviewOut, **errors(409)),
               tags=["rules"])
def preview_tag_rule(json: RulePreviewIn) -> RulePreviewOut:
    """What a rule would do if applied now (nothing is written): the matching resources,
    links to add, already present, replaced in an exclusive group, refused by a group's
    allowed types; the tags to create; a sample.  A syntax error in `when` is a 400 naming
    its position; an unknown tag or group is a 400 too."""
    who = caller()
    return preview_out(rules.preview_rule(who.actor, who.scope_id, json.when, json.attach))


@api.get("/rules")
@spec.validate(resp=Response(HTTP_200=RuleList, **ERRORS), tags=["rules"])
def list_tag_rules() -> RuleList:
    """The scope's rules, by name."""
    who = caller()
    return RuleList(results=[rule_out(rule) for rule in rules.list_rules(who.actor,
                                                                         who.scope_id)])


@api.post("/rules")
@spec.validate(json=RuleCreate, resp=Response(HTTP_201=RuleOut, **errors(409)),
               tags=["rules"])
def create_tag_rule(json: RuleCreate) -> tuple[RuleOut, int]:
    """Save a rule (needs groups.write); 409 when the name is taken.  Enabled rules run on
    every resource registration; existing resources are tagged by `apply`."""
    who = caller()
    rule = rules.create_rule(who.actor, who.scope_id, name=json.name, when=json.when,
                             attach=json.attach, enabled=json.enabled)
    return rule_out(rule), 201


@api.get("/rules/<int:rule_id>")
@spec.validate(resp=Response(HTTP_200=RuleOut, **errors(404)), tags=["rules"])
def get_tag_rule(rule_id: int) -> RuleOut:
    """One rule."""
    who = caller()
    return rule_out(rules.get_rule(who.actor, who.scope_id, rule_id))


@api.patch("/rules/<int:rule_id>")
@spec.validate(json=RulePatch, resp=Response(HTTP_200=RuleOut, **errors(404, 409)),
               tags=["rules"])
def update_tag_rule(rule_id: int, json: RulePatch) -> RuleOut:
    """Change a rule's fields (needs groups.write)."""
    who = caller()
    return rule_out(rules.update_rule(who.actor, who.scope_id, rule_id, **json.changes()))


@api.delete("/rules/<int:rule_id>")
@spec.validate(resp=Response("HTTP_204", **errors(404)), tags=["rules"])
def delete_tag_rule(rule_id: int) -> tuple[str, int]:
    """Delete a rule (needs groups.write); the tags it attached stay."""
    who = caller()
    rules.delete_rule(who.actor, who.scope_id, rule_id)
    return "", 204


@api.post("/rules/<int:rule_id>/apply")
@spec.validate(resp=Response(HTTP_200=RuleApplied, **errors(404, 409)), tags=["rules"])
def apply_tag_rule(rule_id: int) -> RuleApplied:
    """Back-fill: attach the rule's tags to every resource it matches now, in one change
    set (assignment context `rule`, the rule named in the audit trail) that can be undone.
    Answers the change set's id and its counts."""
    who = caller()
    result = rules.apply_rule(who.actor, who.scope_id, rule_id)
    return RuleApplied(ruleId=result.rule_id, changeSetId=result.change_set_id,
                       resources=result.resources, added=result.changed,
                       alreadyPresent=result.unchanged, replaced=result.replaced,
                       refused=result.refused)
