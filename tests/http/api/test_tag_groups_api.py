"""Tag groups: ``/api/v1/tag-groups`` list/create and ``/tag-groups/<id>`` get/patch/delete,
camelCase like seed 002; changes need groups.write, reads tags.read; scopes never mix."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from werkzeug.test import TestResponse

from tests.http.api.conftest import ApiWorld, error_of
from tests.unit.factories import SYSTEM, count, snapshot_counts
from webapp.models import TagGroup
from webapp.services import groups

GROUPS = "/api/v1/tag-groups"
FIELDS = {"id", "scopeId", "identifier", "label", "description", "color", "exclusive",
          "allowedTypes", "assignRole", "tagCount", "createdAt", "updatedAt"}
PRIORITY = {"id": "tag_group_priority", "identifier": "priority", "label": "Priority",
            "description": "How urgent", "color": "#ff8800", "exclusive": True,
            "allowedTypes": ["table", "source"]}


def group_of(response: TestResponse, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == FIELDS
    for name in ("id", "scopeId", "identifier", "label"):
        assert isinstance(body[name], str)
    assert isinstance(body["exclusive"], bool) and isinstance(body["tagCount"], int)
    assert isinstance(body["allowedTypes"], list)
    for name in ("createdAt", "updatedAt"):
        assert body[name].endswith("Z")
        datetime.fromisoformat(body[name].replace("Z", "+00:00"))
    return body


def field_names(response: TestResponse) -> list[str]:
    return [detail["field"] for detail in error_of(response)["details"]]


def create(api: ApiWorld, body: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    return group_of(api.post(GROUPS, json=body, **kwargs), 201)


# --- create -----------------------------------------------------------------------------


def test_create_a_group_with_every_field(api: ApiWorld) -> None:
    body = create(api, {**PRIORITY, "scopeId": "scope_acme"})
    assert body["id"] == "tag_group_priority" and body["scopeId"] == "scope_acme"
    assert (body["identifier"], body["label"], body["description"]) == (
        "priority", "Priority", "How urgent")
    assert (body["color"], body["exclusive"], body["allowedTypes"], body["tagCount"]) == (
        "#FF8800", True, ["source", "table"], 0)


def test_create_with_defaults(api: ApiWorld) -> None:
    body = create(api, {"identifier": "topic"})
    assert body["id"].startswith("tag_group_") and len(body["id"]) == len("tag_group_") + 36
    assert (body["label"], body["description"], body["color"], body["exclusive"],
            body["allowedTypes"]) == ("topic", None, None, False, [])


@pytest.mark.parametrize(("body", "status", "field"), [
    ({}, 400, "identifier"),
    ({"identifier": ""}, 400, "identifier"),
    ({"identifier": "a.b"}, 400, "identifier"),
    ({"identifier": "a::b"}, 400, "identifier"),
    ({"identifier": "x" * 101}, 400, "identifier"),
    ({"identifier": 5}, 400, "identifier"),
    ({"identifier": "ok", "label": "l" * 101}, 400, "label"),
    ({"identifier": "ok", "color": "orange"}, 400, "color"),
    ({"identifier": "ok", "color": "#12345"}, 400, "color"),
    ({"identifier": "ok", "allowedTypes": ["widget"]}, 400, "allowedTypes[0]"),
    ({"identifier": "ok", "allowedTypes": "table"}, 400, "allowedTypes"),
    ({"identifier": "ok", "exclusive": "maybe"}, 400, "exclusive"),
    ({"identifier": "ok", "id": "bad id!"}, 400, "id"),
    ({"identifier": "ok", "category": "x"}, 400, "category"),
    ({"identifier": "ok", "scopeId": "scope_beta"}, 404, "scopeId"),
    ({"identifier": "ok", "scopeId": "scope_nowhere"}, 404, "scopeId"),
])
def test_invalid_creations(api: ApiWorld, body: dict[str, Any], status: int,
                           field: str) -> None:
    before = snapshot_counts()
    response = api.post(GROUPS, json=body)
    assert response.status_code == status, response.get_data(as_text=True)
    assert field in field_names(response)
    assert snapshot_counts() == before


def test_duplicate_identifier_or_id_is_409(api: ApiWorld) -> None:
    create(api, PRIORITY)
    for body, field in (({"identifier": "PRIORITY"}, "identifier"),
                        ({"identifier": "other", "id": "tag_group_priority"}, "id")):
        response = api.post(GROUPS, json=body)
        assert response.status_code == 409 and error_of(response)["code"] == "CONFLICT"
        assert field_names(response) == [field]
    assert count(TagGroup) == 1


def test_the_same_identifier_and_id_in_another_scope_are_fine(api: ApiWorld) -> None:
    groups.create_group(SYSTEM, api.world.other_scope.id, "priority",
                        public_id="tag_group_priority")
    assert create(api, PRIORITY)["scopeId"] == "scope_acme"


# --- read -----------------------------------------------------------------------------------


def test_get_by_public_id_identifier_or_integer_id(api: ApiWorld) -> None:
    created = create(api, PRIORITY)
    group = groups.find_group(api.world.sid, "tag_group_priority")
    assert group is not None
    row_id = group.id
    for handle in ("tag_group_priority", "Priority", str(row_id)):
        assert group_of(api.get(f"{GROUPS}/{handle}", token=api.viewer)) == created


def test_list_is_paged_by_identifier_with_live_tag_counts(api: ApiWorld) -> None:
    for identifier in ("zeta", "alpha", "mid"):
        create(api, {"identifier": identifier})
    api.post("/api/v1/tags/attach/", json={"names": ["alpha::a", "alpha::b", "mid::c"],
                                           "sources": ["d2c1b472-902c-477a-b300-e7c3fd72609b"]})
    response = api.get(GROUPS, token=api.viewer, query_string={"per_page": 2})
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"results", "count", "page", "per_page", "next", "previous"}
    assert body["count"] == 3 and body["next"] and body["previous"] is None
    assert [(g["identifier"], g["tagCount"]) for g in body["results"]] == [("alpha", 2),
                                                                            ("mid", 1)]
    second = api.get(body["next"]).get_json()
    assert [g["identifier"] for g in second["results"]] == ["zeta"]
    assert api.get(GROUPS, query_string={"per_page": 500}).status_code == 400


def test_listing_costs_the_same_statements_for_1_or_30_groups(api: ApiWorld,
                                                              count_queries: Any) -> None:
    create(api, {"identifier": "g0"})

    def statements() -> int:
        with count_queries() as counter:
            assert api.get(GROUPS).status_code == 200
        return len([sql for sql in counter.statements if sql != "BEGIN"])

    one = statements()
    for n in range(1, 30):
        groups.create_group(api.world.manager, api.world.sid, f"g{n}")
    assert statements() == one


def test_unknown_groups_are_404(api: ApiWorld) -> None:
    for method in ("get", "patch", "delete"):
        response = getattr(api, method)(f"{GROUPS}/nope", json={} if method == "patch" else None)
        assert response.status_code == 404 and error_of(response)["code"] == "NOT_FOUND"


# --- update ---------------------------------------------------------------------------------


def test_patch_changes_only_the_fields_sent(api: ApiWorld) -> None:
    created = create(api, PRIORITY)
    body = group_of(api.patch(f"{GROUPS}/tag_group_priority",
                              json={"label": "Urgency", "description": None}))
    assert (body["label"], body["description"]) == ("Urgency", None)
    assert {k: body[k] for k in ("identifier", "color", "exclusive", "allowedTypes")} == {
        k: created[k] for k in ("identifier", "color", "exclusive", "allowedTypes")}
    assert body["updatedAt"] >= created["updatedAt"]
    unchanged = group_of(api.patch(f"{GROUPS}/priority", json={}))
    assert unchanged == body
    body = group_of(api.patch(f"{GROUPS}/priority",
                              json={"color": None, "exclusive": False, "allowedTypes": []}))
    assert (body["color"], body["exclusive"], body["allowedTypes"]) == (None, False, [])


def test_renaming_a_group_renames_its_tags_qualified_names(api: ApiWorld) -> None:
    create(api, PRIORITY)
    source = "d2c1b472-902c-477a-b300-e7c3fd72609b"
    api.post("/api/v1/tags/attach/", json={"names": ["priority::high"], "sources": [source]})
    body = group_of(api.patch(f"{GROUPS}/tag_group_priority", json={"identifier": "urgency"}))
    assert body["identifier"] == "urgency" and body["tagCount"] == 1
    tags = api.get(f"/api/v1/sources/{source}", query_string={"expand[]": "tags"}).get_json()
    assert [tag["name"] for tag in tags["tags"]] == ["urgency::high"]


@pytest.mark.parametrize(("body", "field"), [
    ({"identifier": None}, "identifier"),
    ({"label": None}, "label"),
    ({"exclusive": None}, "exclusive"),
    ({"allowedTypes": None}, "allowedTypes"),
    ({"identifier": "a.b"}, "identifier"),
    ({"color": "red"}, "color"),
    ({"allowedTypes": ["nope"]}, "allowedTypes[0]"),
    ({"scopeId": "scope_acme"}, "scopeId"),
])
def test_invalid_patches_are_400(api: ApiWorld, body: dict[str, Any], field: str) -> None:
    create(api, PRIORITY)
    before = snapshot_counts()
    response = api.patch(f"{GROUPS}/priority", json=body)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert field in field_names(response)
    assert snapshot_counts() == before


def test_patches_that_contradict_existing_links_are_409(api: ApiWorld) -> None:
    create(api, {"identifier": "topic"})
    source = "d2c1b472-902c-477a-b300-e7c3fd72609b"
    api.post("/api/v1/tags/attach/", json={"names": ["topic::a", "topic::b"],
                                           "sources": [source]})
    create(api, {"identifier": "other"})
    for body, field in (({"exclusive": True}, "exclusive"),
                        ({"allowedTypes": ["table"]}, "allowedTypes")):
        response = api.patch(f"{GROUPS}/topic", json=body)
        assert response.status_code == 409 and field_names(response) == [field]
    response = api.patch(f"{GROUPS}/topic", json={"identifier": "OTHER"})
    assert response.status_code == 409 and field_names(response) == ["identifier"]


# --- delete ---------------------------------------------------------------------------------


def test_delete_an_empty_group(api: ApiWorld) -> None:
    create(api, PRIORITY)
    response = api.delete(f"{GROUPS}/tag_group_priority")
    assert response.status_code == 204 and response.get_data() == b""
    assert api.get(f"{GROUPS}/tag_group_priority").status_code == 404
    assert count(TagGroup) == 0


def test_delete_a_group_with_live_tags_is_409(api: ApiWorld) -> None:
    create(api, PRIORITY)
    api.post("/api/v1/tags/attach/", json={"names": ["priority::high"],
                                           "tables": ["d2c1b472-902c-477a-b300-e7c3fd72609b"]})
    response = api.delete(f"{GROUPS}/priority")
    assert response.status_code == 409 and error_of(response)["code"] == "CONFLICT"
    assert count(TagGroup) == 1


# --- permissions and scopes -----------------------------------------------------------------


def test_changes_need_groups_write(api: ApiWorld) -> None:
    create(api, PRIORITY)
    before = snapshot_counts()
    for token in (api.editor, api.viewer):
        for response in (api.post(GROUPS, json={"identifier": "new"}, token=token),
                         api.patch(f"{GROUPS}/priority", json={"label": "x"}, token=token),
                         api.delete(f"{GROUPS}/priority", token=token)):
            assert response.status_code == 403
            assert error_of(response)["code"] == "PERMISSION_DENIED"
    assert snapshot_counts() == before


def test_reads_need_tags_read(api: ApiWorld) -> None:
    create(api, PRIORITY)
    token = api.token("groups.write")
    for path in (GROUPS, f"{GROUPS}/priority"):
        assert api.get(path, token=api.viewer).status_code == 200
        response = api.get(path, token=token)
        assert response.status_code == 403
        assert error_of(response)["code"] == "PERMISSION_DENIED"
        assert api.get(path, token="").status_code == 401


def test_another_scopes_groups_are_404_and_never_listed(api: ApiWorld) -> None:
    groups.create_group(SYSTEM, api.world.other_scope.id, "secret",
                        public_id="tag_group_secret")
    assert api.get(GROUPS).get_json()["results"] == []
    for response in (api.get(f"{GROUPS}/tag_group_secret"),
                     api.get(f"{GROUPS}/secret"),
                     api.patch(f"{GROUPS}/tag_group_secret", json={"label": "mine"}),
                     api.delete(f"{GROUPS}/tag_group_secret")):
        assert response.status_code == 404
    assert count(TagGroup) == 1


# --- who may assign the group's tags ------------------------------------------------------


def test_assign_role_is_read_written_and_enforced_on_attach(api: ApiWorld) -> None:
    body = create(api, {"identifier": "audit", "assignRole": "manager"})
    assert body["assignRole"] == "manager"
    assert create(api, {"identifier": "topic"})["assignRole"] == "editor"
    attach = {"names": ["audit::passed"], "datasources": ["22"]}
    refused = api.post("/api/v1/tags/attach", json=attach, token=api.editor)
    assert refused.status_code == 403 and "'audit'" in error_of(refused)["message"]
    assert api.post("/api/v1/tags/attach", json=attach).status_code == 200  # a manager's key
    patched = api.patch(f"{GROUPS}/audit", json={"assignRole": "editor"})
    assert group_of(patched)["assignRole"] == "editor"
    assert api.post("/api/v1/tags/attach", json=attach, token=api.editor).status_code == 200
    bad = api.patch(f"{GROUPS}/audit", json={"assignRole": "viewer"})
    assert bad.status_code == 400 and field_names(bad) == ["assignRole"]
