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
from webapp.api.schemas.links import ALL_LINK_LISTS, LinkBody, LinkedTag
from webapp.extensions import db
from webapp.models import Tag
from webapp.services.assignments import attach, detach
from webapp.services.errors import FieldError, LimitExceeded
from webapp.services.link_plan import MAX_LINKS

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
    """The body's resource lists by type, each within its documented cap (``maxItems``):
    counted as sent, duplicates included, since no longer list fits the link cap.  The
    service then caps the names × distinct resources of all lists together."""
    for plural in ALL_LINK_LISTS:
        given = len(getattr(body, plural))
        if given > MAX_LINKS:
            raise LimitExceeded(f"at most {MAX_LINKS:,} ids in {plural} ({given:,} given)",
                                [FieldError(plural, f"at most {MAX_LINKS:,} ids in one list")])
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
