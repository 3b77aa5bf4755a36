"""Choosing resources by criteria: type, search, name patterns, tag, ticked ids; counts per
type; pages with tags in a constant number of statements; the references of a selection."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from tests.unit.factories import SYSTEM, World, fields
from webapp.extensions import db
from webapp.models import Resource
from webapp.services import assignments, resources
from webapp.services.errors import LimitExceeded, PermissionDenied, ValidationFailed
from webapp.services.paging import PageRequest
from webapp.services.resource_selection import (
    MAX_TICKED,
    PatternField,
    PatternMode,
    ResourceCriteria,
    browse_selection,
    build_criteria,
    count_selection,
    selected_ids,
    selection_pairs,
)
from webapp.services.resources import ResourceInput


@pytest.fixture
def catalog(world: World) -> None:
    """The resources every selection here chooses from: three sources, three tables and a
    folder in ``world.scope`` (names and slugs with "ads" in several places, LIKE wildcards
    in ``t3``), and one source in ``world.other_scope`` that no selection may reach."""
    resources.register_resources(SYSTEM, world.sid, [
        ResourceInput("source", "s1", "Facebook Ads", "facebook-ads"),
        ResourceInput("source", "s2", "Google Ads", "google-ads"),
        ResourceInput("source", "s3", "Salesforce", "salesforce"),
        ResourceInput("table", "t1", "ads_spend", "ads-spend"),
        ResourceInput("table", "t2", "orders", "orders"),
        ResourceInput("table", "t3", "100%_real", "under_score"),
        ResourceInput("folder", "f-ads", None, None),
    ])
    resources.register_resources(SYSTEM, world.other_scope.id, [
        ResourceInput("source", "s9", "Other Ads", "other-ads"),
    ])


pytestmark = pytest.mark.usefixtures("catalog")


def ids_of(world: World, criteria: ResourceCriteria) -> list[str]:
    return sorted(rid for _, rid in selection_pairs(world.sid, criteria))


def test_patterns_match_start_end_or_inside_of_name_or_slug(world: World) -> None:
    ends = ResourceCriteria(pattern="-ADS", mode=PatternMode.ENDS)
    assert ids_of(world, ends) == ["s1", "s2"]
    starts = ResourceCriteria(pattern="ads", mode=PatternMode.STARTS)
    assert ids_of(world, starts) == ["t1"]
    contains = ResourceCriteria(pattern="ads")
    assert ids_of(world, contains) == ["s1", "s2", "t1"]
    on_name = ResourceCriteria(pattern=" ads", mode=PatternMode.ENDS, on=PatternField.NAME)
    assert ids_of(world, on_name) == ["s1", "s2"]
    on_slug = ResourceCriteria(pattern="-spend", mode=PatternMode.ENDS, on=PatternField.SLUG)
    assert ids_of(world, on_slug) == ["t1"]
    on_id = ResourceCriteria(pattern="-ads", mode=PatternMode.ENDS, on=PatternField.ID)
    assert ids_of(world, on_id) == ["f-ads"]


def test_like_wildcards_in_a_pattern_are_literal(world: World) -> None:
    assert ids_of(world, ResourceCriteria(pattern="%")) == ["t3"]
    assert ids_of(world, ResourceCriteria(pattern="_", on=PatternField.SLUG)) == ["t3"]
    assert ids_of(world, ResourceCriteria(pattern="100%_", mode=PatternMode.STARTS)) == ["t3"]


def test_criteria_combine_with_and(world: World) -> None:
    assert ids_of(world, ResourceCriteria(rtype="table", pattern="ads")) == ["t1"]
    assert ids_of(world, ResourceCriteria(search="google", pattern="ads")) == ["s2"]
    assert ids_of(world, ResourceCriteria(rtype="folder", pattern="ads")) == []


def test_ticked_ids_keep_only_those_of_the_scope(world: World) -> None:
    by_id = {r.external_id: r.id for r in db.session.scalars(select(Resource))}
    ticked = ResourceCriteria(ids=(by_id["s1"], by_id["t2"], by_id["s9"], 999_999))
    assert ids_of(world, ticked) == ["s1", "t2"]
    assert ids_of(world, ResourceCriteria(ids=())) == []


def test_tag_filter(world: World) -> None:
    assignments.attach(SYSTEM, world.sid, ["paid"], {"source": ["s1", "s2"]})
    tag_id = assignments.attach(SYSTEM, world.sid, ["paid"], {"source": ["s1"]}).tags[0].id
    assert ids_of(world, ResourceCriteria(tag_id=tag_id)) == ["s1", "s2"]


def test_counts_per_type_ignore_the_type_and_total_honours_it(world: World) -> None:
    counts = count_selection(world.viewer, world.sid, ResourceCriteria(rtype="table",
                                                                       pattern="ads"))
    assert counts.by_type == {"source": 2, "table": 1}
    assert counts.total == 1
    everything = count_selection(world.viewer, world.sid, ResourceCriteria())
    assert everything.by_type == {"folder": 1, "source": 3, "table": 3}
    assert everything.total == 7


def test_selected_ids_is_a_subquery(world: World) -> None:
    query = selected_ids(world.sid, ResourceCriteria(pattern="-ads", mode=PatternMode.ENDS))
    names = db.session.scalars(select(Resource.name).where(Resource.id.in_(query))).all()
    assert sorted(names) == ["Facebook Ads", "Google Ads"]


def test_browse_pages_with_tags(world: World) -> None:
    assignments.attach(SYSTEM, world.sid, ["paid", "marketing"], {"source": ["s1"]})
    found = browse_selection(world.viewer, world.sid, ResourceCriteria(rtype="source"),
                             PageRequest(page=1, per_page=2))
    assert found.counts.total == 3 and found.page.total == 3 and found.page.pages == 2
    first = found.page.items[0]
    assert first.resource.external_id == "s1"
    assert [t.path for t in first.tags] == ["marketing", "paid"]
    second = browse_selection(world.viewer, world.sid, ResourceCriteria(rtype="source"),
                              PageRequest(page=2, per_page=2))
    assert [row.resource.external_id for row in second.page.items] == ["s3"]


def test_browse_costs_the_same_whatever_the_page_size(world: World, count_queries: Any) -> None:
    resources.register_resources(SYSTEM, world.sid, [
        ResourceInput("node", f"n{i}", f"node {i}") for i in range(150)
    ])
    assignments.attach(SYSTEM, world.sid, ["a", "b", "c"],
                       {"node": [f"n{i}" for i in range(150)]})
    viewer = world.viewer
    browse_selection(viewer, world.sid, ResourceCriteria())  # role lookup cached

    def cost(per_page: int) -> int:
        with count_queries() as counter:
            page = browse_selection(viewer, world.sid, ResourceCriteria(rtype="node"),
                                    PageRequest(per_page=per_page))
        assert len(page.page.items) == per_page
        return counter.count

    assert cost(2) == cost(120) == 3


def test_build_criteria_cleans_form_values(world: World) -> None:
    criteria = build_criteria(rtype="Table", search="  ", pattern=" -ads ", mode="ends",
                              on="slug", tag_id="7", ids=["3", 4, "3"])
    assert criteria == ResourceCriteria(rtype="table", search=None, pattern="-ads",
                                        mode=PatternMode.ENDS, on=PatternField.SLUG,
                                        tag_id=7, ids=(3, 4))
    assert build_criteria() == ResourceCriteria()
    with pytest.raises(ValidationFailed) as caught:
        build_criteria(rtype="tabel", mode="sometimes", on="colour", ids=["x"])
    assert fields(caught.value) == ["type", "mode", "on", "ticked"]
    with pytest.raises(ValidationFailed) as caught:
        build_criteria(pattern="x" * 300)
    assert fields(caught.value) == ["pattern"]
    with pytest.raises(LimitExceeded):
        build_criteria(ids=range(1, MAX_TICKED + 2))


def test_only_members_read_a_selection(world: World) -> None:
    with pytest.raises(PermissionDenied):
        count_selection(world.outsider, world.sid, ResourceCriteria())
    with pytest.raises(PermissionDenied):
        browse_selection(world.outsider, world.sid, ResourceCriteria())


# --- tag expressions --------------------------------------------------------------------


def expression_criteria(world: World, text: str, **others: Any) -> ResourceCriteria:
    return build_criteria(expression=text, scope_id=world.sid, **others)


def test_an_expression_ands_into_every_use_of_the_selection(world: World) -> None:
    assignments.attach(SYSTEM, world.sid, ["paid"], {"source": ["s1", "s2"], "table": ["t1"]})
    criteria = expression_criteria(world, "tag:paid -name:google*", rtype="source")
    assert ids_of(world, criteria) == ["s1"]
    counts = count_selection(world.viewer, world.sid, criteria)
    assert counts.by_type == {"source": 1, "table": 1} and counts.total == 1
    found = browse_selection(world.viewer, world.sid, criteria)
    assert [row.resource.external_id for row in found.page.items] == ["s1"]
    query = selected_ids(world.sid, criteria)
    assert db.session.scalars(select(Resource.external_id).where(Resource.id.in_(query))
                              ).all() == ["s1"]
    assert ids_of(world, expression_criteria(world, "untagged")) == ["f-ads", "s3", "t2", "t3"]
    assert ids_of(world, expression_criteria(world, "untagged", pattern="ads")) == []


def test_a_blank_expression_is_no_restriction(world: World) -> None:
    assert expression_criteria(world, "  ") == ResourceCriteria()


def test_expression_errors_name_the_expression_field(world: World) -> None:
    with pytest.raises(ValidationFailed) as caught:
        expression_criteria(world, "type:table AND tag:", rtype="tabel")
    assert fields(caught.value) == ["type", "expr"]
    assert caught.value.details[1].message == 'at 20: expected a value after "tag:"'
    with pytest.raises(ValidationFailed) as caught:
        expression_criteria(world, "tag:nowhere")
    assert [d.message for d in caught.value.details] == [
        'at 5: unknown tag "nowhere" (no live tag of this scope has that path)']


def test_an_expression_resolved_in_another_scope_is_refused(world: World) -> None:
    criteria = build_criteria(expression="untagged", scope_id=world.other_scope.id)
    with pytest.raises(ValueError):
        selection_pairs(world.sid, criteria)


def test_browse_with_an_expression_costs_the_same_whatever_the_page_size(
        world: World, count_queries: Any) -> None:
    resources.register_resources(SYSTEM, world.sid, [
        ResourceInput("node", f"n{i}", f"node {i}") for i in range(150)
    ])
    assignments.attach(SYSTEM, world.sid, ["a", "b", "c"],
                       {"node": [f"n{i}" for i in range(150)]})
    viewer, sid = world.viewer, world.sid
    browse_selection(viewer, sid, ResourceCriteria())  # role lookup cached

    def cost(per_page: int) -> int:
        with count_queries() as counter:
            criteria = build_criteria(expression="type:node tag:a -tag:zzz OR tag:b",
                                      scope_id=sid)
            page = browse_selection(viewer, sid, criteria, PageRequest(per_page=per_page))
        assert len(page.page.items) == per_page
        return counter.count

    with pytest.raises(ValidationFailed):  # zzz is unknown; make it exist
        build_criteria(expression="tag:zzz", scope_id=sid)
    assignments.attach(SYSTEM, sid, ["zzz"], {"node": ["n0"]})
    assert cost(2) == cost(120) == 4  # the names, counts, page, tags
