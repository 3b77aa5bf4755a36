"""Bulk edit of tag attributes (issue 13 §4): preview (counts, sample, refusals), apply
as one undoable change set, set-based (the same statements for 10 and 1,000 tags)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from tests.unit.factories import SYSTEM, World, change_sets, events
from webapp.extensions import db
from webapp.models import Tag
from webapp.services import groups, undo
from webapp.services.errors import LimitExceeded, ValidationFailed
from webapp.services.tags import bulk_edit
from webapp.services.tags.bulk_edit import Changes, Selection
from webapp.services.tags.creation import Provenance, TagSpec, create_tag, create_tags
from webapp.services.tags.deprecation import deprecate_tag
from webapp.services.tags.lookup import find_tag
from webapp.services.tags.queries import TagFilter


def cost(count_queries: Any, call: Callable[[], object]) -> int:
    db.session.expire_all()
    with count_queries() as counter:
        call()
    return counter.count


def state(sid: int) -> dict[str, tuple[Any, ...]]:
    db.session.expire_all()
    return {tag.qualified_name: (tag.color, tag.description, tag.parent_id, tag.group_id,
                                 tag.deprecated_at, tag.replacement_id)
            for tag in db.session.scalars(select(Tag).where(Tag.scope_id == sid,
                                                            Tag.deleted_at.is_(None)))}


def ids(sid: int, *handles: str) -> list[int | str]:
    found = [find_tag(sid, handle) for handle in handles]
    return [tag.id for tag in found if tag is not None]


def test_preview_counts_sample_and_refusals(world: World) -> None:
    sid = world.sid
    groups.create_group(world.manager, sid, "team")
    create_tags(SYSTEM, sid, [TagSpec("a"), TagSpec("b"), TagSpec("c.child"),
                              TagSpec("team::a")])
    create_tag(SYSTEM, sid, TagSpec("locked"), Provenance(protected=True))
    before, sets = state(sid), len(change_sets())
    preview = bulk_edit.preview_bulk_edit(
        world.editor, sid, Selection(ids(sid, "a", "b", "c.child", "locked")),
        Changes(group="team", color="#ff0000"))
    assert (preview.selected, preview.changed, preview.unchanged, preview.refused) == (4, 1, 0, 3)
    reasons = {r.name: r.reason for r in preview.refusals}
    assert "protected" in reasons["locked"]
    assert "parent's group" in reasons["c.child"]
    assert "already exists" in reasons["a"]
    assert [row.name for row in preview.sample] == ["b"]
    assert dict((f, (b, a)) for f, b, a in preview.sample[0].changes) == {
        "color": ("—", "#FF0000"), "group": ("—", "team")}
    assert state(sid) == before  # a preview writes nothing
    assert len(change_sets()) == sets


def test_apply_is_one_change_set_and_undo_puts_everything_back(world: World) -> None:
    sid = world.sid
    groups.create_group(world.manager, sid, "team")
    create_tags(SYSTEM, sid, [TagSpec(f"t{n}.leaf") for n in range(5)] + [TagSpec("dest"),
                                                                         TagSpec("use")])
    deprecate_tag(SYSTEM, sid, "t0")
    before, sets = state(sid), len(change_sets())
    done = bulk_edit.apply_bulk_edit(
        world.editor, sid, Selection(filters=TagFilter(search="t", roots_only=True)),
        Changes(color="#00ff00", description="bulk", parent="dest",
                deprecation=bulk_edit.DEPRECATE, replacement="use"))
    assert done.change_set_id == change_sets()[-1].id and len(change_sets()) == sets + 1
    assert (done.changed, [r.name for r in done.refusals]) == (5, ["dest"])  # a cycle
    tag = find_tag(sid, "dest.t3.leaf")
    assert tag is not None
    moved = find_tag(sid, "dest.t3")
    assert moved is not None and moved.color == "#00FF00" and moved.description == "bulk"
    assert moved.replacement_id == find_tag(sid, "use").id  # type: ignore[union-attr]
    undo.undo_change_set(world.editor, sid, done.change_set_id)
    assert state(sid) == before


def test_group_change_and_undeprecate_round_trip(world: World) -> None:
    sid = world.sid
    groups.create_group(world.manager, sid, "team")
    create_tags(SYSTEM, sid, [TagSpec(f"g{n}.x") for n in range(4)] + [TagSpec("r")])
    for n in range(4):
        deprecate_tag(SYSTEM, sid, f"g{n}", "r")
    before = state(sid)
    done = bulk_edit.apply_bulk_edit(
        world.editor, sid, Selection(ids(sid, "g0", "g1", "g2", "g3")),
        Changes(group="team", color="", deprecation=bulk_edit.UNDEPRECATE))
    assert find_tag(sid, "team::g2.x") is not None
    assert find_tag(sid, "team::g2").deprecated_at is None  # type: ignore[union-attr]
    undo.undo_change_set(world.editor, sid, done.change_set_id)  # type: ignore[arg-type]
    assert state(sid) == before


def test_deprecation_refusals(world: World) -> None:
    sid = world.sid
    create_tags(SYSTEM, sid, [TagSpec("old"), TagSpec("new"), TagSpec("other"),
                              TagSpec("heir")])
    deprecate_tag(SYSTEM, sid, "heir", "other")
    preview = bulk_edit.preview_bulk_edit(
        world.editor, sid, Selection(ids(sid, "old", "new", "other")),
        Changes(deprecation=bulk_edit.DEPRECATE, replacement="new"))
    reasons = {r.name: r.reason for r in preview.refusals}
    assert "replacement named" in reasons["new"]
    assert "name it as their replacement" in reasons["other"]
    assert preview.changed == 1


def test_parent_cycle_and_clash_refused(world: World) -> None:
    sid = world.sid
    create_tags(SYSTEM, sid, [TagSpec("p.q"), TagSpec("q"), TagSpec("z")])
    preview = bulk_edit.preview_bulk_edit(
        world.editor, sid, Selection(ids(sid, "p", "q", "z")), Changes(parent="p"))
    reasons = {r.name: r.reason for r in preview.refusals}
    assert "cycle" in reasons["p"] and "already exists" in reasons["q"]
    assert preview.changed == 1


def test_validation(world: World) -> None:
    sid = world.sid
    create_tags(SYSTEM, sid, [TagSpec("a")])
    with pytest.raises(ValidationFailed):
        bulk_edit.preview_bulk_edit(world.editor, sid, Selection(ids(sid, "a")), Changes())
    with pytest.raises(ValidationFailed):
        bulk_edit.preview_bulk_edit(world.editor, sid, Selection(ids(sid, "a")),
                                    Changes(group="x", parent="a"))
    with pytest.raises(ValidationFailed):
        bulk_edit.preview_bulk_edit(world.editor, sid, Selection(ids(sid, "a")),
                                    Changes(color="nope"))
    with pytest.raises(LimitExceeded):
        bulk_edit.preview_bulk_edit(world.editor, sid,
                                    Selection(list(range(1, bulk_edit.MAX_EDIT + 2))),
                                    Changes(color="#000000"))


def test_statements_do_not_grow_with_the_number_of_tags(world: World,
                                                         count_queries: Any) -> None:
    sid, editor = world.sid, world.editor
    groups.create_group(world.manager, sid, "team")
    create_tags(SYSTEM, sid, [TagSpec("keeper")])

    def spend(prefix: str, number: int) -> tuple[int, int, int, int]:
        create_tags(SYSTEM, sid, [TagSpec(f"{prefix}{n}.leaf") for n in range(number)]
                    + [TagSpec(f"{prefix}dest")])
        chosen = Selection(filters=TagFilter(search=prefix, roots_only=True))
        changes = Changes(color="#123456", description="d", parent=f"{prefix}dest",
                          deprecation=bulk_edit.DEPRECATE, replacement="keeper")
        preview = cost(count_queries,
                       lambda: bulk_edit.preview_bulk_edit(editor, sid, chosen, changes))
        applied = cost(count_queries,
                       lambda: bulk_edit.apply_bulk_edit(editor, sid, chosen, changes))
        assert find_tag(sid, f"{prefix}dest.{prefix}{number - 1}.leaf") is not None
        undone = cost(count_queries, lambda: undo.undo_change_set(
            editor, sid, change_sets()[-1].id))
        regroup = Selection(filters=TagFilter(search=prefix, roots_only=True))
        grouped = cost(count_queries, lambda: bulk_edit.apply_bulk_edit(
            editor, sid, regroup, Changes(group="team", deprecation=bulk_edit.UNDEPRECATE)))
        return preview, applied, undone, grouped

    spend("wm", 2)  # warm the per-request caches (the actor's role)
    small, large = spend("sm", 10), spend("lg", 1000)
    assert small == large
    assert len(events("tag", "deprecate")) == 1012
