"""Who is acting, and what they may do.

A session user acts with the permissions of their role in the scope.  An API key acts
with its own permissions, capped by its owner's current role.  Site admins hold every
permission in every scope (a key of theirs is still capped by its own list).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from webapp.extensions import db
from webapp.models import Membership, Role
from webapp.services.errors import PermissionDenied


class Permission(enum.StrEnum):
    TAGS_READ = "tags.read"
    TAGS_CREATE = "tags.create"
    TAGS_WRITE = "tags.write"  # create + update + attach/detach
    TAGS_DELETE = "tags.delete"
    GROUPS_WRITE = "groups.write"
    MEMBERS_MANAGE = "members.manage"
    SOURCES_MANAGE = "sources.manage"


# The permissions an API key can carry.
API_KEY_PERMISSIONS: tuple[Permission, ...] = (
    Permission.TAGS_READ,
    Permission.TAGS_CREATE,
    Permission.TAGS_WRITE,
    Permission.TAGS_DELETE,
    Permission.GROUPS_WRITE,
)

_EDITOR = frozenset(
    {Permission.TAGS_READ, Permission.TAGS_CREATE, Permission.TAGS_WRITE, Permission.TAGS_DELETE}
)
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.VIEWER: frozenset({Permission.TAGS_READ}),
    Role.EDITOR: _EDITOR,
    Role.MANAGER: _EDITOR
    | {Permission.GROUPS_WRITE, Permission.MEMBERS_MANAGE, Permission.SOURCES_MANAGE},
}
ALL_PERMISSIONS = frozenset(Permission)
ROLE_RANK: dict[Role, int] = {Role.VIEWER: 0, Role.EDITOR: 1, Role.MANAGER: 2}


@dataclass
class Actor:
    """The acting user (None for the system itself) and the channel they act through."""

    user_id: int | None
    is_admin: bool = False
    via: str = "web"  # web, api, cli, system
    key_permissions: frozenset[Permission] | None = None
    _roles: dict[int, Role | None] = field(default_factory=dict, repr=False)

    @classmethod
    def system(cls) -> Actor:
        return cls(user_id=None, is_admin=True, via="system")

    @property
    def is_system(self) -> bool:
        return self.via == "system"

    def role_in(self, scope_id: int) -> Role | None:
        if scope_id not in self._roles:
            role = None
            if self.user_id is not None:
                value = db.session.scalar(
                    db.select(Membership.role).where(
                        Membership.user_id == self.user_id, Membership.scope_id == scope_id
                    )
                )
                role = Role(value) if value else None
            self._roles[scope_id] = role
        return self._roles[scope_id]

    def note_role(self, scope_id: int, role: Role | None) -> None:
        """Remember the role a query already read with something else (no look-up)."""
        self._roles.setdefault(scope_id, role)

    def permissions_in(self, scope_id: int) -> frozenset[Permission]:
        if self.is_admin:
            held = ALL_PERMISSIONS
        else:
            role = self.role_in(scope_id)
            held = ROLE_PERMISSIONS[role] if role else frozenset()
        if self.key_permissions is not None:
            held = held & self.key_permissions
        return held

    def can(self, scope_id: int, *permissions: Permission) -> bool:
        """True when the actor holds any one of ``permissions`` in the scope."""
        held = self.permissions_in(scope_id)
        return any(p in held for p in permissions)

    def has_role(self, scope_id: int, least: Role) -> bool:
        """The actor's role in the scope is ``least`` or above (site admins and the system
        always; an API key acts with its owner's role)."""
        if self.is_admin:
            return True
        role = self.role_in(scope_id)
        return role is not None and ROLE_RANK[role] >= ROLE_RANK[least]

    def forget_roles(self) -> None:
        self._roles.clear()


def authorize(actor: Actor, scope_id: int, *permissions: Permission) -> None:
    """Raise PermissionDenied unless the actor holds one of ``permissions`` in the scope."""
    if not actor.can(scope_id, *permissions):
        wanted = " or ".join(p.value for p in permissions)
        raise PermissionDenied(f"this action needs the {wanted} permission")


def require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise PermissionDenied("this action needs a site administrator")
