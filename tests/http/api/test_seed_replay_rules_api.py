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


@pytest.mark.usefixtures("locked")
def test_the_bulk_delete_names_the_protected_ones(api: ApiWorld) -> None:
    create_tag(SYSTEM, api.world.sid, TagSpec("Plain.child"))
    ids = [handle(api, path) for path in ("Locked", "Plain", "Open", "Open.plain")]
    body = api.post("/api/v1/tags/bulk-delete", json={"tag_ids": ids}).get_json()
    assert body["conflict_ids"] == ids[:3] and body["protected_ids"] == [ids[0], ids[2]]
    assert body["deleted_count"] == 1
    # absent when no tag is protected: the seed's answer as it was
    plain = api.post("/api/v1/tags/bulk-delete", json={"tag_ids": [handle(api, "Plain")]})
    assert "protected_ids" not in plain.get_json()


# --- seed 004's create: a name is taken at its level whatever the category ---------------


@pytest.mark.parametrize("path", ["/api/v1/tags", "/api/v1/third-party/tags"])
def test_seed_004_create_refuses_a_name_taken_in_another_category(api: ApiWorld,
                                                                  path: str) -> None:
    made = api.post(path, json={"name": "quarterly-review", "category": "business",
                                "color": "#3498db"})
    assert made.status_code == 201
    before = snapshot_counts()
    for body in ({"name": "quarterly-review"}, {"name": "Quarterly-Review", "category": "topic"},
                 {"name": "quarterly-review", "category": "business"}):
        response = api.post(path, json=body)
        assert response.status_code == 409, (body, response.get_json())
        error = error_of(response)
        assert error["code"] == "CONFLICT" and [d["field"] for d in error["details"]] == ["name"]
    assert "business::quarterly-review" in error_of(
        api.post(path, json={"name": "quarterly-review"}))["message"]
    assert snapshot_counts() == before


def test_seed_004_create_takes_the_name_at_another_level_or_once_deleted(api: ApiWorld) -> None:
    made = api.post("/api/v1/tags", json={"name": "Work", "category": "topic"}).get_json()
    child = api.post("/api/v1/tags", json={"name": "Work", "parent_tag_id": made["id"]})
    assert child.status_code == 201 and child.get_json()["parent_tag_id"] == made["id"]
    assert api.delete(f"/api/v1/tags/{made['id']}?deleteHierarchy=true").status_code == 200
    again = api.post("/api/v1/tags", json={"name": "work"})
    assert again.status_code == 201 and again.get_json()["category"] is None


def test_seed_002_keeps_one_identifier_in_several_groups(api: ApiWorld) -> None:
    groups = [api.post("/api/v1/tag-groups", json={"identifier": g, "label": g}).get_json()
              for g in ("priority", "severity")]
    response = api.post("/api/v1/tags/batch", json=[
        {"scopeId": "scope_acme", "tagGroupId": group["id"], "identifier": "high",
         "label": "High"} for group in groups])
    assert response.status_code == 201, response.get_json()
    # and seed 004 then refuses a third `high` at the top, in no category
    assert api.post("/api/v1/tags", json={"name": "high"}).status_code == 409
