"""How each API dialect spells the services' field names, in one place.

The services name the fields of their errors in the domain's words (``group``,
``hierarchy``, ``names[3]``, ``[2].group``); the seeds' documents spell the same inputs
their own way (``category``, ``deleteHierarchy``, ``[3].name``, ``[2].tagGroupId``).  A view
wraps its service call in :func:`spelled` with its dialect's map, so a client reads the
names it sent.  A map's keys are field shapes: ``[]`` stands for any index and keeps it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from webapp.services.errors import FieldError, ServiceError

Spelling = Mapping[str, str]

# The native tag API (seed 004's /tags): create, update, delete by id.
NATIVE_TAGS: Spelling = {"group": "category", "parent": "parent_tag_id",
                         "hierarchy": "deleteHierarchy"}
# The native bulk delete's JSON body spells the same option in snake case.
NATIVE_BULK_DELETE: Spelling = {"hierarchy": "delete_hierarchy"}
# Seed 002's tag batch: a list of items with a tagGroupId each.
SEED_002_BATCH: Spelling = {"items": "body", "[].group": "[].tagGroupId"}
# Seed 003's /tag family: search, save with rootTag, a resource's tags, delete by path.
SEED_003: Spelling = {
    "search": "searchText",
    "excluded_hierarchies": "excludedHierarchies",
    "root.source": "rootTag.source",
    "hierarchy": "deleteHierarchy",
    "resource_type": "modelType",
    "resource_id": "modelId",
    "names": "body",
    "names[]": "[].name",
}
# The tag-group API.
TAG_GROUPS: Spelling = {"allowed_types": "allowedTypes", "assign_role": "assignRole"}

_INDEX = re.compile(r"\[(\d+)\]")


def wire_field(field: str, spelling: Spelling) -> str:
    """``field`` as the dialect spells it (unchanged when the map does not name it)."""
    indices = _INDEX.findall(field)
    wire = spelling.get(_INDEX.sub("[]", field))
    if wire is None:
        return field
    numbers = iter(indices)
    return re.sub(r"\[\]", lambda _: f"[{next(numbers)}]", wire)


@contextmanager
def spelled(spelling: Spelling) -> Iterator[None]:
    """Let a service error name its fields as the request spelled them: each detail's
    field, and the message when it starts with a field name (``group: …``)."""
    try:
        yield
    except ServiceError as error:
        error.details = [FieldError(wire_field(d.field, spelling), d.message)
                         for d in error.details]
        head, colon, rest = error.message.partition(": ")
        if colon and wire_field(head, spelling) != head:
            error.message = f"{wire_field(head, spelling)}: {rest}"
        raise
