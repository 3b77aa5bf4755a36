"""Seeds 000 and 001 (attach / detach tags by name to typed resources): snake_case models."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from webapp.api.schemas.text import QualifiedName, items
from webapp.services.link_plan import MAX_NAMES

# The resource lists of the seeds' bodies: the plural of a resource type.
LINK_LISTS: tuple[str, ...] = (
    "sources", "transformations", "destinations", "visualizations",
    "layers", "folders", "tables", "volumes",
)

_IDS = "IDs of resources of this type (registered on the fly when new)"


def _one_of_each(schema: dict[str, Any]) -> None:
    """What the services require beyond each field: a name (in `names` or `name`) and an
    id in at least one resource list."""
    schema["allOf"] = [
        {"anyOf": [{"required": ["names"], "properties": {"names": {"minItems": 1}}},
                   {"required": ["name"], "properties": {"name": {"type": "string"}}}]},
        {"anyOf": [{"required": [plural], "properties": {plural: {"minItems": 1}}}
                   for plural in LINK_LISTS]},
    ]


class LinkBody(BaseModel):
    """Tag names, and the resources to link: every name × every id, at least one id.

    At most 100 names and 100,000 name × id links per call (413 past that).
    """

    model_config = ConfigDict(extra="forbid", json_schema_extra=_one_of_each)

    names: Annotated[list[QualifiedName], items(0, MAX_NAMES)] = Field(
        default_factory=list,
        description="tag paths (`Address.email`) or qualified names (`priority::high`); "
        "each segment at most 100 characters, a path at most 255",
    )
    name: QualifiedName | None = Field(
        None, description="one tag name: shorthand for `names` (the seed's playground form)"
    )
    sources: list[UUID] = Field(default_factory=list, description=_IDS)
    transformations: list[UUID] = Field(
        default_factory=list, description=_IDS + "; covers queries, notebooks and histories"
    )
    destinations: list[UUID] = Field(default_factory=list, description=_IDS)
    visualizations: list[UUID] = Field(default_factory=list, description=_IDS)
    layers: list[UUID] = Field(default_factory=list, description=_IDS)
    folders: list[UUID] = Field(default_factory=list, description=_IDS)
    tables: list[UUID] = Field(default_factory=list, description=_IDS)
    volumes: list[UUID] = Field(default_factory=list, description=_IDS)

    def tag_names(self) -> list[str]:
        return [*self.names, *([self.name] if self.name is not None else [])]

    def resource_refs(self) -> dict[str, list[str]]:
        """Resource type (singular) -> canonical UUID strings (lower case, hyphenated)."""
        return {
            plural.removesuffix("s"): [str(uuid) for uuid in getattr(self, plural)]
            for plural in LINK_LISTS
        }


class LinkedTag(BaseModel):
    """A tag as seeds 000 and 001 show it."""

    id: UUID = Field(description="the tag's UUID")
    name: str = Field(description="the tag's qualified name: `group::path`, or its path")
    created_at: datetime
    updated_at: datetime
