"""Subtree statements are ranges of the ``id_path`` index on SQLite.

Without statistics SQLite prefers an equality on the scope to a range: a subtree query that
also named the scope scanned every live tag of the scope (bulk delete of 1,000 leaves in a
scope of 10,000 tags: 6–7 s; as ranges: 0.5 s)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event

from tests.unit.factories import World
from webapp.extensions import db
from webapp.services.tags import bulk as tag_bulk
from webapp.services.tags.creation import TagSpec, create_tag, create_tags
from webapp.services.tags.deletion import bulk_delete_tags, delete_tag, restore_tag
from webapp.services.tags.hierarchy import update_tag
from webapp.services.tags.lookup import find_live_tags, find_tag
from webapp.services.tags.queries import protected_in_subtree, subtree_summary

pytestmark = [pytest.mark.sqlite_only, pytest.mark.usefixtures("root_with_children")]


@contextmanager
def subtree_statements() -> Iterator[list[tuple[str, Any]]]:
    """The statements sent inside the block that select a subtree by ``id_path``."""
    seen: list[tuple[str, Any]] = []

    def on_execute(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any
                   ) -> None:
        if "id_path >=" in statement:
            seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", on_execute)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", on_execute)


def plan_of(statement: str, parameters: Any) -> str:
    rows = db.session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}",
                                                   parameters)
    return " | ".join(str(row[-1]) for row in rows)


@pytest.fixture
def root_with_children(world: World) -> None:
    """Tag ``Root`` with 30 children ``Root.Child0`` … ``Root.Child29`` in ``world.scope``:
    the subtree every action below works on (used by every test of the module)."""
    create_tags(world.editor, world.sid, [TagSpec(f"Root.Child{n}") for n in range(30)])


def _rename(world: World) -> None:
    update_tag(world.editor, world.sid, "Root", name="Top")


def _summaries(world: World) -> None:
    subtree_summary(world.editor, world.sid, "Root")
    root = find_tag(world.sid, "Root")
    assert root is not None
    protected_in_subtree(world.editor, world.sid, root)


def _delete(world: World) -> None:
    delete_tag(world.editor, world.sid, "Root", hierarchy=True)


def _bulk_delete(world: World) -> None:
    bulk_delete_tags(world.editor, world.sid, ["Root.Child1", "Root.Child2"],
                          hierarchy=True)


def _bulk_move(world: World) -> None:
    create_tag(world.editor, world.sid, TagSpec("Dest"))
    tag_bulk.move_tags(world.editor, world.sid, ["Root", "Root.Child1"], "Dest")


def _merge(world: World) -> None:
    create_tags(world.editor, world.sid, [TagSpec("Other.Leaf"), TagSpec("Kept")])
    tag_bulk.merge_into(world.editor, world.sid, ["Root", "Other"], "Kept")


def _restore(world: World) -> None:
    _delete(world)
    restore_tag(world.editor, world.sid, "Root", hierarchy=True)


@pytest.mark.parametrize("action", [_rename, _summaries, _delete, _bulk_delete, _bulk_move,
                                    _merge, _restore])
def test_subtree_statements_range_over_the_id_path_index(
        world: World, action: Callable[[World], None]) -> None:
    with subtree_statements() as seen:
        action(world)
    assert seen, "the action selected no subtree"
    for statement, parameters in seen:
        plan = plan_of(statement, parameters)
        assert "ix_tags_id_path (id_path>? AND id_path<?)" in plan, (statement, plan)


def test_bulk_handles_are_looked_up_by_index(world: World) -> None:
    """Beside the scope condition, an OR of the handle kinds scanned the scope's live tags;
    each kind is its own indexed look-up."""
    seen: list[tuple[str, Any]] = []

    def on_execute(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any
                   ) -> None:
        if "handle_texts" in statement:
            seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", on_execute)
    try:
        found = find_live_tags(world.sid, ["Root", 1, "tag_x",
                                                "0190c1c2-8b7e-7cc0-8000-000000000000"])
    finally:
        event.remove(db.engine, "before_cursor_execute", on_execute)
    assert found[0] is not None and found[0].path == "Root"
    [(statement, parameters)] = seen
    plan = plan_of(statement, parameters)
    assert "SCAN tags" not in plan and "(scope_id=? AND deleted_at=?)" not in plan, plan
