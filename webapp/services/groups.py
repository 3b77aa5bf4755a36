"""Tag groups: named categories of tags, optionally exclusive or limited to resource types."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, inspect, select, update

from webapp.extensions import db
from webapp.ids import public_id as new_public_id
from webapp.models import (
    RESOURCE_TYPES,
    ApiKey,
    Assignment,
    Membership,
    Resource,
    Role,
    Tag,
    TagGroup,
    User,
)
from webapp.models.types import utcnow
from webapp.services import names
from webapp.services.actor import (
    ROLE_PERMISSIONS,
    ROLE_RANK,
    Actor,
    Permission,
    authorize,
)
from webapp.services.errors import Conflict, FieldError, NotFound, ValidationFailed
from webapp.services.paging import Page, PageRequest
from webapp.services.sql import integer_key
from webapp.services.unset import UNSET
from webapp.services.uow import ChangeRecorder, writing


def clean_allowed_types(raw: Iterable[str] | None, field: str = "allowed_types") -> list[str]:
    if raw is None:
        return []
    values = sorted({str(item).strip().lower() for item in raw if str(item).strip()})
    unknown = [value for value in values if value not in RESOURCE_TYPES]
    if unknown:
        raise ValidationFailed.field(
            field, f"unknown resource type(s) {', '.join(unknown)}; "
            f"known: {', '.join(RESOURCE_TYPES)}"
        )
    return values


ASSIGN_ROLES = (Role.EDITOR.value, Role.MANAGER.value)


def clean_assign_role(raw: object, field: str = "assign_role") -> str:
    """The least role that may attach or detach a group's tags: editor or manager."""
    value = raw.strip().lower() if isinstance(raw, str) else raw
    if value not in ASSIGN_ROLES:
        raise ValidationFailed.field(field, f"must be one of {', '.join(ASSIGN_ROLES)}")
    return str(value)


def find_group(scope_id: int, handle: int | str) -> TagGroup | None:
    """A group of the scope by integer id, public id or identifier (case-insensitive)."""
    query = select(TagGroup).where(TagGroup.scope_id == scope_id)
    row_id = integer_key(handle)
    if isinstance(handle, int):
        return db.session.scalar(query.where(TagGroup.id == row_id)) if row_id else None
    if row_id is not None:
        found = db.session.scalar(query.where(TagGroup.id == row_id))
        if found:
            return found
    found = db.session.scalar(query.where(TagGroup.public_id == handle))
    return found or db.session.scalar(query.where(TagGroup.identifier_key == names.key(handle)))


def get_group(actor: Actor, scope_id: int, handle: int | str) -> TagGroup:
    authorize(actor, scope_id, Permission.TAGS_READ)
    return _existing_group(scope_id, handle)


def _existing_group(scope_id: int, handle: int | str) -> TagGroup:
    """The scope's group by any handle (NotFound otherwise), for a caller already
    authorized: changing a group needs groups.write, not tags.read as well."""
    group = find_group(scope_id, handle)
    if group is None:
        raise NotFound(f"tag group {handle!r} not found")
    return group


@dataclass(frozen=True)
class GroupRow:
    group: TagGroup
    tag_count: int


def _live_count() -> Any:
    """The number of live tags of the row's group, as a correlated subquery."""
    return (
        select(func.count(Tag.id))
        .where(Tag.group_id == TagGroup.id, Tag.deleted_at.is_(None))
        .correlate(TagGroup)
        .scalar_subquery()
    )


def list_groups(actor: Actor, scope_id: int) -> list[GroupRow]:
    """The scope's groups by identifier, each with its number of live tags (one query)."""
    authorize(actor, scope_id, Permission.TAGS_READ)
    rows = db.session.execute(
        select(TagGroup, _live_count())
        .where(TagGroup.scope_id == scope_id)
        .order_by(TagGroup.identifier_key)
    ).all()
    return [GroupRow(group, count) for group, count in rows]


def page_groups(actor: Actor, scope_id: int, paging: PageRequest | None = None
                ) -> Page[GroupRow]:
    """A page of the scope's groups by identifier, with their live tag counts (two queries)."""
    authorize(actor, scope_id, Permission.TAGS_READ)
    paging = paging or PageRequest()
    total = db.session.scalar(
        select(func.count(TagGroup.id)).where(TagGroup.scope_id == scope_id)
    ) or 0
    rows = db.session.execute(
        select(TagGroup, _live_count())
        .where(TagGroup.scope_id == scope_id)
        .order_by(TagGroup.identifier_key, TagGroup.id)
        .limit(paging.per_page)
        .offset(paging.offset)
    ).all()
    return Page([GroupRow(group, count) for group, count in rows], total, paging.page,
                paging.per_page)


def get_group_row(actor: Actor, scope_id: int, handle: int | str) -> GroupRow:
    """One group with its number of live tags; NotFound outside the actor's scope."""
    group = get_group(actor, scope_id, handle)
    return GroupRow(group, live_tag_count(group.id))


def live_tag_count(group_id: int) -> int:
    """How many live tags the group holds."""
    return db.session.scalar(
        select(func.count(Tag.id)).where(Tag.group_id == group_id, Tag.deleted_at.is_(None))
    ) or 0


def create_group(
    actor: Actor,
    scope_id: int,
    identifier: str,
    *,
    label: str | None = None,
    description: str | None = None,
    color: str | None = None,
    exclusive: bool = False,
    allowed_types: Iterable[str] | None = None,
    public_id: str | None = None,
    assign_role: str = Role.EDITOR.value,
) -> TagGroup:
    """Create a group; its identifier is unique in the scope (case-insensitive)."""
    with writing(actor, scope_id, f"Create tag group {identifier}") as recorder:
        authorize(actor, scope_id, Permission.GROUPS_WRITE)
        return _insert_group(
            actor, scope_id, recorder, identifier, label=label, description=description,
            color=color, exclusive=exclusive, allowed_types=allowed_types, public_id=public_id,
            assign_role=assign_role,
        )


def ensure_group(actor: Actor, scope_id: int, recorder: ChangeRecorder, identifier: str
                 ) -> TagGroup:
    """The group named ``identifier``, created as a plain group when missing.

    Used when a tag is created with a category or a ``group::path`` name; creating the tag
    needs only tag permissions, as seed 004's ``category`` field implies.
    """
    found = db.session.scalar(
        select(TagGroup).where(
            TagGroup.scope_id == scope_id, TagGroup.identifier_key == names.key(identifier)
        )
    )
    return found or _insert_group(actor, scope_id, recorder, identifier)


def _insert_group(
    actor: Actor,
    scope_id: int,
    recorder: ChangeRecorder,
    identifier: str,
    *,
    label: str | None = None,
    description: str | None = None,
    color: str | None = None,
    exclusive: bool = False,
    allowed_types: Iterable[str] | None = None,
    public_id: str | None = None,
    assign_role: str = Role.EDITOR.value,
) -> TagGroup:
    identifier = names.clean_identifier(identifier)
    group = TagGroup(
        scope_id=scope_id,
        public_id=names.clean_public_id(public_id) if public_id else new_public_id("tag_group"),
        identifier=identifier,
        identifier_key=names.key(identifier),
        label=names.clean_label(label) if label else identifier,
        description=names.clean_description(description),
        color=names.clean_color(color),
        exclusive=bool(exclusive),
        allowed_types=clean_allowed_types(allowed_types),
        assign_role=clean_assign_role(assign_role),
        created_by_id=actor.user_id,
    )
    clash = db.session.scalar(
        select(TagGroup).where(
            TagGroup.scope_id == scope_id,
            (TagGroup.identifier_key == group.identifier_key)
            | (TagGroup.public_id == group.public_id),
        )
    )
    if clash is not None:
        field = "identifier" if clash.identifier_key == group.identifier_key else "id"
        raise Conflict(
            f"a tag group {clash.identifier!r} ({clash.public_id}) already exists",
            [FieldError(field, "already exists in this scope")],
        )
    db.session.add(group)
    db.session.flush()
    recorder.record("tag_group", group.id, "create", None, group.snapshot())
    return group


def update_group(
    actor: Actor,
    scope_id: int,
    handle: int | str,
    *,
    identifier: str = UNSET,
    label: str = UNSET,
    description: str | None = UNSET,
    color: str | None = UNSET,
    exclusive: bool = UNSET,
    allowed_types: Iterable[str] = UNSET,
    assign_role: str = UNSET,
) -> TagGroup:
    """Change a group. Renaming it rewrites its tags' qualified names in one statement;
    making it exclusive or narrowing its types is refused while existing links disagree.
    Raising ``assign_role`` takes the right to change its tags' links from the members
    (and keys) below it: :func:`assign_role_impact` says who, before."""
    with writing(actor, scope_id, "Update tag group") as recorder:
        authorize(actor, scope_id, Permission.GROUPS_WRITE)
        group = _existing_group(scope_id, handle)
        before = group.snapshot()
        if identifier is not UNSET:
            _rename_group(scope_id, group, names.clean_identifier(identifier))
        if label is not UNSET:
            group.label = names.clean_label(label)
        if description is not UNSET:
            group.description = names.clean_description(description)
        if color is not UNSET:
            group.color = names.clean_color(color)
        if allowed_types is not UNSET:
            group.allowed_types = clean_allowed_types(allowed_types)
            check_allowed_types(group, [group.id], by_group=True)
        if assign_role is not UNSET:
            group.assign_role = clean_assign_role(assign_role)
        if exclusive is not UNSET:
            group.exclusive = bool(exclusive)
            if group.exclusive:
                check_exclusive(group)
        after = group.snapshot()
        if after != before:
            group.updated_at = utcnow()
            recorder.record("tag_group", group.id, "update", before, after)
        return group


def _rename_group(scope_id: int, group: TagGroup, identifier: str) -> None:
    new_key = names.key(identifier)
    if new_key != group.identifier_key:
        clash = db.session.scalar(
            select(TagGroup.id).where(
                TagGroup.scope_id == scope_id, TagGroup.identifier_key == new_key
            )
        )
        if clash is not None:
            raise Conflict(
                f"a tag group named {identifier!r} already exists",
                [FieldError("identifier", "already exists in this scope")],
            )
    old_prefix = group.identifier_key + names.GROUP_SEPARATOR
    new_prefix = new_key + names.GROUP_SEPARATOR
    db.session.execute(
        update(Tag)
        .where(Tag.group_id == group.id)
        .values(path_key=new_prefix + func.substr(Tag.path_key, len(old_prefix) + 1)),
        execution_options={"synchronize_session": False},
    )
    expire_loaded_tags(lambda tag: tag.group_id == group.id)
    group.identifier = identifier
    group.identifier_key = new_key


def expire_loaded_tags(predicate: Any) -> None:
    """Expire Tag objects in the session that a bulk UPDATE just rewrote.

    Never emits SQL: a Tag with unloaded (e.g. already expired) attributes is expired
    without asking ``predicate``, which would load it, one SELECT per object.
    """
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, Tag) and (inspect(obj).unloaded or predicate(obj)):
            db.session.expire(obj)


def _ids(tag_ids: Iterable[int] | Select[Any]) -> list[int] | Select[Any]:
    """A list of tag ids, or a SELECT of them, ready for ``in_``."""
    return tag_ids if isinstance(tag_ids, Select) else list(tag_ids)


def check_exclusive(group: TagGroup, extra_tag_ids: Iterable[int] | Select[Any] = ()) -> None:
    """Conflict when a resource carries two tags of ``group`` (or of the extra tags)."""
    tag_ids = select(Tag.id).where((Tag.group_id == group.id) | Tag.id.in_(_ids(extra_tag_ids)))
    crowded = db.session.scalar(
        select(func.count()).select_from(
            select(Assignment.resource_id)
            .where(Assignment.tag_id.in_(tag_ids))
            .group_by(Assignment.resource_id)
            .having(func.count() > 1)
            .subquery()
        )
    )
    if crowded:
        raise Conflict(
            f"{crowded} resource(s) carry more than one tag of the exclusive group "
            f"{group.identifier!r}; detach the extras first",
            [FieldError("exclusive", f"{crowded} resource(s) carry several tags of the group")],
        )


SAMPLE_REFUSED = 5  # resources named when narrowing allowed types is refused


def check_allowed_types(group: TagGroup, tag_ids: Iterable[int] | Select[Any], *,
                        by_group: bool = False) -> None:
    """Conflict when the tags are attached to resources of types the group does not allow."""
    if not group.allowed_types:
        return
    tags = select(Tag.id).where(Tag.group_id == group.id) if by_group else _ids(tag_ids)
    wrong = db.session.execute(
        select(Resource.type, func.count())
        .join(Assignment, Assignment.resource_id == Resource.id)
        .where(Assignment.tag_id.in_(tags), Resource.type.not_in(group.allowed_types))
        .group_by(Resource.type)
    ).all()
    if wrong:
        listing = ", ".join(f"{count} {rtype}" for rtype, count in wrong)
        sample = db.session.execute(
            select(Resource.type, Resource.external_id, Resource.name).distinct()
            .join(Assignment, Assignment.resource_id == Resource.id)
            .where(Assignment.tag_id.in_(tags), Resource.type.not_in(group.allowed_types))
            .order_by(Resource.type, Resource.external_id).limit(SAMPLE_REFUSED)
        ).all()
        shown = ", ".join(f"{name} ({rtype}:{ref})" if name else f"{rtype}:{ref}"
                          for rtype, ref, name in sample)
        raise Conflict(
            f"tags of group {group.identifier!r} are attached to resources it would not "
            f"allow ({listing}), e.g. {shown}; detach them first",
            [FieldError("allowed_types", f"existing links to {listing}, e.g. {shown}")],
        )


def delete_group(actor: Actor, scope_id: int, handle: int | str) -> None:
    """Delete an empty group. Deleted tags that still name it become ungrouped."""
    with writing(actor, scope_id, "Delete tag group") as recorder:
        authorize(actor, scope_id, Permission.GROUPS_WRITE)
        group = _existing_group(scope_id, handle)
        remove_group(recorder, group, "delete")


def remove_group(recorder: ChangeRecorder, group: TagGroup, action: str) -> None:
    """Delete a group that has no live tags (Conflict otherwise); the deleted tags that
    still name it become ungrouped, their keys losing the ``group::`` prefix."""
    live = db.session.scalar(
        select(func.count(Tag.id)).where(Tag.group_id == group.id, Tag.deleted_at.is_(None))
    )
    if live:
        raise Conflict(
            f"tag group {group.identifier!r} still has {live} tag(s); move or delete them first"
        )
    prefix_length = len(group.identifier_key + names.GROUP_SEPARATOR)
    db.session.execute(
        update(Tag)
        .where(Tag.group_id == group.id)
        .values(group_id=None, path_key=func.substr(Tag.path_key, prefix_length + 1)),
        execution_options={"synchronize_session": False},
    )
    expire_loaded_tags(lambda tag: tag.group_id == group.id)
    recorder.record("tag_group", group.id, action, group.snapshot(), None)
    db.session.delete(group)
    db.session.flush()


def apply_group_snapshot(scope_id: int, group: TagGroup, snapshot: dict[str, Any]) -> None:
    """Put a group back to an audited state (used by undo)."""
    if snapshot["identifier"] != group.identifier:
        _rename_group(scope_id, group, snapshot["identifier"])
    group.label = snapshot["label"]
    group.description = snapshot["description"]
    group.color = snapshot["color"]
    group.exclusive = snapshot["exclusive"]
    group.allowed_types = list(snapshot["allowed_types"])
    group.assign_role = snapshot.get("assign_role", Role.EDITOR.value)
    group.updated_at = utcnow()


@dataclass(frozen=True)
class AssignImpact:
    """Who would lose the right to attach and detach a group's tags."""

    members: int  # members of the scope below the role (site admins keep it)
    keys: int  # live API keys with tags.write whose owner is below the role


def assign_role_impact(actor: Actor, scope_id: int, handle: int | str, assign_role: str
                       ) -> AssignImpact:
    """What setting ``assign_role`` on a group would take away, before it is saved: the
    members who could change its tags' links and could not then, and their keys (two
    queries)."""
    authorize(actor, scope_id, Permission.GROUPS_WRITE)
    _existing_group(scope_id, handle)
    least = ROLE_RANK[Role(clean_assign_role(assign_role))]
    below = [role.value for role, rank in ROLE_RANK.items()
             if rank < least and Permission.TAGS_WRITE in ROLE_PERMISSIONS[role]]
    if not below:
        return AssignImpact(0, 0)
    losing = (select(Membership.user_id)
              .join(User, User.id == Membership.user_id)
              .where(Membership.scope_id == scope_id, Membership.role.in_(below),
                     User.is_admin.is_(False)))
    members = db.session.scalar(select(func.count()).select_from(losing.subquery())) or 0
    keys = sum(
        Permission.TAGS_WRITE.value in (permissions or [])
        for permissions in db.session.scalars(
            select(ApiKey.permissions).where(ApiKey.scope_id == scope_id,
                                             ApiKey.revoked_at.is_(None),
                                             ApiKey.user_id.in_(losing)))
    )
    return AssignImpact(members, keys)
