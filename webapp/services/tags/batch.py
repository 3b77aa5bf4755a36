"""Batch creation of grouped tags (seed 002): each item names an existing tag group, an
identifier unique in that group, a label and optionally its own public id.

All or nothing. Field errors name the item and its field: ``[i].group``,
``[i].identifier``, ``[i].label``, ``[i].id`` (the API spells them as seed 002 does).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import or_, select

from webapp.extensions import db
from webapp.models import Tag, TagGroup
from webapp.services import names
from webapp.services.actor import Actor, authorize
from webapp.services.errors import (
    Conflict,
    FieldError,
    LimitExceeded,
    NotFound,
    ValidationFailed,
)
from webapp.services.sql import integer_key
from webapp.services.tags.creation import CREATE_PERMISSIONS, TagSpec, create_tags
from webapp.services.uow import writing

MAX_BATCH = 1000


@dataclass(frozen=True)
class GroupedTagSpec:
    group: str  # the group's public id, integer id or identifier
    identifier: str
    label: str
    public_id: str | None = None


def create_grouped_tags(actor: Actor, scope_id: int, items: Sequence[GroupedTagSpec]
                        ) -> list[Tag]:
    """Create one tag per item in its group, in the order given; all or nothing.

    An unknown group is NotFound; an identifier already live in its group, or given twice
    for one group, is a Conflict, and so is a public id taken or given twice.
    """
    if not items:
        raise ValidationFailed.field("items", "give at least one tag")
    if len(items) > MAX_BATCH:
        raise LimitExceeded(f"at most {MAX_BATCH} tags per batch ({len(items)} given)",
                            [FieldError("items", f"at most {MAX_BATCH} items")])
    with writing(actor, scope_id, f"Create {len(items)} tag(s) in groups"):
        authorize(actor, scope_id, *CREATE_PERMISSIONS)
        groups = find_groups(scope_id, [item.group for item in items])
        specs = [_spec(index, item, groups.get(item.group)) for index, item in enumerate(items)]
        _refuse_repeats(specs)
        try:
            return create_tags(actor, scope_id, specs)
        except Conflict as error:
            raise _renamed(error, batch=len(specs) > 1) from None


def find_groups(scope_id: int, handles: Iterable[str]) -> dict[str, TagGroup]:
    """The groups of the scope named by ``handles`` (one query), with ``find_group``'s
    precedence: integer id, then public id, then identifier (case-insensitive)."""
    wanted = sorted(set(handles))
    keys = sorted({key for key in map(integer_key, wanted) if key is not None})
    rows = db.session.scalars(
        select(TagGroup).where(
            TagGroup.scope_id == scope_id,
            or_(
                TagGroup.id.in_(keys),
                TagGroup.public_id.in_(wanted),
                TagGroup.identifier_key.in_([names.key(handle) for handle in wanted]),
            ),
        )
    ).all()
    by_id = {group.id: group for group in rows}
    by_public_id = {group.public_id: group for group in rows}
    by_key = {group.identifier_key: group for group in rows}
    found: dict[str, TagGroup] = {}
    for handle in wanted:
        key = integer_key(handle)
        group = (by_id.get(key) if key is not None else None) or by_public_id.get(handle) \
            or by_key.get(names.key(handle))
        if group is not None:
            found[handle] = group
    return found


def _spec(index: int, item: GroupedTagSpec, group: TagGroup | None) -> TagSpec:
    if group is None:
        raise NotFound(f"item {index}: tag group {item.group!r} not found",
                       [FieldError(f"[{index}].group", "no such tag group in this scope")])
    return TagSpec(
        name=names.clean_segment(item.identifier, f"[{index}].identifier"),
        group=group.identifier,
        label=names.clean_label(item.label, f"[{index}].label"),
        public_id=names.clean_public_id(item.public_id, f"[{index}].id")
        if item.public_id is not None else None,
    )


def _refuse_repeats(specs: Sequence[TagSpec]) -> None:
    """A Conflict naming the later item when two items name one tag or one public id."""
    names_seen: dict[str, int] = {}
    ids_seen: dict[str, int] = {}
    for index, spec in enumerate(specs):
        name_key = names.qualified_key(spec.group, spec.name)
        if name_key in names_seen:
            raise Conflict(
                f"item {index}: {spec.group}{names.GROUP_SEPARATOR}{spec.name} is also "
                f"item {names_seen[name_key]}",
                [FieldError(f"[{index}].identifier",
                            f"given twice in the group (item {names_seen[name_key]})")],
            )
        names_seen[name_key] = index
        if spec.public_id is None:
            continue
        if spec.public_id in ids_seen:
            raise Conflict(
                f"item {index}: id {spec.public_id!r} is also item {ids_seen[spec.public_id]}",
                [FieldError(f"[{index}].id", f"given twice (item {ids_seen[spec.public_id]})")],
            )
        ids_seen[spec.public_id] = index


def _renamed(error: Conflict, *, batch: bool) -> Conflict:
    """``create_tags`` names an item's fields ``[i].name`` (``name`` for one item)."""
    details = []
    for detail in error.details:
        field = detail.field if batch else f"[0].{detail.field}"
        if field.endswith(".name"):
            field = field.removesuffix(".name") + ".identifier"
        details.append(FieldError(field, detail.message))
    return Conflict(error.message, details)
