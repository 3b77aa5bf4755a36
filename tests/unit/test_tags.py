"""Tags: creation with ancestors, the three handles, uniqueness, rename/move of subtrees,
soft delete and restore, protected tags, permissions across roles and scopes, audit."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select

from tests.unit.factories import (
    SYSTEM,
    World,
    change_sets,
    count,
    events,
    fields,
    key_actor,
    live_tag,
    snapshot_counts,
    tag_state,
)
from webapp.extensions import db
from webapp.models import ChangeSet, Tag, TagGroup
from webapp.services import groups
from webapp.services.actor import Actor, Permission
from webapp.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from webapp.services.tags.creation import Provenance, TagSpec, create_tag, create_tags
from webapp.services.tags.deletion import bulk_delete_tags, delete_tag, restore_tag
from webapp.services.tags.hierarchy import update_tag
from webapp.services.tags.lookup import get_tag


def create(world: World, name: str, actor: Actor | None = None, **kwargs: Any) -> Tag:
    return create_tag(actor or world.editor, world.sid, TagSpec(name, **kwargs))


def reload(tag: Tag) -> Tag:
    db.session.expire_all()
    found = db.session.get(Tag, tag.id)
    assert found is not None
    return found


# --- create -----------------------------------------------------------------------------


def test_create_a_root_tag(world: World) -> None:
    tag = create(world, "  Address ")
    tag = reload(tag)
    assert (tag.name, tag.label, tag.path, tag.path_key, tag.depth) == (
        "Address", "Address", "Address", "address", 0,
    )
    assert tag.id_path == f"/{tag.id}/"
    assert tag.parent_id is None and tag.group_id is None
    assert tag.public_id == f"tag_{tag.uuid}"
    assert tag.uuid.version == 7
    assert (tag.source, tag.system_created, tag.protected) == ("curated", False, False)
    assert tag.created_by_id == world.editor.user_id
    assert tag.deleted_at is None and tag.created_at.tzinfo is not None


def test_create_a_dotted_path_creates_the_missing_ancestors(world: World) -> None:
    leaf = create(world, "Discovered.Country.Canada", label="Kanada", color="#ff0000")
    chain = [reload(t) for t in (
        live_tag(world.sid, "discovered"), live_tag(world.sid, "discovered.country"), leaf,
    ) if t is not None]
    assert [t.path for t in chain] == [
        "Discovered", "Discovered.Country", "Discovered.Country.Canada",
    ]
    root, middle, leaf = chain
    assert [t.depth for t in chain] == [0, 1, 2]
    assert (root.parent_id, middle.parent_id, leaf.parent_id) == (None, root.id, middle.id)
    assert leaf.id_path == f"/{root.id}/{middle.id}/{leaf.id}/"
    # Attributes belong to the named tag; ancestors get plain defaults.
    assert (leaf.label, leaf.color) == ("Kanada", "#FF0000")
    assert (middle.label, middle.color) == ("Country", None)

    # A second path reuses the existing ancestors.
    other = create(world, "discovered.COUNTRY.Peru")
    assert reload(other).parent_id == middle.id
    assert count(Tag) == 4
    assert [e.object_id for e in events("tag", "create")] == [root.id, middle.id, leaf.id,
                                                              other.id]


def test_create_a_grouped_path_creates_the_group_and_ancestors(world: World) -> None:
    leaf = create(world, "Priority::High.Urgent")
    group = db.session.scalar(select(TagGroup).where(TagGroup.scope_id == world.sid))
    assert group is not None
    assert (group.identifier, group.identifier_key, group.exclusive, group.allowed_types) == (
        "Priority", "priority", False, [],
    )
    assert group.public_id.startswith("tag_group_")
    high = live_tag(world.sid, "priority::high")
    assert high is not None and high.group_id == group.id and high.path == "High"
    leaf = reload(leaf)
    assert (leaf.path, leaf.path_key, leaf.group_id, leaf.parent_id) == (
        "High.Urgent", "priority::high.urgent", group.id, high.id,
    )
    assert leaf.qualified_name == "Priority::High.Urgent"
    # The group is reused case-insensitively, and an ungrouped "High" is another tag.
    create(world, "PRIORITY::low")
    plain = create(world, "High")
    assert count(TagGroup) == 1
    assert plain.group_id is None and plain.id != high.id
    assert [e.object_type for e in events(action="create")
            if e.object_type.startswith("tag")] == ["tag_group", "tag", "tag", "tag", "tag"]


def test_create_with_a_group_argument_and_a_parent_handle(world: World) -> None:
    topic = create(world, "news", group="topic")
    assert topic.qualified_name == "topic::news"
    child = create(world, "sports", parent=topic.public_id)
    assert (child.path, child.group_id, child.parent_id, child.depth) == (
        "news.sports", topic.group_id, topic.id, 1,
    )
    same_group = create(world, "topic::weather", parent=topic.id)
    assert same_group.path_key == "topic::news.weather"

    with pytest.raises(ValidationFailed) as caught:
        create(world, "other::x", parent=topic.id)
    assert fields(caught.value) == ["name"]
    with pytest.raises(ValidationFailed) as caught:
        create(world, "x", parent=topic.id, group="other")
    assert fields(caught.value) == ["group"]
    with pytest.raises(ValidationFailed) as caught:
        create(world, "a::x", group="b")
    assert fields(caught.value) == ["group"]
    with pytest.raises(ValidationFailed) as caught:
        create(world, "x", parent="no.such.tag")
    assert fields(caught.value) == ["parent"]


def test_a_child_of_an_ungrouped_parent_cannot_name_a_group(world: World) -> None:
    parent = create(world, "Plain")
    before = snapshot_counts()
    with pytest.raises(ValidationFailed) as caught:
        create(world, "child", parent=parent.id, group="topic")
    assert fields(caught.value) == ["group"]
    assert snapshot_counts() == before


def test_create_validates_every_field(world: World) -> None:
    for kwargs, field in [
        ({"name": "a..b"}, "name"),
        ({"name": "x", "color": "blue"}, "color"),
        ({"name": "x", "label": "l" * 101}, "label"),
        ({"name": "x", "description": "d" * 2001}, "description"),
        ({"name": "x", "public_id": "has space"}, "id"),
        ({"name": "x", "group": "a.b"}, "group"),
    ]:
        with pytest.raises(ValidationFailed) as caught:
            create_tag(world.editor, world.sid, TagSpec(**kwargs))
        assert fields(caught.value) == [field], kwargs
    with pytest.raises(ValidationFailed) as caught:  # a too long path via the parent
        create(world, "y" * 100, parent=create(world, "p" * 100).id)
        create(world, "z" * 60, parent=live_tag(world.sid, "p" * 100 + "." + "y" * 100).id)
    assert fields(caught.value) == ["name"]


def test_batch_create_is_all_or_nothing_and_names_the_item(world: World) -> None:
    create(world, "taken")
    before = snapshot_counts()
    with pytest.raises(Conflict) as caught:
        create_tags(world.editor, world.sid, [TagSpec("fresh.one"), TagSpec("TAKEN")])
    assert fields(caught.value) == ["[1].name"]
    with pytest.raises(ValidationFailed) as caught:
        create_tags(world.editor, world.sid, [TagSpec("a"), TagSpec("b", color="x")])
    assert fields(caught.value) == ["[1].color"]
    with pytest.raises(ValidationFailed) as caught:
        create_tags(world.editor, world.sid, [TagSpec("dup"), TagSpec("DUP")])
    assert fields(caught.value) == ["[1].name"]
    assert snapshot_counts() == before

    made = create_tags(world.editor, world.sid, [TagSpec("g::a"), TagSpec("g::a.b"),
                                                      TagSpec("c.d")])
    assert [t.qualified_name for t in made] == ["g::a", "g::a.b", "c.d"]
    assert len(change_sets()) == before["ChangeSet"] + 1


# --- handles ----------------------------------------------------------------------------


def test_every_handle_finds_the_same_tag(world: World) -> None:
    tag = create(world, "Priority::High.Urgent")
    chosen = create(world, "Chosen", public_id="my-own-id")
    handles: list[int | str] = [
        tag.id, str(tag.id), f" {tag.id} ", str(tag.uuid), str(tag.uuid).upper(), tag.public_id,
        "Priority::High.Urgent", "priority::high.urgent", " PRIORITY::HIGH.URGENT ",
        "priority :: high . urgent",  # spaced as attach/detach accept it
    ]
    for handle in handles:
        assert get_tag(world.viewer, world.sid, handle).id == tag.id, handle
    assert get_tag(world.viewer, world.sid, "my-own-id").id == chosen.id
    assert get_tag(world.viewer, world.sid, "chosen").id == chosen.id
    assert chosen.public_id == "my-own-id"
    # The grouped tag's path alone is not its name.
    for missing in ["High.Urgent", "Urgent", 999_999, "999999", str(uuid.uuid4()), "tag_x",
                    "99999999999999999", 2**31, -1, 0, "²", "١٢"]:
        with pytest.raises(NotFound):
            get_tag(world.viewer, world.sid, missing)


def test_names_that_look_like_numbers_are_still_found(world: World) -> None:
    squared = create(world, "²")
    digits = create(world, "1234567")
    huge = create(world, "99999999999999999999")
    assert get_tag(world.viewer, world.sid, "²").id == squared.id
    assert get_tag(world.viewer, world.sid, "1234567").id == digits.id
    assert get_tag(world.viewer, world.sid, "99999999999999999999").id == huge.id
    # An id that exists wins over a path that spells it.
    assert get_tag(world.viewer, world.sid, str(squared.id)).id == squared.id


def test_a_client_chosen_id_is_unique_in_the_scope_even_among_deleted_tags(world: World
                                                                          ) -> None:
    first = create(world, "first", public_id="tag_fixed")
    delete_tag(world.editor, world.sid, first.id)
    with pytest.raises(Conflict) as caught:
        create(world, "second", public_id="tag_fixed")
    assert fields(caught.value) == ["id"]
    # Another scope may use the same id.
    world_b = create_tag(SYSTEM, world.other_scope.id, TagSpec("x", public_id="tag_fixed"))
    assert world_b.public_id == "tag_fixed"


def test_deleted_tags_are_found_only_when_asked(world: World) -> None:
    tag = create(world, "gone")
    delete_tag(world.editor, world.sid, tag.id)
    with pytest.raises(NotFound):
        get_tag(world.viewer, world.sid, tag.id)
    for handle in (tag.id, str(tag.uuid), tag.public_id, "GONE"):
        found = get_tag(world.viewer, world.sid, handle, include_deleted=True)
        assert found.id == tag.id and found.is_deleted


def test_a_path_names_the_live_tag_before_a_deleted_one(world: World) -> None:
    old = create(world, "Reused")
    delete_tag(world.editor, world.sid, old.id)
    new = create(world, "reused")
    assert new.id != old.id
    assert get_tag(world.viewer, world.sid, "REUSED", include_deleted=True).id == new.id
    assert get_tag(world.viewer, world.sid, old.id, include_deleted=True).id == old.id


# --- uniqueness -------------------------------------------------------------------------


def test_names_are_unique_case_insensitively_per_parent_and_group(world: World) -> None:
    tag = create(world, "Alpha")
    assert tag.name == "Alpha"  # display case kept
    for clash in ["alpha", "ALPHA", " Alpha "]:
        with pytest.raises(Conflict) as caught:
            create(world, clash)
        assert fields(caught.value) == ["name"]
    create(world, "Alpha.alpha")  # same name, other parent
    create(world, "Beta.ALPHA")
    create(world, "g::alpha")  # same name, other group
    with pytest.raises(Conflict):
        create(world, "G::Alpha")
    with pytest.raises(Conflict):
        create(world, "alpha", parent="beta")
    assert count(Tag, Tag.path_key == "alpha") == 1
    assert {t.path for t in db.session.scalars(select(Tag))} == {
        "Alpha", "Alpha.alpha", "Beta", "Beta.ALPHA", "alpha",
    }


def test_the_name_of_a_deleted_tag_can_be_reused(world: World) -> None:
    old = create(world, "Temp.Child")
    delete_tag(world.editor, world.sid, "temp", hierarchy=True)
    new = create(world, "TEMP.child")
    assert new.id != old.id
    assert count(Tag, Tag.path_key == "temp.child") == 2
    assert count(Tag, Tag.path_key == "temp.child", Tag.deleted_at.is_(None)) == 1


# --- update: rename ---------------------------------------------------------------------


def _tree(world: World) -> dict[str, Tag]:
    """root ─ mid ─ leaf1, leaf2; root ─ side; and an unrelated rootish tag."""
    made = create_tags(world.editor, world.sid, [
        TagSpec("root.mid.leaf1"), TagSpec("root.mid.leaf2"), TagSpec("root.side"),
        TagSpec("rootish"),
    ])
    return {t.path: t for t in [*made, live_tag(world.sid, "root"),
                                live_tag(world.sid, "root.mid")] if t is not None}


def test_rename_rewrites_every_descendant(world: World) -> None:
    tree = _tree(world)
    renamed = update_tag(world.editor, world.sid, "root.mid", name="Middle")
    assert (renamed.name, renamed.label, renamed.path) == ("Middle", "Middle", "root.Middle")
    assert tag_state(world.sid) == [
        ("root", "root", 0, None),
        ("root.middle", "root.Middle", 1, None),
        ("root.middle.leaf1", "root.Middle.leaf1", 2, None),
        ("root.middle.leaf2", "root.Middle.leaf2", 2, None),
        ("root.side", "root.side", 1, None),
        ("rootish", "rootish", 0, None),
    ]
    leaf = get_tag(world.viewer, world.sid, "ROOT.middle.leaf1")
    assert leaf.id == tree["root.mid.leaf1"].id
    with pytest.raises(NotFound):
        get_tag(world.viewer, world.sid, "root.mid.leaf1")
    # Renaming the root rewrites three levels; ids and id paths do not change.
    id_paths = {t.id: t.id_path for t in db.session.scalars(select(Tag))}
    update_tag(world.editor, world.sid, tree["root"].id, name="Top")
    assert [row[1] for row in tag_state(world.sid)] == [
        "rootish", "Top", "Top.Middle", "Top.Middle.leaf1", "Top.Middle.leaf2", "Top.side",
    ]
    assert {t.id: t.id_path for t in db.session.scalars(select(Tag))} == id_paths


def test_rename_changes_case_only(world: World) -> None:
    tree = _tree(world)
    update_tag(world.editor, world.sid, "root", name="ROOT")
    assert reload(tree["root.mid.leaf1"]).path == "ROOT.mid.leaf1"
    assert reload(tree["root"]).path_key == "root"


def test_rename_onto_a_sibling_is_a_conflict_and_changes_nothing(world: World) -> None:
    tree = _tree(world)
    state = tag_state(world.sid)
    with pytest.raises(Conflict) as caught:
        update_tag(world.editor, world.sid, "root.mid", name="SIDE")
    assert fields(caught.value) == ["name"]
    with pytest.raises(Conflict):
        update_tag(world.editor, world.sid, "root", name="Rootish")
    assert tag_state(world.sid) == state
    assert reload(tree["root.mid"]).name == "mid"
    # A deleted sibling does not block the name.
    delete_tag(world.editor, world.sid, "root.side")
    assert update_tag(world.editor, world.sid, "root.mid", name="side").path == "root.side"


def test_rename_refuses_a_descendant_path_over_255(world: World) -> None:
    create(world, "r." + "x" * 100 + "." + "y" * 100)  # 1 + 1 + 100 + 1 + 100 = 203
    with pytest.raises(ValidationFailed) as caught:
        update_tag(world.editor, world.sid, "r", name="r" * 54)  # 255 + 1
    assert fields(caught.value) == ["name"]
    update_tag(world.editor, world.sid, "r", name="r" * 53)  # exactly 255
    assert max(len(p) for _, p, _, _ in tag_state(world.sid)) == 255


def test_update_validates_fields(world: World) -> None:
    create(world, "tag")
    for kwargs, field in [({"name": "a.b"}, "name"), ({"name": ""}, "name"),
                          ({"color": "#12"}, "color"), ({"label": "x" * 101}, "label"),
                          ({"description": 5}, "description"), ({"parent": "nope"}, "parent")]:
        with pytest.raises(ValidationFailed) as caught:
            update_tag(world.editor, world.sid, "tag", **kwargs)
        assert fields(caught.value) == [field], kwargs
    with pytest.raises(NotFound):
        update_tag(world.editor, world.sid, "nope", name="x")


def test_label_follows_the_name_only_while_they_were_equal(world: World) -> None:
    same = create(world, "same")
    update_tag(world.editor, world.sid, same.id, name="Renamed")
    assert reload(same).label == "Renamed"
    custom = create(world, "custom", label="Custom Label")
    update_tag(world.editor, world.sid, custom.id, name="other")
    assert reload(custom).label == "Custom Label"
    both = create(world, "both")
    update_tag(world.editor, world.sid, both.id, name="x", label="Given")
    assert reload(both).label == "Given"
    # An empty label falls back to the name.
    update_tag(world.editor, world.sid, both.id, label="")
    assert reload(both).label == "x"


def test_update_attributes_and_audit_before_after(world: World) -> None:
    tag = create(world, "plain", color="#000000", description="old")
    update_tag(world.editor, world.sid, tag.id, color="#abcdef", description=None,
                    label="Plain!")
    tag = reload(tag)
    assert (tag.color, tag.description, tag.label, tag.name) == ("#ABCDEF", None, "Plain!",
                                                                "plain")
    [event] = events("tag", "update")
    assert event.object_id == tag.id
    assert (event.before["color"], event.before["description"], event.before["label"]) == (
        "#000000", "old", "plain",
    )
    assert (event.after["color"], event.after["description"], event.after["label"]) == (
        "#ABCDEF", None, "Plain!",
    )
    change_set = db.session.get(ChangeSet, event.change_set_id)
    assert change_set is not None
    assert (change_set.actor_id, change_set.via, change_set.scope_id) == (
        world.editor.user_id, "web", world.sid,
    )
    # An update that changes nothing records nothing.
    sets = len(change_sets())
    update_tag(world.editor, world.sid, tag.id, color="#ABCDEF", name="plain")
    assert len(change_sets()) == sets


def test_rename_cost_does_not_depend_on_the_subtree_size(world: World, count_queries: Any
                                                         ) -> None:
    def rename_cost(root: str, descendants: int) -> int:
        created = create_tags(SYSTEM, world.sid, [
            TagSpec(f"{root}.level{i % 3}.leaf{i}") for i in range(descendants)
        ])
        actor = Actor(user_id=world.editor.user_id)
        with count_queries() as counter:
            update_tag(actor, world.sid, root, name=root.upper() + "_renamed")
        assert count(Tag, Tag.path.like(f"{root.upper()}\\_renamed.%", escape="\\")) == (
            descendants + 3
        )
        assert all(t.path.startswith(root.upper() + "_renamed.") for t in created)
        return counter.count

    assert rename_cost("small", 10) == rename_cost("large", 200)


def test_subtree_delete_and_restore_cost_does_not_depend_on_its_size(
    world: World, count_queries: Any
) -> None:
    sid, editor_id = world.sid, world.editor.user_id

    def costs(root: str, descendants: int) -> tuple[int, int]:
        create_tags(SYSTEM, sid, [
            TagSpec(f"{root}.level{i % 3}.leaf{i}") for i in range(descendants)
        ])
        with count_queries() as deleting:
            deleted = delete_tag(Actor(user_id=editor_id), sid, root, hierarchy=True)
        with count_queries() as restoring:
            restored = restore_tag(Actor(user_id=editor_id), sid, root, hierarchy=True)
        assert len(deleted) == len(restored) == descendants + 4
        return deleting.count, restoring.count

    assert costs("small", 10) == costs("large", 200)


# --- update: move -----------------------------------------------------------------------


def test_move_rewrites_the_subtree(world: World) -> None:
    tree = _tree(world)
    target = create(world, "Target.Inner")
    moved = update_tag(world.editor, world.sid, "root.mid", parent=target.public_id)
    assert (moved.path, moved.parent_id, moved.depth) == ("Target.Inner.mid", target.id, 2)
    leaf = reload(tree["root.mid.leaf1"])
    assert (leaf.path, leaf.path_key, leaf.depth) == (
        "Target.Inner.mid.leaf1", "target.inner.mid.leaf1", 3,
    )
    assert leaf.id_path == f"{reload(target).id_path}{moved.id}/{leaf.id}/"
    assert reload(tree["root.side"]).path == "root.side"

    # Move to the root, and rename on the way.
    update_tag(world.editor, world.sid, moved.id, parent=None, name="Free")
    leaf = reload(tree["root.mid.leaf2"])
    assert (leaf.path, leaf.depth, leaf.id_path) == (
        "Free.leaf2", 1, f"/{moved.id}/{leaf.id}/",
    )
    assert reload(moved).parent_id is None
    [*_, event] = events("tag", "update")
    assert event.before["parent_id"] == target.id and event.after["parent_id"] is None
    assert (event.before["path"], event.after["path"]) == ("Target.Inner.mid", "Free")


def test_a_move_into_its_own_subtree_is_refused(world: World) -> None:
    tree = _tree(world)
    state = tag_state(world.sid)
    for parent in ("root.mid.leaf1", "root.mid", tree["root.mid"].id):
        with pytest.raises(ValidationFailed) as caught:
            update_tag(world.editor, world.sid, "root.mid", parent=parent)
        assert fields(caught.value) == ["parent"]
        assert "cycle" in caught.value.message
    with pytest.raises(ValidationFailed):
        update_tag(world.editor, world.sid, "root", parent="root.side")
    assert tag_state(world.sid) == state
    # "rootish" shares the id prefix text but not the subtree: allowed.
    update_tag(world.editor, world.sid, "rootish", parent="root.mid.leaf1")
    assert reload(tree["rootish"]).path == "root.mid.leaf1.rootish"


def test_a_move_onto_an_existing_name_is_a_conflict(world: World) -> None:
    _tree(world)
    create(world, "other.mid")
    with pytest.raises(Conflict) as caught:
        update_tag(world.editor, world.sid, "root.MID", parent="other")
    assert fields(caught.value) == ["name"]


def test_a_move_that_makes_a_descendant_path_too_long_is_refused(world: World) -> None:
    create(world, "m." + "x" * 100 + "." + "y" * 100)  # 203 characters
    create(world, "p" * 51)
    create(world, "q" * 52)
    update_tag(world.editor, world.sid, "m", parent="p" * 51)  # 52 + 203 = 255
    with pytest.raises(ValidationFailed) as caught:
        update_tag(world.editor, world.sid, "p" * 51 + ".m", parent="q" * 52)
    assert fields(caught.value) == ["name"]
    assert live_tag(world.sid, "p" * 51 + ".m") is not None


def test_a_move_under_a_parent_of_another_group_takes_that_group(world: World) -> None:
    tree = _tree(world)
    anchor = create(world, "topic::news")
    update_tag(world.editor, world.sid, "root.mid", parent=anchor.id)
    assert tag_state(world.sid) == [
        ("root", "root", 0, None),
        ("root.side", "root.side", 1, None),
        ("rootish", "rootish", 0, None),
        ("topic::news", "news", 0, "topic"),
        ("topic::news.mid", "news.mid", 1, "topic"),
        ("topic::news.mid.leaf1", "news.mid.leaf1", 2, "topic"),
        ("topic::news.mid.leaf2", "news.mid.leaf2", 2, "topic"),
    ]
    leaf = get_tag(world.viewer, world.sid, "topic::news.mid.leaf2")
    assert leaf.id == tree["root.mid.leaf2"].id and leaf.qualified_name == "topic::news.mid.leaf2"
    # And back out to an ungrouped parent: the group goes too.
    update_tag(world.editor, world.sid, "topic::news.mid", parent="root")
    assert reload(tree["root.mid.leaf2"]).path_key == "root.mid.leaf2"
    assert reload(tree["root.mid.leaf2"]).group_id is None


def test_a_move_into_an_exclusive_group(world: World) -> None:
    from webapp.services import assignments

    _tree(world)
    groups.create_group(world.manager, world.sid, "level", exclusive=True)
    anchor = create(world, "level::all")
    # No resource carries two of the subtree's tags: the move is fine.
    update_tag(world.editor, world.sid, "root.side", parent=anchor.id)
    assert live_tag(world.sid, "level::all.side") is not None
    # Now a resource carries two tags that would land in the exclusive group.
    assignments.attach(world.editor, world.sid, ["root.mid.leaf1", "root.mid.leaf2"],
                       {"table": ["t1"]})
    state = tag_state(world.sid)
    with pytest.raises(Conflict) as caught:
        update_tag(world.editor, world.sid, "root.mid", parent=anchor.id)
    assert fields(caught.value) == ["exclusive"]
    assert tag_state(world.sid) == state


def test_a_move_into_a_group_limited_to_other_types(world: World) -> None:
    from webapp.services import assignments

    _tree(world)
    groups.create_group(world.manager, world.sid, "cols", allowed_types=["column"])
    anchor = create(world, "cols::all")
    assignments.attach(world.editor, world.sid, ["root.mid.leaf1"], {"table": ["t1"]})
    state = tag_state(world.sid)
    with pytest.raises(Conflict) as caught:
        update_tag(world.editor, world.sid, "root.mid", parent=anchor.id)
    assert fields(caught.value) == ["allowed_types"]
    assert tag_state(world.sid) == state
    update_tag(world.editor, world.sid, "root.side", parent=anchor.id)
    assert live_tag(world.sid, "cols::all.side") is not None


def test_the_group_of_a_root_can_change_but_a_child_follows_its_parent(world: World) -> None:
    tree = _tree(world)
    with pytest.raises(ValidationFailed) as caught:
        update_tag(world.editor, world.sid, "root.mid", group="topic")
    assert fields(caught.value) == ["group"]
    assert count(TagGroup) == 0

    update_tag(world.editor, world.sid, "root", group="topic")
    assert reload(tree["root.mid.leaf1"]).path_key == "topic::root.mid.leaf1"
    assert [(row[1], row[3]) for row in tag_state(world.sid)] == [
        ("rootish", None), ("root", "topic"), ("root.mid", "topic"), ("root.mid.leaf1", "topic"),
        ("root.mid.leaf2", "topic"), ("root.side", "topic"),
    ]
    # Naming the parent's own group on a child is not a change.
    update_tag(world.editor, world.sid, "topic::root.mid", group="TOPIC", label="M")
    # Clearing the group of the root ungroups the subtree.
    update_tag(world.editor, world.sid, "topic::root", group=None)
    assert reload(tree["root.mid.leaf1"]).path_key == "root.mid.leaf1"
    assert reload(tree["root.mid"]).label == "M"


def test_a_failing_update_leaves_no_change_set_and_no_new_group(world: World) -> None:
    create(world, "r." + "x" * 100 + "." + "y" * 100)
    before = snapshot_counts()
    # The new group would be created first; the too-long rename then fails.
    with pytest.raises(ValidationFailed):
        update_tag(world.editor, world.sid, "r", name="r" * 60, group="fresh")
    assert snapshot_counts() == before
    assert groups.find_group(world.sid, "fresh") is None


# --- delete and restore -----------------------------------------------------------------


def test_delete_a_leaf(world: World) -> None:
    tree = _tree(world)
    deleted = delete_tag(world.editor, world.sid, "root.side")
    assert [t.id for t in deleted] == [tree["root.side"].id]
    side = reload(tree["root.side"])
    assert side.deleted_at is not None and side.is_deleted
    [event] = events("tag", "delete")
    assert (event.object_id, event.before, event.after) == (
        side.id, {"deleted": False}, {"deleted": True},
    )


def test_delete_with_live_children_needs_the_hierarchy_flag(world: World) -> None:
    tree = _tree(world)
    state = tag_state(world.sid)
    with pytest.raises(Conflict) as caught:
        delete_tag(world.editor, world.sid, "root")
    assert fields(caught.value) == ["hierarchy"]
    assert tag_state(world.sid) == state

    # Children that are already deleted do not count.
    delete_tag(world.editor, world.sid, "root.side")
    deleted = delete_tag(world.editor, world.sid, "root", hierarchy=True)
    assert [t.path for t in deleted] == ["root", "root.mid", "root.mid.leaf1",
                                         "root.mid.leaf2"]
    assert [row[1] for row in tag_state(world.sid)] == ["rootish"]
    stamps = {reload(tree[p]).deleted_at for p in ("root", "root.mid", "root.mid.leaf2")}
    assert len(stamps) == 1 and None not in stamps
    assert sorted(e.object_id for e in events("tag", "delete")) == sorted(
        tree[p].id for p in ("root.side", "root", "root.mid", "root.mid.leaf1",
                             "root.mid.leaf2")
    )


def test_protected_tags_only_yield_to_the_system(world: World) -> None:
    create_tags(SYSTEM, world.sid, [TagSpec("Discovered.Passport")],
                     Provenance(source="scanner", system_created=True, protected=True))
    passport = live_tag(world.sid, "discovered.passport")
    assert passport is not None
    assert (passport.source, passport.system_created, passport.protected) == (
        "scanner", True, True,
    )
    create(world, "Discovered.Curated")  # an editor may add an unprotected child
    state = tag_state(world.sid)
    for call in (
        lambda: update_tag(world.editor, world.sid, passport.id, label="x"),
        lambda: update_tag(world.manager, world.sid, passport.id, parent=None),
        lambda: delete_tag(world.editor, world.sid, passport.id),
        lambda: delete_tag(world.manager, world.sid, "discovered", hierarchy=True),
    ):
        with pytest.raises(PermissionDenied):
            call()
    assert tag_state(world.sid) == state
    outcome = bulk_delete_tags(world.editor, world.sid, ["discovered.passport"])
    assert outcome.refused == ["discovered.passport"] and outcome.deleted == []

    update_tag(SYSTEM, world.sid, passport.id, label="Passport number")
    deleted = delete_tag(SYSTEM, world.sid, "discovered", hierarchy=True)
    assert len(deleted) == 3
    [*_, change_set] = change_sets()
    assert (change_set.actor_id, change_set.via) == (None, "system")


def test_restore(world: World) -> None:
    tree = _tree(world)
    delete_tag(world.editor, world.sid, "root.side")
    delete_tag(world.editor, world.sid, "root", hierarchy=True)

    # The parent must be live first.
    with pytest.raises(Conflict, match="parent"):
        restore_tag(world.editor, world.sid, tree["root.mid"].id)
    restored = restore_tag(world.editor, world.sid, "root")
    assert [t.path for t in restored] == ["root"]
    assert [row[1] for row in tag_state(world.sid)] == ["root", "rootish"]

    # With the hierarchy: only what was deleted together with it comes back.
    restored = restore_tag(world.editor, world.sid, tree["root.mid"].public_id,
                                hierarchy=True)
    assert [t.path for t in restored] == ["root.mid", "root.mid.leaf1", "root.mid.leaf2"]
    assert reload(tree["root.side"]).is_deleted
    assert [e.action for e in events("tag") if e.action == "restore"] == ["restore"] * 4

    with pytest.raises(Conflict, match="not deleted"):
        restore_tag(world.editor, world.sid, "root.mid")
    with pytest.raises(NotFound):
        restore_tag(world.editor, world.sid, "never.existed")


def test_restore_refuses_a_name_taken_in_the_meantime(world: World) -> None:
    old = create(world, "Name")
    delete_tag(world.editor, world.sid, old.id)
    create(world, "NAME")
    with pytest.raises(Conflict, match="rename"):
        restore_tag(world.editor, world.sid, old.id)
    assert reload(old).is_deleted
    # A clash anywhere in the restored hierarchy is refused too.
    create(world, "tree.child")
    delete_tag(world.editor, world.sid, "tree", hierarchy=True)
    create(world, "tree")
    create(world, "tree.child")
    delete_tag(world.editor, world.sid, "tree", hierarchy=True)
    first_tree = db.session.scalar(select(Tag).where(Tag.path == "tree").order_by(Tag.id))
    assert first_tree is not None
    create(world, "tree.child")
    with pytest.raises(Conflict):
        restore_tag(world.editor, world.sid, first_tree.id, hierarchy=True)


def test_bulk_delete_reports_not_found_and_refused(world: World) -> None:
    tree = _tree(world)
    protected = create_tag(SYSTEM, world.sid, TagSpec("locked"),
                                Provenance(protected=True))
    outcome = bulk_delete_tags(
        world.editor, world.sid,
        ["root.side", "nope", tree["root"].id, protected.public_id, str(uuid.uuid4()),
         "rootish"],
    )
    assert sorted(t.path for t in outcome.deleted) == ["root.side", "rootish"]
    assert outcome.not_found[0] == "nope" and len(outcome.not_found) == 2
    assert outcome.refused == [str(tree["root"].id), protected.public_id]
    assert [row[1] for row in tag_state(world.sid)] == [
        "locked", "root", "root.mid", "root.mid.leaf1", "root.mid.leaf2",
    ]
    # One change set for the whole call.
    assert {e.change_set_id for e in events("tag", "delete")} == {change_sets()[-1].id}

    outcome = bulk_delete_tags(world.editor, world.sid, ["root"], hierarchy=True)
    assert len(outcome.deleted) == 4 and outcome.refused == outcome.not_found == []


# --- permissions and scopes -------------------------------------------------------------


def test_viewer_reads_but_cannot_write(world: World) -> None:
    tag = create(world, "existing")
    assert get_tag(world.viewer, world.sid, tag.id).id == tag.id
    before = snapshot_counts()
    for call in (
        lambda: create(world, "new", actor=world.viewer),
        lambda: update_tag(world.viewer, world.sid, tag.id, name="x"),
        lambda: delete_tag(world.viewer, world.sid, tag.id),
        lambda: bulk_delete_tags(world.viewer, world.sid, [tag.id]),
        lambda: restore_tag(world.viewer, world.sid, tag.id),
    ):
        with pytest.raises(PermissionDenied):
            call()
    assert snapshot_counts() == before


def test_editor_and_manager_write(world: World) -> None:
    for actor in (world.editor, world.manager):
        tag = create(world, f"by{actor.user_id}", actor=actor)
        update_tag(actor, world.sid, tag.id, name=f"renamed{actor.user_id}")
        delete_tag(actor, world.sid, tag.id)
        restore_tag(actor, world.sid, tag.id)
    assert count(Tag, Tag.deleted_at.is_(None)) == 2


def test_api_key_permissions_limit_the_actor(world: World) -> None:
    read_only = key_actor(world.editor, Permission.TAGS_READ)
    creator = key_actor(world.editor, Permission.TAGS_READ, Permission.TAGS_CREATE)
    with pytest.raises(PermissionDenied):
        create(world, "x", actor=read_only)
    tag = create(world, "x", actor=creator)
    with pytest.raises(PermissionDenied):
        update_tag(creator, world.sid, tag.id, name="y")
    with pytest.raises(PermissionDenied):
        delete_tag(creator, world.sid, tag.id)
    # A viewer's key never exceeds the viewer's role.
    with pytest.raises(PermissionDenied):
        create(world, "z", actor=key_actor(world.viewer, *Permission))
    assert change_sets()[-1].via == "api"


def test_a_user_of_another_scope_never_sees_or_touches_these_tags(world: World) -> None:
    tag = create(world, "Secret.Child")
    parent = live_tag(world.sid, "secret")
    assert parent is not None
    before = snapshot_counts()
    for call in (
        lambda: get_tag(world.outsider, world.sid, tag.id),
        lambda: create(world, "intrusion", actor=world.outsider),
        lambda: update_tag(world.outsider, world.sid, tag.id, name="x"),
        lambda: delete_tag(world.outsider, world.sid, tag.id),
        lambda: restore_tag(world.outsider, world.sid, tag.id),
    ):
        with pytest.raises(PermissionDenied):
            call()
    # In their own scope, none of this scope's handles resolves.
    other = world.other_scope.id
    for handle in (tag.id, str(tag.id), str(tag.uuid), tag.public_id, "Secret.Child"):
        with pytest.raises(NotFound):
            get_tag(world.outsider, other, handle)
        with pytest.raises(NotFound):
            update_tag(world.outsider, other, handle, name="x")
        with pytest.raises(NotFound):
            delete_tag(world.outsider, other, handle)
    with pytest.raises(ValidationFailed) as caught:
        create_tag(world.outsider, other, TagSpec("child", parent=parent.id))
    assert fields(caught.value) == ["parent"]
    assert bulk_delete_tags(world.outsider, other, [tag.id]).not_found == [str(tag.id)]
    assert snapshot_counts() == before
    # Same names in both scopes are independent.
    twin = create_tag(world.outsider, other, TagSpec("Secret.Child"))
    assert twin.id != tag.id and twin.scope_id == other
    with pytest.raises(ValidationFailed):
        update_tag(world.outsider, other, twin.id, parent=parent.public_id)


# --- audit ------------------------------------------------------------------------------


def test_every_write_is_one_change_set_with_the_actor(world: World) -> None:
    tag = create(world, "a.b")
    update_tag(world.editor, world.sid, tag.id, name="c")
    delete_tag(world.manager, world.sid, "a", hierarchy=True)
    restore_tag(world.manager, world.sid, "a", hierarchy=True)
    sets = change_sets()
    assert [(s.actor_id, s.scope_id) for s in sets[-4:]] == [
        (world.editor.user_id, world.sid), (world.editor.user_id, world.sid),
        (world.manager.user_id, world.sid), (world.manager.user_id, world.sid),
    ]
    per_set = [[(e.object_type, e.action) for e in s.events] for s in sets[-4:]]
    assert per_set == [
        [("tag", "create"), ("tag", "create")],
        [("tag", "update")],
        [("tag", "delete"), ("tag", "delete")],
        [("tag", "restore"), ("tag", "restore")],
    ]
    create_event = sets[-4].events[1]
    assert create_event.before is None
    assert create_event.after["path"] == "a.b" and create_event.after["deleted"] is False
    update_event = sets[-3].events[0]
    assert (update_event.before["path"], update_event.after["path"]) == ("a.b", "a.c")


def test_a_failing_call_leaves_no_change_set_and_no_rows(world: World) -> None:
    create(world, "exists")
    before = snapshot_counts()
    with pytest.raises(Conflict):
        create_tags(world.editor, world.sid, [TagSpec("grp::deep.new.path"),
                                                   TagSpec("EXISTS")])
    with pytest.raises(PermissionDenied):
        create_tags(world.viewer, world.sid, [TagSpec("x")])
    with pytest.raises(Conflict):
        delete_tag(world.editor, world.sid, create(world, "p.q").id - 1)
    after = snapshot_counts()
    after["Tag"] -= 2
    after["ChangeSet"] -= 1
    after["AuditEvent"] -= 2
    assert after == before
    assert groups.find_group(world.sid, "grp") is None


# --- key lengths ------------------------------------------------------------------------


def test_a_valid_name_whose_key_grows_when_casefolded(world: World) -> None:
    path = "ß" * 100 + "." + "ß" * 100 + "." + "ß" * 53  # 255 characters: valid
    tag = create(world, "ẞ" * 100 + "::" + path)  # a 100-character group identifier
    assert len(tag.path) == 255
    assert get_tag(world.viewer, world.sid, "SS" * 100 + "::" + path.upper()).id == tag.id


def test_rename_and_move_with_keys_that_casefold_to_other_lengths(world: World) -> None:
    tree = create_tags(world.editor, world.sid, [TagSpec("Straße.Haus.Tür"),
                                                      TagSpec("Gasse")])
    update_tag(world.editor, world.sid, "STRASSE", name="Weg")
    assert reload(tree[0]).path_key == "weg.haus.tür"
    update_tag(world.editor, world.sid, "weg.haus", parent="gasse", name="HÄUSSER")
    assert reload(tree[0]).path_key == "gasse.häusser.tür"
    assert get_tag(world.viewer, world.sid, "GASSE.häußer.TÜR").id == tree[0].id


def test_update_records_the_new_group_and_names_the_tag_in_the_summary(world: World) -> None:
    tag = create_tag(world.manager, world.sid, TagSpec(name="mail"))
    update_tag(world.manager, world.sid, tag.id, group="channel")
    event = events("tag", "update")[-1]
    assert event.after is not None and event.before is not None
    assert event.before["group_id"] is None
    assert event.after["group_id"] == tag.group_id is not None
    assert change_sets()[-1].summary == "Update tag mail"
