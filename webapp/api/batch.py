"""Seed 002: ``POST /tags/batch`` creates many tags inside tag groups in one call."""

from __future__ import annotations

from spectree import Response

from webapp.api import api
from webapp.api.auth import caller
from webapp.api.groups import check_scope
from webapp.api.links import reloaded
from webapp.api.openapi import spec
from webapp.api.schemas.batch import BatchBody, BatchTagOut
from webapp.api.schemas.common import errors
from webapp.api.serializers import user_public_ids
from webapp.api.wire_names import SEED_002_BATCH, spelled
from webapp.services.tags.batch import GroupedTagSpec, create_grouped_tags

SYSTEM_CREATOR = "system"


@api.post("/tags/batch")
@spec.validate(json=BatchBody,
               resp=Response(HTTP_201=list[BatchTagOut], **errors(404, 409)),
               tags=["tags"])
def create_tag_batch(json: BatchBody) -> tuple[list[BatchTagOut], int]:
    """Create 1–1000 tags in their tag groups, all or nothing (seed 002)."""
    who = caller()
    for index, item in enumerate(json.root):
        check_scope(item.scopeId, f"[{index}].scopeId")
    with spelled(SEED_002_BATCH):
        created = reloaded(create_grouped_tags(who.actor, who.scope_id, [
            GroupedTagSpec(item.tagGroupId, item.identifier, item.label, item.id)
            for item in json.root
        ]))
    creators = user_public_ids(tag.created_by_id for tag in created)
    return [
        BatchTagOut(
            id=tag.public_id, scopeId=who.scope_public_id,
            tagGroupId=tag.group.public_id if tag.group else "", identifier=tag.name,
            label=tag.label,
            createdBy=creators.get(tag.created_by_id, SYSTEM_CREATOR)
            if tag.created_by_id else SYSTEM_CREATOR,
            createdAt=tag.created_at,
        )
        for tag in created
    ], 201
