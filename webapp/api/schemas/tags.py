"""Seed 004 (tag CRUD with colour / category / description / parent): snake_case models."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WithJsonSchema,
    WrapValidator,
)
from pydantic_core import PydanticCustomError

from webapp.api.schemas.common import PageEnvelope, PageQuery, QueryText
from webapp.api.schemas.text import (
    QUERY_TEXT_PATTERN,
    SEGMENT_PATTERN,
    Description,
    LabelOrBlank,
    QualifiedName,
    Segment,
    documented,
    items,
    optional,
)
from webapp.models import RESOURCE_TYPES
from webapp.services.sql import INTEGER_KEY_MAX
from webapp.services.tags.aliases import MAX_ALIASES

ResourceType = Literal[RESOURCE_TYPES]  # type: ignore[valid-type]


def _one_handle(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    """One error naming the field, not one per member of the union."""
    try:
        return handler(value)
    except ValidationError:
        raise PydanticCustomError(
            "tag_handle", "must be a tag id: an integer or a string"
        ) from None


def _blank_is_none(value: Any) -> Any:
    """An empty string names no tag: the same as null (as forms send an unset field)."""
    return None if value == "" else value


# Any of a tag's handles: integer key, UUID, public id (or its path).
TagHandle = Annotated[
    StrictInt | Annotated[StrictStr, documented(QUERY_TEXT_PATTERN[1:-1])],
    WrapValidator(_one_handle),
    Field(description="any handle of a tag: integer key, UUID, public id or path"),
]
# A parent: a handle, or "" / null for none.
ParentHandle = Annotated[
    Annotated[StrictInt, Field(ge=1, le=INTEGER_KEY_MAX)]
    | Annotated[StrictStr, documented(QUERY_TEXT_PATTERN[1:-1])] | None,
    WrapValidator(_one_handle),
    BeforeValidator(_blank_is_none),
    Field(description="any handle of the parent tag: integer key, UUID, public id or path; "
          "\"\" or null for none (a root). A handle naming no live tag is a 404"),
]
# A deprecated tag's replacement: a handle, or "" / null for none.
ReplacementHandle = Annotated[
    Annotated[StrictInt, Field(ge=1, le=INTEGER_KEY_MAX)]
    | Annotated[StrictStr, documented(QUERY_TEXT_PATTERN[1:-1])] | None,
    WrapValidator(_one_handle),
    BeforeValidator(_blank_is_none),
    Field(description="the tag to use instead of a deprecated one: any handle (integer key, "
          "UUID, public id or qualified name) of a live tag that is not deprecated and not "
          "this tag (else a 400); naming one deprecates the tag. \"\" or null: none"),
]
# A tag group's identifier, or "" / null for none.
Category = Annotated[
    Annotated[str, documented(f"(?:{SEGMENT_PATTERN})?")] | None,
    Field(description="the tag group's identifier (1–100 characters once trimmed, no '.' "
          "or '::'); the group is created when missing. \"\" or null: no group"),
]
# A tag's aliases as a write sets them: the whole list (it replaces the tag's aliases).
Aliases = Annotated[list[QualifiedName], items(0, MAX_ALIASES)]
_ALIASES_WRITE = (
    f"the tag's aliases: other names (`[group::]path`) that mean it, at most {MAX_ALIASES} "
    "(413 past that). The list replaces the tag's aliases ([] removes them all); a name "
    "compares as names do (NFKC + casefold; the same name twice counts once). An alias "
    "already held by a live tag's name or another alias is a 409 naming it; an alias that "
    "is not a valid name, or the tag's own name, is a 400 naming `aliases[i]`")


def _optional_aliases(schema: dict[str, Any]) -> None:
    """An update's aliases: bounded as on create, and never null (no default)."""
    schema.pop("default", None)
    schema.update(minItems=0, maxItems=MAX_ALIASES)


Color = Annotated[
    str | None,
    Field(pattern=r"^(#[0-9A-Fa-f]{6})?$",
          description="`#RRGGBB` (stored upper-case); an empty string or null clears it"),
]


class TagOut(BaseModel):
    """A tag as seed 004 shows it; ``id`` is the public id (``tag_<uuidv7>`` or chosen)."""

    id: str
    uuid: UUID
    key: int = Field(description="the integer handle (seed 003's `id`)")
    name: str
    label: str
    path: str = Field(description="the dotted path of names from the root")
    qualified_name: str = Field(description="`category::path` for grouped tags, else path")
    color: str | None
    category: str | None = Field(description="the tag group's identifier")
    description: str | None
    parent_tag_id: str | None
    owner_id: str | None = Field(description="public id of the user who created the tag")
    source: str
    system_created: bool
    protected: bool
    deleted: bool
    deprecated: bool = Field(description="deprecated: it stays on its resources and in "
                             "history, but attaching it answers 409 TAG_DEPRECATED")
    deprecated_at: datetime | None = Field(description="when it was deprecated")
    replacement: str | None = Field(
        description="public id of the tag to use instead (a deprecated tag's live "
        "replacement; null when it names none or its replacement was deleted)")
    replacement_name: str | None = Field(description="the replacement's qualified name")
    aliases: list[str] = Field(
        description="other names (`[group::]path`) that mean this tag, sorted by their "
        "comparison key: every look-up by name (attach, detach, seed 003's paths, imports) "
        "resolves them to this tag; a merge makes the merged tags' names aliases of the "
        "kept tag")
    created_at: datetime
    updated_at: datetime


# --- writes -----------------------------------------------------------------------------


class TagCreateIn(BaseModel):
    """``POST /tags`` and ``POST /third-party/tags``: one tag, optionally under a parent."""

    model_config = ConfigDict(extra="forbid")

    name: Segment = Field(description="one name segment (no '.' or '::'), 1–100 characters "
                          "once trimmed")
    color: Color = None
    category: Category = None
    description: Description | None = None
    parent_tag_id: ParentHandle = None
    label: LabelOrBlank | None = Field(default=None,
                                       description="display text; defaults to the name")
    aliases: Aliases = Field(default_factory=list, description=_ALIASES_WRITE)


class TagUpdateIn(BaseModel):
    """``PUT``/``PATCH /tags/{tag_id}``: only the fields sent change. ``parent_tag_id: null``
    makes the tag a root; ``category: null`` takes a root out of its group."""

    model_config = ConfigDict(extra="forbid")

    # Optional but never null (a field left out stays as it is).
    name: Segment = optional()
    color: Color = None
    category: Category = None
    description: Description | None = None
    parent_tag_id: ParentHandle = None
    label: LabelOrBlank = optional()
    deprecated: StrictBool = optional(
        "true deprecates the tag (attaching it then answers 409 TAG_DEPRECATED), false "
        "takes the deprecation back (its replacement is forgotten; a replacement beside it "
        "is a 400)")
    replacement: ReplacementHandle = None
    aliases: list[QualifiedName] = Field(None, description=_ALIASES_WRITE,
                                         json_schema_extra=_optional_aliases)


class ReplaceQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    dry_run: bool = Field(default=False, description="true: count what would change and "
                          "write nothing")


class ReplaceOut(BaseModel):
    """What ``POST /tags/{tag_id}/replace-everywhere`` does (or, on a dry run, would do)."""

    dry_run: bool
    tag: str = Field(description="public id of the deprecated tag")
    tag_name: str = Field(description="its qualified name")
    replacement: str = Field(description="public id of its replacement")
    replacement_name: str = Field(description="the replacement's qualified name")
    links_to_move: int = Field(description="resources carrying the tag and not the "
                               "replacement: each gets the replacement instead")
    already_on_replacement: int = Field(description="resources carrying both: the "
                                        "deprecated tag's link just goes")
    replaced_in_exclusive_group: int = Field(
        description="links of the other tags of the replacement's exclusive group that "
        "leave those resources (0 when its group is not exclusive)")
    change_set_id: int | None = Field(
        description="the change set that did it (undo it like any other); null on a dry "
        "run or when the tag is on no resource")


class DeleteQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    deleteHierarchy: bool = Field(
        default=False, description="also delete the live descendants (else they make a 409)"
    )
    delete_hierarchy: bool = Field(default=False, description="the same, in snake_case")


class TagDeleteOut(BaseModel):
    """What ``DELETE /tags/{tag_id}`` removed: the tag (``deleted: true``) and a count that
    includes its descendants when the hierarchy went too."""

    deleted_count: int
    message: str
    tag: TagOut


class BulkDeleteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tag_ids: Annotated[list[TagHandle], items(1, 1000)] = Field(
        description="1–1000 handles (integer key, UUID, public id or path; 413 past 1000); "
        "ids naming no live tag of the scope are reported in `not_found_ids`")
    delete_hierarchy: StrictBool = Field(
        default=False, description="true: also delete each tag's live descendants (a JSON "
        "boolean: 0 and \"true\" are refused)")


class BulkDeleteOut(BaseModel):
    deleted_count: int = Field(description="tags deleted, descendants included")
    not_found_ids: list[str] = Field(description="ids naming no live tag of the scope")
    conflict_ids: list[str] = Field(
        description="ids of tags left alone: live children without `delete_hierarchy`, or "
        "protected"
    )
    protected_ids: list[str] | None = Field(
        default=None, exclude_if=lambda value: value is None,
        description="only when some are: the ids of `conflict_ids` left alone because the "
        "tag, or a live tag below it, is protected (a single delete's 403), whatever else",
    )
    message: str


# --- reads ------------------------------------------------------------------------------


class TagListQuery(PageQuery):
    search: QueryText | None = Field(default=None,
                                     description="substring of the name or path, or of "
                                     "one of the tag's aliases")
    category: QueryText | None = Field(default=None,
                                       description="a tag group identifier or id")
    parent_tag_id: QueryText | None = Field(default=None,
                                            description="direct children of this tag")
    access: Literal["owned", "shared", "all"] = Field(
        default="all", description="owned: created by the key's owner; shared: by others"
    )
    include_nodes: bool = Field(
        default=False, description="each tag carries its first 20 nodes and `node_count`"
    )
    view: Literal["identity", "neutral"] = Field(
        default="identity", description="identity or neutral (anything else is a 400); "
        "accepted for compatibility: both list the same tags"
    )


class ResourceOut(BaseModel):
    """A resource carrying tags, known by its ``type`` and the client's ``id``."""

    id: str = Field(description="the client's external id")
    type: ResourceType
    name: str | None
    slug: str | None
    created_at: datetime


class TagRef(BaseModel):
    """A tag in brief, as listed on a resource."""

    id: str
    name: str
    path: str
    category: str | None
    color: str | None


class TaggedResourceOut(ResourceOut):
    tags: list[TagRef] = Field(description="the resource's live tags")


def _absent(value: object) -> bool:
    return value is None


class TagListItem(TagOut):
    usage_count: int = Field(description="how many resources carry the tag")
    nodes: list[ResourceOut] | None = Field(
        default=None, exclude_if=_absent,
        description="only with `include_nodes`: the first 20 nodes by id",
    )
    node_count: int | None = Field(
        default=None, exclude_if=_absent,
        description="only with `include_nodes`: how many nodes carry the tag",
    )


class TagPage(PageEnvelope):
    results: list[TagListItem]
    count_is_lower_bound: bool | None = Field(
        default=None, exclude_if=_absent,
        description="only when a `search` matched more than 10,000 tags: counting stopped "
                    "there, so `count` (10000) is a lower bound; `next` still links every "
                    "page while results follow",
    )


class TaggedResourcePage(PageEnvelope):
    results: list[TaggedResourceOut]


class TaggedResourcesQuery(PageQuery):
    search: QueryText | None = Field(default=None,
                                     description="substring of the id, name or slug")


class TypedResourcesQuery(TaggedResourcesQuery):
    type: Annotated[str, WithJsonSchema({"type": "string", "enum": ["", *RESOURCE_TYPES]})
                    ] | None = Field(default=None, description="one resource type (any case); "
                                     "absent or empty: every type")
