"""One resource checked against every policy of its scope (the resource page's card)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.factories import SYSTEM, World
from webapp.extensions import db
from webapp.models import Resource
from webapp.services import assignments, groups
from webapp.services.errors import PermissionDenied
from webapp.services.policies.crud import PolicyInput, create_policy
from webapp.services.policies.resource_check import check_resource


def resource(world: World, external_id: str) -> Resource:
    return db.session.scalars(db.select(Resource).where(
        Resource.scope_id == world.sid, Resource.external_id == external_id)).one()


def answers(world: World, external_id: str) -> dict[str, Any]:
    return {check.policy.name: (check.covered, check.compliant, check.reasons)
            for check in check_resource(world.viewer, world.sid, resource(world, external_id))}


def test_each_policy_says_covered_compliant_and_why_not(world: World,
                                                         count_queries: Any) -> None:
    groups.create_group(world.manager, world.sid, "sensitivity", exclusive=True)
    assignments.attach(SYSTEM, world.sid, ["sensitivity::high"], {"table": ["ok"]})
    assignments.attach(SYSTEM, world.sid, ["legacy.old", "team"], {"table": ["bad"]})
    assignments.attach(SYSTEM, world.sid, ["legacy"], {"source": ["s1"]})
    assert answers(world, "bad") == {}
    create_policy(world.manager, world.sid, PolicyInput(
        name="Tables", resource_types=["table"], require_groups=["sensitivity"],
        forbid_tags=["legacy"], mode="enforce"))
    create_policy(world.manager, world.sid, PolicyInput(
        name="Team only", where="tag:team", forbid_tags=["legacy"]))
    assert answers(world, "ok") == {"Tables": (True, True, []), "Team only": (False, False, [])}
    assert answers(world, "bad") == {
        "Tables": (True, False, ["no tag of group sensitivity", "carries forbidden tag legacy"]),
        "Team only": (True, False, ["carries forbidden tag legacy"])}
    assert answers(world, "s1") == {"Tables": (False, False, []),
                                    "Team only": (False, False, [])}
    sid, target = world.sid, resource(world, "bad")
    with count_queries() as queries:
        check_resource(world.viewer, sid, target)
    two = queries.count
    for index in range(3):
        create_policy(world.manager, world.sid, PolicyInput(
            name=f"More {index}", require_groups=["sensitivity"]))
    sid, target = world.sid, resource(world, "bad")
    with count_queries() as queries:
        check_resource(world.viewer, sid, target)
    assert queries.count == two  # whatever the number of policies


def test_outsiders_may_not_check(world: World) -> None:
    assignments.attach(SYSTEM, world.sid, ["team"], {"table": ["t1"]})
    with pytest.raises(PermissionDenied):
        check_resource(world.outsider, world.sid, resource(world, "t1"))
