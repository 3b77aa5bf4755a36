"""Seed 003: the ``/tag`` family — search, dotted create/update with ``rootTag``, external
refresh, tags on datasources / columns / projects, and delete by path.

``DELETE /tag/{tag}`` takes the rest of the URL as the tag's path (a name may contain
``/``), except under the three model words, which name a resource's tags; ``DELETE
/tag/refresh`` deletes the tag named ``refresh`` (``POST`` there refreshes).
"""

from __future__ import annotations

from collections.abc import Sequence

from spectree import Response

from webapp.api import api
from webapp.api.auth import caller
from webapp.api.openapi import spec
from webapp.api.schemas.common import errors
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
from webapp.api.wire_names import SEED_003, spelled
from webapp.models import Tag
from webapp.services.external_sources import refresh_external_tags
from webapp.services.tags.paths import (
    MODEL_TYPES,
    PathItem,
    ResourceTag,
    RootSpec,
    delete_by_name,
    save_paths,
    tag_resource,
    untag_resource,
)
from webapp.services.tags.queries import search_tags

TAGS = ["tag (seed 003)"]
AUTH_ERRORS = errors()
# The model words other than `column`, whose ids have a form of their own.
OTHER_MODELS = ",".join(model for model in MODEL_TYPES if model != "column")
REMOVE_ERRORS = errors(404)
# 405: a path outside the model words is a tag's name, which takes only DELETE.
ADD_ERRORS = errors(404, 405)
DELETE_ERRORS = errors(404, 409)


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
               resp=Response(HTTP_200=PathTagList, **AUTH_ERRORS),
               tags=TAGS)
def search_tag_paths(query: TagSearchQuery) -> PathTagList:
    """Search the scope's tags by substring, source and system flag; at most `limit`."""
    who = caller()
    with spelled(SEED_003):
        found = search_tags(who.actor, who.scope_id, query.to_filter(), limit=query.limit)
    return path_tags(found)


@api.post("/tag")
@spec.validate(json=SaveTagsBody,
               resp=Response(HTTP_200=PathTagList, **DELETE_ERRORS),
               tags=TAGS)
def save_tag_paths(json: SaveTagsBody) -> PathTagList:
    """Create dotted tags (parents as needed), rename them by `id`, or replace a root's children."""
    who = caller()
    root = json.rootTag
    with spelled(SEED_003):
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


@spelled(SEED_003)
def _add(model_type: str, model_id: str, body: ResourceTagsBody) -> ResourceTagList:
    who = caller()
    rows = tag_resource(who.actor, who.scope_id, model_type, model_id,
                        [item.name for item in body.root])
    return resource_tags(rows)


@spelled(SEED_003)
def _remove(model_type: str, model_id: str, tag: str) -> ResourceTagList:
    who = caller()
    return resource_tags([untag_resource(who.actor, who.scope_id, model_type, model_id, tag)])


@api.post(f"/tag/<any({OTHER_MODELS}):modelType>/<external_id:modelId>")
@spec.validate(json=ResourceTagsBody, resp=Response(HTTP_200=ResourceTagList, **ADD_ERRORS),
               tags=TAGS)
def add_resource_tags(modelType: str, modelId: str, json: ResourceTagsBody) -> ResourceTagList:
    """Add existing tags to a datasource or project; all or none (an unknown or deleted
    tag is a 404 naming it, and nothing is added)."""
    return _add(modelType, modelId, json)


@api.post("/tag/column/<column_id:modelId>")
@spec.validate(json=ResourceTagsBody, resp=Response(HTTP_200=ResourceTagList, **ADD_ERRORS),
               tags=TAGS)
def add_column_tags(modelId: str, json: ResourceTagsBody) -> ResourceTagList:
    """Add existing tags to a column (`<datasource id>_<column>`); all or none."""
    return _add("column", modelId, json)


@api.delete(f"/tag/<any({OTHER_MODELS}):modelType>/<external_id:modelId>/<resource_tag:tag>")
@spec.validate(resp=Response(HTTP_200=ResourceTagList, **REMOVE_ERRORS), tags=TAGS)
def remove_resource_tag(modelType: str, modelId: str, tag: str) -> ResourceTagList:
    """Remove one tag from a datasource or project; answers the link removed."""
    return _remove(modelType, modelId, tag)


@api.delete("/tag/column/<column_id:modelId>/<resource_tag:tag>")
@spec.validate(resp=Response(HTTP_200=ResourceTagList, **REMOVE_ERRORS), tags=TAGS)
def remove_column_tag(modelId: str, tag: str) -> ResourceTagList:
    """Remove one tag from a column (`<datasource id>_<column>`); answers the link removed."""
    return _remove("column", modelId, tag)


@spelled(SEED_003)
def _delete(tag: str, query: DeleteTagQuery) -> PathTagList:
    who = caller()
    return path_tags(delete_by_name(who.actor, who.scope_id, tag,
                                    hierarchy=query.deleteHierarchy))


@api.delete("/tag/<tag_path:tag>")
@spec.validate(query=DeleteTagQuery, resp=Response(HTTP_200=PathTagList, **DELETE_ERRORS),
               tags=TAGS)
def delete_tag_path(tag: str, query: DeleteTagQuery) -> PathTagList:
    """Soft-delete a tag by path (`?deleteHierarchy=true` for its subtree); answers the deleted."""
    return _delete(tag, query)


@api.delete("/tag/refresh")
@spec.validate(query=DeleteTagQuery, resp=Response(HTTP_200=PathTagList, **DELETE_ERRORS),
               tags=TAGS)
def delete_tag_named_refresh(query: DeleteTagQuery) -> PathTagList:
    """Soft-delete the tag named `refresh`: `DELETE /tag/{tag}` for that name (`POST` on
    this path refreshes the external sources)."""
    return _delete("refresh", query)
