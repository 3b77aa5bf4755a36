"""Seed 003's path services: save (create, rename by id, replace a root's hierarchy) in one
change set, tags on one resource, delete by path."""

from __future__ import annotations

import pytest

from tests.unit.factories import (
    SYSTEM,
    World,
    change_sets,
    events,
    fields,
    links,
    snapshot_counts,
    tag_state,
)
from webapp.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from webapp.services.tags.creation import Provenance, TagSpec, create_tags
from webapp.services.tags.lookup import Reading, find_tag
from webapp.services.tags.paths import (
    PathItem,
    RootSpec,
    delete_by_name,
    save_paths,
    tag_resource,
    untag_resource,
)


def paths(world: World) -> list[str]:
    return [path for _key, path, _depth, _group in tag_state(world.sid)]


def test_save_creates_renames_and_replaces_in_one_change_set(world: World) -> None:
    created = save_paths(world.editor, world.sid, [PathItem("Address.email"),
                                                   PathItem("Address.work.office")])
    email, office = (tag.id for tag in created)
    sets_before = len(change_sets())
    saved = save_paths(world.editor, world.sid, [
        PathItem("Address.mail", email),  # the rename frees "Address.email" …
        PathItem("Address.email"),  # … which a new tag takes in the same call
    ], RootSpec("Address", "curated", delete_hierarchy=True))
    assert [tag.path for tag in saved] == ["Address.mail", "Address.email"]
    assert saved[0].id == email and saved[1].id != email
    assert paths(world) == ["Address", "Address.email", "Address.mail"]
    assert len(change_sets()) == sets_before + 1
    deleted = {e.object_id for e in events("tag", "delete")}
    assert office in deleted and len(deleted) == 2  # Address.work and its child


def test_save_is_all_or_nothing(world: World) -> None:
    one, _two, three = save_paths(world.editor, world.sid, [
        PathItem("A.one"), PathItem("A.two"), PathItem("A.three")])
    before = snapshot_counts()
    with pytest.raises(Conflict) as error:
        save_paths(world.editor, world.sid, [PathItem("B.new"), PathItem("A.uno", one.id),
                                             PathItem("A.two", three.id)])
    assert fields(error.value) == ["tags[2].name"]
    assert snapshot_counts() == before
    assert paths(world) == ["A", "A.one", "A.three", "A.two"]


def test_save_reports_item_fields(world: World) -> None:
    with pytest.raises(ValidationFailed) as error:
        save_paths(world.editor, world.sid, [PathItem("A.b"), PathItem("C.d")], RootSpec("A"))
    assert fields(error.value) == ["tags[1].name"]
    with pytest.raises(NotFound) as missing:
        save_paths(world.editor, world.sid, [PathItem("A.b", 10**6)])
    assert fields(missing.value) == ["tags[0].id"]
    with pytest.raises(ValidationFailed) as source:
        save_paths(world.editor, world.sid, [PathItem("A.b")], RootSpec("A", "alation"))
    assert fields(source.value) == ["root.source"]


def test_root_source_must_match(world: World) -> None:
    create_tags(SYSTEM, world.sid, [TagSpec(name="Glossary")], Provenance(source="alation"))
    with pytest.raises(ValidationFailed) as error:
        save_paths(world.editor, world.sid, [PathItem("Glossary.x")],
                   RootSpec("Glossary", "curated"))
    assert fields(error.value) == ["root.source"]
    saved = save_paths(world.editor, world.sid, [PathItem("Glossary.x")], RootSpec("Glossary"))
    assert [tag.path for tag in saved] == ["Glossary.x"]


def test_a_path_wins_over_an_integer_handle(world: World) -> None:
    first, *_ = create_tags(world.editor, world.sid, [TagSpec(name="Alpha")])
    named = create_tags(world.editor, world.sid, [TagSpec(name=str(first.id))])[0]
    first_name = Reading.NAME_FIRST
    assert find_tag(world.sid, str(first.id), reading=first_name) == named
    assert find_tag(world.sid, f" {first.id} ", reading=first_name) == named
    assert find_tag(world.sid, named.public_id, reading=first_name) == named
    # Any handle: the integer key first; a name only: never a key or public id.
    assert find_tag(world.sid, str(first.id)) == first
    assert find_tag(world.sid, str(first.id), reading=Reading.NAME) == named
    assert find_tag(world.sid, first.public_id, reading=Reading.NAME) is None


def test_tag_and_untag_a_resource(world: World) -> None:
    create_tags(world.editor, world.sid, [TagSpec(name="Confidential")])
    rows = tag_resource(world.editor, world.sid, "Project", "2", ["confidential"])
    assert [(r.name, r.context, r.added_by, r.deleted) for r in rows] == [
        ("Confidential", "manual", world.editor.user_id, False)]
    with pytest.raises(ValidationFailed) as unknown:
        tag_resource(world.editor, world.sid, "project", "3", ["Confidential", "Nope"])
    assert fields(unknown.value) == ["names[1]"]
    assert links(world.sid) == {("confidential", "project", "2")}
    removed = untag_resource(world.editor, world.sid, "project", "2", "Confidential")
    assert removed.name == "Confidential" and links(world.sid) == set()
    with pytest.raises(NotFound):
        untag_resource(world.editor, world.sid, "project", "2", "Confidential")
    with pytest.raises(PermissionDenied):
        tag_resource(world.viewer, world.sid, "project", "2", ["Confidential"])


def test_delete_by_name(world: World) -> None:
    create_tags(world.editor, world.sid, [TagSpec(name="A.b.c")])
    with pytest.raises(Conflict):
        delete_by_name(world.editor, world.sid, "A")
    deleted = delete_by_name(world.editor, world.sid, "a", hierarchy=True)
    assert [(tag.path, tag.is_deleted) for tag in deleted] == [
        ("A", True), ("A.b", True), ("A.b.c", True)]
    with pytest.raises(NotFound):
        delete_by_name(world.editor, world.sid, "A")
    with pytest.raises(PermissionDenied):
        delete_by_name(world.viewer, world.sid, "A")
