"""Resource collections (``/sources/``, ``/tables/``, ...; seeds 000 and 001): snake_case."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    RootModel,
    StringConstraints,
    ValidationError,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import InitErrorDetails

from webapp.api.schemas.common import PageEnvelope, PageQuery, QueryText
from webapp.api.schemas.groups import ResourceType
from webapp.api.schemas.links import LinkedTag
from webapp.api.schemas.text import ExternalId, OptionalText
from webapp.services.expressions.syntax import MAX_LENGTH as EXPRESSION_MAX

Expand = Literal["tags"]
MAX_REGISTER = 1000


class ExpandQuery(BaseModel):
    """``expand[]=tags`` (or ``expand=tags``) adds each resource's tags."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    expand: list[Expand] = Field(default_factory=list, description="`tags` adds the tags")
    expand_brackets: list[Expand] = Field(
        default_factory=list, alias="expand[]", description="the same as `expand`"
    )

    @property
    def with_tags(self) -> bool:
        return "tags" in self.expand or "tags" in self.expand_brackets


class ResourceListQuery(PageQuery, ExpandQuery):
    search: Annotated[QueryText, StringConstraints(max_length=255)] | None = Field(
        None, description="a substring of the id, name or slug (case-insensitive)"
    )
    tag: Annotated[QueryText, StringConstraints(max_length=400)] | None = Field(
        None, description="only resources carrying this tag (name, UUID, id or public id)"
    )
    q: Annotated[QueryText, StringConstraints(max_length=EXPRESSION_MAX)] | None = Field(
        None,
        description=(
            "a tag expression the resources must match, e.g. "
            "`type:table AND NOT group:sensitivity`. Terms: `tag:PATH` (`group::path`; "
            "`tag:Address.*` the tag or any tag below it), `group:ID`, `type:TYPE`, "
            "`name:GLOB` (name or slug, case-insensitive, `*` and `?`), `source:NAME`, "
            "`untagged`; `AND` (or side by side), `OR`, `NOT` or a leading `-`, "
            "parentheses, `\"quoted values\"`. At most 100 terms. A malformed expression, "
            "or one naming a tag, group, source or type the scope does not have, is a 400 "
            "naming `q` with the 1-based position: `at 14: expected a value after \"tag:\"`."
        ),
    )


class ExpandedTag(LinkedTag):
    """A tag of the resource as seeds 000 and 001 show it, and where it came from."""

    context: str = Field(description="how the tag was added: `manual` (the web admin), "
                         "`api`, `rule` (an auto-tagging rule), `import` or `refresh`")
    added_by: str = Field(description="the public id of the user who added it (`user_…`), "
                          "or `system` when no user did")
    added_at: datetime = Field(description="when it was added")


class ResourceOut(BaseModel):
    """A resource; ``tags`` appears only when asked for with ``expand[]=tags``."""

    id: str = Field(description="the external id the client uses (a UUID for the eight "
                    "resource types of seeds 000/001)")
    slug: str | None
    name: str | None
    type: ResourceType = Field(description="the resource type, singular (`source`)")
    tags: list[ExpandedTag] | None = Field(
        None, exclude_if=lambda value: value is None,
        description="with `expand[]=tags`: the live tags, each with the seed fields and "
                    "`context`, `added_by` and `added_at`")


class ResourcePage(PageEnvelope):
    results: list[ResourceOut]


class ResourceIn(BaseModel):
    """A resource to register; a registered one keeps its id and gets the given name/slug."""

    model_config = ConfigDict(extra="forbid")

    # Not stripped here: the service refuses an id with control characters (a stripped one
    # would be stored as something the client never sent).
    id: ExternalId
    name: OptionalText | None = None
    slug: OptionalText | None = None


class UuidResourceIn(ResourceIn):
    """A resource of a seed-000/001 type: its id is a UUID (stored in canonical form)."""

    id: Annotated[str, WithJsonSchema({"type": "string", "format": "uuid"})]


def _one_or_many(schema: dict[str, Any]) -> None:
    """Document the body as it is read: one object, or a list of them."""
    items = schema.pop("items")
    schema.pop("type")
    schema["anyOf"] = [items, {"type": "array", "items": items, "minItems": 1,
                               "maxItems": MAX_REGISTER}]


def _read_one_or_many(cls: Any, value: Any, handler: Any) -> Any:
    """A single object is read as a list of one, its errors named by its own fields."""
    if not isinstance(value, dict):
        return handler(value)
    try:
        body = handler([value])
    except ValidationError as error:
        raise ValidationError.from_exception_data(error.title, [
            InitErrorDetails(type=item["type"], loc=tuple(item["loc"][1:]),
                             input=item["input"], ctx=item.get("ctx", {}))
            for item in error.errors()
        ]) from None
    body._single = True
    return body


class ResourceBody(RootModel[list[ResourceIn]]):
    """One resource, or a list of 1–1000 (413 past 1000); errors in a single object name
    its fields (``id``), in a list the item's (``1.id``)."""

    model_config = ConfigDict(json_schema_extra=_one_or_many)
    _single: bool = PrivateAttr(False)
    _read = model_validator(mode="wrap")(classmethod(_read_one_or_many))

    @property
    def single(self) -> bool:
        """True when the body was one object rather than a list."""
        return self._single


class UuidResourceBody(RootModel[list[UuidResourceIn]]):
    """One resource of a seed-000/001 type, or a list of 1–1000 (413 past 1000); each id
    is a UUID (a 400 naming it otherwise)."""

    model_config = ConfigDict(json_schema_extra=_one_or_many)
    _single: bool = PrivateAttr(False)
    _read = model_validator(mode="wrap")(classmethod(_read_one_or_many))

    @property
    def single(self) -> bool:
        """True when the body was one object rather than a list."""
        return self._single


class ResourcesOut(RootModel[ResourceOut | list[ResourceOut]]):
    """The registered resources: one object for one object sent, else a list."""
