from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import db
from webapp.ids import public_id, uuid7
from webapp.models.types import UTCDateTime, binary_string, utcnow

LIVE = text("deleted_at IS NULL")


class TagGroup(db.Model):
    """A named category of tags inside a scope (seed 004's ``category``)."""

    __tablename__ = "tag_groups"
    __table_args__ = (
        Index("uq_tag_groups_scope_identifier", "scope_id", "identifier_key", unique=True),
        Index("uq_tag_groups_scope_public_id", "scope_id", "public_id", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(100))
    scope_id: Mapped[int] = mapped_column(ForeignKey("scopes.id", ondelete="CASCADE"))
    identifier: Mapped[str] = mapped_column(String(100))
    identifier_key: Mapped[str] = mapped_column(String(300))  # casefolded; may grow up to 3×
    label: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(Text)
    color: Mapped[str | None] = mapped_column(String(7))
    exclusive: Mapped[bool] = mapped_column(default=False)
    allowed_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The least role that may attach or detach the group's tags (editor or manager).
    assign_role: Mapped[str] = mapped_column(String(20), default="editor",
                                             server_default="editor")
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    def snapshot(self) -> dict[str, Any]:
        return {
            "public_id": self.public_id,
            "identifier": self.identifier,
            "label": self.label,
            "description": self.description,
            "color": self.color,
            "exclusive": self.exclusive,
            "allowed_types": list(self.allowed_types or []),
            "assign_role": self.assign_role,
        }


class Tag(db.Model):
    """A tag. Three handles: ``id`` (int), ``uuid`` (UUIDv7) and ``public_id``.

    ``path`` is the dotted name from the root (``Discovered.Country.Canada``);
    ``path_key`` is the casefolded qualified name (``priority::high`` when grouped), unique
    among live tags of a scope; ``id_path`` is ``/<root id>/…/<own id>/`` and makes a
    subtree one range scan.  A child always belongs to its parent's group.
    """

    __tablename__ = "tags"
    __table_args__ = (
        # On PostgreSQL it carries the id too, so a page of live tags in path order is
        # read from the index alone.
        Index(
            "uq_tags_live_path_key",
            "scope_id",
            "path_key",
            unique=True,
            sqlite_where=LIVE,
            postgresql_where=LIVE,
            postgresql_include=["id"],
        ),
        # Counting a scope's live tags (every tag page) reads this narrow index alone.
        Index("ix_tags_scope_live", "scope_id", sqlite_where=LIVE, postgresql_where=LIVE),
        # A group's live tags (counted by the hierarchy and groups pages) and its roots in
        # path order (the hierarchy's top branches), without reading the scope's other tags.
        Index("ix_tags_live_branch", "scope_id", "group_id", "parent_id", "path_key",
              sqlite_where=LIVE, postgresql_where=LIVE),
        Index("uq_tags_scope_public_id", "scope_id", "public_id", unique=True),
        Index("ix_tags_scope_path_key", "scope_id", "path_key"),
        Index("ix_tags_id_path", "id_path"),
        # A scope's live tags in path order: counting them reads this index alone (SQLite
        # picked the public-id index and read every row), and a page walks it in order.
        Index("ix_tags_scope_live_path_key", "scope_id", "deleted_at", "path_key"),
        # The sources a scope's tags come from (the tag page's filter) from the index.
        Index("ix_tags_scope_source", "scope_id", "source"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # insert_sentinel: SQLite can then insert many tags in one INSERT … RETURNING.
    uuid: Mapped[uuid.UUID] = mapped_column(Uuid(), unique=True, default=uuid7,
                                            insert_sentinel=True)
    public_id: Mapped[str] = mapped_column(String(100), default=lambda: public_id("tag"))
    scope_id: Mapped[int] = mapped_column(ForeignKey("scopes.id", ondelete="CASCADE"))
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("tag_groups.id", ondelete="RESTRICT"), index=True
    )
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("tags.id", ondelete="RESTRICT"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    label: Mapped[str] = mapped_column(String(100))
    color: Mapped[str | None] = mapped_column(String(7))
    description: Mapped[str | None] = mapped_column(Text)
    path: Mapped[str] = mapped_column(String(255))
    path_key: Mapped[str] = mapped_column(String(1100))  # casefolding may triple the length
    id_path: Mapped[str] = mapped_column(binary_string(400), default="")
    depth: Mapped[int] = mapped_column(default=0)
    source: Mapped[str] = mapped_column(String(100), default="curated")
    system_created: Mapped[bool] = mapped_column(default=False)
    protected: Mapped[bool] = mapped_column(default=False)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # A deprecated tag stays on its resources and in history, but is not attached again;
    # ``replacement_id`` names the tag to use instead (optional).  A plain id, no foreign
    # key: SQLite can add a column with a named key only by copying ``tags``, which drops
    # its search triggers; tags are never hard-deleted but with their scope, and a
    # replacement that is soft-deleted is ignored (see deprecation_message).
    deprecated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    replacement_id: Mapped[int | None] = mapped_column()

    group: Mapped[TagGroup | None] = relationship(lazy="joined")
    # Read only where a deprecated tag is explained (a refusal, its page).
    replacement: Mapped[Tag | None] = relationship(
        "Tag", primaryjoin="foreign(Tag.replacement_id) == remote(Tag.id)", lazy="select",
        viewonly=True)

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def qualified_name(self) -> str:
        return f"{self.group.identifier}::{self.path}" if self.group else self.path

    def snapshot(self) -> dict[str, Any]:
        """The editable state, as the audit trail stores it."""
        return {
            "name": self.name,
            "label": self.label,
            "color": self.color,
            "description": self.description,
            "parent_id": self.parent_id,
            "group_id": self.group_id,
            "path": self.path,
            "deleted": self.deleted_at is not None,
        }

    def __repr__(self) -> str:
        return f"<Tag {self.id} {self.qualified_name!r}>"


class TagAlias(db.Model):
    """Another (qualified) name that means a tag: a merged-away tag's path, an old name.

    ``alias_key`` compares as names do (NFKC + casefold) and is unique in the scope; the
    services also keep it apart from every live tag's ``path_key``.
    """

    __tablename__ = "tag_aliases"
    __table_args__ = (
        Index("uq_tag_aliases_scope_key", "scope_id", "alias_key", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    scope_id: Mapped[int] = mapped_column(ForeignKey("scopes.id", ondelete="CASCADE"))
    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id", ondelete="CASCADE"), index=True)
    alias: Mapped[str] = mapped_column(String(1100))  # as typed (a qualified path)
    alias_key: Mapped[str] = mapped_column(String(1100))
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
