"""Importing many resources: all lines checked first with line numbers, nothing imported
when any line is bad, one upsert, counts of new and existing resources."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.unit.factories import SYSTEM, World, count, fields, snapshot_counts
from webapp.extensions import db
from webapp.models import Resource
from webapp.services import resource_import, resources
from webapp.services.errors import LimitExceeded, PermissionDenied, ValidationFailed
from webapp.services.resource_import import ImportLine, import_resources, register_resource
from webapp.services.resources import ResourceInput


@pytest.fixture
def old_table(world: World) -> None:
    """Table ``t1`` named "Old", already registered in ``world.scope`` before each test:
    an import meets it as an existing resource and refreshes its name."""
    resources.register_resources(SYSTEM, world.sid, [ResourceInput("table", "t1", "Old")])


pytestmark = pytest.mark.usefixtures("old_table")


def test_import_counts_new_existing_and_duplicate_lines(world: World) -> None:
    outcome = import_resources(world.editor, world.sid, [
        ImportLine(2, "table", "t1", "Orders", "orders"),
        ImportLine(3, "Source", " s1 ", "Facebook Ads", None),
        ImportLine(4, "source", "s2"),
        ImportLine(5, "source", "s1", "Facebook Ads (EU)", "fb-eu"),
    ])
    assert (outcome.lines, outcome.resources, outcome.created, outcome.existing,
            outcome.duplicates) == (4, 3, 2, 1, 1)
    db.session.expire_all()
    got = sorted(db.session.execute(
        select(Resource.type, Resource.external_id, Resource.name, Resource.slug)).tuples())
    assert got == [("source", "s1", "Facebook Ads (EU)", "fb-eu"), ("source", "s2", None, None),
                   ("table", "t1", "Orders", "orders")]


def test_any_bad_line_imports_nothing_and_every_bad_line_is_named(world: World) -> None:
    before = snapshot_counts()
    with pytest.raises(ValidationFailed) as caught:
        import_resources(world.editor, world.sid, [
            ImportLine(2, "table", "t2"),
            ImportLine(3, "tabel", "t3"),
            ImportLine(4, "table", "  "),
            ImportLine(5, "folder", "", problem="expected at most 4 fields, got 6"),
            ImportLine(6, "nope", " "),
        ])
    assert fields(caught.value) == ["line 3", "line 4", "line 5", "line 6"]
    messages = [d.message for d in caught.value.details]
    assert "unknown resource type 'tabel'" in messages[0]
    assert messages[1] == "id: must be a non-empty string"
    assert messages[2] == "expected at most 4 fields, got 6"
    assert messages[3].startswith("type: ") and "; id: must be a non-empty string" in messages[3]
    assert caught.value.message == "4 line(s) have errors; nothing was imported"
    assert snapshot_counts() == before


def test_limits_and_empty_input(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationFailed) as caught:
        import_resources(world.editor, world.sid, [])
    assert fields(caught.value) == ["lines"]
    monkeypatch.setattr(resource_import, "MAX_IMPORT_LINES", 2)
    with pytest.raises(LimitExceeded) as limit:
        import_resources(world.editor, world.sid, [ImportLine(n, "table", f"x{n}")
                                                   for n in range(2, 5)])
    assert fields(limit.value) == ["lines"]


def test_only_writers_import(world: World) -> None:
    with pytest.raises(PermissionDenied):
        import_resources(world.viewer, world.sid, [ImportLine(2, "tabel", "")])
    assert count(Resource) == 1


def test_a_large_import_is_one_upsert(world: World) -> None:
    lines = [ImportLine(n + 2, "node", f"node_{n}", f"Node {n}") for n in range(20_000)]
    outcome = import_resources(world.editor, world.sid, lines)
    assert (outcome.created, outcome.existing) == (20_000, 0)
    again = import_resources(world.editor, world.sid, lines[:500])
    assert (again.created, again.existing) == (0, 500)


def test_register_one_says_whether_it_is_new(world: World) -> None:
    assert register_resource(world.editor, world.sid, ResourceInput("Folder", " f1 ", "Ads"))
    assert not register_resource(world.editor, world.sid, ResourceInput("table", "t1", "New"))
    db.session.expire_all()
    assert db.session.scalar(select(Resource.name).where(Resource.external_id == "t1")) == "New"
    with pytest.raises(ValidationFailed) as caught:
        register_resource(world.editor, world.sid, ResourceInput("tabel", "x"))
    assert fields(caught.value) == ["type"]
    with pytest.raises(ValidationFailed) as caught:
        register_resource(world.editor, world.sid, ResourceInput("table", " "))
    assert fields(caught.value) == ["id"]
    with pytest.raises(PermissionDenied):
        register_resource(world.viewer, world.sid, ResourceInput("table", "t9"))
