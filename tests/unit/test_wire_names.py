"""The API's spelling of service field names: one map per dialect, indices kept."""

from __future__ import annotations

import pytest

from webapp.api.wire_names import (
    NATIVE_TAGS,
    SEED_002_BATCH,
    SEED_003,
    spelled,
    wire_field,
)
from webapp.services.errors import FieldError, NotFound, ValidationFailed


@pytest.mark.parametrize(("field", "spelling", "wire"), [
    ("group", NATIVE_TAGS, "category"),
    ("parent", NATIVE_TAGS, "parent_tag_id"),
    ("hierarchy", SEED_003, "deleteHierarchy"),
    ("names[7]", SEED_003, "[7].name"),
    ("names", SEED_003, "body"),
    ("[12].group", SEED_002_BATCH, "[12].tagGroupId"),
    ("[3].label", SEED_002_BATCH, "[3].label"),  # not in the map: as the service says
    ("name", NATIVE_TAGS, "name"),
])
def test_each_dialect_spells_the_field(field: str, spelling: dict[str, str], wire: str
                                       ) -> None:
    assert wire_field(field, spelling) == wire


def test_errors_leave_the_view_in_the_dialects_spelling() -> None:
    with pytest.raises(ValidationFailed) as caught, spelled(NATIVE_TAGS):
        raise ValidationFailed("group: no such tag group",
                               [FieldError("group", "no such tag group")])
    assert caught.value.message == "category: no such tag group"
    assert [d.field for d in caught.value.details] == ["category"]
    with pytest.raises(NotFound) as missing, spelled(SEED_002_BATCH):
        raise NotFound("item 2: tag group 'x' not found", [FieldError("[2].group", "no")])
    assert [d.field for d in missing.value.details] == ["[2].tagGroupId"]
    assert missing.value.message == "item 2: tag group 'x' not found"
