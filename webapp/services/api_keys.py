"""API keys: one user, one scope, a list of permissions.

A token reads ``tw_<prefix>_<secret>``: ``prefix`` is 10 lower-case letters and digits,
unique and stored in clear so one indexed look-up finds the key; the secret is 32 random
bytes.  Only ``HMAC-SHA256(SECRET_KEY, token)`` is stored, so a leaked database does not
leak usable keys, and the token is shown once, at creation.

A key never holds more than its owner's role allows: the check happens when it is created
and again on every use (:func:`effective_permissions`, and :class:`Actor` caps by role).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import and_, bindparam, or_, select, update

from webapp.database import WRITE_OPTION
from webapp.extensions import db
from webapp.fastpath import HotRead
from webapp.models import ApiKey, Membership, Role, Scope, User
from webapp.models.types import utcnow
from webapp.services import names
from webapp.services.actor import (
    ALL_PERMISSIONS,
    API_KEY_PERMISSIONS,
    ROLE_PERMISSIONS,
    Actor,
    Permission,
)
from webapp.services.errors import NotFound, PermissionDenied, ValidationFailed
from webapp.services.uow import current_recorder, writing

TOKEN_PREFIX = "tw"
PREFIX_LENGTH = 10
PREFIX_ALPHABET = string.ascii_lowercase + string.digits
LAST_USED_RESOLUTION = timedelta(minutes=1)
_KEY_PERMISSION_VALUES = frozenset(p.value for p in API_KEY_PERMISSIONS)


def hash_token(token: str) -> str:
    """The stored form of a token: hex HMAC-SHA256 keyed with the app's SECRET_KEY."""
    secret = current_app.config["SECRET_KEY"]
    key = secret.encode() if isinstance(secret, str) else bytes(secret)
    return hmac.new(key, token.encode(), hashlib.sha256).hexdigest()


def parse_token(token: object) -> str | None:
    """The lookup prefix of a well-formed token, else None."""
    if not isinstance(token, str):
        return None
    head, sep, rest = token.partition("_")
    prefix, sep2, secret = rest.partition("_")
    if head != TOKEN_PREFIX or not sep or not sep2 or not secret:
        return None
    if len(prefix) != PREFIX_LENGTH or any(ch not in PREFIX_ALPHABET for ch in prefix):
        return None
    return prefix


def api_key_snapshot(key: ApiKey) -> dict[str, Any]:
    """The audited state of a key: never the token or its hash."""
    return {
        "public_id": key.public_id,
        "name": key.name,
        "prefix": key.prefix,
        "user_id": key.user_id,
        "scope_id": key.scope_id,
        "permissions": list(key.permissions),
        "revoked": key.revoked_at is not None,
    }


def _role_of(user_id: int, scope_id: int) -> Role | None:
    value = db.session.scalar(
        db.select(Membership.role).where(
            Membership.user_id == user_id, Membership.scope_id == scope_id
        )
    )
    return Role(value) if value else None


def _owner_permissions(owner: User, scope_id: int) -> frozenset[Permission]:
    """What the owner's current standing in the scope allows (admins: everything)."""
    if not owner.is_active:
        return frozenset()
    if owner.is_admin:
        return ALL_PERMISSIONS
    role = _role_of(owner.id, scope_id)
    return ROLE_PERMISSIONS[role] if role else frozenset()


def _permission_set(stored: Iterable[str] | None) -> frozenset[Permission]:
    return frozenset(Permission(p) for p in stored or () if p in _KEY_PERMISSION_VALUES)


def effective_permissions(key: ApiKey) -> frozenset[Permission]:
    """The key's permissions that its owner's current role still allows."""
    return _permission_set(key.permissions) & _owner_permissions(key.user, key.scope_id)


def actor_for_key(key: VerifiedKey) -> Actor:
    """The actor a request authenticated with ``key`` acts as (capped by role in Actor).

    It starts with the owner's role in the key's scope as ``verify_api_key`` read it with
    the key, so authorizing the request costs no further query."""
    return Actor(
        user_id=key.user_id,
        is_admin=key.user_is_admin,
        via="api",
        key_permissions=key.permissions,
        _roles={key.scope_id: key.owner_role},
    )


def _clean_permissions(raw: object) -> list[str]:
    if isinstance(raw, str) or not isinstance(raw, Iterable):
        raise ValidationFailed.field("permissions", "must be a list of permission names")
    wanted: set[str] = set()
    unknown: list[str] = []
    for item in raw:
        if not isinstance(item, str):
            unknown.append(repr(item))
            continue
        text = item.strip()
        if text in _KEY_PERMISSION_VALUES:
            wanted.add(text)
        elif text:
            unknown.append(text)
    if unknown:
        choices = ", ".join(p.value for p in API_KEY_PERMISSIONS)
        raise ValidationFailed.field(
            "permissions", f"unknown permission(s) {', '.join(unknown)}; choose from {choices}"
        )
    if not wanted:
        raise ValidationFailed.field("permissions", "choose at least one permission")
    # Canonical order, as API_KEY_PERMISSIONS lists them.
    return [p.value for p in API_KEY_PERMISSIONS if p.value in wanted]


def _new_prefix() -> str:
    for _ in range(20):
        prefix = "".join(secrets.choice(PREFIX_ALPHABET) for _ in range(PREFIX_LENGTH))
        if db.session.scalar(db.select(ApiKey.id).where(ApiKey.prefix == prefix)) is None:
            return prefix
    raise RuntimeError("could not find a free API key prefix")  # 36**10: never happens


def _scope_for(actor: Actor, scope_id: int) -> Scope:
    scope = db.session.get(Scope, scope_id)
    if scope is None or not (actor.is_admin or actor.role_in(scope.id) is not None):
        raise NotFound(f"no scope {scope_id!r}")
    return scope


def _may_manage_keys_of(actor: Actor, owner_id: int, scope_id: int) -> bool:
    """The owner, a members.manage holder in the scope, or a site admin."""
    return actor.user_id == owner_id or actor.can(scope_id, Permission.MEMBERS_MANAGE)


def create_api_key(
    actor: Actor,
    *,
    user_id: int,
    scope_id: int,
    name: str,
    permissions: Iterable[str],
) -> tuple[ApiKey, str]:
    """Create a key for ``user_id`` in ``scope_id``; return it and its token (shown once).

    Allowed for the owner themself, a manager of the scope and site admins, and never
    through an API key.  The owner must be an active member of the scope (or a site
    admin), and the permissions must be key permissions that the owner's role allows.
    """
    if actor.key_permissions is not None:
        raise PermissionDenied("an API key cannot create API keys")
    scope = _scope_for(actor, scope_id)
    if not _may_manage_keys_of(actor, user_id, scope.id):
        raise PermissionDenied("only the owner, a manager of the scope or an administrator "
                               "may create this key")
    name = names.clean_label(name, "name")
    wanted = _clean_permissions(permissions)

    with writing(actor, scope.id, f"Create API key {name!r}") as recorder:
        owner = db.session.get(User, user_id)
        if owner is None:
            raise NotFound(f"no user with id {user_id}")
        if not owner.is_active:
            raise ValidationFailed.field("user", "is deactivated")
        role = None if owner.is_admin else _role_of(owner.id, scope.id)
        if role is None and not owner.is_admin:
            raise ValidationFailed.field(
                "user", f"{owner.email} is not a member of scope {scope.public_id}"
            )
        allowed = _owner_permissions(owner, scope.id)
        excess = [p for p in wanted if Permission(p) not in allowed]
        if excess:
            raise ValidationFailed.field(
                "permissions",
                f"the owner's role ({role.value if role else 'none'}) does not allow "
                f"{', '.join(excess)}",
            )
        prefix = _new_prefix()
        token = f"{TOKEN_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
        key = ApiKey(
            user_id=owner.id,
            scope_id=scope.id,
            name=name,
            prefix=prefix,
            secret_hash=hash_token(token),
            permissions=wanted,
            created_at=utcnow(),
        )
        db.session.add(key)
        db.session.flush()
        recorder.record("api_key", key.id, "create", None, api_key_snapshot(key))
    return key, token


@dataclass(frozen=True, slots=True)
class VerifiedKey:
    """A live key, its owner and the owner's role in its scope, as one API request needs
    them: read by :func:`verify_api_key` in one statement, without ORM objects."""

    id: int
    scope_id: int
    scope_public_id: str
    user_id: int
    user_public_id: str
    user_email: str
    user_is_admin: bool
    permissions: frozenset[Permission]
    owner_role: Role | None
    last_used_at: datetime | None


# Every API request runs this look-up: a key by its token's prefix (bound as ``prefix``)
# with its owner, scope and role.  Reads that check the key in the same statement as their
# own data extend it with outer joins.
KEY_LOOKUP = (
    select(ApiKey.id, ApiKey.scope_id, Scope.public_id.label("scope_public_id"),
           ApiKey.user_id, User.public_id.label("user_public_id"), User.email,
           User.is_admin, User.is_active, ApiKey.secret_hash, ApiKey.permissions,
           ApiKey.revoked_at, ApiKey.last_used_at, Membership.role)
    .join(User, User.id == ApiKey.user_id)
    .join(Scope, Scope.id == ApiKey.scope_id)
    .outerjoin(Membership, and_(Membership.user_id == ApiKey.user_id,
                                Membership.scope_id == ApiKey.scope_id))
    .where(ApiKey.prefix == bindparam("prefix"))
)
_KEY_BY_PREFIX = HotRead(KEY_LOOKUP)


def verify_api_key(token: str) -> VerifiedKey | None:
    """Return the live key this token belongs to, else None.

    One indexed look-up by prefix, then a constant-time comparison of HMACs (computed even
    when no key has the prefix).  Revoked keys and keys of deactivated users are refused.
    Touches ``last_used_at`` at most once a minute; that is not an audited change.
    """
    verified = verify_api_key_with(token, _KEY_BY_PREFIX, {})
    return verified[0] if verified is not None else None


def verify_api_key_with(token: str, read: HotRead, params: Mapping[str, Any]
                        ) -> tuple[VerifiedKey, dict[str, Any]] | None:
    """:func:`verify_api_key` with ``read``, a hot read built on ``KEY_LOOKUP``, and
    ``params`` for its own binds: the live key and the whole row read with it, else None
    (and then nothing of the row may be used)."""
    prefix = parse_token(token)
    if prefix is None:
        return None
    presented = hash_token(token)
    row = read.first({**params, "prefix": prefix})
    if row is None:
        hmac.compare_digest(presented, "0" * len(presented))
        return None
    if not hmac.compare_digest(row["secret_hash"], presented):
        return None
    if row["revoked_at"] is not None or not row["is_active"]:
        return None
    key = VerifiedKey(
        id=row["id"], scope_id=row["scope_id"], scope_public_id=row["scope_public_id"],
        user_id=row["user_id"], user_public_id=row["user_public_id"],
        user_email=row["email"], user_is_admin=row["is_admin"],
        permissions=_permission_set(row["permissions"]),
        owner_role=Role(row["role"]) if row["role"] else None,
        last_used_at=row["last_used_at"],
    )
    _touch(key)
    return key, row


def _touch(key: VerifiedKey) -> None:
    """Record a use of ``key`` when the stored time is over a minute old."""
    now = utcnow()
    cutoff = now - LAST_USED_RESOLUTION
    if key.last_used_at is not None and key.last_used_at > cutoff:
        return
    statement = (
        update(ApiKey)
        .where(
            ApiKey.id == key.id,
            or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at <= cutoff),
        )
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )
    session = db.session()  # the request's Session (the scoped proxy lacks in_transaction)
    if current_recorder() is not None:  # inside a write: join it, its commit covers this
        session.execute(statement)
        return
    if session.in_transaction() and not session.connection().get_execution_options().get(
        WRITE_OPTION
    ):
        session.commit()  # end the read snapshot (SQLite cannot upgrade a stale one)
    session.connection(execution_options={WRITE_OPTION: True})
    session.execute(statement)
    session.commit()


def _find_key(handle: int | str) -> ApiKey | None:
    if isinstance(handle, int):
        return db.session.get(ApiKey, handle)
    if not isinstance(handle, str) or not handle.strip():
        return None
    text = handle.strip()
    return db.session.scalar(
        db.select(ApiKey).where(or_(ApiKey.public_id == text, ApiKey.prefix == text.lower()))
    )


def get_api_key(actor: Actor, handle: int | str) -> ApiKey:
    """A key by integer id, public id (``key_…``) or token prefix, if the actor may see it.

    Visible to its owner, the managers of its scope and site admins; NotFound otherwise.
    """
    key = _find_key(handle)
    if key is None or not _may_manage_keys_of(actor, key.user_id, key.scope_id):
        raise NotFound(f"no API key {handle!r}")
    return key


def revoke_api_key(actor: Actor, key_id: int | str) -> ApiKey:
    """Revoke a key (owner, scope manager or site admin). Revoking twice is harmless."""
    if actor.key_permissions is not None:
        raise PermissionDenied("an API key cannot revoke API keys")
    key = get_api_key(actor, key_id)
    if key.revoked_at is not None:
        return key
    with writing(actor, key.scope_id, f"Revoke API key {key.prefix}") as recorder:
        before = api_key_snapshot(key)
        key.revoked_at = utcnow()
        db.session.flush()
        recorder.record("api_key", key.id, "revoke", before, api_key_snapshot(key))
    return key


def list_api_keys(
    actor: Actor,
    *,
    user_id: int | None = None,
    scope_id: int | None = None,
    include_revoked: bool = True,
) -> list[ApiKey]:
    """The keys the actor may see, newest first, optionally for one user and/or scope.

    Site admins see every key; others see their own keys and the keys of the scopes they
    manage.
    """
    query = db.select(ApiKey).order_by(ApiKey.created_at.desc(), ApiKey.id.desc())
    if user_id is not None:
        query = query.where(ApiKey.user_id == user_id)
    if scope_id is not None:
        query = query.where(ApiKey.scope_id == scope_id)
    if not include_revoked:
        query = query.where(ApiKey.revoked_at.is_(None))
    if not actor.is_admin:
        if actor.user_id is None:
            return []
        managing_roles = [
            role.value for role, held in ROLE_PERMISSIONS.items()
            if Permission.MEMBERS_MANAGE in held
        ]
        managed = db.select(Membership.scope_id).where(
            Membership.user_id == actor.user_id, Membership.role.in_(managing_roles)
        )
        if actor.key_permissions is not None:  # keys never hold members.manage
            query = query.where(ApiKey.user_id == actor.user_id)
        else:
            query = query.where(
                or_(ApiKey.user_id == actor.user_id, ApiKey.scope_id.in_(managed))
            )
    return list(db.session.scalars(query).unique())


def grantable_permissions(actor: Actor, scope_id: int) -> tuple[Permission, ...]:
    """The key permissions the actor may put on a key of their own in the scope, in
    canonical order: what their current role there allows (everything for site admins).

    NotFound when the actor cannot see the scope; empty for the system or an API key.
    """
    scope = _scope_for(actor, scope_id)
    if actor.user_id is None or actor.key_permissions is not None:
        return ()
    owner = db.session.get(User, actor.user_id)
    if owner is None:
        return ()
    allowed = _owner_permissions(owner, scope.id)
    return tuple(p for p in API_KEY_PERMISSIONS if p in allowed)
