"""URL converters of the API: each says what a URL part may be, both to the router (its
``regex``) and to the OpenAPI document (its ``schema``), so the two agree.

Two families of routes share a prefix with fixed words, and the converters keep them
apart: ``/tags/{tag_id}`` never takes ``batch``, ``bulk-delete``, ``attach`` or
``detach`` (those paths answer 405 with ``Allow`` naming their own methods), and
``DELETE /tag/{tag}`` never takes a path under a resource type's word (``datasource/``,
``column/``, ``project/``, ``node/``, ``file/``, ``source/``, …: those are the tags of one
resource; see docs/decisions.md).
"""

from __future__ import annotations

from typing import Any

from flask.blueprints import BlueprintSetupState
from werkzeug.routing import BaseConverter, PathConverter

from webapp.api.schemas.text import (
    COLUMN_ID_PATTERN,
    EXTERNAL_ID_PATTERN,
    NO_PRIVATE_PLANES,
    PATH_SEGMENT_PATTERN,
    QUALIFIED_NAME_PATTERN,
    UUID_PATTERN,
)
from webapp.services.names import PATH_MAX
from webapp.services.tags.paths import MODEL_TYPES

# Words that are routes of their own under /tags/.
RESERVED_TAG_HANDLES = ("batch", "bulk-delete", "attach", "detach")
_NOT_RESERVED = f"(?!(?:{'|'.join(RESERVED_TAG_HANDLES)})(?![^/]))"
_NOT_MODEL = f"(?!(?:{'|'.join(MODEL_TYPES)})/)"
_C0_C1 = "\\x00-\\x1f\\x7f-\\x9f"


class DocumentedConverter(BaseConverter):
    """A converter that carries its OpenAPI schema."""

    schema: dict[str, Any] = {"type": "string", "pattern": PATH_SEGMENT_PATTERN}
    description = ""


class TextConverter(DocumentedConverter):
    """Any one URL segment without control characters (a control character is a 400)."""


class TagHandleConverter(DocumentedConverter):
    regex = _NOT_RESERVED + "[^/]+"
    schema = {"type": "string",
              "pattern": f"^(?!(?:{'|'.join(RESERVED_TAG_HANDLES)})$){PATH_SEGMENT_PATTERN[1:]}"}
    description = ("any handle of a tag: integer key, UUID, public id or path (the words "
                   f"{', '.join(RESERVED_TAG_HANDLES)} are routes of their own)")


class ExternalIdConverter(DocumentedConverter):
    schema = {"type": "string", "pattern": EXTERNAL_ID_PATTERN}
    description = "the resource's id: 1–255 characters once trimmed"


class UuidIdConverter(DocumentedConverter):
    """A UUID-typed resource's id (the eight types of seeds 000/001).  The router takes any
    segment; the view refuses one that is not a UUID (a 400 naming it), so a client is
    told what is wrong rather than that no route exists."""

    schema = {"type": "string", "format": "uuid", "pattern": UUID_PATTERN}
    description = "the resource's UUID (`8-4-4-4-12` hexadecimal digits, any case)"


class ColumnIdConverter(DocumentedConverter):
    schema = {"type": "string", "pattern": COLUMN_ID_PATTERN, "maxLength": 255}
    description = ("a column: `<datasource id>_<column>`, such as `6_countrycode`; 1–255 "
                   "characters once trimmed")


class TagPathConverter(PathConverter):
    """The rest of the URL as a tag's name (a name may hold ``/``), except a path under a
    model word."""

    # No C0/C1 control character: no tag is named so, and the path then names no route (a
    # 404), rather than a tag-path DELETE refusing the name (a 400 on a path whose other
    # methods are a resource's).
    regex = _NOT_MODEL + f"[^/{_C0_C1}][^{_C0_C1}]*?"
    schema = {"type": "string", "maxLength": PATH_MAX,
              "pattern": f"^(?!(?:{'|'.join(MODEL_TYPES)})/){NO_PRIVATE_PLANES}"
                         f"{QUALIFIED_NAME_PATTERN}$"}
    description = ("the tag's fully-qualified name; a `/` in it may be sent as is or as "
                   "`%2F`, except after a resource type's word (a resource's tags): "
                   f"{', '.join(MODEL_TYPES)}; such a tag is deleted by `DELETE /tags/{{id}}`")


class ResourceTagConverter(PathConverter):
    schema = {"type": "string", "pattern": f"^{NO_PRIVATE_PLANES}{QUALIFIED_NAME_PATTERN}$",
              "maxLength": PATH_MAX}
    description = "the fully-qualified name of the tag to remove"


CONVERTERS: dict[str, type[BaseConverter]] = {
    "text": TextConverter,
    "tag_handle": TagHandleConverter,
    "external_id": ExternalIdConverter,
    "column_id": ColumnIdConverter,
    "uuid_id": UuidIdConverter,
    "tag_path": TagPathConverter,
    "resource_tag": ResourceTagConverter,
}


def install(state: BlueprintSetupState) -> None:
    """Make the converters known to the app before the blueprint's rules are added."""
    state.app.url_map.converters.update(CONVERTERS)
