"""Tag views: the one-statement read of ``GET /tags/{id}`` agrees with the views built from
loaded tags, finds tags by every handle, and keeps to the actor's scope and rights; the
read made with the API key check agrees with it and is used only where it applies."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.factories import World
from webapp.models import Tag
from webapp.services.api_keys import actor_for_key, create_api_key, revoke_api_key
from webapp.services.errors import NotFound, PermissionDenied
from webapp.services.tags.creation import TagSpec, create_tags
from webapp.services.tags.deletion import delete_tag
from webapp.services.tags.lookup import find_tag
from webapp.services.tags.views import (
    TagReadWithKey,
    TagView,
    get_tag_view,
    tag_views,
    verify_key_and_read_tag,
)


def _made(world: World) -> dict[str, Tag]:
    made = create_tags(world.editor, world.sid, [
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
    parent = find_tag(world.sid, "Address")
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
    made = create_tags(world.editor, world.sid, [TagSpec("Year.20240")])
    year = next(tag for tag in made if tag.name == "20240")
    view: TagView = get_tag_view(world.viewer, world.sid, "Year.20240")
    assert view.id == year.id


def test_deleted_tags_are_found_only_when_asked(world: World) -> None:
    tag = _made(world)["loose"]
    delete_tag(world.editor, world.sid, tag.id)
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


def _token(world: World, actor_name: str = "viewer") -> str:
    actor = getattr(world, actor_name)
    _key, token = create_api_key(actor, user_id=actor.user_id, scope_id=world.sid,
                                 name=f"{actor_name} key", permissions=["tags.read"])
    return token


def test_the_read_with_the_key_equals_the_one_statement_read(
        world: World, count_queries: Any) -> None:
    row_ids = [tag.id for tag in _made(world).values()]
    token = _token(world)
    verify_key_and_read_tag(token, row_ids[0])  # the first use records the key's last use
    for row_id in row_ids:
        with count_queries() as counter:
            verified = verify_key_and_read_tag(token, row_id)
        assert len([s for s in counter.statements if not s.startswith("BEGIN")]) == 1
        assert verified is not None
        key, read = verified
        assert (key.scope_id, read.scope_id, read.row_id) == (world.sid, world.sid, row_id)
        assert read.view == get_tag_view(world.viewer, world.sid, row_id)

        actor = actor_for_key(key)
        with count_queries() as counter:
            view = get_tag_view(actor, world.sid, row_id, read_with_key=read)
        assert counter.statements == []
        assert view == read.view


def test_the_read_with_the_key_sees_only_live_tags_of_the_keys_scope(world: World) -> None:
    made = _made(world)
    token = _token(world)
    theirs = create_tags(world.outsider, world.other_scope.id, [TagSpec("theirs")])[0]
    deleted = made["loose"]
    delete_tag(world.editor, world.sid, deleted.id)

    for row_id in (theirs.id, deleted.id, 10**6):
        verified = verify_key_and_read_tag(token, row_id)
        assert verified is not None
        key, read = verified
        assert read.view is None
        with pytest.raises(NotFound):
            get_tag_view(actor_for_key(key), world.sid, row_id, read_with_key=read)
    key, read = verify_key_and_read_tag(token, deleted.id) or (None, None)
    assert key is not None and read is not None
    restored = get_tag_view(actor_for_key(key), world.sid, deleted.id, include_deleted=True,
                            read_with_key=read)
    assert restored.id == deleted.id and restored.deleted_at is not None


def test_a_bad_or_revoked_key_reads_nothing(world: World) -> None:
    tag = _made(world)["loose"]
    token = _token(world)
    assert verify_key_and_read_tag(token[:-1] + ("A" if token[-1] != "A" else "B"),
                                   tag.id) is None
    assert verify_key_and_read_tag("tw_nosuchkey_secret", tag.id) is None
    assert verify_key_and_read_tag("not a token", tag.id) is None
    key, _read = verify_key_and_read_tag(token, tag.id) or (None, None)
    assert key is not None
    revoke_api_key(world.viewer, key.id)
    assert verify_key_and_read_tag(token, tag.id) is None


def test_a_read_with_the_key_for_another_tag_or_scope_is_not_used(world: World) -> None:
    made = _made(world)
    loose, high = made["loose"], made["priority::high"]
    stale_view = get_tag_view(world.viewer, world.sid, high.id)

    other_row = TagReadWithKey(world.sid, high.id, stale_view)
    assert get_tag_view(world.viewer, world.sid, loose.id, read_with_key=other_row).id == loose.id
    other_scope = TagReadWithKey(world.other_scope.id, loose.id, stale_view)
    assert get_tag_view(world.viewer, world.sid, loose.id,
                        read_with_key=other_scope).id == loose.id
    with pytest.raises(PermissionDenied):  # the permission check comes first
        get_tag_view(world.outsider, world.sid, loose.id,
                     read_with_key=TagReadWithKey(world.sid, loose.id, stale_view))
