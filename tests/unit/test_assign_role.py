"""Who may assign a group's tags (a group's ``assign_role``), on every write path.

Only members at the group's role or above — and keys whose owner has it — attach or detach
its tags: the API's attach/detach and the bulk page (the planner, see test_link_plan),
seed 003's untag, merge and undo.  Pickers do not offer the tags to the others, and the
option's impact (who loses the right) is known before it is saved.
"""

from __future__ import annotations

import pytest

from tests.unit.factories import (
    World,
    events,
    fields,
    key_actor,
    links,
    live_tag,
    snapshot_counts,
)
from webapp.services import assignments, groups, undo
from webapp.services.actor import Permission
from webapp.services.api_keys import create_api_key
from webapp.services.errors import PermissionDenied, ValidationFailed
from webapp.services.tags.merge import merge_tags
from webapp.services.tags.paths import untag_resource
from webapp.services.tags.queries import TagFilter, search_tags


@pytest.fixture
def audited(world: World) -> World:
    """A manager-only group ``audit`` with two tags, one on a datasource."""
    groups.create_group(world.manager, world.sid, "audit", assign_role="manager")
    assignments.attach(world.manager, world.sid, ["audit::passed", "audit::failed"],
                       {"datasource": ["22"]})
    assignments.detach(world.manager, world.sid, ["audit::failed"], {"datasource": ["22"]})
    return world


def test_the_option_is_validated_audited_and_undone(world: World) -> None:
    group = groups.create_group(world.manager, world.sid, "audit")
    assert group.assign_role == "editor"
    with pytest.raises(ValidationFailed) as caught:
        groups.update_group(world.manager, world.sid, "audit", assign_role="viewer")
    assert fields(caught.value) == ["assign_role"]
    groups.update_group(world.manager, world.sid, "audit", assign_role=" Manager ")
    (update,) = events("tag_group", "update")
    assert (update.before["assign_role"], update.after["assign_role"]) == ("editor", "manager")
    undo.undo_change_set(world.manager, world.sid, update.change_set_id)
    assert groups.get_group(world.manager, world.sid, "audit").assign_role == "editor"


def test_the_impact_counts_editors_and_their_writing_keys(world: World) -> None:
    groups.create_group(world.manager, world.sid, "audit")
    editor_id = world.editor.user_id
    assert editor_id is not None
    for permissions in (["tags.read", "tags.write"], ["tags.read"]):
        create_api_key(world.editor, user_id=editor_id, scope_id=world.sid,
                       name=f"key {len(permissions)}", permissions=permissions)
    impact = groups.assign_role_impact(world.manager, world.sid, "audit", "manager")
    assert (impact.members, impact.keys) == (1, 1)  # the editor, and the key that writes
    assert groups.assign_role_impact(world.manager, world.sid, "audit", "editor") == (
        groups.AssignImpact(0, 0))
    with pytest.raises(PermissionDenied):
        groups.assign_role_impact(world.editor, world.sid, "audit", "manager")


def test_editors_and_their_keys_may_not_attach_or_detach(audited: World) -> None:
    before = snapshot_counts()
    key = key_actor(audited.editor, Permission.TAGS_READ, Permission.TAGS_WRITE)
    for actor in (audited.editor, key):
        with pytest.raises(PermissionDenied) as caught:
            assignments.attach(actor, audited.sid, ["audit::failed"], {"datasource": ["22"]})
        assert "audit" in caught.value.message
        with pytest.raises(PermissionDenied):
            assignments.detach(actor, audited.sid, ["audit::passed"], {"datasource": ["22"]})
        with pytest.raises(PermissionDenied):
            untag_resource(actor, audited.sid, "datasource", "22", "audit::passed")
    assert snapshot_counts() == before
    assert ("audit::passed", "datasource", "22") in links(audited.sid)


def test_merge_and_undo_obey_the_group_too(audited: World) -> None:
    assignments.attach(audited.editor, audited.sid, ["plain"], {"datasource": ["23"]})
    with pytest.raises(PermissionDenied):  # the target's group
        merge_tags(audited.editor, audited.sid, "plain", "audit::passed")
    with pytest.raises(PermissionDenied):  # a source's group
        merge_tags(audited.editor, audited.sid, "audit::failed", "plain")
    assignments.attach(audited.manager, audited.sid, ["audit::passed"], {"datasource": ["24"]})
    attach_event = events("assignments", "attach")[-1]
    with pytest.raises(PermissionDenied):  # undoing the manager's attach
        undo.undo_change_set(audited.editor, audited.sid, attach_event.change_set_id)
    undo.undo_change_set(audited.manager, audited.sid, attach_event.change_set_id)
    assert ("audit::passed", "datasource", "24") not in links(audited.sid)


def test_pickers_offer_the_tags_to_those_who_may_assign_them(audited: World) -> None:
    def offered(actor: object) -> list[str]:
        return [tag.qualified_name for tag in search_tags(
            actor, audited.sid, TagFilter(search="a"), assignable_only=True)]  # type: ignore[arg-type]

    assert "audit::passed" not in offered(audited.editor)
    assert "audit::passed" in offered(audited.manager)
    # Without the option (the tag list, say) everyone reads them.
    assert any(tag.qualified_name == "audit::passed" for tag in search_tags(
        audited.editor, audited.sid, TagFilter(search="audit")))
    assert live_tag(audited.sid, "audit::passed") is not None
