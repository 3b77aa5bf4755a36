"""Auto-tagging rules: a tag expression and the tags to attach to what it matches."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import db
from webapp.models.types import UTCDateTime, utcnow


class TagRule(db.Model):
    """A saved rule of a scope: resources ``when`` matches get the ``attach`` tags — on
    every registration while ``enabled``, and on demand (a back-fill)."""

    __tablename__ = "tag_rules"
    __table_args__ = (
        Index("uq_tag_rules_scope_name", "scope_id", "name_key", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    scope_id: Mapped[int] = mapped_column(ForeignKey("scopes.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    name_key: Mapped[str] = mapped_column(String(300))  # casefolded; may grow up to 3×
    when: Mapped[str] = mapped_column(Text)
    attach: Mapped[list[str]] = mapped_column(JSON, default=list)
    enabled: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    updated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    def snapshot(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "when": self.when,
            "attach": list(self.attach or []),
            "enabled": self.enabled,
        }
