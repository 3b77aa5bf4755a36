"""Resource collections: ``/api/v1/<type>s/`` for every resource type (``/sources/``,
``/tables/``, ``/files/``, ...), listed with their tags on request, and registered in bulk.

The eight resource types of seeds 000/001 are known by UUIDs: their ids are stored in the
canonical form (lower case, hyphenated), the form attach and detach look them up by.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from spectree import Response

from webapp.api import api
from webapp.api.auth import caller
from webapp.api.openapi import spec
from webapp.api.pagination import page_fields
from webapp.api.schemas.common import ErrorBody, errors
from webapp.api.schemas.links import LINK_LISTS
from webapp.api.schemas.resources import (
    MAX_REGISTER,
    ExpandedTag,
    ExpandQuery,
    ResourceBody,
    ResourceListQuery,
    ResourceOut,
    ResourcePage,
    ResourcesOut,
    UuidResourceBody,
)
from webapp.models import RESOURCE_TYPES, Resource
from webapp.services.errors import FieldError, LimitExceeded, NotFound, ValidationFailed
from webapp.services.expressions.syntax import parse_optional
from webapp.services.paging import PageRequest
from webapp.services.resource_detail import TagLink, links_by_resource
from webapp.services.resources import (
    ResourceInput,
    get_resource,
    list_resources,
    register_resources,
    resources_by_external_id,
)

COLLECTIONS = {f"{rtype}s": rtype for rtype in RESOURCE_TYPES}
UUID_TYPES = frozenset(plural.removesuffix("s") for plural in LINK_LISTS)
# The eight seed-000/001 collections take UUIDs; each has paths of its own, so the document
# can say so (a body's schema cannot depend on a path parameter).  The others share one.
UUID_COLLECTIONS = tuple(plural for plural, rtype in COLLECTIONS.items() if rtype in UUID_TYPES)
COLLECTION = f"<any({', '.join(p for p in COLLECTIONS if p not in UUID_COLLECTIONS)}):collection>"
# An unknown collection is a 404 (no such route).
READ_ERRORS = errors(404)
# A list's 400 also covers its tag expression.
LIST_ERRORS = {**READ_ERRORS, "HTTP_400": (
    ErrorBody, "Bad input: a query parameter out of range, or a malformed `q` expression (or "
    "one naming an unknown tag, group, source or type); the detail names `q` and the "
    "position")}


SYSTEM_ADDER = "system"


def resource_tags_out(links: Sequence[TagLink]) -> list[ExpandedTag]:
    """The seed fields of each tag, and who added it, when and how."""
    return [
        ExpandedTag(id=link.tag.uuid, name=link.tag.qualified_name,
                    created_at=link.tag.created_at, updated_at=link.tag.updated_at,
                    context=link.context, added_by=link.added_by_public_id or SYSTEM_ADDER,
                    added_at=link.added_at)
        for link in links
    ]


def resource_out(resource: Resource, links: Sequence[TagLink] | None) -> ResourceOut:
    return ResourceOut(
        id=resource.external_id, slug=resource.slug, name=resource.name, type=resource.type,
        tags=resource_tags_out(links) if links is not None else None,
    )


def canonical_id(rtype: str, raw: str, field: str) -> str:
    """The id as stored: a UUID-typed resource's id in canonical form (400 otherwise)."""
    if rtype not in UUID_TYPES:
        return raw
    try:
        return str(UUID(raw))
    except ValueError:
        raise ValidationFailed.field(field, f"a {rtype} id must be a UUID") from None


def _listed(rtype: str | None, query: ResourceListQuery) -> ResourcePage:
    expression = parse_optional(query.q, "q")  # a malformed one is a 400 before anything
    who = caller()
    page = list_resources(who.actor, who.scope_id, rtype=rtype, search=query.search,
                          tag=query.tag, expression=expression,
                          paging=PageRequest(query.page, query.per_page))
    links = links_by_resource([row.resource.id for row in page.items]) \
        if query.with_tags else None
    return ResourcePage(
        results=[resource_out(row.resource, links[row.resource.id] if links is not None
                              else None)
                 for row in page.items],
        **page_fields(page),
    )


@api.get(f"/{COLLECTION}/")
@api.get(f"/{COLLECTION}")
@spec.validate(query=ResourceListQuery, resp=Response(HTTP_200=ResourcePage, **LIST_ERRORS),
               tags=["resources"])
def list_collection(collection: str, query: ResourceListQuery) -> ResourcePage:
    """List the resources of one type, paged; filter by `search`, `tag` or a tag expression
    `q`, add `expand[]=tags`."""
    return _listed(COLLECTIONS[collection], query)


@api.get("/resources/")
@api.get("/resources")
@spec.validate(query=ResourceListQuery, resp=Response(HTTP_200=ResourcePage, **LIST_ERRORS),
               tags=["resources"])
def list_all_resources(query: ResourceListQuery) -> ResourcePage:
    """List the resources of every type, paged (by type, then id); filter by a tag
    expression `q` (`type:table AND NOT group:sensitivity`), `search` or `tag`, add
    `expand[]=tags`."""
    return _listed(None, query)


@api.get(f"/{COLLECTION}/<external_id:resource_id>")
@spec.validate(query=ExpandQuery,
               resp=Response(HTTP_200=ResourceOut, **READ_ERRORS),
               tags=["resources"])
def get_one_resource(collection: str, resource_id: str, query: ExpandQuery) -> ResourceOut:
    """Get one resource of the type by its id; `expand[]=tags` adds its tags, each with
    `context`, `added_by` and `added_at` beside the seed fields."""
    who = caller()
    rtype = COLLECTIONS[collection]
    try:
        external_id = canonical_id(rtype, resource_id, "id")
    except ValidationFailed:
        raise NotFound(f"{rtype} {resource_id!r} not found") from None
    row = get_resource(who.actor, who.scope_id, rtype, external_id)
    links = links_by_resource([row.resource.id]) if query.with_tags else None
    return resource_out(row.resource, links[row.resource.id] if links is not None else None)


def _register(collection: str, body: ResourceBody | UuidResourceBody
              ) -> tuple[ResourcesOut, int]:
    who = caller()
    rtype = COLLECTIONS[collection]
    single, items = body.single, body.root
    if not items:
        raise ValidationFailed.field("body", "give at least one resource")
    if len(items) > MAX_REGISTER:
        raise LimitExceeded(f"at most {MAX_REGISTER} resources per call ({len(items)} given)",
                            [FieldError("body", f"at most {MAX_REGISTER} items")])
    inputs = [
        ResourceInput(rtype, canonical_id(rtype, item.id, "id" if single else f"[{index}].id"),
                      item.name, item.slug)
        for index, item in enumerate(items)
    ]
    register_resources(who.actor, who.scope_id, inputs)
    # As the service stores them: trimmed (never look up what the client sent, raw).
    ids = list(dict.fromkeys(item.external_id.strip() for item in inputs))
    found = resources_by_external_id(who.scope_id, rtype, ids)
    registered = [resource_out(found[external_id], None) for external_id in ids]
    return ResourcesOut(registered[0] if single else registered), 201


@api.post(f"/{COLLECTION}/")
@api.post(f"/{COLLECTION}")
@spec.validate(json=ResourceBody, resp=Response(HTTP_201=ResourcesOut, **READ_ERRORS),
               tags=["resources"])
def register_collection(collection: str, json: ResourceBody) -> tuple[ResourcesOut, int]:
    """Register resources of the type (one object or a list of up to 1000); known ones get
    the name and slug given."""
    return _register(collection, json)


@spec.validate(json=UuidResourceBody, resp=Response(HTTP_201=ResourcesOut, **READ_ERRORS),
               tags=["resources"])
def register_uuid_collection(collection: str, json: UuidResourceBody
                             ) -> tuple[ResourcesOut, int]:
    """Register resources of the type by UUID (one object or a list of up to 1000); known
    ones get the name and slug given."""
    return _register(collection, json)


# Each UUID collection's own paths: the same views, the collection given as a default.
for _plural in UUID_COLLECTIONS:
    for _slash in ("", "/"):
        _name = f"{_plural}{'_slash' if _slash else ''}"
        api.add_url_rule(f"/{_plural}{_slash}", f"list_{_name}", list_collection,
                         defaults={"collection": _plural}, methods=["GET"])
        api.add_url_rule(f"/{_plural}{_slash}", f"register_{_name}", register_uuid_collection,
                         defaults={"collection": _plural}, methods=["POST"])
    api.add_url_rule(f"/{_plural}/<external_id:resource_id>", f"get_one_{_plural}",
                     get_one_resource, defaults={"collection": _plural}, methods=["GET"])
