"""Users: creation rules, password hashing, authentication, password changes, audit."""

from __future__ import annotations

import pytest
from flask import Flask

from webapp.extensions import db
from webapp.models import AuditEvent, ChangeSet, User
from webapp.services.actor import Actor, Permission
from webapp.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from webapp.services.users import (
    authenticate,
    create_user,
    get_user_by_email,
    set_password,
)

SYSTEM = Actor.system()
PASSWORD = "correct horse battery"


def test_create_user_stores_lowercased_email_and_a_hash(app: Flask) -> None:
    user = create_user(SYSTEM, "  Ada@Example.COM ", PASSWORD, display_name=" Ada ")

    stored = db.session.get(User, user.id)
    assert stored is not None
    assert stored.email == "ada@example.com"
    assert stored.display_name == "Ada"
    assert stored.is_admin is False
    assert stored.is_active is True
    assert stored.password_hash != PASSWORD
    assert PASSWORD not in stored.password_hash


def test_create_user_writes_an_audit_event_without_secrets(app: Flask) -> None:
    user = create_user(SYSTEM, "ada@example.com", PASSWORD, is_admin=True)

    events = db.session.scalars(db.select(AuditEvent)).all()
    assert [(e.object_type, e.object_id, e.action) for e in events] == [
        ("user", user.id, "create")
    ]
    assert events[0].after == {
        "email": "ada@example.com", "display_name": "", "is_admin": True, "is_active": True,
    }
    change_set = db.session.get(ChangeSet, events[0].change_set_id)
    assert change_set is not None and change_set.via == "system"
    text = repr(events[0].before) + repr(events[0].after)
    assert PASSWORD not in text and user.password_hash not in text


def test_only_admins_create_users(app: Flask) -> None:
    admin = create_user(SYSTEM, "root@example.com", PASSWORD, is_admin=True)
    plain = create_user(SYSTEM, "bob@example.com", PASSWORD)

    create_user(Actor(user_id=admin.id, is_admin=True), "carol@example.com", PASSWORD)
    with pytest.raises(PermissionDenied):
        create_user(Actor(user_id=plain.id), "dave@example.com", PASSWORD)
    # An admin's API key carries tag permissions only.
    key_actor = Actor(user_id=admin.id, is_admin=True, via="api",
                      key_permissions=frozenset({Permission.TAGS_READ}))
    with pytest.raises(PermissionDenied):
        create_user(key_actor, "erin@example.com", PASSWORD)
    assert db.session.scalar(db.select(db.func.count(User.id))) == 3


def test_duplicate_email_is_a_conflict_whatever_the_case(app: Flask) -> None:
    create_user(SYSTEM, "ada@example.com", PASSWORD)
    with pytest.raises(Conflict):
        create_user(SYSTEM, "ADA@example.com", PASSWORD)
    assert db.session.scalar(db.select(db.func.count(User.id))) == 1


@pytest.mark.parametrize("password", ["", "short", "1234567"])
def test_short_password_is_refused_on_the_password_field(app: Flask, password: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        create_user(SYSTEM, "ada@example.com", password)
    assert [d.field for d in caught.value.details] == ["password"]
    assert db.session.scalar(db.select(db.func.count(User.id))) == 0


@pytest.mark.parametrize(
    "email", ["", "ada", "ada@", "@example.com", "ada@@example.com", "a da@example.com",
              "ada@exa mple.com", "ada@-example.com", "ad\u200ba@example.com", "x" * 250 + "@e.io"],
)
def test_invalid_email_is_refused_on_the_email_field(app: Flask, email: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        create_user(SYSTEM, email, PASSWORD)
    assert caught.value.details[0].field == "email"


def test_eight_characters_and_local_domains_are_enough(app: Flask) -> None:
    user = create_user(SYSTEM, "admin@localhost", "12345678")
    assert authenticate("admin@localhost", "12345678") == user


def test_authenticate(app: Flask) -> None:
    user = create_user(SYSTEM, "ada@example.com", PASSWORD)

    assert authenticate("ada@example.com", PASSWORD) == user
    assert authenticate(" ADA@example.com ", PASSWORD) == user
    assert authenticate("ada@example.com", PASSWORD + "x") is None
    assert authenticate("nobody@example.com", PASSWORD) is None
    assert authenticate("ada@example.com", "") is None


def test_authenticate_checks_a_hash_even_for_unknown_users(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    import webapp.services.users as users

    calls: list[str] = []
    real = users.check_password_hash

    def spy(pwhash: str, password: str) -> bool:
        calls.append(pwhash)
        return real(pwhash, password)

    monkeypatch.setattr(users, "check_password_hash", spy)
    assert authenticate("nobody@example.com", PASSWORD) is None
    assert len(calls) == 1


def test_inactive_users_cannot_authenticate(app: Flask) -> None:
    user = create_user(SYSTEM, "ada@example.com", PASSWORD)
    user.is_active = False
    db.session.commit()

    assert authenticate("ada@example.com", PASSWORD) is None


def test_get_user_by_email(app: Flask) -> None:
    user = create_user(SYSTEM, "ada@example.com", PASSWORD)
    assert get_user_by_email("Ada@Example.com") == user
    with pytest.raises(NotFound):
        get_user_by_email("nobody@example.com")


def test_set_password_by_self_and_by_admin(app: Flask) -> None:
    ada = create_user(SYSTEM, "ada@example.com", PASSWORD)
    bob = create_user(SYSTEM, "bob@example.com", PASSWORD)

    set_password(Actor(user_id=ada.id), ada.id, "new password 1")
    assert authenticate("ada@example.com", "new password 1") == ada
    assert authenticate("ada@example.com", PASSWORD) is None

    set_password(SYSTEM, ada.id, "new password 2")
    assert authenticate("ada@example.com", "new password 2") == ada

    with pytest.raises(PermissionDenied):
        set_password(Actor(user_id=bob.id), ada.id, "hijacked!!")
    assert authenticate("ada@example.com", "new password 2") == ada


def test_set_password_validates_and_audits_without_secrets(app: Flask) -> None:
    ada = create_user(SYSTEM, "ada@example.com", PASSWORD)

    with pytest.raises(ValidationFailed) as caught:
        set_password(Actor(user_id=ada.id), ada.id, "short")
    assert caught.value.details[0].field == "password"
    with pytest.raises(NotFound):
        set_password(SYSTEM, ada.id + 100, "long enough")

    set_password(Actor(user_id=ada.id), ada.id, "new password 1")
    event = db.session.scalars(
        db.select(AuditEvent).where(AuditEvent.action == "set_password")
    ).one()
    assert event.object_type == "user" and event.object_id == ada.id
    text = repr(event.before) + repr(event.after)
    assert "new password 1" not in text
    assert db.session.get(User, ada.id).password_hash not in text
