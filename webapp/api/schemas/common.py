"""Models shared by every route family: the error body and the paged-list envelope."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from webapp.api.schemas.text import QUERY_TEXT_PATTERN
from webapp.services.paging import DEFAULT_PER_PAGE, MAX_PAGE, MAX_PER_PAGE

# A query parameter's text: anything but C0/C1 control characters (those are a 400).  Not
# ``documented``: that also refuses the private-use planes, which a query string may hold
# (the server takes them, so the document must not call them invalid).
QueryText = Annotated[str, WithJsonSchema({"type": "string", "pattern": QUERY_TEXT_PATTERN})]


class ErrorDetail(BaseModel):
    field: str = Field(description="the input field: `name`, `tags[0].name`, `[2].id` in a "
                                   "list body, `body` for the body as a whole")
    message: str


class ErrorInfo(BaseModel):
    code: str = Field(description="machine-readable: VALIDATION_FAILED, NOT_FOUND, ...")
    message: str
    details: list[ErrorDetail] = []


class ErrorBody(BaseModel):
    """Every error response: 400, 401, 403, 404, 409, 413 and 429."""

    error: ErrorInfo


# What any call may answer: 400 (a control character in a query or URL parameter, bad
# input), 401 (no or a bad key), 403 (X-User-ID or a missing permission), 413 (a body over
# the size limit, whatever the method) and 429 (a rate limit).
ALWAYS = (400, 401, 403, 413, 429)


def errors(*extra: int) -> dict[str, type[ErrorBody]]:
    """The error responses of a route: :data:`ALWAYS` and ``extra`` (404, 409), as
    spectree ``Response`` keywords."""
    return {f"HTTP_{status}": ErrorBody for status in sorted({*ALWAYS, *extra})}


class PageQuery(BaseModel):
    """``page`` from 1, ``per_page`` from 1 to 200 (default 50)."""

    model_config = ConfigDict(extra="ignore")

    page: Annotated[int, Field(ge=1, le=MAX_PAGE)] = 1
    per_page: Annotated[int, Field(ge=1, le=MAX_PER_PAGE)] = DEFAULT_PER_PAGE


class PageEnvelope(BaseModel):
    """A page of results; ``next``/``previous`` are absolute URLs of the neighbour pages."""

    count: int = Field(description="how many results match, on all pages")
    page: int
    per_page: int
    next: str | None
    previous: str | None
