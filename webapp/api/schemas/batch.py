"""Seed 002 (batch-create tags inside a scope and a tag group): camelCase models."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, RootModel

from webapp.api.schemas.common import QueryText
from webapp.api.schemas.text import Label, PublicId, Segment, items


class BatchTagIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: PublicId | None = Field(None, description="optional client-chosen id (else "
                                "`tag_<uuidv7>`)")
    scopeId: QueryText = Field(description="the scope's id: must be the API key's scope "
                               "(else 404)")
    tagGroupId: QueryText = Field(description="the tag group's id (or its identifier); 404 when "
                            "the scope has no such group")
    identifier: Segment = Field(description="unique in the group (case-insensitive); 1–100 "
                                "characters, no '.' or '::'")
    label: Label = Field(description="display text, 1–100 characters")


class BatchBody(RootModel[Annotated[list[BatchTagIn], items(1, 1000)]]):
    """1–1000 tags to create, all or nothing (413 past 1000)."""


class BatchTagOut(BaseModel):
    id: str = Field(description="`tag_<uuidv7>`, or the id the client chose")
    scopeId: str
    tagGroupId: str
    identifier: str
    label: str
    createdBy: str = Field(description="public id of the creating user, or `system`")
    createdAt: datetime
