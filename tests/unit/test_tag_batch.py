"""Batch creation of grouped tags (seed 002's service): groups by any handle, identifiers
unique per group, client ids, all-or-nothing, field names, limits and permissions."""

from __future__ import annotations

import pytest

from tests.unit.factories import (
    SYSTEM,
    World,
    change_sets,
    fields,
    key_actor,
    live_tag,
    snapshot_counts,
)
from webapp.services import groups
from webapp.services.actor import Permission
from webapp.services.errors import (
    Conflict,
    LimitExceeded,
    NotFound,
    PermissionDenied,
    ServiceError,
    ValidationFailed,
)
from webapp.services.tags.batch import (
    MAX_BATCH,
    GroupedTagSpec,
    create_grouped_tags,
    find_groups,
)


@pytest.fixture
def two_groups(world: World) -> None:
    """Groups ``Priority`` (public id ``tag_group_priority``, the default of ``spec``) and
    ``severity`` in ``world.scope``, where every batch below puts its tags."""
    groups.create_group(SYSTEM, world.sid, "Priority", public_id="tag_group_priority")
    groups.create_group(SYSTEM, world.sid, "severity")


pytestmark = pytest.mark.usefixtures("two_groups")


def spec(identifier: str, label: str = "Label", group: str = "tag_group_priority",
         public_id: str | None = None) -> GroupedTagSpec:
    return GroupedTagSpec(group, identifier, label, public_id)


def test_creates_tags_in_their_groups_in_order(world: World) -> None:
    before = len(change_sets())
    made = create_grouped_tags(world.editor, world.sid, [
        spec(" high ", " High Priority "), spec("low", group="severity", public_id="tag_low"),
    ])
    assert [(t.name, t.label, t.qualified_name) for t in made] == [
        ("high", "High Priority", "Priority::high"), ("low", "Label", "severity::low"),
    ]
    assert made[0].public_id.startswith("tag_") and made[1].public_id == "tag_low"
    assert made[0].created_by_id == world.editor.user_id
    assert len(change_sets()) == before + 1  # one change set for the whole batch


def test_groups_are_found_by_integer_id_public_id_or_identifier(world: World) -> None:
    priority = groups.find_group(world.sid, "priority")
    assert priority is not None
    found = find_groups(world.sid, [str(priority.id), "tag_group_priority", "PRIORITY",
                                    "nope", "99999999999"])
    assert {handle: group.id for handle, group in found.items()} == {
        str(priority.id): priority.id, "tag_group_priority": priority.id,
        "PRIORITY": priority.id,
    }
    assert find_groups(world.other_scope.id, ["tag_group_priority", "priority"]) == {}


@pytest.mark.parametrize(("items", "error", "field"), [
    ([spec("a"), spec("b", group="unknown")], NotFound, "[1].group"),
    ([spec("a"), spec("A ")], Conflict, "[1].identifier"),
    ([spec("a", public_id="tag_x"), spec("b", public_id="tag_x")], Conflict, "[1].id"),
    ([spec("a.b")], ValidationFailed, "[0].identifier"),
    ([spec("a"), spec("b", label=" ")], ValidationFailed, "[1].label"),
    ([spec("a", public_id="no spaces")], ValidationFailed, "[0].id"),
    ([], ValidationFailed, "items"),
])
def test_a_bad_item_fails_the_whole_batch(world: World, items: list[GroupedTagSpec],
                                          error: type[ServiceError], field: str) -> None:
    before = snapshot_counts()
    with pytest.raises(error) as raised:
        create_grouped_tags(world.editor, world.sid, items)
    assert fields(raised.value) == [field]
    assert snapshot_counts() == before


@pytest.mark.parametrize(("items", "field"), [
    ([spec("HIGH")], "[0].identifier"),
    ([spec("x"), spec("high")], "[1].identifier"),
    ([spec("x", public_id="tag_high")], "[0].id"),
    ([spec("x"), spec("y", public_id="tag_high")], "[1].id"),
])
def test_clashes_with_live_tags_name_the_item(world: World, items: list[GroupedTagSpec],
                                              field: str) -> None:
    create_grouped_tags(world.editor, world.sid, [spec("high", public_id="tag_high")])
    with pytest.raises(Conflict) as raised:
        create_grouped_tags(world.editor, world.sid, items)
    assert fields(raised.value) == [field]


def test_the_same_identifier_in_two_groups_is_fine(world: World) -> None:
    create_grouped_tags(world.editor, world.sid, [spec("high"), spec("high", group="severity")])
    assert live_tag(world.sid, "priority::high") and live_tag(world.sid, "severity::high")


def test_limit_and_permissions(world: World) -> None:
    with pytest.raises(LimitExceeded):
        create_grouped_tags(world.editor, world.sid, [spec(f"t{n}") for n in range(MAX_BATCH + 1)])
    with pytest.raises(PermissionDenied):
        create_grouped_tags(world.viewer, world.sid, [spec("a")])
    with pytest.raises(PermissionDenied):
        create_grouped_tags(world.outsider, world.sid, [spec("a")])
    only_create = key_actor(world.editor, Permission.TAGS_CREATE)
    assert len(create_grouped_tags(only_create, world.sid, [spec("a")])) == 1
    [tag] = create_grouped_tags(SYSTEM, world.sid, [spec("b")])
    assert tag.created_by_id is None
