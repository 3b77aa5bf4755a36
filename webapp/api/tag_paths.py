"""Seed 003: the ``/tag`` family — search, dotted create/update with ``rootTag``, external
refresh, tags on datasources / columns / projects, and delete by path.

``DELETE /tag/{tag}`` takes the rest of the URL as the tag's path (a name may contain
``/``); ``DELETE /tag/{datasource|column|project}/{modelId}/{tag}`` wins for those three
words.
"""

from __future__ import annotations

from collections.abc import Sequence

from spectree import Response

from webapp.api import api
from webapp.api.auth import caller
from webapp.api.openapi import spec
from webapp.api.schemas.common import ErrorBody
from webapp.api.schemas.tag_paths import (
    DeleteTagQuery,
    PathTagList,
    PathTagOut,
    RefreshOut,
    ResourceTagList,
    ResourceTagOut,
    ResourceTagsBody,
    SaveTagsBody,
    SourceRefreshOut,
    TagSearchQuery,
)
from webapp.models import Tag
from webapp.services.external_sources import refresh_external_tags
from webapp.services.tag_paths import (
    MODEL_TYPES,
    PathItem,
    ResourceTag,
    RootSpec,
    delete_by_name,
    save_paths,
    tag_resource,
    untag_resource,
)
from webapp.services.tag_queries import search_tags

TAGS = ["tag (seed 003)"]
AUTH_ERRORS = {"HTTP_401": ErrorBody, "HTTP_403": ErrorBody}


def path_tags(tags: Sequence[Tag]) -> PathTagList:
    return PathTagList([
        PathTagOut(
            id=tag.id,
            name=tag.qualified_name,
            color=tag.color,
            description=tag.description,
            source=tag.source,
            deleted=tag.deleted_at is not None,
            systemCreated=tag.system_created,
            createdBy=tag.created_by_id,
            createdAt=tag.created_at,
            updatedAt=tag.updated_at,
            displayName=tag.label,
            protected=tag.protected,
        )
        for tag in tags
    ])


def resource_tags(rows: Sequence[ResourceTag]) -> ResourceTagList:
    return ResourceTagList([
        ResourceTagOut(name=row.name, source=row.source, context=row.context,
                       addedBy=row.added_by, deleted=row.deleted)
        for row in rows
    ])


@api.get("/tag")
@spec.validate(query=TagSearchQuery,
               resp=Response(HTTP_200=PathTagList, HTTP_400=ErrorBody, **AUTH_ERRORS),
               tags=TAGS)
def search_tag_paths(query: TagSearchQuery) -> PathTagList:
    """Search the scope's tags by substring, source and system flag; at most `limit`."""
    who = caller()
    return path_tags(search_tags(who.actor, who.scope_id, query.to_filter(), limit=query.limit))


@api.post("/tag")
@spec.validate(json=SaveTagsBody,
               resp=Response(HTTP_200=PathTagList, HTTP_400=ErrorBody, HTTP_404=ErrorBody,
                             HTTP_409=ErrorBody, HTTP_413=ErrorBody, **AUTH_ERRORS),
               tags=TAGS)
def save_tag_paths(json: SaveTagsBody) -> PathTagList:
    """Create dotted tags (parents as needed), rename them by `id`, or replace a root's children."""
    who = caller()
    root = json.rootTag
    saved = save_paths(
        who.actor, who.scope_id,
        [PathItem(item.name, item.id) for item in json.tags],
        RootSpec(root.name, root.source, root.deleteHierarchy) if root else None,
    )
    return path_tags(saved)


@api.post("/tag/refresh")
@spec.validate(resp=Response(HTTP_200=RefreshOut, **AUTH_ERRORS), tags=TAGS)
def refresh_tags() -> RefreshOut:
    """Pull the scope's external tag sources; each reports its counts or its error."""
    who = caller()
    outcomes = refresh_external_tags(who.actor, who.scope_id)
    return RefreshOut(sources=[
        SourceRefreshOut(name=o.name, paths=o.counts.paths, created=o.counts.created,
                         restored=o.counts.restored, unchanged=o.counts.unchanged,
                         deleted=o.counts.deleted, error=o.error, refreshedAt=o.refreshed_at)
        for o in outcomes
    ])


@api.post("/tag/<modelType>/<modelId>")
@spec.validate(json=ResourceTagsBody,
               resp=Response(HTTP_200=ResourceTagList, HTTP_400=ErrorBody, HTTP_413=ErrorBody,
                             **AUTH_ERRORS),
               tags=TAGS)
def add_resource_tags(modelType: str, modelId: str, json: ResourceTagsBody) -> ResourceTagList:
    """Add existing tags to a datasource, column (`<ds id>_<column>`) or project; all or none."""
    who = caller()
    rows = tag_resource(who.actor, who.scope_id, modelType, modelId,
                        [item.name for item in json.root])
    return resource_tags(rows)


@api.delete(f"/tag/<any({','.join(MODEL_TYPES)}):modelType>/<modelId>/<path:tag>")
@spec.validate(resp=Response(HTTP_200=ResourceTagList, HTTP_400=ErrorBody, HTTP_404=ErrorBody,
                             **AUTH_ERRORS),
               tags=TAGS)
def remove_resource_tag(modelType: str, modelId: str, tag: str) -> ResourceTagList:
    """Remove one tag from a datasource, column or project; answers the link removed."""
    who = caller()
    return resource_tags([untag_resource(who.actor, who.scope_id, modelType, modelId, tag)])


@api.delete("/tag/<path:tag>")
@spec.validate(query=DeleteTagQuery,
               resp=Response(HTTP_200=PathTagList, HTTP_400=ErrorBody, HTTP_404=ErrorBody,
                             HTTP_409=ErrorBody, **AUTH_ERRORS),
               tags=TAGS)
def delete_tag_path(tag: str, query: DeleteTagQuery) -> PathTagList:
    """Soft-delete a tag by path (`?deleteHierarchy=true` for its subtree); answers the deleted."""
    who = caller()
    return path_tags(delete_by_name(who.actor, who.scope_id, tag,
                                    hierarchy=query.deleteHierarchy))
