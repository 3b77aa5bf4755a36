"""Service additions for seed 004: tags by creator, the first resources of each tag in one
query, and bulk delete of handles an earlier item of the same call already deleted."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.factories import SYSTEM, World
from webapp.services import assignments, resources
from webapp.services.errors import ValidationFailed
from webapp.services.tags import queries as tag_queries
from webapp.services.tags.creation import Provenance, TagSpec, create_tag
from webapp.services.tags.deletion import bulk_delete_tags
from webapp.services.tags.queries import TagFilter


def paths(world: World, filters: TagFilter) -> list[str]:
    page = tag_queries.list_tags(world.viewer, world.sid, filters)
    return [row.tag.path for row in page.items]


def test_filter_by_creator(world: World) -> None:
    create_tag(world.editor, world.sid, TagSpec("by_editor"))
    create_tag(world.manager, world.sid, TagSpec("by_manager"))
    create_tag(SYSTEM, world.sid, TagSpec("by_system"), Provenance(system_created=True))
    editor = world.editor.user_id
    assert paths(world, TagFilter(creator=editor)) == ["by_editor"]
    assert paths(world, TagFilter(excluded_creator=editor)) == ["by_manager", "by_system"]
    assert paths(world, TagFilter(creator=editor, search="manager")) == []


def test_resources_by_tag_bounds_each_tag(world: World, count_queries: Any) -> None:
    assignments.attach(world.editor, world.sid, ["busy"],
                       {"node": [f"n{n}" for n in range(5)], "file": ["f0", "f1"]})
    assignments.attach(world.editor, world.sid, ["quiet"], {"node": ["n3"]})
    create_tag(world.editor, world.sid, TagSpec("idle"))
    ids = {t.path: t.id for t in tag_queries.search_tags(world.viewer, world.sid, TagFilter())}
    with count_queries() as counter:
        found = resources.resources_by_tag(list(ids.values()), rtype="node", limit=3)
    assert counter.count == 1
    busy, quiet, idle = found[ids["busy"]], found[ids["quiet"]], found[ids["idle"]]
    assert [r.external_id for r in busy.resources] == ["n0", "n1", "n2"] and busy.total == 5
    assert [r.external_id for r in quiet.resources] == ["n3"] and quiet.total == 1
    assert (idle.resources, idle.total) == ([], 0)
    every = resources.resources_by_tag([ids["busy"]], limit=10)[ids["busy"]]
    assert [(r.type, r.external_id) for r in every.resources][:2] == [("file", "f0"),
                                                                     ("file", "f1")]
    assert every.total == 7
    assert resources.resources_by_tag([]) == {}
    with pytest.raises(ValidationFailed):
        resources.resources_by_tag([ids["busy"]], rtype="spaceship")


def test_bulk_delete_skips_tags_the_call_already_deleted(world: World) -> None:
    create_tag(world.editor, world.sid, TagSpec("root.child"))
    loose = create_tag(world.editor, world.sid, TagSpec("loose"))
    outcome = bulk_delete_tags(
        world.editor, world.sid,
        ["root", "root.child", loose.public_id, loose.id, "never"], hierarchy=True,
    )
    assert sorted(t.path for t in outcome.deleted) == ["loose", "root", "root.child"]
    assert outcome.not_found == ["never"] and outcome.refused == []
    # Tags deleted before the call are still unknown to it.
    again = bulk_delete_tags(world.editor, world.sid, ["loose"])
    assert again.not_found == ["loose"]
