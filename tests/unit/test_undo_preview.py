"""What an undo would do, counted before it is done (the undo buttons' confirmation)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.factories import World, change_sets, external_ids, links
from webapp.services import assignments, groups, undo
from webapp.services.errors import Conflict, PermissionDenied
from webapp.services.tags import bulk as tag_bulk
from webapp.services.tags.creation import TagSpec, create_tags
from webapp.services.tags.deletion import bulk_delete_tags
from webapp.services.tags.hierarchy import update_tag
from webapp.services.undo import UndoPreview, preview_undo, preview_undos


def test_the_preview_counts_what_the_undo_then_does(world: World) -> None:
    sid = world.sid
    assignments.attach(world.editor, sid, ["red", "blue"], {"node": external_ids(3)})
    made = change_sets()[-1]
    preview = preview_undo(world.editor, sid, made.id)
    assert (preview.links_removed, preview.links_restored) == (6, 0)
    assert preview.text == "Remove 6 links, delete 2 tags"  # the attach created them
    before = len(links(sid))
    undo.undo_change_set(world.editor, sid, made.id)
    assert before - len(links(sid)) == 6


def test_merge_and_delete_previews(world: World) -> None:
    sid = world.sid
    create_tags(world.editor, sid, [TagSpec("a.child"), TagSpec("b"), TagSpec("keep")])
    assignments.attach(world.editor, sid, ["a"], {"node": external_ids(3)})
    assignments.attach(world.editor, sid, ["b"], {"node": external_ids(2, 2)})
    tag_bulk.merge_into(world.editor, sid, ["a", "b"], "keep")
    merged = change_sets()[-1]
    # keep gets n0..n3 (4 links), a and b lose theirs (5), a and b come back, a.child
    # (moved under keep) goes back under a.
    assert preview_undo(world.editor, sid, merged.id).text == (
        "Remove 4 links, restore 5 links, restore 2 tags, change 1 tag back")
    undo.undo_change_set(world.editor, sid, merged.id)
    outcome = bulk_delete_tags(world.editor, sid, ["b", "keep"])
    assert len(outcome.deleted) == 2
    assert preview_undo(world.editor, sid, change_sets()[-1].id).text == "Restore 2 tags"


def test_group_changes_and_plurals(world: World) -> None:
    sid = world.sid
    groups.create_group(world.manager, sid, "zone")
    assert preview_undo(world.manager, sid, change_sets()[-1].id).text == "Delete 1 group"
    create_tags(world.editor, sid, [TagSpec("x")])
    update_tag(world.editor, sid, "x", label="Ex")
    assert preview_undo(world.editor, sid, change_sets()[-1].id).text == "Change 1 tag back"
    assert UndoPreview(1, 1, 1200, {}).text == "Remove 1 link, restore 1,200 links"
    assert UndoPreview(1, 0, 0, {}).text.startswith("Nothing to put back")


def test_preview_refuses_what_undo_refuses_and_writes_nothing(world: World) -> None:
    sid = world.sid
    create_tags(world.editor, sid, [TagSpec("x")])
    made = change_sets()[-1]
    with pytest.raises(PermissionDenied):
        preview_undo(world.viewer, sid, made.id)
    count = len(change_sets())
    preview_undo(world.editor, sid, made.id)
    assert len(change_sets()) == count and made.reverted_by_id is None
    undo.undo_change_set(world.editor, sid, made.id)
    with pytest.raises(Conflict, match="already undone"):
        preview_undo(world.editor, sid, made.id)
    with pytest.raises(Conflict, match="an undo cannot be undone"):
        preview_undo(world.editor, sid, change_sets()[-1].id)


def test_many_previews_cost_three_statements(world: World, count_queries: Any) -> None:
    sid = world.sid
    for n in range(5):
        assignments.attach(world.editor, sid, [f"t{n}"], {"node": external_ids(n + 1)})
    made = change_sets()[-5:]  # loaded: only the previews' own statements are counted
    preview_undos(world.viewer, sid, made[:1])  # and the actor's role, read once
    with count_queries() as one:
        preview_undos(world.viewer, sid, made[:1])
    with count_queries() as five:
        found = preview_undos(world.viewer, sid, made)
    assert one.count == five.count == 3
    assert [found[cs.id].links_removed for cs in made] == [1, 2, 3, 4, 5]
    assert preview_undos(world.outsider, world.other_scope.id, made) == {}  # not its scope's
