"""Seed 004: ``/tags`` CRUD, paging, bulk delete, tagged nodes and files, third-party."""

from __future__ import annotations

from spectree import Response

from webapp.api import api
from webapp.api.auth import caller
from webapp.api.openapi import spec
from webapp.api.pagination import page_fields
from webapp.api.schemas.common import errors
from webapp.api.schemas.tags import (
    BulkDeleteIn,
    BulkDeleteOut,
    DeleteQuery,
    ReplaceOut,
    ReplaceQuery,
    TagCreateIn,
    TagDeleteOut,
    TaggedResourcePage,
    TaggedResourcesQuery,
    TagListQuery,
    TagOut,
    TagPage,
    TagUpdateIn,
    TypedResourcesQuery,
)
from webapp.api.serializers import tag_list_out, tag_out, tagged_resources_out, tags_out
from webapp.api.wire_names import NATIVE_BULK_DELETE, NATIVE_TAGS, spelled
from webapp.fastpath import reads_tag_with_key
from webapp.models import AssignmentContext
from webapp.services import names
from webapp.services.actor import Permission, authorize
from webapp.services.paging import PageRequest
from webapp.services.resources import list_resources, resources_by_tag
from webapp.services.tags.aliases import replace_aliases
from webapp.services.tags.creation import TagSpec, Uniqueness, create_tag
from webapp.services.tags.deletion import bulk_delete_tags, delete_tag
from webapp.services.tags.deprecation import (
    ReplaceCounts,
    preview_replace_everywhere,
    replace_everywhere,
    set_deprecation,
)
from webapp.services.tags.hierarchy import update_tag
from webapp.services.tags.lookup import get_tag, live_tag
from webapp.services.tags.paths import load_tags
from webapp.services.tags.queries import TagFilter, list_tags
from webapp.services.tags.views import get_tag_view
from webapp.services.unset import UNSET
from webapp.services.uow import writing

READ_ERRORS = errors()
ERRORS = errors(404)
WRITE_ERRORS = errors(404, 409)

NODES_PER_TAG = 20

UPDATE_ARGUMENTS = {
    "name": "name", "label": "label", "color": "color", "description": "description",
    "category": "group", "parent_tag_id": "parent",
}


def _create(body: TagCreateIn) -> TagOut:
    who = caller()
    with spelled(NATIVE_TAGS):
        spec_ = TagSpec(
            name=names.clean_segment(body.name, "name"),
            parent=body.parent_tag_id,
            group=body.category or None,
            label=body.label,
            color=body.color,
            description=body.description,
        )
        if not body.aliases:
            # Seed 004: "409 — Tag with this name already exists", whatever its category.
            tag = create_tag(who.actor, who.scope_id, spec_, uniqueness=Uniqueness.LEVEL)
        else:  # the tag and its aliases in one change set
            with writing(who.actor, who.scope_id, "Create tag") as recorder:
                tag = create_tag(who.actor, who.scope_id, spec_, uniqueness=Uniqueness.LEVEL)
                replace_aliases(who.actor, who.scope_id, recorder, tag, body.aliases)
    return tags_out([tag])[0]


@api.get("/tags")
@spec.validate(query=TagListQuery, resp=Response(HTTP_200=TagPage, **READ_ERRORS),
               tags=["tags"])
def list_scope_tags(query: TagListQuery) -> TagPage:
    """List tags with usage counts: search, filter by category, parent or creator; paged."""
    who = caller()
    filters = TagFilter(
        search=query.search,
        group=query.category or None,
        parent=query.parent_tag_id or None,
        creator=who.user_id if query.access == "owned" else None,
        excluded_creator=who.user_id if query.access == "shared" else None,
    )
    page = list_tags(who.actor, who.scope_id, filters,
                     paging=PageRequest(query.page, query.per_page))
    nodes = None
    if query.include_nodes:
        nodes = resources_by_tag([row.tag.id for row in page.items], rtype="node",
                                 limit=NODES_PER_TAG)
    return TagPage(results=tag_list_out(page.items, nodes), **page_fields(page),
                   count_is_lower_bound=True if page.total_is_lower_bound else None)


@api.post("/tags")
@spec.validate(json=TagCreateIn, resp=Response(HTTP_201=TagOut, **WRITE_ERRORS),
               tags=["tags"])
def create_one_tag(json: TagCreateIn) -> tuple[TagOut, int]:
    """Create a tag (needs tags.create or tags.write); 409 when a live tag at the same level
    (the same parent, or the top) has the name, whatever its category."""
    return _create(json), 201


@api.post("/third-party/tags")
@spec.validate(json=TagCreateIn, resp=Response(HTTP_201=TagOut, **WRITE_ERRORS),
               tags=["tags"])
def create_third_party_tag(json: TagCreateIn) -> tuple[TagOut, int]:
    """Create a tag for the key's owner (no X-User-ID needed); 409 when a live tag at the
    same level has the name, whatever its category."""
    return _create(json), 201


@api.get("/tags/<tag_handle:tag_id>")
@reads_tag_with_key("tag_id")  # the call integrations make most: one statement in all
@spec.validate(resp=Response(HTTP_200=TagOut, **ERRORS), tags=["tags"])
def get_one_tag(tag_id: str) -> TagOut:
    """Get one tag by any of its handles: integer, UUID or public id."""
    who = caller()
    return tag_out(get_tag_view(who.actor, who.scope_id, tag_id, read_with_key=who.tag_read))


@api.route("/tags/<tag_handle:tag_id>", methods=["PUT", "PATCH"])
@spec.validate(json=TagUpdateIn, resp=Response(HTTP_200=TagOut, **WRITE_ERRORS),
               tags=["tags"])
def update_one_tag(tag_id: str, json: TagUpdateIn) -> TagOut:
    """Change the fields sent (PUT is partial too); a rename or move carries the subtree.
    `deprecated` and `replacement` deprecate the tag, change its replacement or take the
    deprecation back, and `aliases` replaces the tag's aliases, in the same change set."""
    who = caller()
    sent = json.model_fields_set
    changes = {UPDATE_ARGUMENTS[name]: getattr(json, name) for name in sent
               if name in UPDATE_ARGUMENTS}
    deprecation = {name: getattr(json, name) if name in sent else UNSET
                   for name in ("deprecated", "replacement")}
    deprecating = bool(sent & deprecation.keys())
    with spelled(NATIVE_TAGS):
        if "aliases" not in sent and not deprecating:
            tag = update_tag(who.actor, who.scope_id, tag_id, **changes)
        elif "aliases" not in sent and not changes:
            tag = set_deprecation(who.actor, who.scope_id, tag_id, **deprecation)
        else:
            placeholder = f"Update tag {tag_id}"  # update_tag retitles it
            with writing(who.actor, who.scope_id, placeholder) as recorder:
                authorize(who.actor, who.scope_id, Permission.TAGS_WRITE)
                tag = (update_tag(who.actor, who.scope_id, tag_id, **changes) if changes
                       else live_tag(who.scope_id, tag_id))
                recorder.retitle(placeholder, f"Update tag {tag.qualified_name}")
                if deprecating:
                    tag = set_deprecation(who.actor, who.scope_id, tag.id, **deprecation)
                if "aliases" in sent:
                    replace_aliases(who.actor, who.scope_id, recorder, tag, json.aliases)
    return tags_out([tag])[0]


@api.post("/tags/<tag_handle:tag_id>/replace-everywhere")
@spec.validate(query=ReplaceQuery, resp=Response(HTTP_200=ReplaceOut, **WRITE_ERRORS),
               tags=["tags"])
def replace_tag_everywhere(tag_id: str, query: ReplaceQuery) -> ReplaceOut:
    """Move every link of a deprecated tag to its replacement in one undoable change set
    (?dry_run=true counts without writing); 409 when the tag is not deprecated, names no
    live replacement, or the replacement's group does not allow some of the resources."""
    who = caller()
    change_set_id = None
    if query.dry_run:
        counts = preview_replace_everywhere(who.actor, who.scope_id, tag_id)
    else:
        done = replace_everywhere(who.actor, who.scope_id, tag_id,
                                  context=AssignmentContext.API)
        counts, change_set_id = done.counts, done.change_set_id
    return _replaced_out(counts, query.dry_run, change_set_id)


def _replaced_out(counts: ReplaceCounts, dry_run: bool, change_set_id: int | None
                  ) -> ReplaceOut:
    return ReplaceOut(
        dry_run=dry_run,
        tag=counts.tag.public_id, tag_name=counts.tag.qualified_name,
        replacement=counts.replacement.public_id,
        replacement_name=counts.replacement.qualified_name,
        links_to_move=counts.links_to_move,
        already_on_replacement=counts.already_on_replacement,
        replaced_in_exclusive_group=counts.replaced_in_group,
        change_set_id=change_set_id,
    )


@api.delete("/tags/<tag_handle:tag_id>")
@spec.validate(query=DeleteQuery, resp=Response(HTTP_200=TagDeleteOut, **WRITE_ERRORS),
               tags=["tags"])
def delete_one_tag(tag_id: str, query: DeleteQuery) -> TagDeleteOut:
    """Soft-delete a tag (its links stay, hidden); live children need ?deleteHierarchy=true."""
    who = caller()
    with spelled(NATIVE_TAGS):
        deleted = delete_tag(who.actor, who.scope_id, tag_id,
                             hierarchy=query.deleteHierarchy or query.delete_hierarchy)
    return TagDeleteOut(deleted_count=len(deleted),
                        message=f"Successfully deleted {len(deleted)} tag(s)",
                        tag=tags_out(load_tags([deleted[0].id]))[0])


@api.post("/tags/bulk-delete")
@spec.validate(json=BulkDeleteIn, resp=Response(HTTP_200=BulkDeleteOut, **READ_ERRORS),
               tags=["tags"])
def bulk_delete(json: BulkDeleteIn) -> BulkDeleteOut:
    """Delete up to 1000 tags; unknown ids and tags that cannot go are reported, not fatal."""
    who = caller()
    with spelled(NATIVE_BULK_DELETE):
        outcome = bulk_delete_tags(who.actor, who.scope_id, json.tag_ids,
                                   hierarchy=json.delete_hierarchy)
    return BulkDeleteOut(
        deleted_count=len(outcome.deleted),
        not_found_ids=outcome.not_found,
        conflict_ids=outcome.refused,
        protected_ids=outcome.protected or None,
        message=f"Successfully deleted {len(outcome.deleted)} tag(s)",
    )


def _tagged(tag_id: str, query: TaggedResourcesQuery, rtype: str | None
            ) -> TaggedResourcePage:
    who = caller()
    tag = get_tag(who.actor, who.scope_id, tag_id)
    page = list_resources(who.actor, who.scope_id, rtype=rtype, search=query.search,
                          tag=tag.id, paging=PageRequest(query.page, query.per_page))
    return TaggedResourcePage(results=tagged_resources_out(page.items), **page_fields(page))


@api.get("/tags/<tag_handle:tag_id>/nodes")
@spec.validate(query=TaggedResourcesQuery,
               resp=Response(HTTP_200=TaggedResourcePage, **ERRORS), tags=["tags"])
def tagged_nodes(tag_id: str, query: TaggedResourcesQuery) -> TaggedResourcePage:
    """List the nodes carrying a tag, each with its tags; paged."""
    return _tagged(tag_id, query, "node")


@api.get("/tags/<tag_handle:tag_id>/files")
@spec.validate(query=TaggedResourcesQuery,
               resp=Response(HTTP_200=TaggedResourcePage, **ERRORS), tags=["tags"])
def tagged_files(tag_id: str, query: TaggedResourcesQuery) -> TaggedResourcePage:
    """List the files carrying a tag, each with its tags; paged."""
    return _tagged(tag_id, query, "file")


@api.get("/tags/<tag_handle:tag_id>/resources")
@spec.validate(query=TypedResourcesQuery,
               resp=Response(HTTP_200=TaggedResourcePage, **ERRORS), tags=["tags"])
def tagged_resources(tag_id: str, query: TypedResourcesQuery) -> TaggedResourcePage:
    """List the resources of any type (or of ?type=) carrying a tag; paged."""
    return _tagged(tag_id, query, query.type or None)
