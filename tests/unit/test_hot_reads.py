"""Hot reads: alone on a pooled connection before the session's transaction begins, on the
session's connection inside it (so a read within a write sees the write); counted either
way."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import select

from tests.unit.factories import World, make_world
from webapp.extensions import db
from webapp.models import Tag
from webapp.services.tags.creation import TagSpec, create_tags
from webapp.services.tags.views import get_tag_view
from webapp.services.uow import writing


def _world_with_tag(app: Flask) -> tuple[World, int, int]:
    world = make_world()
    [tag] = create_tags(world.editor, world.sid, [TagSpec("Ready")])
    scope_id, tag_id = world.sid, tag.id
    db.session.remove()
    return world, scope_id, tag_id


def test_a_read_before_the_session_begins_runs_alone(app: Flask, count_queries: Any) -> None:
    world, scope_id, tag_id = _world_with_tag(app)
    world.viewer.role_in(scope_id)  # the actor's role is known before the read
    db.session.remove()

    with count_queries() as counter:
        view = get_tag_view(world.viewer, scope_id, tag_id)

    assert view.name == "Ready"
    assert len([s for s in counter.statements if not s.startswith("BEGIN")]) == 1
    assert not db.session.registry.has() or not db.session().in_transaction()


def test_a_read_inside_a_write_sees_the_write(app: Flask) -> None:
    world, scope_id, tag_id = _world_with_tag(app)

    with writing(world.editor, scope_id, "rename, then read"):
        db.session.execute(select(Tag).where(Tag.id == tag_id)).scalar_one().label = "Set"
        db.session.flush()
        seen_inside = get_tag_view(world.editor, scope_id, tag_id).label

    assert seen_inside == "Set"
    db.session.remove()
    assert get_tag_view(world.viewer, scope_id, tag_id).label == "Set"
