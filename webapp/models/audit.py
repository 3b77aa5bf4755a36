from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import db
from webapp.models.types import UTCDateTime, utcnow
from webapp.models.users import User


class ChangeSet(db.Model):
    """Everything one request or bulk action changed; the unit of undo."""

    __tablename__ = "change_sets"
    __table_args__ = (Index("ix_change_sets_scope_created", "scope_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope_id: Mapped[int | None] = mapped_column(ForeignKey("scopes.id", ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    via: Mapped[str] = mapped_column(String(16))  # web, api, cli, system
    summary: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    reverts_id: Mapped[int | None] = mapped_column(ForeignKey("change_sets.id"))
    reverted_by_id: Mapped[int | None] = mapped_column(ForeignKey("change_sets.id"))

    actor: Mapped[User | None] = relationship(lazy="joined")
    events: Mapped[list[AuditEvent]] = relationship(
        back_populates="change_set", order_by="AuditEvent.id", lazy="select"
    )


class AuditEvent(db.Model):
    """One change to one object, with its state before and after.

    ``object_type`` is ``tag``, ``tag_group``, ``scope``, ``membership``, ``user`` or
    ``api_key`` for row changes, and ``assignments`` / ``resources`` for the per-tag and
    per-type summaries of bulk link changes (whose rows live in ``assignments`` and
    ``assignment_removals``).
    """

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    change_set_id: Mapped[int] = mapped_column(
        ForeignKey("change_sets.id", ondelete="CASCADE"), index=True
    )
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[int] = mapped_column()
    action: Mapped[str] = mapped_column(String(32))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    change_set: Mapped[ChangeSet] = relationship(back_populates="events")


class AssignmentRemoval(db.Model):
    """A link a change set removed, kept whole so an undo can put it back.

    Like audit events, it records the link's tag, resource and user ids as values, with
    no foreign keys: they were checked when the link was made, tags, resources and users
    are never deleted (only marked), and an undo puts the link back through the foreign
    keys of ``assignments``.  Checking those three parents for each of 100,000 removed
    links took a quarter of the time SQLite spent copying them.
    """

    __tablename__ = "assignment_removals"

    id: Mapped[int] = mapped_column(primary_key=True)
    change_set_id: Mapped[int] = mapped_column(
        ForeignKey("change_sets.id", ondelete="CASCADE"), index=True
    )
    tag_id: Mapped[int]
    resource_id: Mapped[int]
    added_by_id: Mapped[int | None]
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())
    context: Mapped[str] = mapped_column(String(16))
    origin_change_set_id: Mapped[int | None] = mapped_column(
        ForeignKey("change_sets.id", ondelete="SET NULL"), index=True
    )
