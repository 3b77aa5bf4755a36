"""Seed 004, replayed: every curl example with its exact body, the documented status and
every documented field with its type and casing; plus X-User-ID's accepted forms."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from tests.http.api.conftest import ApiWorld, error_of
from tests.unit.factories import count
from webapp.extensions import db
from webapp.models import Resource, User
from webapp.services import assignments

TAGS = "/api/v1/tags"


def owner(api: ApiWorld, actor: Any = None) -> User:
    user = db.session.get(User, (actor or api.world.manager).user_id)
    assert user is not None
    return user


def as_user(api: ApiWorld) -> dict[str, str]:
    """The seed's ``X-User-ID`` header, naming the key's owner (the manager)."""
    return {"X-User-ID": owner(api).public_id}


def rfc3339(value: Any) -> datetime:
    assert isinstance(value, str) and value.endswith("Z"), value
    return datetime.fromisoformat(value)


def create_work(api: ApiWorld) -> dict[str, Any]:
    response = api.post(TAGS, json={"name": "Work", "color": "#3B82F6"}, headers=as_user(api))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_create_answers_201_with_the_documented_fields(api: ApiWorld) -> None:
    body = create_work(api)
    assert isinstance(body["id"], str) and body["id"].startswith("tag_")
    assert body["name"] == "Work"
    assert body["color"] == "#3B82F6"
    assert body["owner_id"] == owner(api).public_id  # what X-User-ID named
    rfc3339(body["created_at"])
    # The rest of the tag, for clients that want more.
    assert body["category"] is None and body["description"] is None
    assert body["parent_tag_id"] is None and body["deleted"] is False
    assert isinstance(body["key"], int) and isinstance(body["uuid"], str)


def test_list_answers_the_paged_envelope(api: ApiWorld) -> None:
    work = create_work(api)
    response = api.get(TAGS, headers=as_user(api))
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"results", "count", "page", "per_page", "next", "previous"}
    assert (body["count"], body["page"], body["per_page"]) == (1, 1, 50)
    assert body["next"] is None and body["previous"] is None
    [item] = body["results"]
    assert item["id"] == work["id"] and item["name"] == "Work" and item["usage_count"] == 0
    assert "nodes" not in item


def test_get_one_tag(api: ApiWorld) -> None:
    work = create_work(api)
    response = api.get(f"{TAGS}/{work['id']}", headers=as_user(api))
    assert response.status_code == 200
    assert response.get_json() == work


def test_put_renames_and_recolours(api: ApiWorld) -> None:
    work = create_work(api)
    response = api.put(f"{TAGS}/{work['id']}", headers=as_user(api),
                       json={"name": "Work Projects", "color": "#22C55E"})
    assert response.status_code == 200
    body = response.get_json()
    assert (body["id"], body["name"], body["color"]) == (work["id"], "Work Projects", "#22C55E")
    assert rfc3339(body["updated_at"]) >= rfc3339(work["updated_at"])
    assert api.get(f"{TAGS}/{work['id']}").get_json()["name"] == "Work Projects"


def test_delete_removes_the_tag_but_not_its_nodes(api: ApiWorld) -> None:
    work = create_work(api)
    assignments.attach(api.world.editor, api.world.sid, ["Work"], {"node": ["n1"]})
    response = api.delete(f"{TAGS}/{work['id']}", headers=as_user(api))
    assert response.status_code == 200
    body = response.get_json()
    assert body["deleted_count"] == 1 and body["message"] == "Successfully deleted 1 tag(s)"
    assert body["tag"]["id"] == work["id"] and body["tag"]["deleted"] is True
    assert api.get(f"{TAGS}/{work['id']}").status_code == 404
    assert api.get(TAGS).get_json()["count"] == 0
    assert count(Resource, Resource.external_id == "n1") == 1


def test_bulk_delete_reports_the_unknown_id(api: ApiWorld) -> None:
    ids = [api.post(TAGS, json={"name": name}).get_json()["id"] for name in ("a", "b")]
    response = api.post(f"{TAGS}/bulk-delete", headers=as_user(api),
                        json={"tag_ids": [ids[0], ids[1], "tag-uuid-3"]})
    assert response.status_code == 200
    assert response.get_json() == {
        "deleted_count": 2,
        "not_found_ids": ["tag-uuid-3"],
        "conflict_ids": [],
        "message": "Successfully deleted 2 tag(s)",
    }
    assert api.get(TAGS).get_json()["count"] == 0


@pytest.mark.parametrize(("suffix", "rtype", "expected"), [
    ("nodes", "node", ["n1", "n2"]),
    ("files", "file", ["f1"]),
])
def test_nodes_and_files_of_a_tag(api: ApiWorld, suffix: str, rtype: str,
                                  expected: list[str]) -> None:
    work = create_work(api)
    assignments.attach(api.world.editor, api.world.sid, ["Work"],
                       {"node": ["n2", "n1"], "file": ["f1"], "table": ["t1"]})
    assignments.attach(api.world.editor, api.world.sid, ["Other"], {"node": ["n3"]})
    response = api.get(f"{TAGS}/{work['id']}/{suffix}", headers=as_user(api))
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"results", "count", "page", "per_page", "next", "previous"}
    assert [item["id"] for item in body["results"]] == expected
    assert body["count"] == len(expected)
    for item in body["results"]:
        assert item["type"] == rtype
        assert [tag["id"] for tag in item["tags"]] == [work["id"]]
        assert item["tags"][0] == {"id": work["id"], "name": "Work", "path": "Work",
                                   "category": None, "color": "#3B82F6"}
        rfc3339(item["created_at"])


THIRD_PARTY = {
    "name": "quarterly-review",
    "category": "business",
    "color": "#3498db",
    "description": "Quarterly review documents",
}


def test_third_party_creates_then_conflicts(api: ApiWorld) -> None:
    response = api.post("/api/v1/third-party/tags", json=THIRD_PARTY)  # no X-User-ID
    assert response.status_code == 201
    body = response.get_json()
    assert body["name"] == "quarterly-review" and body["category"] == "business"
    assert body["color"] == "#3498DB"  # colours are stored upper-case
    assert body["description"] == "Quarterly review documents"
    assert body["owner_id"] == owner(api).public_id
    assert body["qualified_name"] == "business::quarterly-review"
    groups = api.get(TAGS, query_string={"category": "business"}).get_json()
    assert [item["id"] for item in groups["results"]] == [body["id"]]

    again = api.post("/api/v1/third-party/tags", json=THIRD_PARTY)
    assert again.status_code == 409
    error = error_of(again)
    assert error["code"] == "CONFLICT" and error["details"][0]["field"] == "name"


@pytest.mark.parametrize("permissions", [("tags.create",), ("tags.write",),
                                         ("tags.read", "tags.create")])
def test_third_party_accepts_create_or_write(api: ApiWorld, permissions: tuple[str, ...]
                                             ) -> None:
    response = api.post("/api/v1/third-party/tags", json=THIRD_PARTY,
                        token=api.token(*permissions))
    assert response.status_code == 201


@pytest.mark.parametrize("permissions", [("tags.read",), ("tags.delete", "groups.write")])
def test_third_party_without_create_or_write_is_403(api: ApiWorld,
                                                    permissions: tuple[str, ...]) -> None:
    response = api.post("/api/v1/third-party/tags", json=THIRD_PARTY,
                        token=api.token(*permissions))
    assert response.status_code == 403
    assert error_of(response)["code"] == "PERMISSION_DENIED"
    assert api.get(TAGS).get_json()["count"] == 0


# --- X-User-ID --------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["public_id", "id", "email", "EMAIL", "padded"])
def test_x_user_id_may_name_the_owner_in_any_form(api: ApiWorld, form: str) -> None:
    user = owner(api)
    value = {"public_id": user.public_id, "id": str(user.id), "email": user.email,
             "EMAIL": user.email.upper(), "padded": f" {user.public_id} "}[form]
    response = api.post(TAGS, json={"name": "Work"}, headers={"X-User-ID": value})
    assert response.status_code == 201
    assert api.get(TAGS, headers={"X-User-ID": value}).status_code == 200


@pytest.mark.parametrize("form", ["other_user", "unknown", "empty"])
def test_x_user_id_naming_someone_else_is_403(api: ApiWorld, form: str) -> None:
    value = {"other_user": owner(api, api.world.editor).public_id, "unknown": "user-123",
             "empty": ""}[form]
    response = api.post(TAGS, json={"name": "Work"}, headers={"X-User-ID": value})
    assert response.status_code == 403
    assert error_of(response)["code"] == "PERMISSION_DENIED"
    assert api.get(TAGS).get_json()["count"] == 0
    assert api.get(TAGS, headers={"X-User-ID": value}).status_code == 403
