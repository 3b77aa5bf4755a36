"""Tag groups (``/tag-groups``): camelCase, like seed 002 which names them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from webapp.api.schemas.common import PageEnvelope, QueryText
from webapp.api.schemas.tags import Color
from webapp.api.schemas.text import (
    Description,
    Label,
    LabelOrBlank,
    PublicId,
    Segment,
    optional,
)
from webapp.models import RESOURCE_TYPES

ResourceType = Literal[RESOURCE_TYPES]  # type: ignore[valid-type]

_IDENTIFIER = "unique in the scope (case-insensitive); 1–100 characters, no '.' or '::'"
_COLOR = "`#RRGGBB`, the default colour of the group's tags; null for none"
_EXCLUSIVE = "a resource carries at most one tag of the group: attaching one replaces another"
_ALLOWED = "the resource types the group's tags may be attached to; empty for all"
_ASSIGN = ("the least role that may attach or detach the group's tags: `editor` (default) "
           "or `manager`; a key acts with its owner's role")
AssignRole = Literal["editor", "manager"]


class GroupOut(BaseModel):
    """A tag group."""

    id: str = Field(description="public id: `tag_group_<uuidv7>` or client-chosen")
    scopeId: str
    identifier: str
    label: str
    description: str | None
    color: str | None
    exclusive: bool = Field(description=_EXCLUSIVE)
    allowedTypes: list[str] = Field(description=_ALLOWED)
    assignRole: AssignRole = Field(description=_ASSIGN)
    tagCount: int = Field(description="how many live tags the group holds")
    createdAt: datetime
    updatedAt: datetime


class GroupPage(PageEnvelope):
    results: list[GroupOut]


class GroupCreate(BaseModel):
    """A new tag group; ``scopeId``, when sent, must be the key's scope."""

    model_config = ConfigDict(extra="forbid")

    id: PublicId | None = Field(None, description="optional client-chosen public id; \"\" or "
                                "null: generated")
    scopeId: QueryText | None = Field(None, description="must be the API key's scope (else "
                                      "404)")
    identifier: Segment = Field(description=_IDENTIFIER)
    label: LabelOrBlank | None = Field(None, description="display text; \"\" or null: the "
                                       "identifier")
    description: Description | None = None
    color: Color = Field(None, description=_COLOR)
    exclusive: StrictBool = Field(False, description=_EXCLUSIVE)
    allowedTypes: list[ResourceType] = Field(default_factory=list, description=_ALLOWED)
    assignRole: AssignRole = Field("editor", description=_ASSIGN)


class GroupPatch(BaseModel):
    """The fields to change; those left out stay as they are."""

    model_config = ConfigDict(extra="forbid")

    # Optional but never null: a field left out stays as it is.
    identifier: Segment = optional(_IDENTIFIER)
    label: Label = optional()
    description: Description | None = Field(None, description="null clears it")
    color: Color = Field(None, description=_COLOR)
    exclusive: StrictBool = optional(_EXCLUSIVE)
    allowedTypes: list[ResourceType] = optional(_ALLOWED)
    assignRole: AssignRole = optional(_ASSIGN)

    def changes(self) -> dict[str, Any]:
        """The fields sent, as ``update_group`` keywords."""
        names = {"allowedTypes": "allowed_types", "assignRole": "assign_role"}
        return {names.get(field, field): getattr(self, field) for field in self.model_fields_set}
