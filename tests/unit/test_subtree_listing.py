"""Which tags a subtree delete takes: the first paths and the count, in one statement."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.factories import SYSTEM, World
from webapp.services.errors import NotFound, PermissionDenied
from webapp.services.tags.creation import TagSpec, create_tags
from webapp.services.tags.deletion import delete_tag, subtree_listing
from webapp.services.tags.lookup import find_tag


def test_paths_in_order_live_only_then_how_many_more(world: World, count_queries: Any
                                                     ) -> None:
    sid = world.sid
    create_tags(SYSTEM, sid, [TagSpec("a.c.d"), TagSpec("a.b"), TagSpec("a.e"),
                              TagSpec("ab"), TagSpec("z")])
    delete_tag(world.editor, sid, "a.e")
    top = find_tag(sid, "a")
    assert top is not None
    short = subtree_listing(world.viewer, sid, top, limit=2)  # (reads the viewer's role)
    assert (short.paths, short.total, short.more) == (["a", "a.b"], 4, 2)
    with count_queries() as counter:
        listing = subtree_listing(world.viewer, sid, top)
    assert counter.count == 1
    assert (listing.paths, listing.total, listing.more) == (
        ["a", "a.b", "a.c", "a.c.d"], 4, 0)  # not a.e (deleted), nor ab (a sibling)


def test_other_scopes_and_strangers_are_refused(world: World) -> None:
    create_tags(SYSTEM, world.sid, [TagSpec("a")])
    top = find_tag(world.sid, "a")
    assert top is not None
    with pytest.raises(PermissionDenied):
        subtree_listing(world.outsider, world.sid, top)
    with pytest.raises(NotFound):
        subtree_listing(world.outsider, world.other_scope.id, top)
