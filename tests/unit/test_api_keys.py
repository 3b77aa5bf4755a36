"""API keys: token format and storage, verification, revocation, permission caps, audit."""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import timedelta

import pytest
from flask import Flask

from webapp.extensions import db
from webapp.models import ApiKey, AuditEvent, Scope, User
from webapp.models.types import utcnow
from webapp.services.actor import Actor, Permission
from webapp.services.api_keys import (
    actor_for_key,
    create_api_key,
    effective_permissions,
    get_api_key,
    list_api_keys,
    revoke_api_key,
    verify_api_key,
)
from webapp.services.errors import NotFound, PermissionDenied, ValidationFailed
from webapp.services.scopes import add_member, create_scope, remove_member
from webapp.services.users import create_user

SYSTEM = Actor.system()
TOKEN = re.compile(r"^tw_([a-z0-9]{10})_([A-Za-z0-9_-]{43})$")


@pytest.fixture
def acme(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Scope:
    """scope_acme with mia (manager), eddie (editor), vic (viewer); root is a site admin."""
    import webapp.services.users as users

    real_hash = users.generate_password_hash
    monkeypatch.setattr(users, "generate_password_hash",  # fast hashes: not what we test here
                        lambda password: real_hash(password, method="pbkdf2:sha256:1000"))
    scope = create_scope(SYSTEM, "scope_acme", name="Acme")
    for email, role in [("mia@example.com", "manager"), ("eddie@example.com", "editor"),
                        ("vic@example.com", "viewer")]:
        create_user(SYSTEM, email, "password123")
        add_member(SYSTEM, scope.id, email, role)
    create_user(SYSTEM, "root@example.com", "password123", is_admin=True)
    create_user(SYSTEM, "eve@example.com", "password123")
    return scope


def _user(email: str) -> User:
    return db.session.scalars(db.select(User).where(User.email == email)).one()


def _as(email: str) -> Actor:
    user = _user(email)
    return Actor(user_id=user.id, is_admin=user.is_admin)


def _key(scope: Scope, email: str, permissions: list[str], actor: Actor = SYSTEM,
         name: str = "ci") -> tuple[ApiKey, str]:
    return create_api_key(actor, user_id=_user(email).id, scope_id=scope.id, name=name,
                          permissions=permissions)


def test_token_format_and_storage(app: Flask, acme: Scope) -> None:
    key, token = _key(acme, "eddie@example.com", ["tags.write", "tags.read"])

    match = TOKEN.match(token)
    assert match, token
    stored = db.session.get(ApiKey, key.id)
    assert stored is not None
    assert stored.prefix == match.group(1)
    assert stored.secret_hash != token
    assert match.group(2) not in stored.secret_hash
    expected = hmac.new(b"test-secret-key", token.encode(), hashlib.sha256).hexdigest()
    assert stored.secret_hash == expected
    assert stored.permissions == ["tags.read", "tags.write"]  # canonical order
    assert stored.name == "ci" and stored.revoked_at is None and stored.last_used_at is None


def test_tokens_and_prefixes_are_unique(app: Flask, acme: Scope) -> None:
    made = [_key(acme, "eddie@example.com", ["tags.read"]) for _ in range(5)]
    assert len({token for _, token in made}) == 5
    assert len({key.prefix for key, _ in made}) == 5


def test_verify(app: Flask, acme: Scope) -> None:
    key, token = _key(acme, "eddie@example.com", ["tags.read"])

    verified = verify_api_key(token)
    assert verified is not None and verified.id == key.id
    assert (verified.scope_id, verified.user_id) == (acme.id, key.user_id)
    assert verified.permissions == {Permission.TAGS_READ}
    prefix = key.prefix
    assert verify_api_key(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert verify_api_key(f"tw_{prefix}_") is None
    assert verify_api_key(f"tw_{'z' * 10}_{token.split('_', 2)[2]}") is None  # unknown prefix
    assert verify_api_key(token.upper()) is None
    assert verify_api_key(key.secret_hash) is None
    assert verify_api_key("") is None
    assert verify_api_key("Bearer " + token) is None
    assert verify_api_key(None) is None  # type: ignore[arg-type]


def test_a_different_secret_key_invalidates_tokens(app: Flask, acme: Scope) -> None:
    _, token = _key(acme, "eddie@example.com", ["tags.read"])
    app.config["SECRET_KEY"] = "another-secret"
    try:
        assert verify_api_key(token) is None
    finally:
        app.config["SECRET_KEY"] = "test-secret-key"
    assert verify_api_key(token) is not None


def test_revoked_keys_and_inactive_owners_are_refused(app: Flask, acme: Scope) -> None:
    key, token = _key(acme, "eddie@example.com", ["tags.read"])
    other, other_token = _key(acme, "vic@example.com", ["tags.read"])

    revoked = revoke_api_key(_as("eddie@example.com"), key.id)
    assert revoked.revoked_at is not None
    assert verify_api_key(token) is None
    revoke_api_key(SYSTEM, key.id)  # twice is harmless
    assert [e.action for e in _events("api_key") if e.object_id == key.id] == [
        "create", "revoke",
    ]

    verified = verify_api_key(other_token)
    assert verified is not None and verified.id == other.id
    _user("vic@example.com").is_active = False
    db.session.commit()
    assert verify_api_key(other_token) is None


def test_last_used_at_is_updated_at_most_once_a_minute(app: Flask, acme: Scope) -> None:
    key, token = _key(acme, "eddie@example.com", ["tags.read"])

    before = utcnow()
    assert verify_api_key(token) is not None
    db.session.expire_all()
    first = db.session.get(ApiKey, key.id).last_used_at
    assert first is not None and first >= before - timedelta(seconds=1)

    assert verify_api_key(token) is not None
    db.session.expire_all()
    assert db.session.get(ApiKey, key.id).last_used_at == first

    stale = utcnow() - timedelta(minutes=5)
    db.session.get(ApiKey, key.id).last_used_at = stale
    db.session.commit()
    assert verify_api_key(token) is not None
    db.session.expire_all()
    assert db.session.get(ApiKey, key.id).last_used_at > stale
    # Touching a key is not an audited change.
    assert {e.action for e in _events("api_key")} == {"create"}


def test_verify_uses_one_lookup_when_fresh(app: Flask, acme: Scope, count_queries) -> None:
    _, token = _key(acme, "eddie@example.com", ["tags.read"])
    assert verify_api_key(token) is not None  # sets last_used_at
    db.session.commit()
    with count_queries() as counter:
        assert verify_api_key(token) is not None
    selects = [s for s in counter.statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 1
    assert not [s for s in counter.statements if s.lstrip().upper().startswith("UPDATE")]


def test_permissions_are_validated(app: Flask, acme: Scope) -> None:
    with pytest.raises(ValidationFailed) as caught:
        _key(acme, "mia@example.com", ["tags.read", "tags.admin"])
    assert caught.value.details[0].field == "permissions"
    assert "tags.admin" in caught.value.message
    for bad in ([], ["members.manage"], "tags.read", [3]):
        with pytest.raises(ValidationFailed) as caught:
            _key(acme, "mia@example.com", bad)  # type: ignore[arg-type]
        assert caught.value.details[0].field == "permissions"
    with pytest.raises(ValidationFailed) as caught:
        _key(acme, "mia@example.com", ["tags.read"], name=" ")
    assert caught.value.details[0].field == "name"
    assert db.session.scalar(db.select(db.func.count(ApiKey.id))) == 0


@pytest.mark.parametrize(
    ("email", "allowed", "refused"),
    [
        ("vic@example.com", ["tags.read"], ["tags.create", "tags.write", "tags.delete",
                                            "groups.write"]),
        ("eddie@example.com", ["tags.read", "tags.create", "tags.write", "tags.delete"],
         ["groups.write"]),
        ("mia@example.com", ["tags.read", "tags.create", "tags.write", "tags.delete",
                             "groups.write"], []),
        ("root@example.com", ["tags.read", "tags.create", "tags.write", "tags.delete",
                              "groups.write"], []),
    ],
)
def test_permissions_are_capped_by_the_owners_role(
    app: Flask, acme: Scope, email: str, allowed: list[str], refused: list[str]
) -> None:
    key, _ = _key(acme, email, allowed)
    assert effective_permissions(key) == frozenset(Permission(p) for p in allowed)
    for permission in refused:
        with pytest.raises(ValidationFailed) as caught:
            _key(acme, email, ["tags.read", permission])
        assert caught.value.details[0].field == "permissions"
        assert permission in caught.value.message
        assert "tags.read" not in caught.value.message


def test_effective_permissions_follow_the_owners_current_role(app: Flask, acme: Scope) -> None:
    key, token = _key(acme, "eddie@example.com", ["tags.read", "tags.write", "tags.delete"])
    write = {Permission.TAGS_READ, Permission.TAGS_WRITE, Permission.TAGS_DELETE}
    assert effective_permissions(key) == write
    assert _actor(token).permissions_in(acme.id) == write

    add_member(SYSTEM, acme.id, "eddie@example.com", "viewer")
    assert effective_permissions(key) == {Permission.TAGS_READ}
    actor = _actor(token)
    assert actor.via == "api" and actor.user_id == _user("eddie@example.com").id
    assert actor.permissions_in(acme.id) == {Permission.TAGS_READ}
    assert not actor.can(acme.id, Permission.TAGS_WRITE)

    remove_member(SYSTEM, acme.id, _user("eddie@example.com").id)
    assert effective_permissions(key) == frozenset()
    assert _actor(token).permissions_in(acme.id) == frozenset()


def test_an_admins_key_is_capped_by_its_own_list(app: Flask, acme: Scope) -> None:
    key, token = _key(acme, "root@example.com", ["tags.read"])
    actor = _actor(token)
    assert actor.is_admin
    assert actor.permissions_in(acme.id) == {Permission.TAGS_READ}
    assert effective_permissions(key) == {Permission.TAGS_READ}


def test_who_may_create_a_key(app: Flask, acme: Scope) -> None:
    # The owner themself.
    _key(acme, "vic@example.com", ["tags.read"], actor=_as("vic@example.com"))
    # A manager of the scope, for a member.
    _key(acme, "eddie@example.com", ["tags.write"], actor=_as("mia@example.com"))
    # A site admin.
    _key(acme, "eddie@example.com", ["tags.read"], actor=_as("root@example.com"))
    # Not an editor, for someone else.
    with pytest.raises(PermissionDenied):
        _key(acme, "vic@example.com", ["tags.read"], actor=_as("eddie@example.com"))
    # Not through an API key, even the owner's own.
    _, own_token = _key(acme, "mia@example.com", ["tags.read", "groups.write"])
    with pytest.raises(PermissionDenied):
        _key(acme, "mia@example.com", ["tags.read"], actor=_actor(own_token))
    # Not for a scope the actor cannot see.
    with pytest.raises(NotFound):
        _key(acme, "eve@example.com", ["tags.read"], actor=_as("eve@example.com"))


def test_the_owner_must_belong_to_the_scope(app: Flask, acme: Scope) -> None:
    with pytest.raises(ValidationFailed) as caught:
        _key(acme, "eve@example.com", ["tags.read"], actor=_as("mia@example.com"))
    assert caught.value.details[0].field == "user"
    with pytest.raises(NotFound):
        create_api_key(SYSTEM, user_id=9999, scope_id=acme.id, name="x",
                       permissions=["tags.read"])
    with pytest.raises(NotFound):
        create_api_key(SYSTEM, user_id=_user("eve@example.com").id, scope_id=9999, name="x",
                       permissions=["tags.read"])
    _user("vic@example.com").is_active = False
    db.session.commit()
    with pytest.raises(ValidationFailed):
        _key(acme, "vic@example.com", ["tags.read"])


def test_who_may_revoke_and_list(app: Flask, acme: Scope) -> None:
    eddie_key, _ = _key(acme, "eddie@example.com", ["tags.read"])
    vic_key, _ = _key(acme, "vic@example.com", ["tags.read"])
    other = create_scope(SYSTEM, "scope_other", name="Other")
    add_member(SYSTEM, other.id, "eve@example.com", "manager")
    eve_key, _ = _key(other, "eve@example.com", ["tags.read"])

    # Eddie sees and revokes only his own keys; others' are "not found".
    assert list_api_keys(_as("eddie@example.com")) == [eddie_key]
    with pytest.raises(NotFound):
        revoke_api_key(_as("eddie@example.com"), vic_key.id)
    with pytest.raises(NotFound):
        get_api_key(_as("eve@example.com"), vic_key.prefix)
    # Mia manages acme: she sees its keys, not other's.
    assert set(list_api_keys(_as("mia@example.com"))) == {eddie_key, vic_key}
    assert list_api_keys(_as("mia@example.com"), user_id=vic_key.user_id) == [vic_key]
    revoke_api_key(_as("mia@example.com"), vic_key.prefix)  # by prefix
    assert set(list_api_keys(SYSTEM)) == {eddie_key, vic_key, eve_key}
    assert list_api_keys(SYSTEM, scope_id=other.id) == [eve_key]
    assert set(list_api_keys(SYSTEM, include_revoked=False)) == {eddie_key, eve_key}
    revoke_api_key(_as("root@example.com"), eve_key.public_id)  # by public id
    assert db.session.get(ApiKey, eve_key.id).revoked_at is not None
    # A key cannot revoke keys.
    _, mia_token = _key(acme, "mia@example.com", ["tags.read"])
    with pytest.raises(PermissionDenied):
        revoke_api_key(_actor(mia_token), eddie_key.id)


def _actor(token: str) -> Actor:
    """The actor of a request made with ``token``, as the API authenticates it."""
    verified = verify_api_key(token)
    assert verified is not None
    return actor_for_key(verified)


def _events(object_type: str) -> list[AuditEvent]:
    return list(db.session.scalars(
        db.select(AuditEvent).where(AuditEvent.object_type == object_type)
        .order_by(AuditEvent.id)
    ))


def test_audit_events_contain_no_secrets(app: Flask, acme: Scope) -> None:
    key, token = _key(acme, "eddie@example.com", ["tags.read"], name="deploy bot")
    revoke_api_key(SYSTEM, key.id)

    events = _events("api_key")
    assert [(e.object_id, e.action) for e in events] == [(key.id, "create"), (key.id, "revoke")]
    assert events[0].after["permissions"] == ["tags.read"]
    assert events[0].after["name"] == "deploy bot"
    assert events[1].before["revoked"] is False and events[1].after["revoked"] is True
    secret = token.split("_", 2)[2]
    everything = repr([(e.before, e.after) for e in db.session.scalars(db.select(AuditEvent))])
    assert token not in everything
    assert secret not in everything
    assert key.secret_hash not in everything
