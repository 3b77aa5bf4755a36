"""Tag groups: create/update/delete, identifier uniqueness, renames that rewrite qualified
names, exclusive and allowed_types guards, counts, permissions and audit."""

from __future__ import annotations

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
)
from webapp.extensions import db
from webapp.models import Tag, TagGroup
from webapp.services import assignments, groups
from webapp.services.actor import Permission
from webapp.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from webapp.services.tags.creation import TagSpec, create_tag, create_tags
from webapp.services.tags.deletion import delete_tag, restore_tag
from webapp.services.tags.lookup import get_tag


def group_row(group_id: int) -> TagGroup:
    db.session.expire_all()
    found = db.session.get(TagGroup, group_id)
    assert found is not None
    return found


# --- create -----------------------------------------------------------------------------


def test_create_a_group(world: World) -> None:
    group = groups.create_group(
        world.manager, world.sid, " Priority ", description=" How urgent ", color="#ff8800",
        exclusive=True, allowed_types=["Table", "source", " table "],
    )
    group = group_row(group.id)
    assert (group.identifier, group.identifier_key, group.label) == (
        "Priority", "priority", "Priority",
    )
    assert (group.description, group.color, group.exclusive, group.allowed_types) == (
        "How urgent", "#FF8800", True, ["source", "table"],
    )
    assert group.public_id.startswith("tag_group_") and group.scope_id == world.sid
    assert group.created_by_id == world.manager.user_id
    [event] = events("tag_group", "create")
    assert event.object_id == group.id and event.before is None
    assert event.after is not None
    assert (event.after["identifier"], event.after["exclusive"]) == ("Priority", True)
    assert change_sets()[-1].actor_id == world.manager.user_id


def test_create_with_a_label_and_a_chosen_id(world: World) -> None:
    group = groups.create_group(world.manager, world.sid, "topic", label="Topics",
                                public_id="tag_group_topic")
    assert (group.label, group.public_id) == ("Topics", "tag_group_topic")
    assert groups.get_group(world.viewer, world.sid, "tag_group_topic").id == group.id


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"identifier": "a.b"}, "identifier"),
        ({"identifier": "a::b"}, "identifier"),
        ({"identifier": "  "}, "identifier"),
        ({"identifier": "x" * 101}, "identifier"),
        ({"identifier": "ok", "color": "orange"}, "color"),
        ({"identifier": "ok", "label": "l" * 101}, "label"),
        ({"identifier": "ok", "allowed_types": ["table", "spreadsheet"]}, "allowed_types"),
        ({"identifier": "ok", "public_id": "bad id"}, "id"),
        ({"identifier": "ok", "description": "d" * 2001}, "description"),
    ],
)
def test_create_validates(world: World, kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        groups.create_group(world.manager, world.sid, **kwargs)  # type: ignore[arg-type]
    assert fields(caught.value) == [field]
    assert count(TagGroup) == 0


def test_identifiers_and_ids_are_unique_per_scope_case_insensitively(world: World) -> None:
    groups.create_group(world.manager, world.sid, "Topic", public_id="tg_topic")
    with pytest.raises(Conflict) as caught:
        groups.create_group(world.manager, world.sid, "TOPIC")
    assert fields(caught.value) == ["identifier"]
    with pytest.raises(Conflict) as caught:
        groups.create_group(world.manager, world.sid, "other", public_id="tg_topic")
    assert fields(caught.value) == ["id"]
    assert count(TagGroup) == 1


def test_the_same_identifier_in_another_scope_is_another_group(world: World) -> None:
    mine = groups.create_group(world.manager, world.sid, "topic", public_id="tg_topic")
    theirs = groups.create_group(SYSTEM, world.other_scope.id, "Topic", public_id="tg_topic")
    assert mine.id != theirs.id
    assert groups.get_group(world.outsider, world.other_scope.id, "topic").id == theirs.id
    assert groups.get_group(world.viewer, world.sid, "TOPIC").id == mine.id


def test_only_managers_write_groups(world: World) -> None:
    for actor in (world.viewer, world.editor, world.outsider,
                  key_actor(world.manager, Permission.TAGS_WRITE)):
        with pytest.raises(PermissionDenied):
            groups.create_group(actor, world.sid, "topic")
    group = groups.create_group(key_actor(world.manager, Permission.GROUPS_WRITE), world.sid,
                                "topic")
    before = snapshot_counts()
    for actor in (world.viewer, world.editor, world.outsider):
        with pytest.raises(PermissionDenied):
            groups.update_group(actor, world.sid, group.id, label="x")
        with pytest.raises(PermissionDenied):
            groups.delete_group(actor, world.sid, group.id)
    assert snapshot_counts() == before
    # An editor still gets a plain group on the fly by naming group::path.
    create_tag(world.editor, world.sid, TagSpec("area::north"))
    area = groups.get_group(world.viewer, world.sid, "area")
    assert (area.exclusive, area.allowed_types, area.created_by_id) == (
        False, [], world.editor.user_id,
    )


# --- read -------------------------------------------------------------------------------


def test_get_group_by_any_handle(world: World) -> None:
    group = groups.create_group(world.manager, world.sid, "Priority")
    for handle in (group.id, str(group.id), group.public_id, "priority", "PRIORITY"):
        assert groups.get_group(world.viewer, world.sid, handle).id == group.id
    for missing in ("nope", 999, "999", 2**40, "99999999999999999999", "²"):
        with pytest.raises(NotFound):
            groups.get_group(world.viewer, world.sid, missing)
    with pytest.raises(PermissionDenied):
        groups.get_group(world.outsider, world.sid, group.id)
    for handle in (group.id, group.public_id, "priority"):
        with pytest.raises(NotFound):
            groups.get_group(world.outsider, world.other_scope.id, handle)


def test_a_numeric_identifier_is_found_when_no_id_matches(world: World) -> None:
    group = groups.create_group(world.manager, world.sid, "2024")
    assert groups.get_group(world.viewer, world.sid, "2024").id == group.id
    assert groups.get_group(world.viewer, world.sid, str(group.id)).id == group.id


def test_list_groups_counts_live_tags(world: World) -> None:
    groups.create_group(world.manager, world.sid, "zeta")
    groups.create_group(world.manager, world.sid, "Alpha")
    create_tags(world.editor, world.sid, [
        TagSpec("alpha::a.b"), TagSpec("alpha::c"), TagSpec("beta::x"), TagSpec("plain"),
    ])
    delete_tag(world.editor, world.sid, "alpha::c")
    rows = groups.list_groups(world.viewer, world.sid)
    assert [(row.group.identifier, row.tag_count) for row in rows] == [
        ("Alpha", 2), ("beta", 1), ("zeta", 0),
    ]
    with pytest.raises(PermissionDenied):
        groups.list_groups(world.outsider, world.sid)
    assert groups.list_groups(world.outsider, world.other_scope.id) == []


# --- update -----------------------------------------------------------------------------


def test_update_attributes_with_audit(world: World) -> None:
    group = groups.create_group(world.manager, world.sid, "topic", color="#000000")
    groups.update_group(world.manager, world.sid, "topic", label="Topics", color="#abcdef",
                        description="What it is about")
    group = group_row(group.id)
    assert (group.label, group.color, group.description) == (
        "Topics", "#ABCDEF", "What it is about",
    )
    [event] = events("tag_group", "update")
    assert event.before is not None and event.after is not None
    assert (event.before["label"], event.before["color"]) == ("topic", "#000000")
    assert (event.after["label"], event.after["color"]) == ("Topics", "#ABCDEF")
    sets = len(change_sets())
    groups.update_group(world.manager, world.sid, group.id, label="Topics")
    assert len(change_sets()) == sets  # no change, no change set
    groups.update_group(world.manager, world.sid, group.id, color=None, description=None)
    assert (group_row(group.id).color, group_row(group.id).description) == (None, None)
    with pytest.raises(ValidationFailed) as caught:
        groups.update_group(world.manager, world.sid, group.id, color="#1234")
    assert fields(caught.value) == ["color"]
    with pytest.raises(NotFound):
        groups.update_group(world.manager, world.sid, "nope", label="x")


def test_renaming_a_group_rewrites_its_tags_qualified_names(world: World) -> None:
    create_tags(world.editor, world.sid, [TagSpec("prio::high.now"), TagSpec("prio::low"),
                                               TagSpec("other::high"), TagSpec("high")])
    delete_tag(world.editor, world.sid, "prio::low")
    group = groups.update_group(world.manager, world.sid, "prio", identifier="Priority")
    assert (group.identifier, group.identifier_key) == ("Priority", "priority")
    found = get_tag(world.viewer, world.sid, "priority::HIGH.now")
    assert found.qualified_name == "Priority::high.now" and found.path == "high.now"
    with pytest.raises(NotFound):
        get_tag(world.viewer, world.sid, "prio::high.now")
    db.session.expire_all()
    assert sorted(db.session.scalars(select(Tag.path_key))) == [
        "high", "other::high", "priority::high", "priority::high.now", "priority::low",
    ]
    [event] = events("tag_group", "update")
    assert event.before is not None and event.after is not None
    assert (event.before["identifier"], event.after["identifier"]) == ("prio", "Priority")
    # The deleted tag moved with its group and can be restored under the new name.
    restore_tag(world.editor, world.sid, "priority::low")
    assert live_tag(world.sid, "priority::low") is not None
    # A case-only rename keeps the keys.
    groups.update_group(world.manager, world.sid, "priority", identifier="PRIORITY")
    assert get_tag(world.viewer, world.sid, "priority::high").qualified_name == (
        "PRIORITY::high"
    )


def test_renaming_onto_another_group_is_a_conflict(world: World) -> None:
    groups.create_group(world.manager, world.sid, "one")
    groups.create_group(world.manager, world.sid, "two")
    create_tag(world.editor, world.sid, TagSpec("one::x"))
    with pytest.raises(Conflict) as caught:
        groups.update_group(world.manager, world.sid, "one", identifier="TWO")
    assert fields(caught.value) == ["identifier"]
    assert live_tag(world.sid, "one::x") is not None
    with pytest.raises(ValidationFailed) as caught:
        groups.update_group(world.manager, world.sid, "one", identifier="a.b")
    assert fields(caught.value) == ["identifier"]


def test_making_a_group_exclusive_while_a_resource_has_two_of_its_tags(world: World) -> None:
    group = groups.create_group(world.manager, world.sid, "priority")
    assignments.attach(world.editor, world.sid, ["priority::high", "priority::low"],
                       {"table": ["t1"], "source": ["s1"]})
    assignments.attach(world.editor, world.sid, ["priority::high"], {"table": ["t2"]})
    before = snapshot_counts()
    with pytest.raises(Conflict) as caught:
        groups.update_group(world.manager, world.sid, group.id, exclusive=True)
    assert fields(caught.value) == ["exclusive"]
    assert "2 resource(s)" in caught.value.message
    assert group_row(group.id).exclusive is False
    assert snapshot_counts() == before

    assignments.detach(world.editor, world.sid, ["priority::low"], {"table": ["t1"],
                                                                    "source": ["s1"]})
    groups.update_group(world.manager, world.sid, group.id, exclusive=True)
    assert group_row(group.id).exclusive is True
    groups.update_group(world.manager, world.sid, group.id, exclusive=False)
    assert group_row(group.id).exclusive is False


def test_narrowing_allowed_types_while_links_disagree(world: World) -> None:
    group = groups.create_group(world.manager, world.sid, "pii")
    assignments.attach(world.editor, world.sid, ["pii::email"],
                       {"column": ["c1", "c2"], "table": ["t1"]})
    before = snapshot_counts()
    with pytest.raises(Conflict) as caught:
        groups.update_group(world.manager, world.sid, group.id, allowed_types=["column"])
    assert fields(caught.value) == ["allowed_types"]
    assert "1 table" in caught.value.message and "e.g. table:t1;" in caught.value.message
    assert group_row(group.id).allowed_types == []
    assert snapshot_counts() == before

    groups.update_group(world.manager, world.sid, group.id, allowed_types=["column", "table"])
    assert group_row(group.id).allowed_types == ["column", "table"]
    with pytest.raises(ValidationFailed) as caught:
        groups.update_group(world.manager, world.sid, group.id, allowed_types=["nope"])
    assert fields(caught.value) == ["allowed_types"]
    groups.update_group(world.manager, world.sid, group.id, allowed_types=[])
    assert group_row(group.id).allowed_types == []


# --- delete -----------------------------------------------------------------------------


def test_deleting_a_group_with_live_tags_is_a_conflict(world: World) -> None:
    group = groups.create_group(world.manager, world.sid, "topic")
    create_tags(world.editor, world.sid, [TagSpec("topic::news"), TagSpec("topic::old")])
    delete_tag(world.editor, world.sid, "topic::old")
    before = snapshot_counts()
    with pytest.raises(Conflict, match="1 tag"):
        groups.delete_group(world.manager, world.sid, group.id)
    assert snapshot_counts() == before

    delete_tag(world.editor, world.sid, "topic::news")
    groups.delete_group(world.manager, world.sid, "TOPIC")
    assert count(TagGroup) == 0
    [event] = events("tag_group", "delete")
    assert event.before is not None and event.before["identifier"] == "topic"
    assert event.after is None
    # The deleted tags survive, ungrouped, and can come back as plain tags.
    db.session.expire_all()
    assert sorted((t.path_key, t.group_id) for t in db.session.scalars(select(Tag))) == [
        ("news", None), ("old", None),
    ]
    restore_tag(world.editor, world.sid, "news")
    assert get_tag(world.viewer, world.sid, "news").qualified_name == "news"
    with pytest.raises(NotFound):
        groups.delete_group(world.manager, world.sid, "topic")
