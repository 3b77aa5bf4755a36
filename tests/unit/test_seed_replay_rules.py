"""Two rules from the seed replay (issue 13 §5), in the services:

* a delete touching a protected tag is PermissionDenied whatever else is wrong: a protected
  tag, or a tag holding a live protected descendant, with or without its hierarchy (never
  the Conflict about live children, which would promise a delete that cannot happen);
  a bulk delete reports those handles as ``protected`` (and, as before, ``refused``);
* ``Uniqueness.LEVEL`` (seed 004's create): a new root named like a live root of any
  group, or of none, is a Conflict; the default ``Uniqueness.GROUP`` keeps group-scoped
  names (seed 002 puts one identifier in several groups).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.factories import SYSTEM, World, snapshot_counts, tag_state
from webapp.services.errors import Conflict, PermissionDenied
from webapp.services.groups import create_group
from webapp.services.tags.creation import Provenance, TagSpec, Uniqueness, create_tag, create_tags
from webapp.services.tags.deletion import bulk_delete_tags, delete_tag

LOCKED = Provenance(protected=True)


# --- protected tags refuse a delete first -----------------------------------------------


@pytest.fixture
def locked_trees(world: World) -> None:
    """``Locked`` (protected) with a child; ``Open`` (not protected) with a protected
    child ``Open.pii`` and a plain one; a protected leaf ``Leaf``; a plain parent."""
    sid = world.sid
    create_tag(SYSTEM, sid, TagSpec("Locked"), LOCKED)
    create_tags(SYSTEM, sid, [TagSpec("Locked.child"), TagSpec("Open.plain"),
                              TagSpec("Plain.child")])
    create_tag(SYSTEM, sid, TagSpec("Open.pii"), LOCKED)
    create_tag(SYSTEM, sid, TagSpec("Leaf"), LOCKED)


@pytest.mark.usefixtures("locked_trees")
@pytest.mark.parametrize("path, message", [
    ("Locked", "tag 'Locked' is protected"),
    ("Leaf", "tag 'Leaf' is protected"),
    ("Open", "it holds protected tag(s) Open.pii"),
])
@pytest.mark.parametrize("hierarchy", [False, True])
def test_a_delete_touching_a_protected_tag_is_refused_before_the_children(
        world: World, path: str, message: str, hierarchy: bool) -> None:
    before = snapshot_counts()
    with pytest.raises(PermissionDenied) as refused:
        delete_tag(world.editor, world.sid, path, hierarchy=hierarchy)
    assert message in refused.value.message
    assert snapshot_counts() == before


@pytest.mark.usefixtures("locked_trees")
def test_without_protected_tags_children_are_still_a_conflict(world: World) -> None:
    with pytest.raises(Conflict) as refused:
        delete_tag(world.editor, world.sid, "Plain")
    assert [detail.field for detail in refused.value.details] == ["hierarchy"]
    assert [tag.path for tag in delete_tag(world.editor, world.sid, "Plain",
                                           hierarchy=True)] == ["Plain", "Plain.child"]
    # a plain child of a tag holding protected ones may go on its own
    assert [tag.path for tag in delete_tag(world.editor, world.sid, "Open.plain")] == [
        "Open.plain"]


@pytest.mark.usefixtures("locked_trees")
def test_the_system_actor_may_delete_protected_tags(world: World) -> None:
    with pytest.raises(Conflict):
        delete_tag(SYSTEM, world.sid, "Locked")  # the children still need the hierarchy
    assert len(delete_tag(SYSTEM, world.sid, "Locked", hierarchy=True)) == 2


@pytest.mark.usefixtures("locked_trees")
@pytest.mark.parametrize("hierarchy", [False, True])
def test_a_bulk_delete_reports_protected_tags_whatever_else(world: World,
                                                            hierarchy: bool) -> None:
    outcome = bulk_delete_tags(world.editor, world.sid,
                               ["Locked", "Open", "Leaf", "Plain", "Nope"], hierarchy=hierarchy)
    assert outcome.protected == ["Locked", "Open", "Leaf"]
    assert outcome.not_found == ["Nope"]
    if hierarchy:
        assert outcome.refused == ["Locked", "Open", "Leaf"]
        assert [tag.path for tag in outcome.deleted] == ["Plain", "Plain.child"]
    else:  # Plain keeps its child: refused, but not as protected
        assert outcome.refused == ["Locked", "Open", "Leaf", "Plain"]
        assert outcome.deleted == []


@pytest.mark.usefixtures("locked_trees")
def test_a_bulk_delete_still_judges_handles_in_order(world: World) -> None:
    outcome = bulk_delete_tags(world.editor, world.sid,
                               ["Open.plain", "Plain.child", "Plain", "Open"])
    assert [tag.path for tag in outcome.deleted] == ["Open.plain", "Plain.child", "Plain"]
    assert outcome.refused == outcome.protected == ["Open"]
    by_system = bulk_delete_tags(SYSTEM, world.sid, ["Leaf", "Locked"])
    assert by_system.protected == [] and by_system.refused == ["Locked"]
    assert [tag.path for tag in by_system.deleted] == ["Leaf"]


def test_a_bulk_delete_costs_the_same_statements_either_way(world: World,
                                                            count_queries: Any) -> None:
    create_tags(world.editor, world.sid, [TagSpec(f"t{n}.c") for n in range(30)])
    create_tag(SYSTEM, world.sid, TagSpec("t0.c.pii"), LOCKED)

    def spent(handles: list[str], hierarchy: bool) -> int:
        with count_queries() as counter:
            bulk_delete_tags(world.editor, world.sid, handles, hierarchy=hierarchy)
        return int(counter.count)

    few = spent(["t0", "t1.c"], False)
    assert spent([f"t{n}.c" for n in range(2, 30)], False) == few
    assert spent([f"t{n}" for n in range(2, 30)], True) == few


# --- names unique at their level, whatever the group (seed 004's create) -----------------


@pytest.fixture
def grouped_roots(world: World) -> None:
    create_group(SYSTEM, world.sid, "business")
    create_group(SYSTEM, world.sid, "topic")
    create_tags(SYSTEM, world.sid, [TagSpec("business::quarterly-review"),
                                    TagSpec("Plain"), TagSpec("topic::Area.sub")])


@pytest.mark.usefixtures("grouped_roots")
@pytest.mark.parametrize("spec, existing", [
    (TagSpec("quarterly-review"), "business::quarterly-review"),
    (TagSpec("Quarterly-Review", group="topic"), "business::quarterly-review"),
    (TagSpec("ＰＬＡＩＮ", group="business"), "Plain"),
    (TagSpec("area"), "topic::Area"),
    (TagSpec("area.other"), "topic::Area"),  # a new root `area` on the way
])
def test_level_uniqueness_refuses_a_root_named_like_another_groups_root(
        world: World, spec: TagSpec, existing: str) -> None:
    before = snapshot_counts()
    with pytest.raises(Conflict) as refused:
        create_tag(world.editor, world.sid, spec, uniqueness=Uniqueness.LEVEL)
    assert f"({existing!r})" in refused.value.message
    assert [detail.field for detail in refused.value.details] == ["name"]
    assert snapshot_counts() == before


@pytest.mark.usefixtures("grouped_roots")
def test_level_uniqueness_allows_other_levels_and_deleted_tags(world: World) -> None:
    sid = world.sid
    level = Uniqueness.LEVEL
    # below an existing root of its own group: that level holds no such name
    assert create_tag(world.editor, sid, TagSpec("topic::Area.quarterly-review"),
                      uniqueness=level).qualified_name == "topic::Area.quarterly-review"
    assert create_tag(world.editor, sid, TagSpec("other", parent="Plain"),
                      uniqueness=level).path == "Plain.other"
    # a deleted root does not count
    delete_tag(world.editor, sid, "Plain", hierarchy=True)
    assert create_tag(world.editor, sid, TagSpec("plain", group="business"),
                      uniqueness=level).qualified_name == "business::plain"
    # the same group's own clash stays the index's Conflict
    with pytest.raises(Conflict, match="already exists"):
        create_tag(world.editor, sid, TagSpec("business::quarterly-review"), uniqueness=level)


@pytest.mark.usefixtures("grouped_roots")
def test_group_uniqueness_stays_the_default(world: World) -> None:
    tag = create_tag(world.editor, world.sid, TagSpec("quarterly-review", group="topic"))
    assert tag.qualified_name == "topic::quarterly-review"
    assert create_tag(world.editor, world.sid, TagSpec("quarterly-review")).path == (
        "quarterly-review")
    assert ("quarterly-review", "quarterly-review") in {row[:2] for row in tag_state(world.sid)}


def test_level_uniqueness_costs_one_statement(world: World, count_queries: Any) -> None:
    for n in range(20):
        create_group(SYSTEM, world.sid, f"g{n}")
    create_tag(world.editor, world.sid, TagSpec("warm"))

    def spent(name: str, uniqueness: Uniqueness) -> int:
        with count_queries() as counter:
            create_tag(world.editor, world.sid, TagSpec(name), uniqueness=uniqueness)
        return int(counter.count)

    assert spent("a", Uniqueness.LEVEL) == spent("b", Uniqueness.GROUP) + 1
