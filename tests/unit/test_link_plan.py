"""The one link planner, and its two entry points held to the same cases.

The API's attach (``assignments.attach``: a client names resources) and the bulk page's
apply (``link_preview.apply_links``: a selection filter) plan with
``link_plan.plan_links`` and write with the same executor.  Each case below runs through
both; they agree on everything but a group's allowed types, where the API refuses the call
and the bulk page skips the refused resources (docs/decisions.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from tests.unit.factories import (
    SYSTEM,
    World,
    events,
    fields,
    links,
    live_tag,
    snapshot_counts,
)
from webapp.extensions import db
from webapp.models import Resource, TagAlias, TagGroup
from webapp.services import assignments, groups, names, resources
from webapp.services.errors import (
    LimitExceeded,
    PermissionDenied,
    TagDeprecated,
    ValidationFailed,
)
from webapp.services.link_plan import (
    LinkAction,
    OnRefusal,
    parse_names,
    plan_links,
)
from webapp.services.link_preview import apply_links, preview_links
from webapp.services.resource_selection import ResourceCriteria
from webapp.services.resources import ResourceInput

TABLES = ["t1", "t2", "t3"]
COLUMNS = ["c1", "c2"]


@pytest.fixture
def shop(world: World) -> World:
    """Three tables and two columns; a group allowing tables only; an exclusive group."""
    resources.register_resources(SYSTEM, world.sid, [
        ResourceInput(rtype, rid, rid, rid)
        for rtype, ids in (("table", TABLES), ("column", COLUMNS)) for rid in ids
    ])
    groups.create_group(world.manager, world.sid, "tier", allowed_types=["table"])
    groups.create_group(world.manager, world.sid, "priority", exclusive=True)
    assignments.attach(world.editor, world.sid, ["priority::low"], {"table": ["t1"]})
    return world


# --- the two entry points ---------------------------------------------------------------

Attach = Callable[[World, list[str]], int]


def through_api(world: World, tag_names: list[str]) -> int:
    """The API's attach on every table and column, by id; returns the links added."""
    return assignments.attach(world.editor, world.sid, tag_names,
                              {"table": TABLES, "column": COLUMNS}).changed


def through_bulk_page(world: World, tag_names: list[str]) -> int:
    """The bulk page's apply on the same resources, ticked by hand."""
    ids = tuple(db.session.scalars(select(Resource.id).where(Resource.scope_id == world.sid)))
    criteria = ResourceCriteria(ids=ids)
    preview = preview_links(world.editor, world.sid, LinkAction.ATTACH, tag_names, criteria)
    applied = apply_links(world.editor, world.sid, LinkAction.ATTACH, tag_names, criteria)
    assert applied.changed == preview.change  # the apply does what the preview showed
    return applied.changed


ENTRY_POINTS = {"api": through_api, "bulk page": through_bulk_page}


@dataclass(frozen=True)
class Case:
    names: list[str]
    links_added: int | None  # None: refused
    refused_field: str | None = None


SAME_CASES = {
    "plain names, one new": Case(["pii", "Address.email"], links_added=10),
    "an exclusive tag replaces its rival": Case(["priority::high"], links_added=5),
    "two tags of one exclusive group": Case(["priority::high", "priority::low"], None,
                                            "names"),
    "an invalid name": Case(["ok", "a..b"], None, "names[1]"),
    "duplicates by key count once": Case(["pii", "PII", " pii "], links_added=5),
}


@pytest.mark.parametrize("entry", ENTRY_POINTS)
@pytest.mark.parametrize("case", SAME_CASES.values(), ids=SAME_CASES)
def test_both_entry_points_obey_the_same_rules(shop: World, entry: str, case: Case) -> None:
    before = snapshot_counts()
    if case.links_added is None:
        with pytest.raises(ValidationFailed) as caught:
            ENTRY_POINTS[entry](shop, case.names)
        assert fields(caught.value) == [case.refused_field]
        assert snapshot_counts() == before
        return
    assert ENTRY_POINTS[entry](shop, case.names) == case.links_added
    got = links(shop.sid)
    if "priority::high" in case.names:
        assert ("priority::low", "table", "t1") not in got  # replaced
        assert events("assignments", "replace")


def test_allowed_types_the_api_refuses_the_call(shop: World) -> None:
    before = snapshot_counts()
    with pytest.raises(ValidationFailed) as caught:
        through_api(shop, ["tier::gold", "pii"])
    assert fields(caught.value) == ["names"]
    assert "cannot be attached to column resources" in caught.value.message
    assert snapshot_counts() == before


def test_allowed_types_the_bulk_page_skips_the_refused_resources(shop: World) -> None:
    assert through_bulk_page(shop, ["tier::gold", "pii"]) == 3 + 5
    gold = {(rtype, rid) for tag, rtype, rid in links(shop.sid) if tag == "tier::gold"}
    assert gold == {("table", rid) for rid in TABLES}
    (skip,) = events("assignments", "skip")
    assert skip.after == {"tag": "tier::gold", "resources": 2, "allowed_types": ["table"]}


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_a_tag_allowed_on_none_of_the_resources_is_refused_by_both(shop: World, entry: str
                                                                    ) -> None:
    groups.create_group(shop.manager, shop.sid, "files", allowed_types=["file"])
    before = snapshot_counts()
    with pytest.raises(ValidationFailed) as caught:
        ENTRY_POINTS[entry](shop, ["files::big"])
    assert fields(caught.value) == ["names"]
    assert snapshot_counts() == before


# --- the planner itself -----------------------------------------------------------------


def test_a_plan_reads_and_never_writes(shop: World, count_queries: object) -> None:
    before = snapshot_counts()
    qnames = parse_names(["tier::gold", "priority::high", "new.child", "fresh::x"])
    plan = plan_links(shop.editor, shop.sid, LinkAction.ATTACH, qnames, {"table": 3, "column": 2},
                      OnRefusal.SKIP)
    assert snapshot_counts() == before
    by_name = {item.qname.text: item for item in plan.names}
    assert by_name["tier::gold"].takes == ("table",)
    assert by_name["tier::gold"].refused_types == ("column",)
    assert by_name["priority::high"].takes == ("column", "table")
    assert [q.text for q in plan.created] == [  # parents first
        "fresh::x", "new", "priority::high", "tier::gold", "new.child"]
    assert plan.groups_created == ["fresh"]
    assert plan.refused == 2
    assert [item.qname.text for item in plan.winners] == ["priority::high"]
    assert sorted(plan.partitions()) == [("column", "table"), ("table",)]


def test_planning_costs_two_queries_at_most(shop: World, count_queries: object) -> None:
    qnames = parse_names([f"fresh::t{n}" for n in range(40)] + ["priority::low", "pii"])
    scope_id = shop.sid
    with count_queries() as counter:  # type: ignore[operator]
        plan_links(shop.editor, scope_id, LinkAction.ATTACH, qnames, {"table": 3},
                   OnRefusal.FAIL)
    assert counter.count <= 2


def test_names_are_counted_before_they_are_parsed() -> None:
    with pytest.raises(LimitExceeded):
        parse_names(["\x00"] * 101)  # not one is parsed: the count refuses first
    with pytest.raises(ValidationFailed) as caught:
        parse_names([])
    assert fields(caught.value) == ["names"]
    assert [q.key for q in parse_names(["A", "a", "b"])] == [names.key("a"), names.key("b")]


def test_detach_plans_known_names_only(shop: World) -> None:
    qnames = parse_names(["priority::low", "nobody"])
    plan = plan_links(shop.editor, shop.sid, LinkAction.DETACH, qnames, {"table": 3})
    assert [item.qname.text for item in plan.known] == ["priority::low"]
    assert [item.qname.text for item in plan.unknown] == ["nobody"]
    assert plan.created == []


# --- who may assign, deprecated tags, aliases --------------------------------------------


def _restrict(world: World, identifier: str) -> None:
    """Make a group's tags assignable by managers only (straight in the table: the group
    service's option is tested with the groups)."""
    db.session.execute(TagGroup.__table__.update()
                       .where(TagGroup.identifier == identifier)
                       .values(assign_role="manager"))
    db.session.commit()


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_a_manager_only_group_refuses_editors_on_every_entry_point(shop: World, entry: str
                                                                   ) -> None:
    _restrict(shop, "priority")
    before = snapshot_counts()
    with pytest.raises(PermissionDenied) as caught:
        ENTRY_POINTS[entry](shop, ["pii", "priority::high"])
    assert "'priority'" in caught.value.message and fields(caught.value) == ["names"]
    assert snapshot_counts() == before
    with pytest.raises(PermissionDenied):  # detach too
        assignments.detach(shop.editor, shop.sid, ["priority::low"], {"table": ["t1"]})
    # A manager may.
    assert assignments.attach(shop.manager, shop.sid, ["priority::high"],
                              {"table": ["t2"]}).changed == 1


def test_a_deprecated_tag_is_refused_by_the_api_and_skipped_by_the_bulk_page(shop: World
                                                                              ) -> None:
    assignments.attach(shop.editor, shop.sid, ["new-name"], {"table": ["t3"]})
    old = live_tag(shop.sid, "priority::low")
    assert old is not None
    old.deprecated_at = old.created_at
    old.replacement_id = live_tag(shop.sid, "new-name").id  # type: ignore[union-attr]
    db.session.commit()
    before = snapshot_counts()
    with pytest.raises(TagDeprecated) as caught:
        through_api(shop, ["pii", "priority::low"])
    assert "use 'new-name' instead" in caught.value.message
    assert snapshot_counts() == before

    ids = tuple(db.session.scalars(select(Resource.id).where(Resource.scope_id == shop.sid)))
    criteria = ResourceCriteria(ids=ids)
    preview = preview_links(shop.editor, shop.sid, LinkAction.ATTACH,
                            ["pii", "priority::low"], criteria)
    low = preview.plans[1]
    assert (low.change, low.refused) == (0, 5) and "use 'new-name' instead" in str(low.refusal)
    applied = apply_links(shop.editor, shop.sid, LinkAction.ATTACH, ["pii", "priority::low"],
                          criteria)
    assert (applied.changed, applied.refused) == (5, 5)
    assert ("priority::low", "table", "t1") in links(shop.sid)  # where it was, it stays


def test_an_alias_names_its_tag_and_never_creates_one(shop: World) -> None:
    target = live_tag(shop.sid, "priority::low")
    assert target is not None
    db.session.add(TagAlias(scope_id=shop.sid, tag_id=target.id, alias="Legacy.Low",
                            alias_key=names.parse_name("Legacy.Low").key))
    db.session.commit()
    outcome = assignments.attach(shop.editor, shop.sid, [" legacy.LOW "], {"table": ["t2"]})
    assert [tag.id for tag in outcome.tags] == [target.id]
    assert live_tag(shop.sid, "legacy.low") is None and live_tag(shop.sid, "legacy") is None
    assert ("priority::low", "table", "t2") in links(shop.sid)
    removed = assignments.detach(shop.editor, shop.sid, ["Legacy.Low"], {"table": ["t2"]})
    assert removed.changed == 1
