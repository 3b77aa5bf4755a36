"""Scopes (tenants) and their memberships.

A scope is found by its public id (``scope_acme``) or its slug (``acme``).  A scope the
actor holds no role in is reported as missing, so its existence does not leak.  Every
scope keeps at least one manager: removing or demoting the last one is a conflict.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_

from webapp.extensions import db
from webapp.ids import public_id as new_public_id
from webapp.models import Membership, Role, Scope, Tag, User
from webapp.services import names
from webapp.services.actor import Actor, Permission, authorize
from webapp.services.errors import (
    Conflict,
    FieldError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from webapp.services.uow import ChangeRecorder, writing
from webapp.services.users import get_user_by_email, require_site_admin

SCOPE_PREFIX = "scope_"
SLUG_MAX = 100
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def slugify(text: str) -> str:
    """Lower-case ASCII letters and digits joined by hyphens: ``Acme_Corp`` → ``acme-corp``."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:SLUG_MAX].rstrip("-")


def _clean_slug(raw: object) -> str:
    if not isinstance(raw, str):
        raise ValidationFailed.field("slug", "must be a string")
    slug = names.trimmed(raw, "slug").lower()
    if not slug:
        raise ValidationFailed.field("slug", "must not be empty")
    if len(slug) > SLUG_MAX:
        raise ValidationFailed.field("slug", f"must be at most {SLUG_MAX} characters")
    if not _SLUG.match(slug):
        raise ValidationFailed.field(
            "slug", "must be lower-case letters and digits separated by single hyphens"
        )
    return slug


def _clean_role(raw: object) -> Role:
    try:
        return Role(raw)
    except ValueError:
        choices = ", ".join(role.value for role in Role)
        raise ValidationFailed.field("role", f"must be one of {choices}") from None


def scope_snapshot(scope: Scope) -> dict[str, Any]:
    return {"public_id": scope.public_id, "name": scope.name, "slug": scope.slug}


def membership_snapshot(membership: Membership, email: str) -> dict[str, Any]:
    return {
        "user_id": membership.user_id,
        "email": email,
        "scope_id": membership.scope_id,
        "role": membership.role,
    }


def _claim_change_set_scope(recorder: ChangeRecorder, scope_id: int) -> None:
    """File the change set under the scope just created (unless it already has one)."""
    if recorder.change_set is None and recorder.scope_id is None:
        recorder.scope_id = scope_id


def create_scope(
    actor: Actor, public_id: str | None = None, *, name: str, slug: str | None = None
) -> Scope:
    """Create a scope. Site admins (and the system) only.

    ``public_id`` defaults to ``scope_<uuidv7>``; a chosen one must start with ``scope_``.
    ``slug`` defaults to the id without that prefix, slugified.  A duplicate id or slug is
    a Conflict.  The creating user, if any, becomes the scope's manager.
    """
    require_site_admin(actor)
    if public_id is None:
        public_id = new_public_id("scope")
    else:
        public_id = names.clean_public_id(public_id, "id")
        if not public_id.startswith(SCOPE_PREFIX) or len(public_id) == len(SCOPE_PREFIX):
            raise ValidationFailed.field("id", f"must start with '{SCOPE_PREFIX}'")
    name = names.clean_label(name, "name")
    if slug is None:
        slug = slugify(public_id.removeprefix(SCOPE_PREFIX))
        if not slug:
            raise ValidationFailed.field(
                "slug", "cannot be derived from the id; choose one explicitly"
            )
    else:
        slug = _clean_slug(slug)

    with writing(actor, None, f"Create scope {public_id}") as recorder:
        if db.session.scalar(db.select(Scope.id).where(Scope.public_id == public_id)):
            raise Conflict(f"a scope with id {public_id} already exists",
                           [FieldError("id", f"{public_id} is taken")])
        if db.session.scalar(db.select(Scope.id).where(Scope.slug == slug)):
            raise Conflict(f"a scope with slug {slug} already exists",
                           [FieldError("slug", f"{slug} is taken")])
        scope = Scope(public_id=public_id, name=name, slug=slug)
        db.session.add(scope)
        db.session.flush()
        _claim_change_set_scope(recorder, scope.id)
        recorder.record("scope", scope.id, "create", None, scope_snapshot(scope))
        if actor.user_id is not None:
            creator = db.session.get(User, actor.user_id)
            if creator is not None:
                membership = Membership(
                    user_id=creator.id, scope_id=scope.id, role=Role.MANAGER.value
                )
                db.session.add(membership)
                db.session.flush()
                recorder.record(
                    "membership", creator.id, "create", None,
                    membership_snapshot(membership, creator.email),
                )
    actor.forget_roles()
    return scope


def _find_scope(handle: str | int) -> Scope | None:
    if isinstance(handle, int):
        return db.session.get(Scope, handle)
    if not isinstance(handle, str) or not handle.strip():
        return None
    text = handle.strip()
    return db.session.scalar(
        db.select(Scope).where(or_(Scope.public_id == text, Scope.slug == text.lower()))
    )


def get_scope(actor: Actor, handle: str | int) -> Scope:
    """Return the scope with this public id, slug (or integer key).

    NotFound when it does not exist *or* when the actor holds no role there and is not a
    site admin: the two cases look the same from outside.
    """
    if isinstance(handle, str) and handle.strip() and actor.user_id is not None:
        # The scope and the actor's role there in one query (every scoped page asks).
        text = handle.strip()
        found = db.session.execute(
            db.select(Scope, Membership.role)
            .outerjoin(Membership, (Membership.scope_id == Scope.id)
                       & (Membership.user_id == actor.user_id))
            .where(or_(Scope.public_id == text, Scope.slug == text.lower()))
        ).first()
        scope = found[0] if found else None
        if found is not None:
            actor.note_role(scope.id, Role(found[1]) if found[1] else None)
    else:
        scope = _find_scope(handle)
    if scope is None or not (actor.is_admin or actor.role_in(scope.id) is not None):
        raise NotFound(f"no scope {handle!r}")
    return scope


def _visible_scope(actor: Actor, scope_id: int) -> Scope:
    """The scope by integer key, NotFound unless the actor may see it."""
    return get_scope(actor, scope_id)


def list_scopes(actor: Actor) -> list[tuple[Scope, Role | None]]:
    """The scopes the actor can see, by name, with the actor's role in each.

    A site admin sees every scope (with ``None`` where they hold no role); anyone else sees
    the scopes they are a member of.
    """
    user_id = actor.user_id if actor.user_id is not None else -1
    query = db.select(Scope, Membership.role).order_by(Scope.name, Scope.id)
    if actor.is_admin:
        query = query.outerjoin(
            Membership, (Membership.scope_id == Scope.id) & (Membership.user_id == user_id)
        )
    else:
        query = query.join(
            Membership, (Membership.scope_id == Scope.id) & (Membership.user_id == user_id)
        )
    return [
        (scope, Role(role) if role else None) for scope, role in db.session.execute(query)
    ]


def _manager_ids(scope_id: int) -> set[int]:
    """The scope's managers, locked until the transaction ends (PostgreSQL), so two
    concurrent demotions cannot both pass the last-manager check."""
    rows = db.session.scalars(
        db.select(Membership.user_id)
        .where(Membership.scope_id == scope_id, Membership.role == Role.MANAGER.value)
        .with_for_update()
    )
    return set(rows)


def _refuse_losing_last_manager(scope: Scope, user_id: int, what: str) -> None:
    managers = _manager_ids(scope.id)
    if managers == {user_id}:
        raise Conflict(
            f"cannot {what} the last manager of scope {scope.public_id}; "
            "make someone else a manager first"
        )


def _refuse_api_keys(actor: Actor) -> None:
    if actor.key_permissions is not None:
        raise PermissionDenied("an API key cannot change memberships")


def add_member(actor: Actor, scope_id: int, email: str, role: str | Role) -> Membership:
    """Give the user with ``email`` a ``role`` in the scope, or change their role.

    Needs the members.manage permission.  Demoting the scope's last manager is a Conflict.
    """
    _refuse_api_keys(actor)
    scope = _visible_scope(actor, scope_id)
    authorize(actor, scope.id, Permission.MEMBERS_MANAGE)
    new_role = _clean_role(role)
    with writing(actor, scope.id, f"Set role of {email} in {scope.public_id}") as recorder:
        user = get_user_by_email(email)
        membership = db.session.get(Membership, (user.id, scope.id))
        if membership is None:
            membership = Membership(user_id=user.id, scope_id=scope.id, role=new_role.value)
            db.session.add(membership)
            db.session.flush()
            recorder.record(
                "membership", user.id, "create", None, membership_snapshot(membership, user.email)
            )
        elif membership.role != new_role.value:
            if membership.role == Role.MANAGER.value:
                _refuse_losing_last_manager(scope, user.id, "demote")
            before = membership_snapshot(membership, user.email)
            membership.role = new_role.value
            db.session.flush()
            recorder.record(
                "membership", user.id, "update", before, membership_snapshot(membership, user.email)
            )
    actor.forget_roles()
    return membership


def remove_member(actor: Actor, scope_id: int, user_id: int) -> None:
    """Take the user out of the scope.

    Needs members.manage, except that a member may always leave a scope themself.  Removing
    the scope's last manager is a Conflict.  The user's API keys in the scope stay, but
    carry no permission while the user has no role there.
    """
    _refuse_api_keys(actor)
    scope = _visible_scope(actor, scope_id)
    leaving = actor.user_id is not None and actor.user_id == user_id
    if not leaving:
        authorize(actor, scope.id, Permission.MEMBERS_MANAGE)
    with writing(actor, scope.id, f"Remove member from {scope.public_id}") as recorder:
        membership = db.session.get(Membership, (user_id, scope.id))
        if membership is None:
            raise NotFound(f"user {user_id} is not a member of scope {scope.public_id}")
        if membership.role == Role.MANAGER.value:
            _refuse_losing_last_manager(scope, user_id, "remove")
        before = membership_snapshot(membership, membership.user.email)
        db.session.delete(membership)
        db.session.flush()
        recorder.record("membership", user_id, "delete", before, None)
    actor.forget_roles()


def list_members(actor: Actor, scope_id: int) -> list[Membership]:
    """The scope's memberships (with their users), by email. Needs tags.read."""
    scope = _visible_scope(actor, scope_id)
    authorize(actor, scope.id, Permission.TAGS_READ)
    return list(
        db.session.scalars(
            db.select(Membership)
            .join(User, User.id == Membership.user_id)
            .where(Membership.scope_id == scope.id)
            .order_by(User.email)
        ).unique()
    )


@dataclass(frozen=True)
class ScopeCounts:
    tags: int  # live tags
    members: int


def scope_counts(actor: Actor, scope_ids: Iterable[int]) -> dict[int, ScopeCounts]:
    """Live tags and members of each scope the actor can see, in two queries.

    Scopes the actor cannot see are left out (site admins see every scope).
    """
    wanted = set(scope_ids)
    if not wanted:
        return {}
    if not actor.is_admin:
        user_id = actor.user_id if actor.user_id is not None else -1
        wanted &= set(db.session.scalars(
            db.select(Membership.scope_id).where(
                Membership.user_id == user_id, Membership.scope_id.in_(wanted)
            )
        ))
    if not wanted:
        return {}
    tags = dict(db.session.execute(
        db.select(Tag.scope_id, func.count())
        .where(Tag.scope_id.in_(wanted), Tag.deleted_at.is_(None))
        .group_by(Tag.scope_id)
    ).tuples().all())
    members = dict(db.session.execute(
        db.select(Membership.scope_id, func.count())
        .where(Membership.scope_id.in_(wanted))
        .group_by(Membership.scope_id)
    ).tuples().all())
    return {sid: ScopeCounts(tags.get(sid, 0), members.get(sid, 0)) for sid in wanted}
