"""Deprecation (issue 13 §2): deprecate / un-deprecate with the replacement's rules, the
audit trail and undo round trips, pickers leaving deprecated tags out, and "replace
everywhere" — its preview agreeing with what it does, its group rules, its undo, and its
statements not growing with the number of links."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.unit.factories import (
    SYSTEM,
    World,
    change_sets,
    events,
    external_ids,
    links,
)
from webapp.extensions import db
from webapp.models import Tag
from webapp.services import assignments, groups, undo
from webapp.services.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    TagDeprecated,
    ValidationFailed,
)
from webapp.services.tags.creation import Provenance, TagSpec, create_tag, create_tags
from webapp.services.tags.deletion import delete_tag, restore_tag
from webapp.services.tags.deprecation import (
    deprecate_tag,
    preview_replace_everywhere,
    replace_everywhere,
    undeprecate_tag,
)
from webapp.services.tags.lookup import Reading, find_tag
from webapp.services.tags.merge import merge_tags
from webapp.services.tags.queries import TagFilter, list_tags, move_targets, search_tags


def tag(sid: int, path: str) -> Tag:
    found = find_tag(sid, path)
    assert found is not None, path
    db.session.refresh(found)
    return found


def fields(error: pytest.ExceptionInfo[Any]) -> list[str]:
    return [detail.field for detail in error.value.details]


def undo_last(world: World) -> None:
    undo.undo_change_set(world.editor, world.sid, change_sets()[-1].id)


@pytest.fixture
def colours(world: World) -> World:
    """``colour.red`` (to deprecate), ``colour.crimson`` (its replacement), ``shade``."""
    create_tags(SYSTEM, world.sid, [TagSpec("colour.red"), TagSpec("colour.crimson"),
                                    TagSpec("shade")])
    return world


# --- deprecate and un-deprecate ---------------------------------------------------------


def test_deprecate_with_a_replacement_is_audited_and_undone(colours: World) -> None:
    sid = colours.sid
    deprecate_tag(colours.editor, sid, "colour.red", "colour.crimson")
    red = tag(sid, "colour.red")
    assert red.deprecated_at is not None and red.replacement_id == tag(sid, "colour.crimson").id
    cs = change_sets()[-1]
    assert cs.summary == "Deprecate colour.red (use colour.crimson)"
    [event] = events("tag", "deprecate")
    assert event.before == {"deprecated": False, "deprecated_at": None,
                            "replacement_id": None, "replacement": None}
    assert event.after is not None and event.after["replacement"] == "colour.crimson"
    assert event.after["deprecated"] is True

    preview = undo.preview_undo(colours.editor, sid, cs.id)
    assert preview.text == "Put back the deprecation of 1 tag"
    undo_last(colours)
    red = tag(sid, "colour.red")
    assert red.deprecated_at is None and red.replacement_id is None
    assert events("tag", "undo deprecate")[0].after["deprecated"] is False


def test_undeprecate_is_audited_and_its_undo_deprecates_again(colours: World) -> None:
    sid = colours.sid
    deprecate_tag(colours.editor, sid, "colour.red", "colour.crimson")
    since = tag(sid, "colour.red").deprecated_at
    undeprecate_tag(colours.editor, sid, "colour.red")
    red = tag(sid, "colour.red")
    assert red.deprecated_at is None and red.replacement_id is None
    assert change_sets()[-1].summary == "Un-deprecate colour.red"
    assert undo.preview_undo(colours.editor, sid, change_sets()[-1].id).text == \
        "Deprecate 1 tag again"
    undo_last(colours)
    red = tag(sid, "colour.red")
    assert red.deprecated_at == since  # the same deprecation, not a new one
    assert red.replacement_id == tag(sid, "colour.crimson").id


def test_changing_the_replacement_keeps_the_deprecation_time(colours: World) -> None:
    sid = colours.sid
    deprecate_tag(colours.editor, sid, "colour.red", "colour.crimson")
    since = tag(sid, "colour.red").deprecated_at
    deprecate_tag(colours.editor, sid, "colour.red", "shade", reading=Reading.NAME)
    red = tag(sid, "colour.red")
    assert red.deprecated_at == since and red.replacement_id == tag(sid, "shade").id
    deprecate_tag(colours.editor, sid, "colour.red")  # UNSET: keeps it
    assert tag(sid, "colour.red").replacement_id == tag(sid, "shade").id
    before = len(change_sets())
    deprecate_tag(colours.editor, sid, "colour.red", "shade")  # no change: no change set
    assert len(change_sets()) == before
    deprecate_tag(colours.editor, sid, "colour.red", None)  # none
    assert tag(sid, "colour.red").replacement_id is None
    undo_last(colours)
    assert tag(sid, "colour.red").replacement_id == tag(sid, "shade").id


@pytest.mark.parametrize(("replacement", "field", "error"), [
    ("colour.red", "replacement", ValidationFailed),  # itself
    ("nowhere", "replacement", ValidationFailed),  # no such tag
    ("colour.old", "replacement", ValidationFailed),  # deprecated itself
])
def test_a_replacement_must_be_a_live_tag_other_than_itself_and_not_deprecated(
        colours: World, replacement: str, field: str, error: type[Exception]) -> None:
    sid = colours.sid
    create_tag(SYSTEM, sid, TagSpec("colour.old"))
    deprecate_tag(colours.editor, sid, "colour.old")
    with pytest.raises(error) as raised:
        deprecate_tag(colours.editor, sid, "colour.red", replacement)
    assert fields(raised) == [field]
    assert tag(sid, "colour.red").deprecated_at is None


def test_a_deleted_tag_cannot_replace_and_another_scope_is_unknown(colours: World) -> None:
    sid = colours.sid
    delete_tag(colours.editor, sid, "shade")
    with pytest.raises(ValidationFailed):
        deprecate_tag(colours.editor, sid, "colour.red", "shade")
    theirs = create_tag(SYSTEM, colours.other_scope.id, TagSpec("elsewhere"))
    with pytest.raises(ValidationFailed):
        deprecate_tag(colours.editor, sid, "colour.red", theirs.id)
    with pytest.raises(NotFound):
        deprecate_tag(colours.editor, sid, theirs.id)


def test_an_ancestor_or_a_descendant_may_replace(colours: World) -> None:
    sid = colours.sid
    deprecate_tag(colours.editor, sid, "colour", "colour.crimson")
    assert tag(sid, "colour").replacement_id == tag(sid, "colour.crimson").id
    deprecate_tag(colours.editor, sid, "colour.red", "shade")
    assert tag(sid, "colour.red").deprecated_at is not None


def test_permissions_and_protected_tags(colours: World) -> None:
    sid = colours.sid
    with pytest.raises(PermissionDenied):
        deprecate_tag(colours.viewer, sid, "colour.red")
    with pytest.raises(PermissionDenied):
        undeprecate_tag(colours.viewer, sid, "colour.red")
    create_tags(SYSTEM, sid, [TagSpec("locked")], Provenance(protected=True))
    with pytest.raises(PermissionDenied):
        deprecate_tag(colours.editor, sid, "locked")
    deprecate_tag(SYSTEM, sid, "locked")  # the system may
    with pytest.raises(PermissionDenied):
        undeprecate_tag(colours.editor, sid, "locked")


def test_deprecating_a_replacement_passes_the_role_on(colours: World) -> None:
    """A replacement is never deprecated: the tags naming it name its own replacement
    instead, in the same change set, and the undo puts everything back."""
    sid = colours.sid
    create_tag(SYSTEM, sid, TagSpec("colour.scarlet"))
    deprecate_tag(colours.editor, sid, "colour.red", "colour.crimson")
    deprecate_tag(colours.editor, sid, "colour.scarlet", "colour.crimson")
    deprecate_tag(colours.editor, sid, "colour.crimson", "shade")
    shade = tag(sid, "shade").id
    assert tag(sid, "colour.red").replacement_id == shade
    assert tag(sid, "colour.scarlet").replacement_id == shade
    assert len(change_sets()[-1].events) == 3
    undo_last(colours)
    crimson = tag(sid, "colour.crimson")
    assert crimson.deprecated_at is None
    assert tag(sid, "colour.red").replacement_id == crimson.id
    assert tag(sid, "colour.scarlet").replacement_id == crimson.id
    # Without a replacement of its own, they name none.
    deprecate_tag(colours.editor, sid, "colour.crimson")
    assert tag(sid, "colour.red").replacement_id is None
    assert tag(sid, "colour.red").deprecated_at is not None


def test_an_undo_that_would_make_a_chain_is_refused(colours: World) -> None:
    sid = colours.sid
    deprecate_tag(colours.editor, sid, "shade")
    undeprecate_tag(colours.editor, sid, "shade")
    undeprecated = change_sets()[-1].id
    deprecate_tag(colours.editor, sid, "colour.red", "shade")
    with pytest.raises(Conflict, match=r"replacement of 'colour\.red'"):
        undo.undo_change_set(colours.editor, sid, undeprecated)


def test_a_deleted_replacement_counts_as_none_until_restored(colours: World) -> None:
    sid = colours.sid
    assignments.attach(SYSTEM, sid, ["colour.red"], {"node": ["n1"]})
    deprecate_tag(colours.editor, sid, "colour.red", "colour.crimson")
    delete_tag(colours.editor, sid, "colour.crimson")
    red = tag(sid, "colour.red")
    assert red.replacement_id is not None  # still named
    with pytest.raises(Conflict, match="was deleted"):
        replace_everywhere(colours.editor, sid, "colour.red")
    with pytest.raises(TagDeprecated) as refused:
        assignments.attach(colours.editor, sid, ["colour.red"], {"node": ["n2"]})
    assert "instead" not in refused.value.message
    restore_tag(colours.editor, sid, "colour.crimson")
    assert preview_replace_everywhere(colours.editor, sid, "colour.red").links == 1


def test_a_replacement_merged_away_hands_the_role_to_the_kept_tag(colours: World) -> None:
    sid = colours.sid
    create_tag(SYSTEM, sid, TagSpec("colour.scarlet"))
    deprecate_tag(colours.editor, sid, "colour.red", "colour.crimson")
    deprecate_tag(colours.editor, sid, "colour.scarlet", "colour.crimson")
    crimson = tag(sid, "colour.crimson").id
    merge_tags(colours.manager, sid, "colour.crimson", "shade")
    shade = tag(sid, "shade").id
    assert tag(sid, "colour.red").replacement_id == shade
    assert tag(sid, "colour.scarlet").replacement_id == shade
    assert attach_refusal(colours, "colour.red").endswith("use 'shade' instead")
    undo.undo_change_set(colours.manager, sid, change_sets()[-1].id)
    assert tag(sid, "colour.crimson").deleted_at is None
    assert {tag(sid, path).replacement_id for path in ("colour.red", "colour.scarlet")} == {
        crimson}
    # Merged into a deprecated tag, they name none (a replacement is never deprecated).
    deprecate_tag(colours.editor, sid, "shade")
    merge_tags(colours.manager, sid, "colour.crimson", "shade")
    assert tag(sid, "colour.red").replacement_id is None


def attach_refusal(world: World, name: str) -> str:
    with pytest.raises(TagDeprecated) as refused:
        assignments.attach(world.editor, world.sid, [name], {"node": ["n9"]})
    return refused.value.message


def test_attach_refuses_a_deprecated_tag_naming_its_replacement(colours: World) -> None:
    sid = colours.sid
    deprecate_tag(colours.editor, sid, "colour.red", "colour.crimson")
    with pytest.raises(TagDeprecated, match=r"colour\.crimson"):
        assignments.attach(colours.editor, sid, ["colour.red"], {"node": ["n1"]})


# --- pickers ----------------------------------------------------------------------------


def test_pickers_leave_deprecated_tags_out_and_lists_keep_them(colours: World) -> None:
    sid = colours.sid
    deprecate_tag(colours.editor, sid, "colour.red")
    picked = search_tags(colours.viewer, sid, TagFilter(search="colour",
                                                        exclude_deprecated=True))
    assert [t.path for t in picked] == ["colour", "colour.crimson"]
    listed = list_tags(colours.viewer, sid, TagFilter(search="colour"))
    assert [row.tag.path for row in listed.items] == ["colour", "colour.crimson", "colour.red"]
    targets = move_targets(colours.viewer, sid, tag(sid, "shade"), "colour")
    assert [t.path for t in targets] == ["colour", "colour.crimson"]


# --- replace everywhere -----------------------------------------------------------------


def _carry(sid: int, path: str, nodes: list[str]) -> None:
    assignments.attach(SYSTEM, sid, [path], {"node": nodes})


def test_replace_everywhere_previews_then_moves_every_link(colours: World) -> None:
    sid = colours.sid
    _carry(sid, "colour.red", ["n1", "n2", "n3"])
    _carry(sid, "colour.crimson", ["n3", "n4"])
    deprecate_tag(colours.editor, sid, "colour.red", "colour.crimson")
    before = links(sid)
    counts = preview_replace_everywhere(colours.editor, sid, "colour.red")
    assert (counts.links_to_move, counts.already_on_replacement, counts.replaced_in_group) \
        == (2, 1, 0)
    assert links(sid) == before  # a preview writes nothing
    done = replace_everywhere(colours.editor, sid, "colour.red")
    assert done.counts == counts
    assert done.change_set_id == change_sets()[-1].id
    assert change_sets()[-1].summary == "Replace colour.red with colour.crimson everywhere"
    assert links(sid) == {("colour.crimson", "node", f"n{n}") for n in range(1, 5)}
    assert tag(sid, "colour.red").deprecated_at is not None  # still there, deprecated
    moved = events("assignments", "replace everywhere")
    assert [e.object_id for e in moved] == [tag(sid, "colour.red").id,
                                            tag(sid, "colour.crimson").id]
    assert moved[1].after == {"tag": "colour.crimson", "replaces": "colour.red",
                              "links_added": 2}
    # One undoable change set: the undo puts the links back as they were.
    preview = undo.preview_undo(colours.editor, sid, done.change_set_id)
    assert preview.text == "Remove 2 links, restore 3 links"
    undo_last(colours)
    assert links(sid) == before


def test_replace_everywhere_applies_the_exclusive_group(world: World) -> None:
    sid = world.sid
    groups.create_group(world.manager, sid, "priority", exclusive=True)
    create_tags(SYSTEM, sid, [TagSpec("priority::urgent"), TagSpec("priority::low"),
                              TagSpec("priority::p1"), TagSpec("legacy")])
    _carry(sid, "legacy", ["a", "b", "c"])
    _carry(sid, "priority::low", ["a", "b"])
    _carry(sid, "priority::urgent", ["c"])
    _carry(sid, "priority::p1", ["d"])
    deprecate_tag(world.editor, sid, "legacy", "priority::urgent")
    before = links(sid)
    counts = preview_replace_everywhere(world.editor, sid, "legacy")
    assert (counts.links_to_move, counts.already_on_replacement, counts.replaced_in_group) \
        == (2, 1, 2)
    done = replace_everywhere(world.editor, sid, "legacy")
    assert done.counts == counts
    assert links(sid) == {("priority::urgent", "node", n) for n in "abc"} | {
        ("priority::p1", "node", "d")}
    [rival] = events("assignments", "replace")
    assert rival.after == {"tag": "priority::low", "resources": 2}
    undo_last(world)
    assert links(sid) == before
    # A deprecated tag of the same exclusive group: its own links just move.
    deprecate_tag(world.editor, sid, "priority::p1", "priority::urgent")
    counts = preview_replace_everywhere(world.editor, sid, "priority::p1")
    assert (counts.links_to_move, counts.already_on_replacement, counts.replaced_in_group) \
        == (1, 0, 0)
    replace_everywhere(world.editor, sid, "priority::p1")
    assert ("priority::urgent", "node", "d") in links(sid)


def test_replace_everywhere_refusals(colours: World) -> None:
    sid = colours.sid
    with pytest.raises(Conflict, match="not deprecated"):
        replace_everywhere(colours.editor, sid, "colour.red")
    deprecate_tag(colours.editor, sid, "colour.red")
    with pytest.raises(Conflict, match="no replacement"):
        preview_replace_everywhere(colours.editor, sid, "colour.red")
    with pytest.raises(Conflict, match="no replacement"):
        replace_everywhere(colours.editor, sid, "colour.red")
    deprecate_tag(colours.editor, sid, "colour.red", "shade")
    with pytest.raises(PermissionDenied):
        replace_everywhere(colours.viewer, sid, "colour.red")
    with pytest.raises(PermissionDenied):
        preview_replace_everywhere(colours.viewer, sid, "colour.red")
    # No links: nothing to do, no change set.
    before = len(change_sets())
    done = replace_everywhere(colours.editor, sid, "colour.red")
    assert done.change_set_id is None and done.counts.links == 0
    assert len(change_sets()) == before


def test_replace_everywhere_refuses_a_type_the_replacement_group_does_not_allow(
        world: World) -> None:
    sid = world.sid
    groups.create_group(world.manager, sid, "docs", allowed_types=["file"])
    create_tags(SYSTEM, sid, [TagSpec("docs::manual"), TagSpec("old")])
    _carry(sid, "old", ["n1"])
    deprecate_tag(world.editor, sid, "old", "docs::manual")
    before = links(sid)
    with pytest.raises(Conflict, match="node"):
        preview_replace_everywhere(world.editor, sid, "old")
    with pytest.raises(Conflict, match="node"):
        replace_everywhere(world.editor, sid, "old")
    assert links(sid) == before


def test_replace_everywhere_costs_the_same_statements_for_10_and_1000_links(
        world: World, count_queries: Any) -> None:
    sid = world.sid
    groups.create_group(world.manager, sid, "tier", exclusive=True)

    def replace(prefix: str, number: int) -> tuple[int, int]:
        create_tags(SYSTEM, sid, [TagSpec(f"{prefix}old"), TagSpec(f"tier::{prefix}new"),
                                  TagSpec(f"tier::{prefix}rival")])
        ids = external_ids(number, start=len(prefix) * 10_000)
        assignments.attach(SYSTEM, sid, [f"{prefix}old"], {"node": ids})
        assignments.attach(SYSTEM, sid, [f"tier::{prefix}rival"], {"node": ids[::2]})
        deprecate_tag(world.editor, sid, f"{prefix}old", f"tier::{prefix}new")
        preview = cost(count_queries, lambda: preview_replace_everywhere(
            world.editor, sid, f"{prefix}old"))
        spent = cost(count_queries, lambda: replace_everywhere(world.editor, sid,
                                                               f"{prefix}old"))
        assert ("tier::" + prefix + "new", "node", ids[-1]) in links(sid)
        return preview, spent

    small, large = replace("s", 10), replace("large", 1000)
    assert small == large
    assert small[0] <= 5 and small[1] <= 16


def cost(count_queries: Any, call: Callable[[], object]) -> int:
    db.session.expire_all()
    with count_queries() as counter:
        call()
    return counter.count
