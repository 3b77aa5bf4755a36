from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import db
from webapp.models.types import UTCDateTime, utcnow

# Singular type names; an API collection path is the plural ("/sources/").
RESOURCE_TYPES: tuple[str, ...] = (
    "source",
    "transformation",
    "destination",
    "visualization",
    "layer",
    "folder",
    "table",
    "volume",
    "datasource",
    "column",
    "project",
    "node",
    "file",
)


class AssignmentContext(enum.StrEnum):
    MANUAL = "manual"
    API = "api"
    RULE = "rule"
    IMPORT = "import"


class Resource(db.Model):
    """Something outside Tagwright that carries tags, known by its type and external id."""

    __tablename__ = "resources"
    __table_args__ = (
        Index("uq_resources_scope_type_external", "scope_id", "type", "external_id", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    scope_id: Mapped[int] = mapped_column(ForeignKey("scopes.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(255))
    slug: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Assignment(db.Model):
    """Tag × resource. ``change_set_id`` names the change set that made the link."""

    __tablename__ = "assignments"

    tag_id: Mapped[int] = mapped_column(
        ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True
    )
    resource_id: Mapped[int] = mapped_column(
        ForeignKey("resources.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    context: Mapped[str] = mapped_column(String(16), default=AssignmentContext.MANUAL.value)
    change_set_id: Mapped[int | None] = mapped_column(
        ForeignKey("change_sets.id", ondelete="SET NULL"), index=True
    )
