"""Service additions for the API: a page of tag groups with counts, one group with its
count, and registered resources by external id."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.factories import SYSTEM, World, external_ids
from webapp.services import assignments, groups, resources
from webapp.services.errors import NotFound, PermissionDenied
from webapp.services.paging import PageRequest
from webapp.services.resources import ResourceInput
from webapp.services.tags.creation import TagSpec, create_tags
from webapp.services.tags.deletion import delete_tag


def test_page_groups_by_identifier_with_live_counts(world: World) -> None:
    for identifier in ("b", "A", "c"):
        groups.create_group(SYSTEM, world.sid, identifier)
    create_tags(SYSTEM, world.sid, [TagSpec("A::x"), TagSpec("A::y"), TagSpec("c::z")])
    delete_tag(SYSTEM, world.sid, "A::y")
    groups.create_group(SYSTEM, world.other_scope.id, "elsewhere")
    first = groups.page_groups(world.viewer, world.sid, PageRequest(1, 2))
    assert first.total == 3 and first.has_next
    assert [(row.group.identifier, row.tag_count) for row in first.items] == [("A", 1),
                                                                              ("b", 0)]
    second = groups.page_groups(world.viewer, world.sid, PageRequest(2, 2))
    assert [(row.group.identifier, row.tag_count) for row in second.items] == [("c", 1)]
    with pytest.raises(PermissionDenied):
        groups.page_groups(world.outsider, world.sid)


def test_get_group_row_and_live_tag_count(world: World) -> None:
    group = groups.create_group(SYSTEM, world.sid, "topic", public_id="tag_group_topic")
    create_tags(SYSTEM, world.sid, [TagSpec("topic::a"), TagSpec("topic::b")])
    row = groups.get_group_row(world.viewer, world.sid, "tag_group_topic")
    assert (row.group.id, row.tag_count) == (group.id, 2)
    assert groups.live_tag_count(group.id) == 2
    with pytest.raises(NotFound):
        groups.get_group_row(world.outsider, world.other_scope.id, "tag_group_topic")


def test_resources_by_external_id(world: World, count_queries: Any) -> None:
    ids = external_ids(3)
    resources.register_resources(SYSTEM, world.sid, [ResourceInput("table", i) for i in ids])
    assignments.attach(SYSTEM, world.other_scope.id, ["x"], {"table": ids[:1]})
    sid = world.sid
    with count_queries() as counter:
        found = resources.resources_by_external_id(sid, "table", [ids[0], ids[2], "zz"])
    assert [sql for sql in counter.statements if sql != "BEGIN"][1:] == []
    assert {key: (r.type, r.scope_id) for key, r in found.items()} == {
        ids[0]: ("table", world.sid), ids[2]: ("table", world.sid)}
    assert resources.resources_by_external_id(world.sid, "source", ids) == {}
    assert resources.resources_by_external_id(world.sid, "table", []) == {}
