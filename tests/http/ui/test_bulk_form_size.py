"""The tag list's bulk form takes the largest legal selection (1,000 tags, the services'
``MAX_SELECTION``): werkzeug refuses a ``multipart/form-data`` body of more than
``MAX_FORM_PARTS`` fields (1,000 by default) with 413 unless the app raises it."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.http.ui.conftest import UiWorld
from tests.unit.factories import SYSTEM
from webapp.extensions import db
from webapp.models import Tag
from webapp.services.tags.bulk import MAX_SELECTION
from webapp.services.tags.creation import TagSpec, create_tags


@pytest.mark.parametrize("content_type", ["multipart/form-data",
                                          "application/x-www-form-urlencoded"])
def test_a_bulk_delete_of_1000_ticked_tags_is_accepted(ui: UiWorld, content_type: str
                                                        ) -> None:
    made = create_tags(SYSTEM, ui.world.sid, [TagSpec(f"t{n:04d}")
                                              for n in range(MAX_SELECTION)])
    client = ui.client("editor")
    response = ui.post(client, ui.url("tags/bulk"), {
        "action": "delete", "ids": [str(tag.id) for tag in made], "bulk-hierarchy": "y",
        "bulk-next": "/s/acme/tags"}, content_type=content_type)
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    assert db.session.scalar(select(func.count()).select_from(Tag).where(
        Tag.scope_id == ui.world.sid, Tag.deleted_at.is_(None))) == 0
