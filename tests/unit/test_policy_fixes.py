"""Fixing a policy in bulk (issue 12 §2): each reason's expression parses, resolves and
selects exactly the resources that violate the policy for that reason — whatever the
policy's types and ``where`` — and offers the tags that fix it (a missing group's live
tags to attach, a forbidden tag's subtree to detach)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.factories import SYSTEM, World
from webapp.extensions import db
from webapp.models import Resource
from webapp.services import assignments, groups
from webapp.services.expressions.compiler import compile_expression
from webapp.services.policies.compliance import (
    BulkFix,
    bulk_fixes,
    compliance_report,
    list_violations,
    quoted,
)
from webapp.services.policies.crud import PolicyInput, create_policy
from webapp.services.tags.deprecation import deprecate_tag
from webapp.services.tags.lookup import find_tag

attach = assignments.attach


@pytest.fixture
def tagged(world: World) -> World:
    """sensitivity (exclusive, public id ``sens-pub``): high / low; legacy with a child."""
    groups.create_group(world.manager, world.sid, "sensitivity", exclusive=True,
                        public_id="sens-pub")
    groups.create_group(world.manager, world.sid, "team")
    attach(SYSTEM, world.sid, ["sensitivity::high"], {"table": ["t1", "t4"]})
    attach(SYSTEM, world.sid, ["sensitivity::low"], {"table": ["t2"], "source": ["s2"]})
    attach(SYSTEM, world.sid, ["legacy.old", "team::core"], {"table": ["t3"]})
    attach(SYSTEM, world.sid, ["legacy"], {"table": ["t4"], "source": ["s1"]})
    attach(SYSTEM, world.sid, ["team::data"], {"table": ["t5"], "column": ["c1"]})
    return world


def selected(world: World, expression: str) -> set[str]:
    ids = compile_expression(world.sid, expression)
    return {f"{r.type}:{r.external_id}" for r in db.session.scalars(
        db.select(Resource).where(Resource.id.in_(ids)))}


def violating(world: World, policy_id: int, text: str) -> set[str]:
    page = list_violations(world.viewer, world.sid, policy_id)
    return {f"{v.type}:{v.external_id}" for v in page.items if text in v.reasons}


def fixes_of(world: World, data: PolicyInput, top: int = 10) -> tuple[int, list[BulkFix]]:
    view = create_policy(world.manager, world.sid, data)
    item = next(i for i in compliance_report(world.viewer, world.sid) if i.policy.id == view.id)
    return view.id, bulk_fixes(world.viewer, world.sid, item, top)


def check_exact(world: World, policy_id: int, fixes: list[BulkFix]) -> None:
    for fix in fixes:
        assert fix.expression is not None, fix
        expected = violating(world, policy_id, fix.reason.text)
        assert expected and selected(world, fix.expression) == expected, fix
        assert len(expected) == fix.reason.resources


@pytest.mark.parametrize("extra", [
    {},
    {"resource_types": ["table"]},
    {"resource_types": ["table", "source"]},
    {"where": "NOT name:t5 OR type:source"},
    {"resource_types": ["table", "column"], "where": "tag:legacy.* OR group:team"},
])
def test_each_fix_selects_exactly_the_resources_violating_for_its_reason(
        tagged: World, extra: dict[str, Any]) -> None:
    data = PolicyInput(**{"name": "P", "require_groups": ["sensitivity", "team"],
                          "forbid_tags": ["legacy"], **extra})
    policy_id, fixes = fixes_of(tagged, data)
    assert fixes
    check_exact(tagged, policy_id, fixes)
    by_kind = {(f.reason.kind, f.reason.subject): f for f in fixes}
    missing = by_kind.get(("missing", "sensitivity"))
    if missing:
        assert 'NOT group:"sens-pub"' in missing.expression  # type: ignore[operator]
        assert (missing.tags, missing.action) == (
            ["sensitivity::high", "sensitivity::low"], "attach")
    forbidden = by_kind.get(("forbidden", "legacy"))
    if forbidden:
        assert (forbidden.tags, forbidden.action) == (["legacy", "legacy.old"], "detach")


def test_the_group_term_takes_the_public_id_even_when_another_group_has_it_as_name(
        tagged: World) -> None:
    """``group:X`` looks for a public id first: a group named like another's public id
    does not capture the fix."""
    groups.create_group(tagged.manager, tagged.sid, "sens-pub")
    attach(SYSTEM, tagged.sid, ["sens-pub::x"], {"table": ["t1", "t2", "t3", "t5"]})
    policy_id, fixes = fixes_of(tagged, PolicyInput(name="P", resource_types=["table"],
                                                    require_groups=["sensitivity"]))
    assert [f.reason.kind for f in fixes] == ["missing"]
    check_exact(tagged, policy_id, fixes)
    assert selected(tagged, fixes[0].expression or "") == {"table:t3", "table:t5"}


def test_several_tags_of_an_exclusive_group_are_selected_by_pairs(tagged: World) -> None:
    tag_ids = [find_tag(tagged.sid, n).id  # type: ignore[union-attr]
               for n in ("sensitivity::high", "sensitivity::low")]
    # Bypass the exclusive replacement: a second link straight into the table.
    from webapp.models import Assignment
    t1 = db.session.scalar(db.select(Resource).where(Resource.external_id == "t1"))
    db.session.add(Assignment(resource_id=t1.id, tag_id=tag_ids[1]))  # type: ignore[union-attr]
    db.session.commit()
    policy_id, fixes = fixes_of(tagged, PolicyInput(name="P", require_groups=["sensitivity"]))
    several = [f for f in fixes if f.reason.kind == "several"]
    assert len(several) == 1 and several[0].tags == [] and several[0].action == "detach"
    check_exact(tagged, policy_id, several)
    assert selected(tagged, several[0].expression or "") == {"table:t1"}


def test_deprecated_tags_are_not_offered_and_the_offer_is_cut(tagged: World) -> None:
    deprecate_tag(tagged.manager, tagged.sid, find_tag(tagged.sid, "sensitivity::low").id)  # type: ignore[union-attr]
    attach(SYSTEM, tagged.sid, [f"team::t{n:02}" for n in range(12)], {"source": ["s9"]})
    _, fixes = fixes_of(tagged, PolicyInput(name="P", resource_types=["table"],
                                            require_groups=["sensitivity", "team"]))
    by_subject = {f.reason.subject: f for f in fixes}
    assert by_subject["sensitivity"].tags == ["sensitivity::high"]
    team = by_subject["team"]
    assert len(team.tags) == 10 and team.more_tags


def test_values_are_quoted_for_the_expression_language(tagged: World) -> None:
    attach(SYSTEM, tagged.sid, ['odd."name" \\x'], {"table": ["t9"]})
    policy_id, fixes = fixes_of(tagged, PolicyInput(name="P", forbid_tags=['odd."name" \\x']))
    assert quoted('a"b\\c') == '"a\\"b\\\\c"'
    check_exact(tagged, policy_id, fixes)


def test_two_statements_whatever_the_reasons_and_nothing_without_violations(
        tagged: World, count_queries) -> None:  # type: ignore[no-untyped-def]
    view = create_policy(tagged.manager, tagged.sid, PolicyInput(
        name="P", require_groups=["sensitivity", "team"], forbid_tags=["legacy"]))
    item = compliance_report(tagged.viewer, tagged.sid, [view.id])[0]
    with count_queries() as counter:
        fixes = bulk_fixes(tagged.viewer, tagged.sid, item, 10)
    assert len(fixes) == 3 and counter.count <= 3  # + the actor's membership at most
    clean = create_policy(tagged.manager, tagged.sid, PolicyInput(
        name="Q", resource_types=["column"], require_groups=["team"]))
    item = compliance_report(tagged.viewer, tagged.sid, [clean.id])[0]
    assert item.non_compliant == 0 and bulk_fixes(tagged.viewer, tagged.sid, item) == []
