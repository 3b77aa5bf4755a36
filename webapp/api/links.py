"""Seeds 000 and 001: attach and detach tags by name to many typed resources in one call.

Both routes answer with or without a trailing slash (no redirect: a redirected POST loses
its body with some clients).  Beside the seeds' eight UUID lists, the body takes a list
per other resource type under its plural (``nodes``, ``files``, ``datasources``, …).
"""

from __future__ import annotations

from collections.abc import Sequence

from spectree import Response
from sqlalchemy import inspect, select

from webapp.api import api
from webapp.api.auth import caller
from webapp.api.openapi import spec
from webapp.api.schemas.common import errors
from webapp.api.schemas.links import LinkBody, LinkedTag
from webapp.extensions import db
from webapp.models import Tag
from webapp.services.assignments import attach, detach

RESPONSES = Response(HTTP_200=list[LinkedTag], **errors())


def reloaded(tags: Sequence[Tag]) -> list[Tag]:
    """``tags`` fresh from the database in one query (a commit expired them; touching each
    would reload it alone), in the order given."""
    ids = [inspect(tag).identity[0] for tag in tags]
    if not ids:
        return []
    by_id = {tag.id: tag for tag in db.session.scalars(select(Tag).where(Tag.id.in_(ids)))}
    return [by_id[tag_id] for tag_id in ids]


def resource_refs(body: LinkBody) -> dict[str, list[str]]:
    """The body's resource lists by type (the service caps each list, as documented by
    ``maxItems``, and the names × distinct resources of all lists together)."""
    return body.resource_refs()


def linked_tags(tags: Sequence[Tag]) -> list[LinkedTag]:
    return [
        LinkedTag(id=tag.uuid, name=tag.qualified_name, created_at=tag.created_at,
                  updated_at=tag.updated_at)
        for tag in tags
    ]


@api.post("/tags/attach/")
@api.post("/tags/attach")
@spec.validate(json=LinkBody, resp=RESPONSES, tags=["attach / detach"])
def attach_tags(json: LinkBody) -> list[LinkedTag]:
    """Attach every named tag to every listed resource, creating missing tags (seed 000)."""
    who = caller()
    outcome = attach(who.actor, who.scope_id, json.tag_names(), resource_refs(json))
    return linked_tags(reloaded(outcome.tags))


@api.post("/tags/detach/")
@api.post("/tags/detach")
@spec.validate(json=LinkBody, resp=RESPONSES, tags=["attach / detach"])
def detach_tags(json: LinkBody) -> list[LinkedTag]:
    """Detach every named tag from every listed resource; unknown names are skipped (seed 001)."""
    who = caller()
    outcome = detach(who.actor, who.scope_id, json.tag_names(), resource_refs(json))
    return linked_tags(reloaded(outcome.tags))
