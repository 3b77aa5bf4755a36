"""Load the demo data set into the database, as the system actor and through the services
only.

``load_demo()`` creates the demo users, scope ``scope_acme`` and, when the scope is new, its
groups, tags, resources and assignments as :mod:`~webapp.cli.demo.dataset` describes them.
Everything happens in one transaction (one change set), so a failure leaves nothing behind.
The data is loaded once: when ``scope_acme`` exists the data step is skipped, and existing
users keep their passwords.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from webapp.cli.demo.dataset import (
    ADDRESS_TAGS,
    COUNTRIES,
    DATA_PROPERTIES,
    DEMO_USERS,
    DISCOVERED_TAGS,
    GROUP_TAGS,
    GROUPS,
    PLAIN_TAGS,
    RULES,
    SCOPE_ID,
    SCOPE_NAME,
    SCOPE_SLUG,
    build_resources,
    plan_assignments,
)
from webapp.extensions import db
from webapp.models import (
    Assignment,
    AssignmentContext,
    Membership,
    Resource,
    Scope,
    Tag,
    TagGroup,
    User,
)
from webapp.services.actor import Actor
from webapp.services.assignments import attach
from webapp.services.groups import create_group
from webapp.services.resources import ResourceInput, register_resources
from webapp.services.rules import create_rule
from webapp.services.scopes import add_member, create_scope
from webapp.services.tags.creation import Provenance, TagSpec, create_tags
from webapp.services.uow import writing
from webapp.services.users import create_user

PASSWORD_ENV = "TAGWRIGHT_DEMO_PASSWORD"


@dataclass
class DemoUser:
    """One demo login and whether this run created it."""

    email: str
    role: str  # "site admin", "viewer", "editor", "manager"
    created: bool
    password: str | None  # only when created by this run


@dataclass
class DemoSummary:
    """What ``load_demo`` did and what the demo scope now holds."""

    scope_public_id: str
    scope_name: str
    scope_slug: str
    created: bool  # False when scope_acme already existed and the data step was skipped
    users: list[DemoUser] = field(default_factory=list)
    groups: int = 0
    tags: int = 0
    resources: int = 0
    resource_types: int = 0
    assignments: int = 0

    @property
    def password(self) -> str | None:
        """The password of the users created by this run (None when none was created)."""
        return next((user.password for user in self.users if user.password), None)


def demo_password() -> tuple[str, bool]:
    """The password for new demo users and whether it came from the environment."""
    from_env = os.environ.get(PASSWORD_ENV)
    if from_env:
        return from_env, True
    return secrets.token_urlsafe(12), False


def _ensure_users(actor: Actor, password: str) -> dict[str, tuple[User, bool]]:
    users: dict[str, tuple[User, bool]] = {}
    for email, display_name, role in DEMO_USERS:
        user = db.session.scalar(select(User).where(User.email == email))
        created = user is None
        if user is None:
            user = create_user(actor, email, password, display_name=display_name,
                               is_admin=role is None)
        users[email] = (user, created)
    return users


def _create_tags(actor: Actor, scope_id: int) -> None:
    for group in GROUPS:
        create_group(
            actor, scope_id, group.identifier, label=group.label,
            description=group.description, color=group.color, exclusive=group.exclusive,
            allowed_types=group.allowed_types, public_id=group.public_id,
        )
    create_tags(actor, scope_id, [
        TagSpec(name=name, group=group, label=label, color=color, public_id=public_id)
        for group, tags in GROUP_TAGS.items() for name, label, color, public_id in tags
    ])
    create_tags(actor, scope_id, [
        TagSpec(name="Address", color="#0EA5E9", description="Postal and electronic addresses."),
        *(TagSpec(name=f"Address.{leaf}") for leaf in ADDRESS_TAGS),
        *(TagSpec(name=name, color=color, description=description)
          for name, color, description in PLAIN_TAGS),
    ])
    system = Provenance(source="curated", system_created=True, protected=True)
    create_tags(actor, scope_id, [
        TagSpec(name="Discovered", color="#64748B",
                description="Found by sensitive data discovery. Managed by the system."),
        TagSpec(name="Discovered.Country", description="Data about people in a country."),
        *(TagSpec(name=f"Discovered.Country.{country}") for country in COUNTRIES),
        *(TagSpec(name=f"Discovered.{name}") for name in DISCOVERED_TAGS),
    ], system)
    create_tags(actor, scope_id, [
        TagSpec(name="DataProperties", color="#94A3B8",
                description="Statistical shape of a data source, found by the system."),
        *(TagSpec(name=f"DataProperties.{name}") for name in DATA_PROPERTIES),
    ], Provenance(source="curated", system_created=True))


def _load_data(actor: Actor, scope_id: int) -> None:
    _create_tags(actor, scope_id)
    resources = build_resources()
    register_resources(actor, scope_id, [
        ResourceInput(r.type, r.id, r.name, r.slug) for r in resources
    ])
    for tags, context, refs in plan_assignments(resources).calls():
        attach(actor, scope_id, tags, refs, context=AssignmentContext(context),
               create_missing=False)
    for name, when, attach_names, enabled in RULES:
        create_rule(actor, scope_id, name=name, when=when, attach=list(attach_names),
                    enabled=enabled)


def _counts(scope_id: int) -> dict[str, int]:
    """Live groups, tags, resources (and their types) and assignments of the scope."""
    def count(query: Any) -> int:
        return db.session.scalar(query) or 0

    return {
        "groups": count(select(func.count()).select_from(TagGroup)
                        .where(TagGroup.scope_id == scope_id)),
        "tags": count(select(func.count()).select_from(Tag)
                      .where(Tag.scope_id == scope_id, Tag.deleted_at.is_(None))),
        "resources": count(select(func.count()).select_from(Resource)
                           .where(Resource.scope_id == scope_id)),
        "resource_types": count(select(func.count(func.distinct(Resource.type)))
                                .where(Resource.scope_id == scope_id)),
        "assignments": count(select(func.count()).select_from(Assignment)
                             .join(Resource, Resource.id == Assignment.resource_id)
                             .where(Resource.scope_id == scope_id)),
    }


def load_demo(password: str | None = None) -> DemoSummary:
    """Load the demo data set once; see the module docstring.

    ``password`` (else ``TAGWRIGHT_DEMO_PASSWORD``, else a random one) is given to the demo
    users this call creates; existing users are left as they are.
    """
    if password is None:
        password, _ = demo_password()
    actor = Actor.system()
    with writing(actor, None, f"Load the demo data ({SCOPE_ID})"):
        users = _ensure_users(actor, password)
        scope = db.session.scalar(select(Scope).where(Scope.public_id == SCOPE_ID))
        created = scope is None
        if scope is None:
            scope = create_scope(actor, SCOPE_ID, name=SCOPE_NAME, slug=SCOPE_SLUG)
        for email, _name, role in DEMO_USERS:
            user, user_created = users[email]
            if role is None or not (created or user_created):
                continue
            if db.session.get(Membership, (user.id, scope.id)) is None:
                add_member(actor, scope.id, email, role)
        if created:
            _load_data(actor, scope.id)
        summary = DemoSummary(
            scope_public_id=scope.public_id, scope_name=scope.name, scope_slug=scope.slug,
            created=created,
            users=[
                DemoUser(email, role.value if role else "site admin", users[email][1],
                         password if users[email][1] else None)
                for email, _name, role in DEMO_USERS
            ],
            **_counts(scope.id),
        )
    return summary
