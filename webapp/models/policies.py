from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import db
from webapp.models.types import UTCDateTime, utcnow


class TagPolicy(db.Model):
    """A scope's rule on the tags its resources carry (issue 12 §2).

    Covered: the resources of ``resource_types`` (empty: every type) that match ``where``
    (a tag expression; none: all).  Each covered resource carries a tag of every group in
    ``require_groups`` (exactly one for an exclusive group) and no tag in (the subtree of)
    ``forbid_tags``.  Both hold ids, so a renamed or moved group or tag stays named; a
    deleted one no longer counts.  ``mode``: ``report`` or ``enforce``."""

    __tablename__ = "tag_policies"
    __table_args__ = (
        Index("uq_tag_policies_scope_name", "scope_id", "name_key", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    scope_id: Mapped[int] = mapped_column(ForeignKey("scopes.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    name_key: Mapped[str] = mapped_column(String(300))  # NFKC + casefold
    description: Mapped[str | None] = mapped_column(Text)
    resource_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    where_expression: Mapped[str | None] = mapped_column(Text)
    require_groups: Mapped[list[int]] = mapped_column(JSON, default=list)
    forbid_tags: Mapped[list[int]] = mapped_column(JSON, default=list)
    mode: Mapped[str] = mapped_column(String(10), default="report")
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    updated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def snapshot(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "resource_types": list(self.resource_types or []),
            "where": self.where_expression,
            "require_groups": list(self.require_groups or []),
            "forbid_tags": list(self.forbid_tags or []),
            "mode": self.mode,
        }
