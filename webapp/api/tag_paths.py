"""Seed 003: the ``/tag`` family — search, dotted create/update with ``rootTag``, external
refresh, tags on one resource of any type, and delete by path.

``/tag/{modelType}/{modelId}`` takes every resource type: the seed's datasource and
project (any id) and column (``<datasource id>_<column>``), node and file (any id), and the
eight UUID-typed resources of seeds 000/001, each with paths of its own (``/tag/source/
{modelId}``: the document can say its id is a UUID; it is stored in canonical form, as
attach stores it).  ``DELETE /tag/{tag}`` takes the rest of the URL as the tag's path (a
name may contain ``/``), except under a type's word, which names a resource's tags;
``DELETE /tag/refresh`` deletes the tag named ``refresh`` (``POST`` there refreshes).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from spectree import Response

from webapp.api import api
from webapp.api.auth import caller
from webapp.api.openapi import spec
from webapp.api.schemas.common import errors
from webapp.api.schemas.links import LINK_LISTS
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
from webapp.api.schemas.text import UUID_PATTERN
from webapp.api.wire_names import SEED_003, spelled
from webapp.models import Tag
from webapp.services.errors import ValidationFailed
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
# The resource types of seeds 000/001, known by UUIDs: a path each.
UUID_MODELS = tuple(plural.removesuffix("s") for plural in LINK_LISTS)
# The model words whose ids are any text: not `column` (a form of its own), not the UUID ones.
OTHER_MODELS = ",".join(model for model in MODEL_TYPES
                        if model != "column" and model not in UUID_MODELS)
_UUID = re.compile(UUID_PATTERN)
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


def _model_id(model_type: str, model_id: str) -> str:
    """The id as stored: a UUID-typed resource's UUID in canonical form (lower case), as
    seeds 000/001 store it, so both dialects name one resource (400 when not a UUID)."""
    if model_type not in UUID_MODELS:
        return model_id
    if not _UUID.fullmatch(model_id):
        raise ValidationFailed.field(
            "resource_id", f"a {model_type} id is a UUID (8-4-4-4-12 hexadecimal digits)")
    return model_id.lower()


@spelled(SEED_003)
def _add(model_type: str, model_id: str, body: ResourceTagsBody) -> ResourceTagList:
    who = caller()
    rows = tag_resource(who.actor, who.scope_id, model_type, _model_id(model_type, model_id),
                        [item.name for item in body.root])
    return resource_tags(rows)


@spelled(SEED_003)
def _remove(model_type: str, model_id: str, tag: str) -> ResourceTagList:
    who = caller()
    return resource_tags([untag_resource(who.actor, who.scope_id, model_type,
                                         _model_id(model_type, model_id), tag)])


@api.post(f"/tag/<any({OTHER_MODELS}):modelType>/<external_id:modelId>")
@spec.validate(json=ResourceTagsBody, resp=Response(HTTP_200=ResourceTagList, **ADD_ERRORS),
               tags=TAGS)
def add_resource_tags(modelType: str, modelId: str, json: ResourceTagsBody) -> ResourceTagList:
    """Add existing tags to a datasource, project, node or file; all or none (an unknown or
    deleted tag is a 400 naming it, and nothing is added)."""
    return _add(modelType, modelId, json)


@spec.validate(json=ResourceTagsBody, resp=Response(HTTP_200=ResourceTagList, **ADD_ERRORS),
               tags=TAGS)
def add_uuid_resource_tags(modelType: str, modelId: str, json: ResourceTagsBody
                           ) -> ResourceTagList:
    """Add existing tags to a resource of seeds 000/001 by its UUID; all or none."""
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
    """Remove one tag from a datasource, project, node or file; answers the link removed."""
    return _remove(modelType, modelId, tag)


@spec.validate(resp=Response(HTTP_200=ResourceTagList, **REMOVE_ERRORS), tags=TAGS)
def remove_uuid_resource_tag(modelType: str, modelId: str, tag: str) -> ResourceTagList:
    """Remove one tag from a resource of seeds 000/001 by its UUID; answers the link removed."""
    return _remove(modelType, modelId, tag)


# Each UUID-typed resource's own paths: the same views, the type given as a default.
for _model in UUID_MODELS:
    api.add_url_rule(f"/tag/{_model}/<uuid_id:modelId>", f"add_{_model}_tags",
                     add_uuid_resource_tags, defaults={"modelType": _model}, methods=["POST"])
    api.add_url_rule(f"/tag/{_model}/<uuid_id:modelId>/<resource_tag:tag>",
                     f"remove_{_model}_tag", remove_uuid_resource_tag,
                     defaults={"modelType": _model}, methods=["DELETE"])


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
