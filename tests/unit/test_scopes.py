"""Scopes and memberships: creation, visibility, roles, last-manager protection, audit."""

from __future__ import annotations

import pytest
from flask import Flask

from webapp.extensions import db
from webapp.models import AuditEvent, ChangeSet, Membership, Role, Scope, User
from webapp.services.actor import Actor, Permission
from webapp.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from webapp.services.scopes import (
    add_member,
    create_scope,
    get_scope,
    list_members,
    list_scopes,
    remove_member,
    slugify,
)
from webapp.services.users import create_user

SYSTEM = Actor.system()


def _user(email: str, *, admin: bool = False) -> User:
    return create_user(SYSTEM, email, "password123", is_admin=admin)


def _events(object_type: str) -> list[AuditEvent]:
    return list(db.session.scalars(
        db.select(AuditEvent).where(AuditEvent.object_type == object_type)
        .order_by(AuditEvent.id)
    ))


def test_create_scope_with_a_chosen_id_derives_the_slug(app: Flask) -> None:
    scope = create_scope(SYSTEM, "scope_acme_corp", name="  Acme Corp ")
    assert (scope.public_id, scope.name, scope.slug) == ("scope_acme_corp", "Acme Corp",
                                                         "acme-corp")
    [event] = _events("scope")
    assert (event.object_id, event.action) == (scope.id, "create")
    assert event.after == {"public_id": "scope_acme_corp", "name": "Acme Corp",
                           "slug": "acme-corp"}
    change_set = db.session.get(ChangeSet, event.change_set_id)
    assert change_set is not None and change_set.scope_id == scope.id


def test_create_scope_generates_an_id_and_accepts_a_slug(app: Flask) -> None:
    scope = create_scope(SYSTEM, name="Generated")
    assert scope.public_id.startswith("scope_") and len(scope.public_id) == len("scope_") + 36
    assert scope.slug == scope.public_id.removeprefix("scope_")

    other = create_scope(SYSTEM, "scope_x", name="X", slug="Team-X")
    assert other.slug == "team-x"


@pytest.mark.parametrize(
    ("public_id", "slug", "field"),
    [
        ("acme", None, "id"),
        ("scope_", None, "id"),
        ("scope acme", None, "id"),
        ("tag_acme", None, "id"),
        ("scope_acme", "not a slug", "slug"),
        ("scope_acme", "double--hyphen", "slug"),
        ("scope_acme", "", "slug"),
        ("scope_.", None, "slug"),
    ],
)
def test_create_scope_validates_id_and_slug(
    app: Flask, public_id: str, slug: str | None, field: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        create_scope(SYSTEM, public_id, name="Acme", slug=slug)
    assert caught.value.details[0].field == field
    assert db.session.scalar(db.select(db.func.count(Scope.id))) == 0


def test_create_scope_refuses_an_empty_name(app: Flask) -> None:
    with pytest.raises(ValidationFailed) as caught:
        create_scope(SYSTEM, "scope_acme", name="  ")
    assert caught.value.details[0].field == "name"


def test_duplicate_id_or_slug_is_a_conflict(app: Flask) -> None:
    create_scope(SYSTEM, "scope_acme", name="Acme")
    with pytest.raises(Conflict, match="id"):
        create_scope(SYSTEM, "scope_acme", name="Again", slug="other")
    with pytest.raises(Conflict, match="slug"):
        create_scope(SYSTEM, "scope_acme2", name="Again", slug="acme")
    assert db.session.scalar(db.select(db.func.count(Scope.id))) == 1


def test_only_admins_create_scopes_and_the_creator_becomes_manager(app: Flask) -> None:
    admin = _user("root@example.com", admin=True)
    plain = _user("bob@example.com")
    with pytest.raises(PermissionDenied):
        create_scope(Actor(user_id=plain.id), "scope_bob", name="Bob")

    scope = create_scope(Actor(user_id=admin.id, is_admin=True), "scope_acme", name="Acme")
    membership = db.session.get(Membership, (admin.id, scope.id))
    assert membership is not None and membership.role == "manager"
    assert [e.action for e in _events("membership")] == ["create"]

    # The system creates scopes without a manager.
    orphan = create_scope(SYSTEM, "scope_system", name="System")
    assert db.session.scalars(
        db.select(Membership).where(Membership.scope_id == orphan.id)
    ).all() == []


def test_get_scope_by_id_or_slug_and_no_leak(app: Flask) -> None:
    bob = _user("bob@example.com")
    scope = create_scope(SYSTEM, "scope_acme", name="Acme")
    add_member(SYSTEM, scope.id, "bob@example.com", "viewer")
    stranger = _user("eve@example.com")

    assert get_scope(Actor(user_id=bob.id), "scope_acme") == scope
    assert get_scope(Actor(user_id=bob.id), "acme") == scope
    assert get_scope(Actor(user_id=bob.id), "ACME") == scope
    assert get_scope(SYSTEM, "acme") == scope
    with pytest.raises(NotFound) as existing:
        get_scope(Actor(user_id=stranger.id), "scope_acme")
    with pytest.raises(NotFound) as missing:
        get_scope(Actor(user_id=stranger.id), "scope_nope")
    assert type(existing.value) is type(missing.value)
    assert str(existing.value).replace("acme", "X") == str(missing.value).replace("nope", "X")


def test_list_scopes(app: Flask) -> None:
    admin = _user("root@example.com", admin=True)
    bob = _user("bob@example.com")
    admin_actor = Actor(user_id=admin.id, is_admin=True)
    acme = create_scope(admin_actor, "scope_acme", name="Acme")
    beta = create_scope(SYSTEM, "scope_beta", name="Beta")
    add_member(SYSTEM, beta.id, "bob@example.com", "editor")

    assert list_scopes(admin_actor) == [(acme, Role.MANAGER), (beta, None)]
    assert list_scopes(Actor(user_id=bob.id)) == [(beta, Role.EDITOR)]
    assert list_scopes(Actor(user_id=_user("eve@example.com").id)) == []


def test_add_member_and_change_role(app: Flask) -> None:
    manager = _user("mia@example.com")
    _user("bob@example.com")
    scope = create_scope(SYSTEM, "scope_acme", name="Acme")
    add_member(SYSTEM, scope.id, "mia@example.com", "manager")
    mia = Actor(user_id=manager.id)

    created = add_member(mia, scope.id, "BOB@example.com", Role.VIEWER)
    assert created.role == "viewer"
    changed = add_member(mia, scope.id, "bob@example.com", "editor")
    assert changed.role == "editor"
    same = add_member(mia, scope.id, "bob@example.com", "editor")  # no change, no event
    assert same.role == "editor"

    members = list_members(mia, scope.id)
    assert [(m.user.email, m.role) for m in members] == [
        ("bob@example.com", "editor"), ("mia@example.com", "manager"),
    ]
    events = _events("membership")
    assert [e.action for e in events] == ["create", "create", "update"]
    assert events[2].before["role"] == "viewer" and events[2].after["role"] == "editor"


def test_add_member_rules(app: Flask) -> None:
    bob = _user("bob@example.com")
    _user("eve@example.com")
    scope = create_scope(SYSTEM, "scope_acme", name="Acme")
    add_member(SYSTEM, scope.id, "bob@example.com", "editor")

    with pytest.raises(PermissionDenied):
        add_member(Actor(user_id=bob.id), scope.id, "eve@example.com", "viewer")
    with pytest.raises(ValidationFailed) as caught:
        add_member(SYSTEM, scope.id, "eve@example.com", "owner")
    assert caught.value.details[0].field == "role"
    with pytest.raises(NotFound):
        add_member(SYSTEM, scope.id, "nobody@example.com", "viewer")
    with pytest.raises(NotFound):
        add_member(SYSTEM, scope.id + 99, "eve@example.com", "viewer")
    # A manager's API key never carries members.manage.
    add_member(SYSTEM, scope.id, "bob@example.com", "manager")
    key_actor = Actor(user_id=bob.id, via="api", key_permissions=frozenset(Permission))
    with pytest.raises(PermissionDenied):
        add_member(key_actor, scope.id, "eve@example.com", "viewer")


def test_last_manager_cannot_be_demoted_or_removed(app: Flask) -> None:
    mia = _user("mia@example.com")
    bob = _user("bob@example.com")
    scope = create_scope(SYSTEM, "scope_acme", name="Acme")
    add_member(SYSTEM, scope.id, "mia@example.com", "manager")
    add_member(SYSTEM, scope.id, "bob@example.com", "viewer")

    with pytest.raises(Conflict, match="last manager"):
        add_member(SYSTEM, scope.id, "mia@example.com", "editor")
    with pytest.raises(Conflict, match="last manager"):
        remove_member(SYSTEM, scope.id, mia.id)
    with pytest.raises(Conflict, match="last manager"):
        remove_member(Actor(user_id=mia.id), scope.id, mia.id)  # leaving
    assert db.session.get(Membership, (mia.id, scope.id)).role == "manager"

    # With a second manager, the first may step down.
    add_member(SYSTEM, scope.id, "bob@example.com", "manager")
    add_member(Actor(user_id=mia.id), scope.id, "mia@example.com", "viewer")
    with pytest.raises(Conflict):
        remove_member(SYSTEM, scope.id, bob.id)
    assert db.session.get(Membership, (mia.id, scope.id)).role == "viewer"


def test_remove_member(app: Flask) -> None:
    mia = _user("mia@example.com")
    bob = _user("bob@example.com")
    eve = _user("eve@example.com")
    scope = create_scope(SYSTEM, "scope_acme", name="Acme")
    add_member(SYSTEM, scope.id, "mia@example.com", "manager")
    add_member(SYSTEM, scope.id, "bob@example.com", "editor")
    add_member(SYSTEM, scope.id, "eve@example.com", "viewer")

    with pytest.raises(PermissionDenied):
        remove_member(Actor(user_id=bob.id), scope.id, eve.id)
    remove_member(Actor(user_id=mia.id), scope.id, eve.id)
    bob_actor = Actor(user_id=bob.id)
    remove_member(bob_actor, scope.id, bob.id)  # a member may leave
    with pytest.raises(NotFound):
        remove_member(SYSTEM, scope.id, bob.id)
    # Bob no longer sees the scope, and his actor does not keep a stale role.
    with pytest.raises(NotFound):
        get_scope(bob_actor, "acme")
    assert [m.user_id for m in list_members(Actor(user_id=mia.id), scope.id)] == [mia.id]
    deletes = [e for e in _events("membership") if e.action == "delete"]
    assert [(e.object_id, e.before["role"], e.after) for e in deletes] == [
        (eve.id, "viewer", None), (bob.id, "editor", None),
    ]


def test_list_members_needs_a_role(app: Flask) -> None:
    eve = _user("eve@example.com")
    scope = create_scope(SYSTEM, "scope_acme", name="Acme")
    with pytest.raises(NotFound):
        list_members(Actor(user_id=eve.id), scope.id)
    assert list_members(SYSTEM, scope.id) == []


@pytest.mark.parametrize(
    ("text", "slug"),
    [("acme", "acme"), ("Acme_Corp", "acme-corp"), ("  Ünïcode--Ltd. ", "unicode-ltd"),
     ("a.b:c", "a-b-c"), ("___", "")],
)
def test_slugify(text: str, slug: str) -> None:
    assert slugify(text) == slug
