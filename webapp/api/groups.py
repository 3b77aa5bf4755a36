"""Tag groups: ``/tag-groups`` list and create, ``/tag-groups/<id>`` read, change, delete.

Reading needs ``tags.read``; every change needs ``groups.write``.  ``<id>`` is any handle
of the group: its public id, integer id or identifier.
"""

from __future__ import annotations

from spectree import Response

from webapp.api import api
from webapp.api.auth import caller
from webapp.api.openapi import spec
from webapp.api.pagination import page_fields
from webapp.api.schemas.common import PageQuery, errors
from webapp.api.schemas.groups import GroupCreate, GroupOut, GroupPage, GroupPatch
from webapp.api.wire_names import TAG_GROUPS, spelled
from webapp.services.errors import FieldError, NotFound
from webapp.services.groups import (
    GroupRow,
    create_group,
    delete_group,
    get_group_row,
    live_tag_count,
    page_groups,
    update_group,
)
from webapp.services.paging import PageRequest

ERRORS = errors()


def check_scope(scope_public_id: str | None, field: str) -> None:
    """A ``scopeId`` in a body must name the key's scope; any other scope is not found."""
    if scope_public_id is not None and scope_public_id != caller().scope_public_id:
        raise NotFound(f"scope {scope_public_id!r} not found",
                       [FieldError(field, "not the scope of this API key")])


def group_out(row: GroupRow) -> GroupOut:
    group = row.group
    return GroupOut(
        id=group.public_id, scopeId=caller().scope_public_id, identifier=group.identifier,
        label=group.label, description=group.description, color=group.color,
        exclusive=group.exclusive, allowedTypes=list(group.allowed_types or []),
        assignRole=group.assign_role, tagCount=row.tag_count, createdAt=group.created_at,
        updatedAt=group.updated_at,
    )


@api.get("/tag-groups")
@spec.validate(query=PageQuery, resp=Response(HTTP_200=GroupPage, **ERRORS),
               tags=["tag groups"])
def list_tag_groups(query: PageQuery) -> GroupPage:
    """List the scope's tag groups by identifier, paged, with their live tag counts."""
    who = caller()
    page = page_groups(who.actor, who.scope_id, PageRequest(query.page, query.per_page))
    return GroupPage(results=[group_out(row) for row in page.items], **page_fields(page))


@api.post("/tag-groups")
@spec.validate(json=GroupCreate,
               resp=Response(HTTP_201=GroupOut, **errors(404, 409)),
               tags=["tag groups"])
def create_tag_group(json: GroupCreate) -> tuple[GroupOut, int]:
    """Create a tag group (needs groups.write); 409 when the identifier or id is taken."""
    who = caller()
    check_scope(json.scopeId, "scopeId")
    with spelled(TAG_GROUPS):
        group = create_group(
            who.actor, who.scope_id, json.identifier, label=json.label,
            description=json.description, color=json.color, exclusive=json.exclusive,
            allowed_types=json.allowedTypes, public_id=json.id, assign_role=json.assignRole,
        )
    return group_out(GroupRow(group, 0)), 201


@api.get("/tag-groups/<text:group_id>")
@spec.validate(resp=Response(HTTP_200=GroupOut, **errors(404)),
               tags=["tag groups"])
def get_tag_group(group_id: str) -> GroupOut:
    """Get one tag group by public id, integer id or identifier."""
    who = caller()
    return group_out(get_group_row(who.actor, who.scope_id, group_id))


@api.patch("/tag-groups/<text:group_id>")
@spec.validate(json=GroupPatch,
               resp=Response(HTTP_200=GroupOut, **errors(404, 409)),
               tags=["tag groups"])
def update_tag_group(group_id: str, json: GroupPatch) -> GroupOut:
    """Change a tag group's fields (needs groups.write); a rename renames its tags' qualified
    names; 409 when existing links contradict `exclusive` or `allowedTypes`."""
    who = caller()
    with spelled(TAG_GROUPS):
        group = update_group(who.actor, who.scope_id, group_id, **json.changes())
    return group_out(GroupRow(group, live_tag_count(group.id)))


@api.delete("/tag-groups/<text:group_id>")
@spec.validate(resp=Response("HTTP_204", **errors(404, 409)),
               tags=["tag groups"])
def delete_tag_group(group_id: str) -> tuple[str, int]:
    """Delete a tag group (needs groups.write); 409 while it still holds live tags."""
    who = caller()
    delete_group(who.actor, who.scope_id, group_id)
    return "", 204
