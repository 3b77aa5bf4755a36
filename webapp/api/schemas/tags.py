"""Seed 004 (tag CRUD with colour / category / description / parent): snake_case models."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, Field


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
    created_at: datetime
    updated_at: datetime
