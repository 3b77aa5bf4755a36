"""Read services behind the audit, scopes and API-key pages: change-set digests and
details, the actors of a scope's change sets, scope counts, and grantable key permissions."""

from __future__ import annotations

import pytest

from tests.unit.factories import SYSTEM, World, external_ids, make_user
from webapp.models import ChangeSet
from webapp.services import assignments, groups, undo
from webapp.services.actor import Actor, Permission
from webapp.services.api_keys import grantable_permissions
from webapp.services.errors import Conflict, NotFound, PermissionDenied
from webapp.services.paging import PageRequest
from webapp.services.scopes import create_scope, scope_counts
from webapp.services.tags.creation import TagSpec, create_tag
from webapp.services.tags.deletion import delete_tag
from webapp.services.tags.hierarchy import update_tag
from webapp.services.tags.lookup import find_tag
from webapp.services.undo import ChangeSetFilter, can_be_undone, digest_change_sets


def _latest(world: World) -> ChangeSet:
    page = undo.list_change_sets(world.manager, world.sid, ChangeSetFilter(),
                                 PageRequest(1, 1))
    return page.items[0]


def test_digest_counts_events_and_links_including_undone_and_undo(world: World) -> None:
    assignments.attach(world.editor, world.sid, ["blue", "red"], {"source": external_ids(3)})
    attach = _latest(world)
    assignments.detach(world.editor, world.sid, ["red"], {"source": external_ids(2)})
    detach = _latest(world)

    digests = digest_change_sets(world.viewer, world.sid, [attach, detach])
    assert digests[attach.id].links_added == 6
    assert digests[attach.id].links_removed == 0
    assert digests[attach.id].object_types == {"assignments": 2, "resources": 1, "tag": 2}
    assert digests[detach.id].links_added == 0 and digests[detach.id].links_removed == 2
    assert can_be_undone(attach, digests[attach.id])

    undone = undo.undo_change_set(world.editor, world.sid, detach.id)
    digests = digest_change_sets(world.viewer, world.sid, [attach, detach, undone])
    assert digests[undone.id].links_added == 2  # the links it put back
    assert digests[attach.id].links_added == 6  # a link put back is not counted twice
    assert not can_be_undone(detach, digests[detach.id])  # already undone
    assert not can_be_undone(undone, digests[undone.id])  # an undo


def test_digest_flags_kinds_an_undo_cannot_revert_and_groups(world: World) -> None:
    groups.create_group(world.manager, world.sid, "priority")
    group_set = _latest(world)
    digest = digest_change_sets(world.viewer, world.sid, [group_set])[group_set.id]
    assert digest.touches_groups and digest.undoable_kinds

    other = create_scope(SYSTEM, "scope_gamma", name="Gamma")
    assert digest_change_sets(world.viewer, world.sid, []) == {}
    assert digest_change_sets(SYSTEM, other.id, [group_set]) == {}  # not that scope's


def test_digest_and_describe_need_read_access(world: World) -> None:
    create_tag(world.editor, world.sid, TagSpec(name="x"))
    change_set = _latest(world)
    with pytest.raises(PermissionDenied):
        digest_change_sets(world.outsider, world.sid, [change_set])
    with pytest.raises(PermissionDenied):
        undo.describe_change_set(world.outsider, world.sid, change_set.id)
    with pytest.raises(NotFound):
        undo.describe_change_set(SYSTEM, world.other_scope.id, change_set.id)


def test_describe_pages_events_and_names_tags_groups_and_parents(world: World) -> None:
    groups.create_group(world.manager, world.sid, "topic")
    create_tag(world.editor, world.sid, TagSpec(name="Root"))
    create_tag(world.editor, world.sid, TagSpec(name="Root.a.b.c"))
    created = _latest(world)
    detail = undo.describe_change_set(world.viewer, world.sid, created.id, PageRequest(1, 2))
    assert detail.events.total == 3 and len(detail.events.items) == 2
    root = find_tag(world.sid, "Root")
    assert root is not None
    assert detail.names[("tag", root.id)] == "Root"
    assert {detail.names[("tag", e.object_id)] for e in detail.events.items} == {
        "Root.a", "Root.a.b"}

    update_tag(world.editor, world.sid, "Root.a", parent=None)
    moved = undo.describe_change_set(world.viewer, world.sid, _latest(world).id)
    assert moved.names[("tag", root.id)] == "Root"  # the old parent, named for the diff

    group_set = undo.list_change_sets(world.viewer, world.sid,
                                      ChangeSetFilter(object_type="tag_group")).items[0]
    group = groups.find_group(world.sid, "topic")
    assert group is not None
    described = undo.describe_change_set(world.viewer, world.sid, group_set.id)
    assert described.names == {("tag_group", group.id): "topic"}


def test_change_set_actors_are_the_people_who_changed_the_scope(world: World) -> None:
    create_tag(world.editor, world.sid, TagSpec(name="x"))
    groups.create_group(world.manager, world.sid, "g")
    create_tag(SYSTEM, world.sid, TagSpec(name="y"))  # no user
    emails = [u.email for u in undo.list_change_set_actors(world.viewer, world.sid)]
    assert emails == ["editor@example.com", "manager@example.com"]
    with pytest.raises(PermissionDenied):
        undo.list_change_set_actors(world.outsider, world.sid)


def test_scope_counts_for_visible_scopes_only(world: World, count_queries) -> None:  # type: ignore[no-untyped-def]
    create_tag(world.editor, world.sid, TagSpec(name="a.b"))
    delete_tag(world.editor, world.sid, "a.b")
    acme, beta = world.sid, world.other_scope.id
    with count_queries() as counter:
        counts = scope_counts(world.manager, [acme, beta])
    assert set(counts) == {world.sid}  # not a member of beta
    assert (counts[world.sid].tags, counts[world.sid].members) == (1, 3)
    assert counter.count <= 3

    admin = Actor(user_id=make_user("root@example.com", admin=True).id, is_admin=True)
    counts = scope_counts(admin, [world.sid, world.other_scope.id])
    assert counts[world.other_scope.id].members == 1
    assert scope_counts(admin, []) == {}


def test_duplicate_scope_id_or_slug_names_the_field(world: World) -> None:
    with pytest.raises(Conflict) as caught:
        create_scope(SYSTEM, "scope_acme", name="Again", slug="fresh")
    assert [d.field for d in caught.value.details] == ["id"]
    with pytest.raises(Conflict) as caught:
        create_scope(SYSTEM, "scope_new", name="Again", slug="acme")
    assert [d.field for d in caught.value.details] == ["slug"]


def test_grantable_permissions_follow_the_role(world: World) -> None:
    assert grantable_permissions(world.viewer, world.sid) == (Permission.TAGS_READ,)
    assert grantable_permissions(world.editor, world.sid) == (
        Permission.TAGS_READ, Permission.TAGS_CREATE, Permission.TAGS_WRITE,
        Permission.TAGS_DELETE)
    assert Permission.GROUPS_WRITE in grantable_permissions(world.manager, world.sid)
    with pytest.raises(NotFound):
        grantable_permissions(world.outsider, world.sid)
    key = Actor(user_id=world.manager.user_id, via="api",
                key_permissions=frozenset({Permission.TAGS_READ}))
    assert grantable_permissions(key, world.sid) == ()
