"""Seeds 000 and 001 (attach / detach tags by name to typed resources): snake_case models."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from webapp.api.schemas.text import ExternalId, QualifiedName, items
from webapp.models import RESOURCE_TYPES
from webapp.services.link_plan import MAX_LINKS, MAX_NAMES

# The resource lists of the seeds' bodies: the plural of a resource type, ids are UUIDs.
LINK_LISTS: tuple[str, ...] = (
    "sources", "transformations", "destinations", "visualizations",
    "layers", "folders", "tables", "volumes",
)
# Every other resource type the product knows, under its plural, beside the seeds' eight:
# their ids are any 1-255 characters, as in their collections (``/nodes/``, ``/files/``).
EXTRA_LINK_LISTS: tuple[str, ...] = tuple(
    f"{rtype}s" for rtype in RESOURCE_TYPES if f"{rtype}s" not in LINK_LISTS)
ALL_LINK_LISTS: tuple[str, ...] = LINK_LISTS + EXTRA_LINK_LISTS

_IDS = "IDs of resources of this type (registered on the fly when new)"
_EXTRA_IDS = ("IDs of resources of this type, 1–255 characters once trimmed (registered on "
              "the fly when new); not in the seed's document, the same rules as its lists")
# Each list is bounded by the link cap (one name × this many ids); the names × every id
# of every list together are bounded by it too (413 past either).
_PER_LIST = items(0, MAX_LINKS)


def _one_of_each(schema: dict[str, Any]) -> None:
    """What the services require beyond each field: a name (in `names` or `name`) and an
    id in at least one resource list."""
    schema["allOf"] = [
        {"anyOf": [{"required": ["names"], "properties": {"names": {"minItems": 1}}},
                   {"required": ["name"], "properties": {"name": {"type": "string"}}}]},
        {"anyOf": [{"required": [plural], "properties": {plural: {"minItems": 1}}}
                   for plural in ALL_LINK_LISTS]},
    ]


class LinkBody(BaseModel):
    """Tag names, and the resources to link: every name × every id, at least one id.

    The seed's eight lists take UUIDs; every other resource type has a list under its
    plural too (`datasources`, `columns`, `projects`, `nodes`, `files`). At most 100 names,
    100,000 ids in a list and 100,000 name × id links per call over all lists (413 past
    that).
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
    sources: Annotated[list[UUID], _PER_LIST] = Field(default_factory=list, description=_IDS)
    transformations: Annotated[list[UUID], _PER_LIST] = Field(
        default_factory=list, description=_IDS + "; covers queries, notebooks and histories"
    )
    destinations: Annotated[list[UUID], _PER_LIST] = Field(default_factory=list,
                                                           description=_IDS)
    visualizations: Annotated[list[UUID], _PER_LIST] = Field(default_factory=list,
                                                             description=_IDS)
    layers: Annotated[list[UUID], _PER_LIST] = Field(default_factory=list, description=_IDS)
    folders: Annotated[list[UUID], _PER_LIST] = Field(default_factory=list, description=_IDS)
    tables: Annotated[list[UUID], _PER_LIST] = Field(default_factory=list, description=_IDS)
    volumes: Annotated[list[UUID], _PER_LIST] = Field(default_factory=list, description=_IDS)
    # Beyond the seed (EXTRA_LINK_LISTS): one list per other resource type.
    datasources: Annotated[list[ExternalId], _PER_LIST] = Field(default_factory=list,
                                                                description=_EXTRA_IDS)
    columns: Annotated[list[ExternalId], _PER_LIST] = Field(
        default_factory=list, description=_EXTRA_IDS + "; seed 003 names a column "
        "`<datasource id>_<column>`")
    projects: Annotated[list[ExternalId], _PER_LIST] = Field(default_factory=list,
                                                             description=_EXTRA_IDS)
    nodes: Annotated[list[ExternalId], _PER_LIST] = Field(default_factory=list,
                                                          description=_EXTRA_IDS)
    files: Annotated[list[ExternalId], _PER_LIST] = Field(default_factory=list,
                                                          description=_EXTRA_IDS)

    def tag_names(self) -> list[str]:
        return [*self.names, *([self.name] if self.name is not None else [])]

    def resource_refs(self) -> dict[str, list[str]]:
        """Resource type (singular) -> its ids: the seed's lists' UUIDs in canonical form
        (lower case, hyphenated), the others' ids as sent (the service trims them)."""
        return {
            plural.removesuffix("s"): [str(ref) for ref in getattr(self, plural)]
            for plural in ALL_LINK_LISTS
        }


class LinkedTag(BaseModel):
    """A tag as seeds 000 and 001 show it."""

    id: UUID = Field(description="the tag's UUID")
    name: str = Field(description="the tag's qualified name: `group::path`, or its path")
    created_at: datetime
    updated_at: datetime
