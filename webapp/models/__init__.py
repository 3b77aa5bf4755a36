"""SQLAlchemy models. Import from here so every table is registered on the metadata."""

from webapp.models.api_keys import ApiKey
from webapp.models.audit import AssignmentRemoval, AuditEvent, ChangeSet
from webapp.models.external_sources import ExternalTagSource
from webapp.models.policies import TagPolicy
from webapp.models.resources import RESOURCE_TYPES, Assignment, AssignmentContext, Resource
from webapp.models.rules import TagRule
from webapp.models.scopes import Membership, Role, Scope
from webapp.models.sessions import LoginSession
from webapp.models.tags import Tag, TagAlias, TagGroup
from webapp.models.users import User

__all__ = [
    "RESOURCE_TYPES",
    "ApiKey",
    "Assignment",
    "AssignmentContext",
    "AssignmentRemoval",
    "AuditEvent",
    "ChangeSet",
    "ExternalTagSource",
    "LoginSession",
    "Membership",
    "Resource",
    "Role",
    "Scope",
    "Tag",
    "TagAlias",
    "TagGroup",
    "TagPolicy",
    "TagRule",
    "User",
]
