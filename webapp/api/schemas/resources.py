"""Resource collections (``/sources/``, ``/tables/``, ...; seeds 000 and 001): snake_case."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    RootModel,
    StringConstraints,
    ValidationError,
    model_validator,
)
from pydantic_core import InitErrorDetails

from webapp.api.schemas.common import PageEnvelope, PageQuery
from webapp.api.schemas.links import LinkedTag

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
    search: Annotated[str, StringConstraints(max_length=255)] | None = Field(
        None, description="a substring of the id, name or slug (case-insensitive)"
    )
    tag: Annotated[str, StringConstraints(max_length=400)] | None = Field(
        None, description="only resources carrying this tag (name, UUID, id or public id)"
    )


class ResourceOut(BaseModel):
    """A resource; ``tags`` appears only when asked for with ``expand[]=tags``."""

    id: str = Field(description="the external id the client uses (a UUID for the eight "
                    "resource types of seeds 000/001)")
    slug: str | None
    name: str | None
    type: str = Field(description="the resource type, singular (`source`)")
    tags: list[LinkedTag] | None = Field(None, exclude_if=lambda value: value is None)


class ResourcePage(PageEnvelope):
    results: list[ResourceOut]


class ResourceIn(BaseModel):
    """A resource to register; a registered one keeps its id and gets the given name/slug."""

    model_config = ConfigDict(extra="forbid")

    id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
    name: Annotated[str, StringConstraints(max_length=255)] | None = None
    slug: Annotated[str, StringConstraints(max_length=255)] | None = None


def _one_or_many(schema: dict[str, Any]) -> None:
    """Document the body as it is read: one object, or a list of them."""
    items = schema.pop("items")
    schema.pop("type")
    schema["anyOf"] = [items, {"type": "array", "items": items, "minItems": 1,
                               "maxItems": MAX_REGISTER}]


class ResourceBody(RootModel[list[ResourceIn]]):
    """One resource, or a list of 1–1000 (413 past 1000); errors in a single object name
    its fields (``id``), in a list the item's (``1.id``)."""

    model_config = ConfigDict(json_schema_extra=_one_or_many)
    _single: bool = PrivateAttr(False)

    @model_validator(mode="wrap")
    @classmethod
    def _read_one_or_many(cls, value: Any, handler: Any) -> Any:
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

    @property
    def single(self) -> bool:
        """True when the body was one object rather than a list."""
        return self._single


class ResourcesOut(RootModel[ResourceOut | list[ResourceOut]]):
    """The registered resources: one object for one object sent, else a list."""
