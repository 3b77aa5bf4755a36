"""One resource against every policy of its scope: the resource page's compliance card."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, literal, select

from webapp.extensions import db
from webapp.models import Resource
from webapp.services.actor import Actor, Permission, authorize
from webapp.services.policies.crud import PolicyView
from webapp.services.policies.rules import resolve_policies, scope_policies


@dataclass(frozen=True)
class ResourcePolicyCheck:
    """Whether a policy covers the resource and, if so, the reasons it breaks it (none:
    compliant)."""

    policy: PolicyView
    covered: bool
    reasons: list[str]

    @property
    def compliant(self) -> bool:
        return self.covered and not self.reasons


def check_resource(actor: Actor, scope_id: int, resource: Resource
                   ) -> list[ResourcePolicyCheck]:
    """Every policy of the scope, in name order, checked against ``resource``: one
    statement for the policies, their groups and tags (as the report resolves them), then
    one for all the checks together, whatever the number of policies."""
    authorize(actor, scope_id, Permission.TAGS_READ)
    resolved = resolve_policies(scope_policies(scope_id))
    if not resolved:
        return []
    columns = []
    for policy in resolved:
        columns.append(case((policy.covers(), literal(True)), else_=literal(False)))
        columns.extend(case((policy.violates(reason), literal(True)), else_=literal(False))
                       for reason in policy.reasons)
    row = list(db.session.execute(
        select(*columns).select_from(Resource).where(Resource.id == resource.id,
                                                     Resource.scope_id == scope_id)
    ).one())
    checks = []
    for policy in resolved:
        covered, *flags = row[:1 + len(policy.reasons)]
        row = row[1 + len(policy.reasons):]
        reasons = [reason.text for reason, flag in zip(policy.reasons, flags, strict=True)
                   if flag] if covered else []
        checks.append(ResourcePolicyCheck(PolicyView.of(policy), bool(covered), reasons))
    return checks
