"""Bulk delete, bulk move and merge are set-based: the statements they send do not grow
with the number of tags, and the rules are those of one tag at a time (protected tags,
``deleteHierarchy``, clashes, cycles, group rules, one change set, undo)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from tests.unit.factories import (
    SYSTEM,
    World,
    change_sets,
    events,
    links,
    tag_state,
)
from webapp.extensions import db
from webapp.models import Tag
from webapp.services import assignments, groups, undo
from webapp.services.actor import Actor
from webapp.services.errors import Conflict, PermissionDenied, ValidationFailed
from webapp.services.tags import bulk as tag_bulk
from webapp.services.tags.creation import Provenance, TagSpec, create_tag, create_tags
from webapp.services.tags.deletion import bulk_delete_tags
from webapp.services.tags.hierarchy import update_tag
from webapp.services.tags.lookup import find_live_tags, find_tag


def cost(count_queries: Any, call: Callable[[], object]) -> int:
    """Statements ``call`` sends, from a cold session."""
    db.session.expire_all()
    with count_queries() as counter:
        call()
    return counter.count


def undo_last(world: World) -> None:
    undo.undo_change_set(world.editor, world.sid, change_sets()[-1].id)


# --- statement counts -----------------------------------------------------------------


def test_bulk_delete_costs_the_same_statements_for_10_and_200_tags(
        world: World, count_queries: Any) -> None:
    sid, editor_id = world.sid, world.editor.user_id

    def delete(prefix: str, number: int, hierarchy: bool) -> int:
        create_tags(SYSTEM, sid, [TagSpec(f"{prefix}{n}.child") for n in range(number)])
        handles: list[int | str] = [f"{prefix}{n}" if hierarchy else f"{prefix}{n}.child"
                                    for n in range(number)]
        actor = Actor(user_id=editor_id)
        spent = cost(count_queries, lambda: bulk_delete_tags(
            actor, sid, [*handles, f"{prefix}-missing"], hierarchy=hierarchy))
        gone = (2 if hierarchy else 1) * number
        assert len(events("tag", "delete")) >= gone
        return spent

    assert delete("leaf_s", 10, False) == delete("leaf_l", 200, False)
    assert delete("tree_s", 10, True) == delete("tree_l", 200, True)
    assert delete("leaf_s", 10, False) <= 10


def test_bulk_move_costs_the_same_statements_for_10_and_200_tags(
        world: World, count_queries: Any) -> None:
    sid, editor_id = world.sid, world.editor.user_id
    groups.create_group(world.manager, sid, "kind", exclusive=True,
                        allowed_types=["node", "file"])

    def move(prefix: str, number: int) -> int:
        create_tags(SYSTEM, sid, [TagSpec(f"{prefix}{n}.child.leaf")
                                       for n in range(number)]
                         + [TagSpec(f"kind::{prefix}dest")])
        for n in range(number):
            assignments.attach(SYSTEM, sid, [f"{prefix}{n}.child"], {"node": [f"{prefix}{n}"]})
        movers = [tag.id for tag in find_live_tags(sid, [f"{prefix}{n}"
                                                               for n in range(number)]) if tag]
        actor = Actor(user_id=editor_id)
        spent = cost(count_queries, lambda: tag_bulk.move_tags(
            actor, sid, movers, f"kind::{prefix}dest"))
        assert find_tag(sid, f"kind::{prefix}dest.{prefix}{number - 1}.child.leaf")
        return spent

    assert move("s", 10) == move("l", 200)


def test_merge_costs_the_same_statements_for_10_and_200_tags(
        world: World, count_queries: Any) -> None:
    sid, editor_id = world.sid, world.editor.user_id
    groups.create_group(world.manager, sid, "level", exclusive=True)

    def merge(prefix: str, number: int) -> int:
        names = [f"{prefix}{n}" for n in range(number)]
        create_tags(SYSTEM, sid, [TagSpec(f"{name}.child{name}") for name in names]
                         + [TagSpec(f"level::{prefix}keep"), TagSpec(f"level::{prefix}low")])
        for n, name in enumerate(names):
            assignments.attach(SYSTEM, sid, [name], {"node": [f"{prefix}{n}", f"{prefix}x"]})
        assignments.attach(SYSTEM, sid, [f"level::{prefix}low"], {"node": [f"{prefix}0"]})
        actor = Actor(user_id=editor_id)
        handles = [tag.id for tag in find_live_tags(sid, names) if tag is not None]
        spent = cost(count_queries, lambda: tag_bulk.merge_into(
            actor, sid, handles, f"level::{prefix}keep"))
        carried = {(key, ext) for key, _, ext in links(sid)
                   if key.startswith(f"level::{prefix}")}
        assert carried == {(f"level::{prefix}keep", f"{prefix}{n}") for n in range(number)} | {
            (f"level::{prefix}keep", f"{prefix}x")}
        return spent

    assert merge("s", 10) == merge("l", 200)


# --- bulk delete ------------------------------------------------------------------------


def test_bulk_delete_judges_the_handles_in_the_order_given(world: World) -> None:
    sid = world.sid
    create_tags(world.editor, sid, [TagSpec("p.c"), TagSpec("q.c")])
    # A parent after its last live child may go; before it, it is refused.
    first = bulk_delete_tags(world.editor, sid, ["p.c", "p", "q", "q.c"])
    assert [t.path for t in first.deleted] == ["p.c", "p", "q.c"]
    assert (first.refused, first.not_found) == (["q"], [])
    assert [row[1] for row in tag_state(sid)] == ["q"]


def test_bulk_delete_refuses_hierarchies_holding_a_protected_tag(world: World) -> None:
    sid = world.sid
    create_tags(world.editor, sid, [TagSpec("open.a"), TagSpec("locked.a")])
    create_tag(SYSTEM, sid, TagSpec("locked.a.pii"), Provenance(protected=True))
    outcome = bulk_delete_tags(world.editor, sid, ["locked", "open", "open.a"],
                                    hierarchy=True)
    assert [t.path for t in outcome.deleted] == ["open", "open.a"]
    assert outcome.refused == ["locked"] and outcome.not_found == []
    # Without the hierarchy a tag with live children is refused, protected or not.
    assert bulk_delete_tags(world.editor, sid, ["locked.a"]).refused == ["locked.a"]
    by_system = bulk_delete_tags(SYSTEM, sid, ["locked.a", "locked"], hierarchy=True)
    assert [t.path for t in by_system.deleted] == ["locked.a", "locked.a.pii", "locked"]
    assert tag_state(sid) == []


def test_a_bulk_delete_is_one_change_set_and_undone_in_one_step(world: World) -> None:
    sid = world.sid
    create_tags(world.editor, sid, [TagSpec(f"t{n}.c{m}") for n in range(20)
                                         for m in range(3)])
    assignments.attach(world.editor, sid, ["t1.c1"], {"node": ["n1"]})
    before, linked = tag_state(sid), links(sid)
    outcome = bulk_delete_tags(world.editor, sid, [f"t{n}" for n in range(20)],
                                    hierarchy=True)
    assert len(outcome.deleted) == 80 and tag_state(sid) == []
    assert {e.change_set_id for e in events("tag", "delete")} == {change_sets()[-1].id}
    undo_last(world)
    assert tag_state(sid) == before and links(sid) == linked


# --- bulk move --------------------------------------------------------------------------


def test_bulk_move_of_nested_tags_and_its_undo(world: World) -> None:
    sid = world.sid
    create_tags(world.editor, sid, [TagSpec("a.b.c"), TagSpec("a.d"),
                                         TagSpec("zone::dest")])
    before = tag_state(sid)
    a, b = (find_tag(sid, path) for path in ("a", "a.b"))
    assert a is not None and b is not None
    moved = tag_bulk.move_tags(world.editor, sid, [b.id, a.id, b.id], "zone::dest")
    assert [(m.path, m.parent_id) for m in moved] == [("dest.b", moved[1].parent_id),
                                                      ("dest.a", moved[1].parent_id),
                                                      ("dest.b", moved[1].parent_id)]
    assert [row[:3] for row in tag_state(sid)] == [
        ("zone::dest", "dest", 0), ("zone::dest.a", "dest.a", 1),
        ("zone::dest.a.d", "dest.a.d", 2), ("zone::dest.b", "dest.b", 1),
        ("zone::dest.b.c", "dest.b.c", 2)]
    updates = events("tag", "update")
    assert [(e.before["path"], e.after["path"]) for e in updates] == [
        ("a.b", "dest.b"), ("a", "dest.a")]
    assert {e.change_set_id for e in updates} == {change_sets()[-1].id}
    undo_last(world)
    assert tag_state(sid) == before
    # To the top level, the group stays.
    moved = tag_bulk.move_tags(world.editor, sid, ["a.b", "zone::dest"], None)
    assert [m.path for m in moved] == ["b", "dest"]
    assert find_tag(sid, "b.c") is not None


def test_bulk_move_refusals_change_nothing(world: World) -> None:
    sid = world.sid
    create_tags(world.editor, sid, [TagSpec("x.same"), TagSpec("y.same"),
                                         TagSpec("dest.taken"), TagSpec("other.taken"),
                                         TagSpec("deep.er")])
    create_tag(SYSTEM, sid, TagSpec("guarded.pii"), Provenance(protected=True))
    create_tag(SYSTEM, sid, TagSpec("locked"), Provenance(protected=True))
    groups.create_group(world.manager, sid, "files", allowed_types=["file"])
    create_tag(world.editor, sid, TagSpec("files::box"))
    assignments.attach(world.editor, sid, ["y.same"], {"node": ["n1"]})
    state = tag_state(sid)
    cases: list[tuple[list[int | str], str, type[Exception], str]] = [
        (["x.same", "y.same"], "dest", Conflict, "y.same: "),  # two movers, one name
        (["other.taken"], "dest", Conflict, "other.taken: "),  # a sibling has it
        (["deep"], "deep.er", ValidationFailed, "deep: "),  # a cycle
        (["guarded"], "dest", PermissionDenied, "guarded: "),  # a protected descendant
        (["x", "locked"], "dest", PermissionDenied, "locked: "),
        (["y.same"], "files::box", Conflict, "y.same: "),  # the group allows files only
        (["x", "nowhere"], "dest", Exception, "nowhere: "),
    ]
    for handles, parent, kind, named in cases:
        with pytest.raises(kind) as caught:
            tag_bulk.move_tags(world.editor, sid, handles, parent)
        assert caught.value.message.startswith(named), caught.value.message
        assert caught.value.details[0].field == "parent"
        assert tag_state(sid) == state


# --- merge ------------------------------------------------------------------------------


def test_merge_of_many_sources_and_its_undo(world: World) -> None:
    sid = world.sid
    create_tags(world.editor, sid, [TagSpec("a.x"), TagSpec("a.z.w"), TagSpec("b.y"),
                                         TagSpec("keep.k")])
    assignments.attach(world.editor, sid, ["a"], {"node": ["n1", "n2"]})
    assignments.attach(world.editor, sid, ["b"], {"node": ["n2", "n3"]})
    assignments.attach(world.editor, sid, ["keep"], {"node": ["n3"]})
    assignments.attach(world.editor, sid, ["a.z"], {"file": ["f1"]})
    before, linked = tag_state(sid), links(sid)
    outcome = tag_bulk.merge_into(world.editor, sid, ["a", "b", "keep", "a.z", "a"], "keep")
    assert outcome.kept.path == "keep" and outcome.count == 3
    assert change_sets()[-1].summary == "Merge 3 tags into keep"
    assert [row[1] for row in tag_state(sid)] == ["keep", "keep.k", "keep.w", "keep.x",
                                                  "keep.y"]
    assert {(key, ext) for key, _, ext in links(sid)} == {
        ("keep", "n1"), ("keep", "n2"), ("keep", "n3"), ("keep", "f1")}
    merged = events("assignments", "merge")
    assert [(e.after["from"], e.after["links_added"]) for e in merged] == [
        ("a", 2), ("b", 0), ("a.z", 1)]
    assert {e.change_set_id for e in merged} == {change_sets()[-1].id}
    undo_last(world)
    assert tag_state(sid) == before and links(sid) == linked


def test_merge_refusals_change_nothing(world: World) -> None:
    sid = world.sid
    create_tags(world.editor, sid, [TagSpec("src.dup"), TagSpec("keep.dup"),
                                         TagSpec("up.keep2")])
    create_tag(SYSTEM, sid, TagSpec("guarded"), Provenance(protected=True))
    state = tag_state(sid)
    cases: list[tuple[list[int | str], str, type[Exception], str]] = [
        (["src"], "keep", Conflict, "src: "),  # its child clashes with keep.dup
        (["guarded"], "keep", PermissionDenied, "guarded: "),
        (["up"], "up.keep2", ValidationFailed, "up: "),  # the target lies under it
    ]
    for handles, target, kind, named in cases:
        with pytest.raises(kind) as caught:
            tag_bulk.merge_into(world.editor, sid, handles, target)
        assert caught.value.message.startswith(named), caught.value.message
        assert caught.value.details[0].field == "target"
        assert tag_state(sid) == state
    # A child of the target that is merged too makes way.
    tag_bulk.merge_into(world.editor, sid, ["src", "keep.dup"], "keep")
    assert [row[1] for row in tag_state(sid)] == ["guarded", "keep", "keep.dup", "up",
                                                  "up.keep2"]


def test_merge_into_an_exclusive_group_replaces_rivals(world: World) -> None:
    sid = world.sid
    groups.create_group(world.manager, sid, "level", exclusive=True)
    create_tags(world.editor, sid, [TagSpec("level::high"), TagSpec("level::low"),
                                         TagSpec("hot"), TagSpec("warm")])
    assignments.attach(world.editor, sid, ["level::low"], {"node": ["n1", "n2"]})
    assignments.attach(world.editor, sid, ["hot"], {"node": ["n1"]})
    assignments.attach(world.editor, sid, ["warm"], {"node": ["n1", "n3"]})
    tag_bulk.merge_into(world.editor, sid, ["hot", "warm"], "level::high")
    assert {(key, ext) for key, _, ext in links(sid)} == {
        ("level::high", "n1"), ("level::high", "n3"), ("level::low", "n2")}


# --- undoing a bulk move or a merge ---------------------------------------------------------


def tree(sid: int) -> list[tuple[str, str, int, str | None, str | None]]:
    """Every live tag as (path, id_path spelt with paths, depth, parent path, group)."""
    db.session.expire_all()
    rows = db.session.execute(select(Tag).where(Tag.scope_id == sid, Tag.deleted_at.is_(None))
                              ).scalars().all()
    by_id = {tag.id: tag for tag in db.session.scalars(select(Tag).where(Tag.scope_id == sid))}
    return sorted(
        (tag.path, "/".join(by_id[int(part)].name for part in tag.id_path.strip("/").split("/")),
         tag.depth, by_id[tag.parent_id].path if tag.parent_id else None,
         tag.group.identifier if tag.group else None)
        for tag in rows)


def test_undoing_a_bulk_move_costs_the_same_statements_for_10_and_200_tags(
        world: World, count_queries: Any) -> None:
    sid = world.sid
    groups.create_group(world.manager, sid, "kind", exclusive=True,
                        allowed_types=["node", "file"])

    def move_and_undo(prefix: str, number: int) -> int:
        # Movers from the top level, from under a parent and from a group, nested ones too.
        create_tags(SYSTEM, sid, [TagSpec(f"{prefix}{n}.child{n}.leaf")
                                       for n in range(number)]
                         + [TagSpec(f"kind::{prefix}g{n}.sub") for n in range(number)]
                         + [TagSpec(f"{prefix}dest")])
        for n in range(number):
            assignments.attach(SYSTEM, sid, [f"kind::{prefix}g{n}"], {"node": [f"{prefix}{n}"]})
        before = tree(sid)
        movers = [f"{prefix}{n}" for n in range(number)] + [
            f"{prefix}{n}.child{n}" for n in range(number)] + [
            f"kind::{prefix}g{n}" for n in range(number)]
        tag_bulk.move_tags(world.editor, sid, movers, f"{prefix}dest")
        assert tree(sid) != before
        spent = cost(count_queries, lambda: undo_last(world))
        assert tree(sid) == before
        return spent

    assert move_and_undo("s", 10) == move_and_undo("l", 200)


def test_undoing_a_merge_costs_the_same_statements_for_10_and_200_tags(
        world: World, count_queries: Any) -> None:
    sid = world.sid

    def merge_and_undo(prefix: str, number: int) -> int:
        names = [f"{prefix}{n}" for n in range(number)]
        create_tags(SYSTEM, sid, [TagSpec(f"{name}.child{name}.leaf") for name in names]
                         + [TagSpec(f"{prefix}keep")])
        for n, name in enumerate(names):
            assignments.attach(SYSTEM, sid, [name], {"node": [f"{prefix}{n}", f"{prefix}x"]})
        before, linked = tree(sid), links(sid)
        tag_bulk.merge_into(world.editor, sid, names, f"{prefix}keep")
        spent = cost(count_queries, lambda: undo_last(world))
        assert tree(sid) == before and links(sid) == linked
        return spent

    assert merge_and_undo("s", 10) == merge_and_undo("l", 200)


def test_undoing_a_bulk_move_puts_back_whole_subtrees_and_records_each_tag(
        world: World) -> None:
    sid = world.sid
    groups.create_group(world.manager, sid, "zone")
    groups.create_group(world.manager, sid, "kind")
    create_tags(world.editor, sid, [
        TagSpec("a.b.c.d"), TagSpec("a.e"), TagSpec("kind::k.m.n"), TagSpec("zone::dest.x")])
    before = tree(sid)
    movers: list[int | str] = ["a.b.c", "kind::k", "a", "a.b.c"]
    tag_bulk.move_tags(world.editor, sid, movers, "zone::dest.x")
    assert tree(sid) == sorted([
        ("dest", "dest", 0, None, "zone"), ("dest.x", "dest/x", 1, "dest", "zone"),
        ("dest.x.a", "dest/x/a", 2, "dest.x", "zone"),
        ("dest.x.a.b", "dest/x/a/b", 3, "dest.x.a", "zone"),
        ("dest.x.a.e", "dest/x/a/e", 3, "dest.x.a", "zone"),
        ("dest.x.c", "dest/x/c", 2, "dest.x", "zone"),
        ("dest.x.c.d", "dest/x/c/d", 3, "dest.x.c", "zone"),
        ("dest.x.k", "dest/x/k", 2, "dest.x", "zone"),
        ("dest.x.k.m", "dest/x/k/m", 3, "dest.x.k", "zone"),
        ("dest.x.k.m.n", "dest/x/k/m/n", 4, "dest.x.k.m", "zone")])
    undo_last(world)
    assert tree(sid) == before
    undone = events("tag", "undo update")
    assert [(e.before["path"], e.after["path"]) for e in undone] == [
        ("dest.x.a", "a"), ("dest.x.k", "k"), ("dest.x.c", "a.b.c")]
    assert [e.after["group_id"] is None for e in undone] == [True, False, True]
    assert {e.change_set_id for e in undone} == {change_sets()[-1].id}
    assert change_sets()[-1].reverts_id == change_sets()[-2].id


def test_undoing_a_bulk_move_is_refused_when_it_would_clash_or_make_a_cycle(
        world: World) -> None:
    sid = world.sid
    create_tags(world.editor, sid, [TagSpec("a.x.y"), TagSpec("p.q"), TagSpec("dest")])
    tag_bulk.move_tags(world.editor, sid, ["a.x"], "dest")
    create_tag(world.editor, sid, TagSpec("a.x"))  # takes the name back
    state = tree(sid)
    with pytest.raises(Conflict, match=r"a tag named 'a\.x' already exists"):
        undo.undo_change_set(world.editor, world.sid, change_sets()[-2].id)
    assert tree(sid) == state
    # p.q to the top level, then p under q: q cannot go back under p.
    tag_bulk.move_tags(world.editor, sid, ["p.q"], None)
    moved_q = change_sets()[-1].id
    update_tag(world.editor, sid, "p", parent="q")
    state = tree(sid)
    with pytest.raises(Conflict, match="now lies under it"):
        undo.undo_change_set(world.editor, world.sid, moved_q)
    assert tree(sid) == state


def test_undoing_a_bulk_move_keeps_the_group_rules(world: World) -> None:
    sid = world.sid
    groups.create_group(world.manager, sid, "level", exclusive=True)
    groups.create_group(world.manager, sid, "files", allowed_types=["file"])
    create_tags(world.editor, sid, [TagSpec("level::high"), TagSpec("level::low"),
                                         TagSpec("files::box"), TagSpec("plain")])
    assignments.attach(world.editor, sid, ["level::high"], {"node": ["n1"]})
    tag_bulk.move_tags(world.editor, sid, ["level::low", "files::box"], "plain")
    moved = change_sets()[-1].id
    assignments.attach(world.editor, sid, ["plain.low"], {"node": ["n1"]})
    state = tree(sid)
    with pytest.raises(Conflict, match="exclusive group 'level'"):
        undo.undo_change_set(world.editor, sid, moved)
    assert tree(sid) == state
    assignments.detach(world.editor, sid, ["plain.low"], {"node": ["n1"]})
    assignments.attach(world.editor, sid, ["plain.box"], {"node": ["n2"]})
    state = tree(sid)
    with pytest.raises(Conflict, match=r"group 'files' .* would not allow \(1 node\)"):
        undo.undo_change_set(world.editor, sid, moved)
    assert tree(sid) == state
    assignments.detach(world.editor, sid, ["plain.box"], {"node": ["n2"]})
    undo.undo_change_set(world.editor, sid, moved)
    assert [row[0::4] for row in tree(sid)] == [
        ("box", "files"), ("high", "level"), ("low", "level"), ("plain", None)]
