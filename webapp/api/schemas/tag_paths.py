"""Seed 003 (the ``/tag`` family: dotted paths, search, refresh, tags on datasources,
columns and projects): camelCase models; a tag's ``id`` is its integer handle."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, RootModel, field_validator

from webapp.api.schemas.common import QueryText
from webapp.api.schemas.text import QualifiedName, items
from webapp.services.sql import INTEGER_KEY_MAX
from webapp.services.tags.paths import MAX_NAMES
from webapp.services.tags.queries import TagFilter

MAX_EXCLUDED = 50


def _millis(value: datetime) -> str:
    """RFC 3339 in UTC with milliseconds, as the seed shows (``2021-10-08T20:53:22.946Z``)."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


Timestamp = Annotated[datetime, PlainSerializer(_millis, return_type=str, when_used="json")]
TagKey = Annotated[int, Field(ge=1, le=INTEGER_KEY_MAX)]


# --- responses --------------------------------------------------------------------------


class PathTagOut(BaseModel):
    """A tag as seed 003 shows it."""

    id: int = Field(description="the tag's integer handle")
    name: str = Field(description="the fully-qualified name (`group::` prefix when grouped)")
    color: str | None
    description: str | None
    source: str = Field(description="`curated` when made here, else the external source")
    deleted: bool
    systemCreated: bool
    createdBy: int | None = Field(description="the creator's user id; null when the "
                                  "system or an external source made it")
    createdAt: Timestamp
    updatedAt: Timestamp
    displayName: str = Field(description="the label shown in the console")
    protected: bool = Field(description="true: the API may not change or delete it")


class PathTagList(RootModel[list[PathTagOut]]):
    """A list of tags."""


class ResourceTagOut(BaseModel):
    """A tag on a datasource, column or project."""

    name: str
    source: str
    context: str = Field(description="how the tag was added: manual, api, rule or import")
    addedBy: int | None = Field(description="user id of who added the tag")
    deleted: bool


class ResourceTagList(RootModel[list[ResourceTagOut]]):
    """The tags a call added or removed."""


class SourceRefreshOut(BaseModel):
    """What refreshing one external source did; ``error`` says why it failed."""

    name: str
    paths: int = Field(description="distinct paths in its list, ancestors included")
    created: int
    restored: int = Field(description="deleted tags of this source brought back, with links")
    unchanged: int = Field(description="paths already live")
    deleted: int = Field(description="tags of this source soft-deleted: gone from its list")
    error: str | None
    refreshedAt: Timestamp | None


class RefreshOut(BaseModel):
    """One entry per enabled source, by name. A failed source leaves the others' work."""

    sources: list[SourceRefreshOut]


# --- requests ---------------------------------------------------------------------------


def _split_lists(values: Any) -> Any:
    """Expand items that spell a JSON array of strings (``["a","b"]``); keep the rest."""
    if not isinstance(values, list):
        return values
    expanded: list[Any] = []
    for value in values:
        if isinstance(value, str) and value.lstrip().startswith("["):
            try:
                parsed = json.loads(value)
            except (ValueError, RecursionError):
                parsed = None
            if isinstance(parsed, list) and all(isinstance(item, str) for item in parsed):
                expanded.extend(parsed)
                continue
        expanded.append(value)
    return expanded


class TagSearchQuery(BaseModel):
    """``GET /tag`` filters. ``excludedHierarchies`` may repeat, be sent as
    ``excludedHierarchies[]``, or be one JSON array string; commas are not separators
    (names may contain them)."""

    model_config = ConfigDict(extra="ignore")

    searchText: QueryText | None = Field(None, max_length=255,
                                         description="substring of the name, case-insensitive")
    source: QueryText | None = Field(None, max_length=100)
    excludedSource: QueryText | None = Field(None, max_length=100)
    includeAllSystemTags: bool | None = Field(
        None, description="true: system tags even when deleted; false: no system tags; "
        "absent: live tags, system ones included")
    excludedHierarchies: list[Annotated[QueryText, Field(max_length=255)]] = Field(
        [], max_length=MAX_EXCLUDED,
        description="leave out names containing any of these substrings")
    excludedHierarchiesBrackets: list[Annotated[QueryText, Field(max_length=255)]] = Field(
        [], max_length=MAX_EXCLUDED, alias="excludedHierarchies[]",
        description="the same, PHP/Rails style")
    limit: int = Field(1000, ge=1, le=1000, description="at most this many tags (max 1000)")

    _expand = field_validator("excludedHierarchies", "excludedHierarchiesBrackets",
                              mode="before")(_split_lists)

    @field_validator("excludedHierarchies", "excludedHierarchiesBrackets")
    @classmethod
    def _bounded(cls, value: list[str]) -> list[str]:
        if len(value) > MAX_EXCLUDED:
            raise ValueError(f"at most {MAX_EXCLUDED} excluded hierarchies")
        return value

    def to_filter(self) -> TagFilter:
        return TagFilter(
            search=self.searchText,
            source=self.source or None,
            excluded_source=self.excludedSource or None,
            include_deleted_system=self.includeAllSystemTags is True,
            system_created=False if self.includeAllSystemTags is False else None,
            excluded_hierarchies=(*self.excludedHierarchies, *self.excludedHierarchiesBrackets),
        )


class SaveTagItem(BaseModel):
    """A tag to create (no ``id``) or to rename/move to ``name`` (with ``id``)."""

    model_config = ConfigDict(extra="ignore")

    name: QualifiedName = Field(description="the fully-qualified name, such as "
                                "`Address.email`")
    id: TagKey | None = Field(None, description="the tag to update (404 when it is not a "
                              "live tag of the scope); omit to create")


class RootTagIn(BaseModel):
    """The parent whose hierarchy ``tags`` describes."""

    model_config = ConfigDict(extra="ignore")

    name: QualifiedName
    source: Literal["curated"] | None = Field(None, description="must be `curated` when given")
    deleteHierarchy: bool = Field(False, description="true: delete the root's other "
                                  "descendants, so its hierarchy is exactly `tags`")


class SaveTagsBody(BaseModel):
    """``POST /tag``: up to 1000 tags, all or nothing."""

    model_config = ConfigDict(extra="ignore")

    tags: Annotated[list[SaveTagItem], items(1, 1000, unique=True)]
    rootTag: RootTagIn | None = None


class ResourceTagIn(BaseModel):
    """A tag to add, by name; the other fields of a tag object are accepted and ignored."""

    model_config = ConfigDict(extra="ignore")

    name: QualifiedName = Field(description="the fully-qualified name of an existing live tag")


class ResourceTagsBody(RootModel[Annotated[list[ResourceTagIn], items(1, MAX_NAMES)]]):
    """1 to 100 tags; any unknown or deleted one is a 404 naming it, and nothing is added."""


class DeleteTagQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    deleteHierarchy: bool = Field(False, description="true: delete the whole subtree")
