"""Seed 004: ``/tags`` CRUD, paging, bulk delete, tagged nodes and files, third-party."""

from __future__ import annotations

from spectree import Response

from webapp.api import api
from webapp.api.auth import caller
from webapp.api.openapi import spec
from webapp.api.schemas.common import ErrorBody
from webapp.api.schemas.tags import TagOut
from webapp.api.serializers import tags_out
from webapp.services.tags import get_tag

ERRORS = {"HTTP_401": ErrorBody, "HTTP_403": ErrorBody, "HTTP_404": ErrorBody}


@api.get("/tags/<tag_id>")
@spec.validate(resp=Response(HTTP_200=TagOut, **ERRORS), tags=["tags"])
def get_one_tag(tag_id: str) -> TagOut:
    """Get one tag by any of its handles: integer, UUID or public id."""
    who = caller()
    return tags_out([get_tag(who.actor, who.scope_id, tag_id)])[0]
