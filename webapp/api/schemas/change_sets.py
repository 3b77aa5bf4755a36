"""Change sets (the unit of the audit trail and of undo) as the API shows them."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from webapp.api.schemas.common import PageEnvelope, PageQuery


class ChangeSetOut(BaseModel):
    """Everything one request or bulk action changed; undoing it is one call."""

    id: int
    summary: str
    via: str = Field(description="where the change came from: web, api, cli or system")
    actor: str | None = Field(description="the public id of the user who made it; null for "
                                          "the system")
    createdAt: datetime
    revertsId: int | None = Field(description="the change set this one undid, if an undo")
    revertedById: int | None = Field(description="the undo that reverted it, if undone")


class ChangeSetQuery(PageQuery):
    """Newest first; ``undone=false`` leaves out the change sets an undo reverted."""

    model_config = ConfigDict(extra="ignore")

    undone: bool = True


class ChangeSetPage(PageEnvelope):
    results: list[ChangeSetOut]
