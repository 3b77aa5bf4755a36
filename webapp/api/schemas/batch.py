"""Seed 002 (batch-create tags inside a scope and a tag group): camelCase models."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, RootModel


class BatchTagIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(None, description="optional client-chosen id (else `tag_<uuidv7>`)")
    scopeId: str = Field(description="the scope's id: must be the API key's scope")
    tagGroupId: str = Field(description="the tag group's id (or its identifier)")
    identifier: str = Field(description="unique in the group (case-insensitive); 1–100 "
                            "characters, no '.' or '::'")
    label: str = Field(description="display text, 1–100 characters")


class BatchBody(RootModel[list[BatchTagIn]]):
    """1–1000 tags to create, all or nothing (413 past 1000)."""


class BatchTagOut(BaseModel):
    id: str = Field(description="`tag_<uuidv7>`, or the id the client chose")
    scopeId: str
    tagGroupId: str
    identifier: str
    label: str
    createdBy: str = Field(description="public id of the creating user, or `system`")
    createdAt: datetime
