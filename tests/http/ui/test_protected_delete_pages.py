"""The seed replay's delete rule on the pages (issue 13 §5): a protected tag answers 403 to
a delete whatever else is wrong — on a tag's page a protected parent without "with
descendants" is 403, not the 409 that would ask for the hierarchy; the bulk delete leaves
it alone."""

from __future__ import annotations

import pytest

from tests.http.ui.conftest import UiWorld
from tests.unit.factories import SYSTEM, live_tag, snapshot_counts
from webapp.models import Tag
from webapp.services.tags.creation import Provenance, TagSpec, create_tag, create_tags
from webapp.services.tags.lookup import find_tag

LOCKED = Provenance(protected=True)


def tag(ui: UiWorld, path: str) -> Tag:
    found = find_tag(ui.world.sid, path)
    assert found is not None, path
    return found


@pytest.fixture
def locked(ui: UiWorld) -> None:
    create_tag(SYSTEM, ui.world.sid, TagSpec("Locked"), LOCKED)
    create_tags(SYSTEM, ui.world.sid, [TagSpec("Locked.child"), TagSpec("Open.plain")])
    create_tag(SYSTEM, ui.world.sid, TagSpec("Open.pii"), LOCKED)


@pytest.mark.usefixtures("locked")
@pytest.mark.parametrize("data", [{}, {"hierarchy": "y"}])
@pytest.mark.parametrize("htmx", [True, False])
def test_the_tag_page_refuses_a_protected_delete_with_403(ui: UiWorld, data: dict[str, str],
                                                          htmx: bool) -> None:
    client = ui.client("editor")
    before = snapshot_counts()
    for path, text in (("Locked", "is protected"), ("Open", "holds protected tag(s)")):
        response = ui.post(client, ui.url(f"tags/{tag(ui, path).id}/delete"), data,
                           htmx=htmx)
        assert response.status_code == 403, (path, response.status_code)
        assert text in response.get_data(True)
    assert snapshot_counts() == before


@pytest.mark.usefixtures("locked")
def test_the_bulk_delete_leaves_protected_tags_alone(ui: UiWorld) -> None:
    client = ui.client("editor")
    create_tag(SYSTEM, ui.world.sid, TagSpec("Plain.child"))
    ids = [str(tag(ui, path).id) for path in ("Locked", "Plain", "Open", "Open.plain")]
    response = ui.post(client, ui.url("tags/bulk"), {"action": "delete", "ids": ids},
                       htmx=True)
    assert response.status_code == 200
    body = response.get_data(True)
    assert "Deleted 1 tag(s)." in body
    assert "Not deleted: Locked, Open — protected, or holding protected tags." in body
    assert "Not deleted: Plain — they have children (tick “with descendants”)." in body
    assert live_tag(ui.world.sid, "locked") is not None
    assert live_tag(ui.world.sid, "open.plain") is None
