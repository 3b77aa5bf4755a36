"""The hierarchy editor's reads in services/tag_queries: branches with counts, ancestors,
move targets, protected tags in a subtree, look-up by typed path."""

from __future__ import annotations

import pytest

from tests.unit.factories import SYSTEM, World, external_ids, live_tag
from webapp.models import Tag
from webapp.services.assignments import attach
from webapp.services.errors import PermissionDenied
from webapp.services.groups import create_group
from webapp.services.paging import PageRequest
from webapp.services.tags import queries as tag_queries
from webapp.services.tags.creation import Provenance, TagSpec, create_tag, create_tags
from webapp.services.tags.deletion import delete_tag
from webapp.services.tags.lookup import Reading, find_tag


def tag(world: World, key: str) -> Tag:
    found = live_tag(world.sid, key)
    assert found is not None, key
    return found


def names(page: tag_queries.Page[tag_queries.TreeNode]) -> list[str]:
    return [node.tag.name for node in page.items]


def test_descendant_counts_are_live_and_stop_at_the_subtree(world: World) -> None:
    # ids 1..12: "/1/" must not count "/10/", "/11/", "/12/" as descendants
    create_tags(SYSTEM, world.sid, [TagSpec(name="a.b.c"), TagSpec(name="a.d")]
                + [TagSpec(name=f"x{n}") for n in range(8)])
    create_tag(SYSTEM, world.sid, TagSpec(name="x7.y"))
    a, b = tag(world, "a"), tag(world, "a.b")
    counts = tag_queries.descendant_counts([a.id, b.id, tag(world, "x7").id,
                                            tag(world, "x0").id])
    assert counts == {a.id: 3, b.id: 1, tag(world, "x7").id: 1, tag(world, "x0").id: 0}
    delete_tag(SYSTEM, world.sid, "a.b", hierarchy=True)
    assert tag_queries.descendant_counts([a.id]) == {a.id: 1}
    assert tag_queries.descendant_counts([]) == {}


def test_tree_children_lists_one_branch_by_name_with_counts(world: World) -> None:
    create_tags(SYSTEM, world.sid, [TagSpec(name=n) for n in
                                    ("Zed", "alpha.one", "alpha.two.deep", "Beta")])
    create_group(SYSTEM, world.sid, "prio")
    create_tag(SYSTEM, world.sid, TagSpec(name="prio::high"))
    attach(SYSTEM, world.sid, ["alpha.one"], {"source": external_ids(2)})
    roots = tag_queries.tree_children(world.viewer, world.sid)
    assert names(roots) == ["alpha", "Beta", "Zed"] and roots.total == 3
    assert roots.items[0].descendants == 3 and roots.items[0].has_children
    assert not roots.items[1].has_children
    alpha = tag(world, "alpha")
    children = tag_queries.tree_children(world.viewer, world.sid, alpha)
    assert names(children) == ["one", "two"]
    assert [(n.usage, n.descendants) for n in children.items] == [(2, 0), (0, 1)]
    prio_roots = tag_queries.tree_children(world.viewer, world.sid, None,
                                           tag(world, "prio::high").group)
    assert names(prio_roots) == ["high"]


def test_tree_children_pages_and_skips(world: World) -> None:
    create_tags(SYSTEM, world.sid, [TagSpec(name=f"p.c{n}") for n in range(5)])
    parent = tag(world, "p")
    first = tag_queries.tree_children(world.viewer, world.sid, parent,
                                      paging=PageRequest(1, 2))
    assert names(first) == ["c0", "c1"] and first.total == 5 and first.has_next
    second = tag_queries.tree_children(world.viewer, world.sid, parent,
                                       paging=PageRequest(2, 2), skip=tag(world, "p.c4").id)
    assert names(second) == ["c2", "c3"] and second.total == 4


def test_tree_children_needs_read_access(world: World) -> None:
    with pytest.raises(PermissionDenied):
        tag_queries.tree_children(world.outsider, world.sid)


def test_ancestors_and_group_counts(world: World) -> None:
    create_group(SYSTEM, world.sid, "geo")
    create_tags(SYSTEM, world.sid, [TagSpec(name="geo::eu.fr.paris"), TagSpec(name="plain")])
    paris = tag(world, "geo::eu.fr.paris")
    assert [t.name for t in tag_queries.ancestors_of(paris)] == ["eu", "fr"]
    assert tag_queries.ancestors_of(tag(world, "plain")) == []
    assert tag_queries.group_tag_count(world.viewer, world.sid, paris.group_id) == 3
    assert tag_queries.group_tag_count(world.viewer, world.sid, None) == 1


def test_move_targets_leave_out_the_subtree_and_the_parent(world: World) -> None:
    create_tags(SYSTEM, world.sid, [TagSpec(name=n) for n in
                                    ("root.mid.leaf", "root.other", "elsewhere")])
    mid = tag(world, "root.mid")
    found = tag_queries.move_targets(world.viewer, world.sid, mid, "")
    assert [t.path for t in found] == ["elsewhere", "root.other"]
    found = tag_queries.move_targets(world.viewer, world.sid, mid, "OTH")
    assert [t.path for t in found] == ["root.other"]
    assert len(tag_queries.move_targets(world.viewer, world.sid, tag(world, "elsewhere"), "",
                                        limit=2)) == 2


def test_protected_in_subtree(world: World) -> None:
    create_tag(SYSTEM, world.sid, TagSpec(name="found.open"))
    create_tag(SYSTEM, world.sid, TagSpec(name="found.lock"), Provenance(protected=True))
    assert tag_queries.protected_in_subtree(world.viewer, world.sid, tag(world, "found")) == 1
    assert tag_queries.protected_in_subtree(world.viewer, world.sid,
                                            tag(world, "found.open")) == 0


def test_reading_a_name_never_reads_an_id(world: World) -> None:
    create_tags(SYSTEM, world.sid, [TagSpec(name="first"), TagSpec(name="2024.Q1")])
    first = tag(world, "first")
    assert find_tag(world.sid, str(first.id), reading=Reading.NAME) is None
    found = find_tag(world.sid, " 2024 . q1 ", reading=Reading.NAME)
    assert found is not None and found.path == "2024.Q1"
    assert find_tag(world.sid, "a::b::c", reading=Reading.NAME) is None
