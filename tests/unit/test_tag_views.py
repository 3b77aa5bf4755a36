"""Tag views: the one-statement read of ``GET /tags/{id}`` agrees with the views built from
loaded tags, finds tags by every handle, and keeps to the actor's scope and rights."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from tests.unit.factories import World, make_world
from webapp.models import Tag
from webapp.services import tags
from webapp.services.errors import NotFound, PermissionDenied
from webapp.services.tag_views import TagView, get_tag_view, tag_views
from webapp.services.tags import TagSpec


@pytest.fixture
def world(app: Flask) -> World:
    return make_world()


def _made(world: World) -> dict[str, Tag]:
    made = tags.create_tags(world.editor, world.sid, [
        TagSpec("Address.email", color="#2E7D32", description="E-mail", label="Mail"),
        TagSpec("priority::high"),
        TagSpec("loose"),
    ])
    return {tag.qualified_name: tag for tag in made}


def test_the_one_statement_read_equals_the_view_of_the_loaded_tag(
        world: World, count_queries: Any) -> None:
    made = _made(world)
    world.viewer.role_in(world.sid)  # the actor's role is read once per request anyway
    for tag in made.values():
        with count_queries() as counter:
            view = get_tag_view(world.viewer, world.sid, tag.id)
        assert [s for s in counter.statements if not s.startswith("BEGIN")] == [
            counter.statements[-1]]
        assert view == tag_views([tag])[0]
    email = get_tag_view(world.viewer, world.sid, made["Address.email"].id)
    assert (email.path, email.label, email.color, email.description) == (
        "Address.email", "Mail", "#2E7D32", "E-mail")
    parent = tags.find_tag(world.sid, "Address")
    assert parent is not None and email.parent_public_id == parent.public_id
    assert email.owner_public_id is not None and email.owner_public_id.startswith("user_")
    high = get_tag_view(world.viewer, world.sid, made["priority::high"].id)
    assert (high.category, high.qualified_name, high.parent_public_id) == (
        "priority", "priority::high", None)


def test_every_handle_finds_the_tag(world: World) -> None:
    tag = _made(world)["Address.email"]
    for handle in (tag.id, str(tag.id), f" {tag.id} ", str(tag.uuid), tag.public_id,
                   "Address.email", "address.EMAIL"):
        assert get_tag_view(world.viewer, world.sid, handle).id == tag.id, handle


def test_a_tag_named_by_digits_is_found_by_name_when_no_key_matches(world: World) -> None:
    made = tags.create_tags(world.editor, world.sid, [TagSpec("Year.20240")])
    year = next(tag for tag in made if tag.name == "20240")
    view: TagView = get_tag_view(world.viewer, world.sid, "Year.20240")
    assert view.id == year.id


def test_deleted_tags_are_found_only_when_asked(world: World) -> None:
    tag = _made(world)["loose"]
    tags.delete_tag(world.editor, world.sid, tag.id)
    with pytest.raises(NotFound):
        get_tag_view(world.viewer, world.sid, tag.id)
    with pytest.raises(NotFound):
        get_tag_view(world.viewer, world.sid, str(tag.id))
    view = get_tag_view(world.viewer, world.sid, tag.id, include_deleted=True)
    assert view.deleted_at is not None


def test_other_scopes_and_missing_rights(world: World) -> None:
    tag = _made(world)["loose"]
    with pytest.raises(NotFound):
        get_tag_view(world.outsider, world.other_scope.id, tag.id)
    with pytest.raises(PermissionDenied):
        get_tag_view(world.outsider, world.sid, tag.id)
    with pytest.raises(NotFound):
        get_tag_view(world.viewer, world.sid, 10**6)
