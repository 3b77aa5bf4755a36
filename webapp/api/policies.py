"""Tag policies and the compliance report.

``/policies`` list and create, ``/policies/<id>`` read, change, delete, ``/policies/preview``
what a policy would flag now; ``/compliance`` the report of every policy,
``/compliance/violations`` one policy's non-compliant resources paged with their reasons,
``/compliance/violations.csv`` all of them, streamed.  Reading needs ``tags.read``;
changing or previewing a policy ``groups.write``.
"""

from __future__ import annotations

from collections.abc import Iterator

from flask import stream_with_context
from spectree import Response

from webapp.api import api
from webapp.api.auth import caller
from webapp.api.openapi import spec
from webapp.api.pagination import page_fields
from webapp.api.schemas.common import errors
from webapp.api.schemas.policies import (
    ComplianceOut,
    ComplianceReport,
    PolicyCreate,
    PolicyList,
    PolicyOut,
    PolicyPatch,
    PolicyPreviewIn,
    PolicyPreviewOut,
    ReasonOut,
    ViolationOut,
    ViolationPage,
    ViolationsCsvQuery,
    ViolationsQuery,
)
from webapp.api.wire_names import Spelling, spelled
from webapp.services.paging import PageRequest
from webapp.services.policies import compliance, crud
from webapp.services.policies.compliance import PolicyCompliance, ReasonCount, Violation

ERRORS = errors()
# The services' field names as this API spells them.
POLICIES: Spelling = {"resource_types": "resourceTypes", "require_groups": "requireGroups",
                      "require_groups[]": "requireGroups[]", "forbid_tags": "forbidTags",
                      "forbid_tags[]": "forbidTags[]"}


def policy_out(view: crud.PolicyView) -> PolicyOut:
    return PolicyOut(id=view.id, scopeId=caller().scope_public_id, name=view.name,
                     description=view.description, resourceTypes=view.resource_types,
                     where=view.where, requireGroups=view.require_groups,
                     forbidTags=view.forbid_tags, mode=view.mode,  # type: ignore[arg-type]
                     broken=view.broken, createdAt=view.created_at,
                     updatedAt=view.updated_at)


def _reason(reason: ReasonCount) -> ReasonOut:
    return ReasonOut(kind=reason.kind, subject=reason.subject,  # type: ignore[arg-type]
                     text=reason.text, resources=reason.resources)


def _violation(item: Violation) -> ViolationOut:
    return ViolationOut(type=item.type, id=item.external_id, name=item.name,
                        reasons=item.reasons)


def compliance_out(item: PolicyCompliance) -> ComplianceOut:
    return ComplianceOut(
        policy=policy_out(item.policy), covered=item.covered, compliant=item.compliant,
        nonCompliant=item.non_compliant,
        missingGroups={r.subject: r.resources for r in item.reasons if r.kind == "missing"},
        forbiddenTags={r.subject: r.resources for r in item.reasons if r.kind == "forbidden"},
        reasons=[_reason(r) for r in item.reasons])


def _input(json: PolicyCreate) -> crud.PolicyInput:
    return crud.PolicyInput(name=json.name, resource_types=json.resourceTypes,
                            where=json.where, require_groups=json.requireGroups,
                            forbid_tags=json.forbidTags, mode=json.mode,
                            description=json.description)


@api.get("/policies")
@spec.validate(resp=Response(HTTP_200=PolicyList, **ERRORS), tags=["policies"])
def list_tag_policies() -> PolicyList:
    """The scope's tag policies, by name."""
    who = caller()
    return PolicyList(results=[policy_out(v) for v in crud.list_policies(who.actor,
                                                                          who.scope_id)])


@api.post("/policies")
@spec.validate(json=PolicyCreate, resp=Response(HTTP_201=PolicyOut, **errors(409)),
               tags=["policies"])
def create_tag_policy(json: PolicyCreate) -> tuple[PolicyOut, int]:
    """Create a policy (needs groups.write); 409 when the name is taken.  Saving it
    changes nothing stored: what already violates it is reported (see the preview)."""
    who = caller()
    with spelled(POLICIES):
        return policy_out(crud.create_policy(who.actor, who.scope_id, _input(json))), 201


@api.post("/policies/preview")
@spec.validate(json=PolicyPreviewIn, resp=Response(HTTP_200=PolicyPreviewOut,
                                                   **errors(404, 409)),
               tags=["policies"])
def preview_tag_policy(json: PolicyPreviewIn) -> PolicyPreviewOut:
    """What a policy would flag among the resources stored now, with a sample (nothing is
    written; needs groups.write).  With `policyId`, also how many it flags that the stored
    policy does not.  The same 400s as a save."""
    who = caller()
    with spelled(POLICIES):
        preview = compliance.preview_policy(who.actor, who.scope_id, _input(json),
                                            json.policyId)
    summary = preview.compliance
    return PolicyPreviewOut(covered=summary.covered, compliant=summary.compliant,
                            nonCompliant=summary.non_compliant,
                            newlyFlagged=preview.newly_flagged,
                            reasons=[_reason(r) for r in summary.reasons],
                            sample=[_violation(v) for v in preview.sample])


@api.get("/policies/<int:policy_id>")
@spec.validate(resp=Response(HTTP_200=PolicyOut, **errors(404)), tags=["policies"])
def get_tag_policy(policy_id: int) -> PolicyOut:
    """One policy."""
    who = caller()
    return policy_out(crud.get_policy(who.actor, who.scope_id, policy_id))


@api.patch("/policies/<int:policy_id>")
@spec.validate(json=PolicyPatch, resp=Response(HTTP_200=PolicyOut, **errors(404, 409)),
               tags=["policies"])
def update_tag_policy(policy_id: int, json: PolicyPatch) -> PolicyOut:
    """Change a policy's fields (needs groups.write); those left out stay."""
    who = caller()
    with spelled(POLICIES):
        return policy_out(crud.patch_policy(who.actor, who.scope_id, policy_id,
                                            json.changes()))


@api.delete("/policies/<int:policy_id>")
@spec.validate(resp=Response("HTTP_204", **errors(404)), tags=["policies"])
def delete_tag_policy(policy_id: int) -> tuple[str, int]:
    """Delete a policy (needs groups.write); an undo brings it back."""
    who = caller()
    crud.delete_policy(who.actor, who.scope_id, policy_id)
    return "", 204


@api.get("/compliance")
@spec.validate(resp=Response(HTTP_200=ComplianceReport, **ERRORS), tags=["policies"])
def compliance_report() -> ComplianceReport:
    """Per policy: covered resources, compliant, non-compliant, and the resources per
    missing group and per forbidden tag (one aggregate statement per policy)."""
    who = caller()
    return ComplianceReport(results=[
        compliance_out(item) for item in compliance.compliance_report(who.actor,
                                                                      who.scope_id)])


@api.get("/compliance/violations")
@spec.validate(query=ViolationsQuery, resp=Response(HTTP_200=ViolationPage, **errors(404)),
               tags=["policies"])
def list_policy_violations(query: ViolationsQuery) -> ViolationPage:
    """One policy's non-compliant resources by id, paged, each with its reasons."""
    who = caller()
    view = crud.get_policy(who.actor, who.scope_id, query.policy)
    page = compliance.list_violations(who.actor, who.scope_id, query.policy,
                                      PageRequest(query.page, query.per_page))
    return ViolationPage(policy=policy_out(view), results=[_violation(v) for v in page.items],
                         **page_fields(page))


@api.get("/compliance/violations.csv")
@spec.validate(query=ViolationsCsvQuery, resp=Response("HTTP_200", **errors(404)),
               tags=["policies"])
def policy_violations_csv(query: ViolationsCsvQuery
                          ) -> tuple[Iterator[bytes], int, dict[str, str]]:
    """Every non-compliant resource of one policy as CSV (`type,id,name,reasons`, reasons
    joined by `; `), streamed; a cell a spreadsheet would run as a formula (starting with
    `=`, `+`, `-`, `@`) starts with a quote."""
    who = caller()
    view, chunks = compliance.violations_csv(who.actor, who.scope_id, query.policy)
    return stream_with_context(chunks), 200, {
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": f'attachment; filename="violations-policy-{view.id}.csv"',
    }
