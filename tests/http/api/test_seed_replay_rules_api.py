"""The seed replay's rules over HTTP (issue 13 §5): a protected tag answers 403 to a delete
whatever else is wrong, on every delete path of the API (``DELETE /tags/{id}``, the bulk
delete's report, seed 003's ``DELETE /tag/<path>``)."""

from __future__ import annotations

import pytest
from werkzeug.test import TestResponse

from tests.http.api.conftest import ApiWorld, error_of
from tests.unit.factories import SYSTEM, snapshot_counts
from webapp.services.tags.creation import Provenance, TagSpec, create_tag, create_tags
from webapp.services.tags.lookup import find_tag

LOCKED = Provenance(protected=True)


def handle(api: ApiWorld, path: str) -> str:
    tag = find_tag(api.world.sid, path)
    assert tag is not None, path
    return tag.public_id


@pytest.fixture
def locked(api: ApiWorld) -> None:
    """``Locked`` (protected) with a live child; ``Open`` holding a protected ``Open.pii``."""
    create_tag(SYSTEM, api.world.sid, TagSpec("Locked"), LOCKED)
    create_tags(SYSTEM, api.world.sid, [TagSpec("Locked.child"), TagSpec("Open.plain")])
    create_tag(SYSTEM, api.world.sid, TagSpec("Open.pii"), LOCKED)


def forbidden(response: TestResponse, text: str) -> None:
    assert response.status_code == 403, response.get_json()
    error = error_of(response)
    assert error["code"] == "PERMISSION_DENIED" and text in error["message"]


@pytest.mark.usefixtures("locked")
@pytest.mark.parametrize("query", ["", "?deleteHierarchy=true", "?deleteHierarchy=false",
                                   "?delete_hierarchy=true"])
def test_native_delete_of_a_protected_parent_is_403(api: ApiWorld, query: str) -> None:
    before = snapshot_counts()
    forbidden(api.delete(f"/api/v1/tags/{handle(api, 'Locked')}{query}"), "is protected")
    forbidden(api.delete(f"/api/v1/tags/{handle(api, 'Open')}{query}"),
              "holds protected tag(s) Open.pii")
    assert snapshot_counts() == before


@pytest.mark.usefixtures("locked")
@pytest.mark.parametrize("query", ["", "?deleteHierarchy=true"])
def test_seed_003_delete_of_a_protected_parent_is_403(api: ApiWorld, query: str) -> None:
    before = snapshot_counts()
    forbidden(api.delete(f"/api/v1/tag/Locked{query}"), "is protected")
    forbidden(api.delete(f"/api/v1/tag/Open{query}"), "holds protected tag(s) Open.pii")
    assert snapshot_counts() == before


@pytest.mark.usefixtures("locked")
def test_a_403_comes_after_the_key_and_the_input(api: ApiWorld) -> None:
    url = f"/api/v1/tags/{handle(api, 'Locked')}"
    assert api.delete(url, token="").status_code == 401
    bad = api.delete(f"{url}?deleteHierarchy=perhaps")
    assert bad.status_code == 400
    assert api.delete(url, token=api.outsider).status_code == 404


@pytest.mark.usefixtures("locked")
@pytest.mark.parametrize("hierarchy", [False, True])
def test_the_bulk_delete_leaves_protected_tags_alone(api: ApiWorld, hierarchy: bool) -> None:
    ids = [handle(api, "Locked"), handle(api, "Open"), handle(api, "Open.plain")]
    response = api.post("/api/v1/tags/bulk-delete",
                        json={"tag_ids": ids, "delete_hierarchy": hierarchy})
    assert response.status_code == 200
    body = response.get_json()
    assert body["conflict_ids"] == ids[:2] and body["deleted_count"] == 1
    assert find_tag(api.world.sid, "Open.plain") is None
