"""Test helpers: scopes, users with roles, actors, and small read-backs of the database.

Everything goes through the real services (``scopes``, ``users``), so the fixtures obey
the same rules as production data.  Users are created once per email and test.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from unittest import mock

from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from webapp.extensions import db
from webapp.models import Assignment, AuditEvent, ChangeSet, Resource, Role, Scope, Tag, User
from webapp.services.actor import Actor, Permission
from webapp.services.scopes import add_member, create_scope
from webapp.services.users import create_user

SYSTEM = Actor.system()
PASSWORD = "password-123"


def make_scope(public_id: str = "scope_acme", name: str | None = None) -> Scope:
    return create_scope(SYSTEM, public_id, name=name or public_id.removeprefix("scope_").title())


def _fast_hash(password: str) -> str:
    return generate_password_hash(password, method="pbkdf2:sha256:1")


def make_user(email: str, *, admin: bool = False) -> User:
    """A user made by ``users.create_user``, with a cheap password hash (tests make many)."""
    existing = db.session.scalar(select(User).where(User.email == email.lower()))
    if existing is not None:
        return existing
    with mock.patch("webapp.services.users.generate_password_hash", _fast_hash):
        return create_user(SYSTEM, email, PASSWORD, is_admin=admin)


def member(scope: Scope, email: str, role: Role | str) -> Actor:
    """A user holding ``role`` in ``scope`` (created if needed), as a web actor."""
    user = make_user(email)
    add_member(SYSTEM, scope.id, user.email, role)
    return Actor(user_id=user.id)


def key_actor(actor: Actor, *permissions: Permission) -> Actor:
    """The same user acting through an API key that carries only ``permissions``."""
    return Actor(user_id=actor.user_id, via="api", key_permissions=frozenset(permissions))


@dataclass
class World:
    """One scope with a member of every role, plus a second scope and its editor."""

    scope: Scope
    manager: Actor
    editor: Actor
    viewer: Actor
    other_scope: Scope
    outsider: Actor  # editor of ``other_scope``, no role in ``scope``

    @property
    def sid(self) -> int:
        return self.scope.id


def make_world() -> World:
    scope = make_scope("scope_acme")
    other = make_scope("scope_beta")
    return World(
        scope=scope,
        manager=member(scope, "manager@example.com", Role.MANAGER),
        editor=member(scope, "editor@example.com", Role.EDITOR),
        viewer=member(scope, "viewer@example.com", Role.VIEWER),
        other_scope=other,
        outsider=member(other, "outsider@example.com", Role.EDITOR),
    )


def external_ids(count: int, start: int = 0) -> list[str]:
    """``count`` distinct UUID-shaped external ids (as seeds 000/001 use)."""
    return [str(uuid.UUID(int=start + n + 1)) for n in range(count)]


# --- reading the database back ----------------------------------------------------------


def count(model: type, *where: object) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def live_tag(scope_id: int, path_key: str) -> Tag | None:
    return db.session.scalar(
        select(Tag).where(Tag.scope_id == scope_id, Tag.path_key == path_key.casefold(),
                          Tag.deleted_at.is_(None))
    )


def tag_state(scope_id: int) -> list[tuple[str, str, int, str | None]]:
    """Every tag of the scope as (path_key, path, depth, group id), sorted; live only."""
    db.session.expire_all()
    return sorted(
        (t.path_key, t.path, t.depth, t.group.identifier if t.group else None)
        for t in db.session.scalars(
            select(Tag).where(Tag.scope_id == scope_id, Tag.deleted_at.is_(None))
        )
    )


def links(scope_id: int) -> set[tuple[str, str, str]]:
    """Every assignment of the scope as (tag path_key, resource type, external id)."""
    rows = db.session.execute(
        select(Tag.path_key, Resource.type, Resource.external_id)
        .join(Assignment, Assignment.tag_id == Tag.id)
        .join(Resource, Resource.id == Assignment.resource_id)
        .where(Tag.scope_id == scope_id)
    ).all()
    return {tuple(row) for row in rows}  # type: ignore[misc]


def change_sets() -> list[ChangeSet]:
    return list(db.session.scalars(select(ChangeSet).order_by(ChangeSet.id)))


def events(object_type: str | None = None, action: str | None = None) -> list[AuditEvent]:
    query = select(AuditEvent).order_by(AuditEvent.id)
    if object_type is not None:
        query = query.where(AuditEvent.object_type == object_type)
    if action is not None:
        query = query.where(AuditEvent.action == action)
    return list(db.session.scalars(query))


def fields(error: BaseException) -> list[str]:
    """The field names of a ServiceError's details."""
    return [detail.field for detail in getattr(error, "details", [])]


def snapshot_counts() -> dict[str, int]:
    """Row counts of every table the tag services write (to prove nothing changed)."""
    from webapp.models import AssignmentRemoval, TagGroup

    models: Sequence[type] = (Tag, TagGroup, Resource, Assignment, AssignmentRemoval,
                              ChangeSet, AuditEvent)
    return {model.__name__: count(model) for model in models}
