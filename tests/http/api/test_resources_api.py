"""Resource collections: ``GET/POST /api/v1/<type>s/`` and ``GET /api/v1/<type>s/<id>`` for
every resource type: shape, ``expand[]=tags``, filters, paging, registration, permissions,
scopes and statement counts."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from werkzeug.test import TestResponse

from tests.http.api.conftest import ApiWorld, error_of
from tests.unit.factories import count, external_ids, snapshot_counts
from webapp.models import RESOURCE_TYPES, Resource

COLLECTIONS = [f"{rtype}s" for rtype in RESOURCE_TYPES]
UUID_COLLECTIONS = ["sources", "transformations", "destinations", "visualizations", "layers",
                    "folders", "tables", "volumes"]
OTHER_COLLECTIONS = ["datasources", "columns", "projects", "nodes", "files"]
ATTACH = "/api/v1/tags/attach/"


def page_of(response: TestResponse) -> dict[str, Any]:
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"results", "count", "page", "per_page", "next", "previous"}
    return body


def assert_resource(item: dict[str, Any], *, tags: bool) -> None:
    expected = {"id", "slug", "name", "type"} | ({"tags"} if tags else set())
    assert set(item) == expected
    assert isinstance(item["id"], str) and isinstance(item["type"], str)
    assert item["slug"] is None or isinstance(item["slug"], str)
    assert item["name"] is None or isinstance(item["name"], str)
    for tag in item.get("tags", []):
        # The seed fields, and where the tag came from (issue 12 §5).
        assert set(tag) == {"id", "name", "created_at", "updated_at",
                            "context", "added_by", "added_at"}
        uuid.UUID(tag["id"])


def register(api: ApiWorld, collection: str, body: Any, **kwargs: Any) -> Any:
    response = api.post(f"/api/v1/{collection}/", json=body, **kwargs)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def field_names(response: TestResponse) -> list[str]:
    return [detail["field"] for detail in error_of(response)["details"]]


# --- listing ----------------------------------------------------------------------------


@pytest.mark.parametrize("collection", COLLECTIONS)
def test_every_type_has_a_collection_with_and_without_slash(api: ApiWorld,
                                                            collection: str) -> None:
    rid = str(uuid.uuid4()) if collection in UUID_COLLECTIONS else "item_1"
    register(api, collection, {"id": rid, "name": "One", "slug": "one"})
    for path in (f"/api/v1/{collection}/", f"/api/v1/{collection}"):
        body = page_of(api.get(path))
        assert body["count"] == 1 and body["page"] == 1 and body["per_page"] == 50
        assert body["next"] is None and body["previous"] is None
        [item] = body["results"]
        assert_resource(item, tags=False)
        assert item == {"id": rid, "slug": "one", "name": "One", "type": collection[:-1]}


def test_a_collection_lists_only_its_type(api: ApiWorld) -> None:
    ids = external_ids(3)
    api.post(ATTACH, json={"names": ["a"], "sources": ids[:2], "tables": ids[2:]})
    assert [r["id"] for r in page_of(api.get("/api/v1/sources/"))["results"]] == ids[:2]
    assert [r["id"] for r in page_of(api.get("/api/v1/tables/"))["results"]] == ids[2:]
    assert page_of(api.get("/api/v1/files/"))["results"] == []


@pytest.mark.parametrize("query", [{"expand[]": "tags"}, {"expand": "tags"}])
def test_expand_tags(api: ApiWorld, query: dict[str, str]) -> None:
    ids = external_ids(2)
    api.post(ATTACH, json={"names": ["b", "priority::high", "Address.email"],
                           "sources": ids[:1]})
    body = page_of(api.get("/api/v1/sources/", query_string=query))
    body_plain = page_of(api.get("/api/v1/sources/"))
    assert "tags" not in body_plain["results"][0]
    [item] = body["results"]
    assert_resource(item, tags=True)
    assert sorted(tag["name"] for tag in item["tags"]) == ["Address.email", "b",
                                                           "priority::high"]
    api.post("/api/v1/sources/", json={"id": ids[1]})
    items = page_of(api.get("/api/v1/sources/", query_string=query))["results"]
    assert [item["tags"] for item in items][1] == []


def test_expand_of_anything_else_is_400(api: ApiWorld) -> None:
    response = api.get("/api/v1/sources/", query_string={"expand[]": "owners"})
    assert response.status_code == 400 and field_names(response) == ["expand[][0]"]


def test_search_and_tag_filters(api: ApiWorld) -> None:
    ids = external_ids(3)
    register(api, "sources", [{"id": ids[0], "name": "Facebook Ads", "slug": "facebook-ads"},
                              {"id": ids[1], "name": "Postgres", "slug": "pg"},
                              {"id": ids[2], "name": "Google Ads", "slug": "google-ads"}])
    api.post(ATTACH, json={"names": ["paid"], "sources": [ids[0], ids[1]]})

    def found(**query: str) -> list[str]:
        return [r["id"] for r in page_of(api.get("/api/v1/sources/", query_string=query))
                ["results"]]

    assert found(search="ADS") == [ids[0], ids[2]]
    assert found(search="-ads") == [ids[0], ids[2]]
    assert found(search=ids[1][-6:]) == [ids[1]]
    assert found(search="%") == []
    assert found(tag="paid") == [ids[0], ids[1]]
    assert found(tag="PAID", search="ads") == [ids[0]]
    assert found(tag="unknown") == []


def test_paging(api: ApiWorld) -> None:
    ids = external_ids(5)
    api.post("/api/v1/layers/", json=[{"id": rid} for rid in ids])
    first = page_of(api.get("/api/v1/layers/", query_string={"per_page": 2}))
    assert first["count"] == 5 and [r["id"] for r in first["results"]] == ids[:2]
    assert first["previous"] is None and "page=2" in first["next"]
    assert first["next"].startswith("http")
    second = page_of(api.get(first["next"]))
    assert [r["id"] for r in second["results"]] == ids[2:4] and "page=1" in second["previous"]
    last = page_of(api.get("/api/v1/layers/", query_string={"per_page": 2, "page": 3}))
    assert [r["id"] for r in last["results"]] == ids[4:] and last["next"] is None
    beyond = page_of(api.get("/api/v1/layers/", query_string={"page": 9}))
    assert beyond["results"] == [] and beyond["count"] == 5


@pytest.mark.parametrize(("query", "field"), [
    ({"per_page": 201}, "per_page"), ({"per_page": 0}, "per_page"), ({"page": 0}, "page"),
    ({"page": "x"}, "page"), ({"search": "s" * 256}, "search"),
])
def test_bad_query_parameters_are_400(api: ApiWorld, query: dict[str, Any], field: str) -> None:
    response = api.get("/api/v1/sources/", query_string=query)
    assert response.status_code == 400 and field in field_names(response)


def test_unknown_collection_is_404(api: ApiWorld) -> None:
    response = api.get("/api/v1/widgets/")
    assert response.status_code == 404 and error_of(response)["code"] == "NOT_FOUND"


def test_a_page_costs_the_same_statements_for_1_or_50_tagged_resources(
        api: ApiWorld, count_queries: Any) -> None:
    api.post(ATTACH, json={"names": ["a", "g::b", "c.d"], "folders": external_ids(1)})
    api.post(ATTACH, json={"names": ["a", "g::b", "c.d"], "tables": external_ids(50)})

    def statements(collection: str) -> int:
        with count_queries() as counter:
            body = page_of(api.get(f"/api/v1/{collection}/", query_string={"expand[]": "tags"}))
        assert all(len(item["tags"]) == 3 for item in body["results"])
        return counter.count

    assert statements("folders") == statements("tables")


# --- one resource -------------------------------------------------------------------------


def test_get_one_resource(api: ApiWorld) -> None:
    [rid] = external_ids(1)
    api.post(ATTACH, json={"names": ["a"], "sources": [rid]})
    register(api, "sources", {"id": rid, "name": "Stripe", "slug": "stripe"})
    response = api.get(f"/api/v1/sources/{rid}")
    assert response.status_code == 200
    assert response.get_json() == {"id": rid, "slug": "stripe", "name": "Stripe",
                                   "type": "source"}
    expanded = api.get(f"/api/v1/sources/{rid.upper()}", query_string={"expand[]": "tags"})
    assert expanded.status_code == 200
    assert_resource(expanded.get_json(), tags=True)
    assert [tag["name"] for tag in expanded.get_json()["tags"]] == ["a"]


@pytest.mark.parametrize("path", [
    "/api/v1/sources/00000000-0000-0000-0000-00000000ffff",  # unknown
    "/api/v1/sources/not-a-uuid",
    "/api/v1/tables/00000000-0000-0000-0000-000000000001",  # registered as a source
    "/api/v1/nodes/node_9",
])
def test_unknown_resources_are_404(api: ApiWorld, path: str) -> None:
    api.post(ATTACH, json={"names": ["a"], "sources": external_ids(1)})
    response = api.get(path)
    assert response.status_code == 404 and error_of(response)["code"] == "NOT_FOUND"


# --- registering ----------------------------------------------------------------------------


def test_register_one_object_answers_one_object(api: ApiWorld) -> None:
    rid = "D2C1B472-902C-477A-B300-E7C3FD72609B"
    body = register(api, "sources", {"id": rid, "name": "Facebook Ads", "slug": "facebook-ads"})
    assert body == {"id": rid.lower(), "slug": "facebook-ads", "name": "Facebook Ads",
                    "type": "source"}


def test_register_a_list_upserts_names_and_slugs(api: ApiWorld) -> None:
    ids = external_ids(3)
    first = register(api, "tables", [{"id": ids[0], "name": "Orders", "slug": "orders"},
                                     {"id": ids[1]}])
    assert [item["id"] for item in first] == ids[:2]
    assert first[1] == {"id": ids[1], "slug": None, "name": None, "type": "table"}
    # A name or slug left out is kept; an id given twice takes its last occurrence.
    again = register(api, "tables", [{"id": ids[0], "name": "Orders v2"},
                                     {"id": ids[2], "slug": "c"}, {"id": ids[2], "slug": "d"}])
    assert again == [
        {"id": ids[0], "slug": "orders", "name": "Orders v2", "type": "table"},
        {"id": ids[2], "slug": "d", "name": None, "type": "table"},
    ]
    assert count(Resource) == 3


@pytest.mark.parametrize("collection", OTHER_COLLECTIONS)
def test_other_types_take_any_id(api: ApiWorld, collection: str) -> None:
    body = register(api, collection, [{"id": " 42_email "}, {"id": "file/a b"}])
    assert [item["id"] for item in body] == ["42_email", "file/a b"]


@pytest.mark.parametrize(("body", "field"), [
    ({"id": "not-a-uuid"}, "id"),
    ([{"id": str(uuid.uuid4())}, {"id": "nope"}], "[1].id"),
    ([{"id": str(uuid.uuid4())}, {"id": 7}], "[1].id"),
    ({"id": ""}, "id"),
    ({"id": 5}, "id"),
    ({"name": "no id"}, "id"),
    ({"id": str(uuid.uuid4()), "name": "n" * 256}, "name"),
    ({"id": str(uuid.uuid4()), "type": "table"}, "type"),
    ([], "body"),
    ("text", "body"),
])
def test_invalid_registrations_are_400(api: ApiWorld, body: Any, field: str) -> None:
    before = snapshot_counts()
    response = api.post("/api/v1/sources/", json=body)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert field in field_names(response)
    assert snapshot_counts() == before


def test_more_than_1000_resources_is_413(api: ApiWorld) -> None:
    response = api.post("/api/v1/nodes/", json=[{"id": f"n{n}"} for n in range(1001)])
    assert response.status_code == 413 and error_of(response)["code"] == "LIMIT_EXCEEDED"
    assert count(Resource) == 0
    assert len(register(api, "nodes", [{"id": f"n{n}"} for n in range(1000)])) == 1000


# --- permissions and scopes ---------------------------------------------------------------


def test_reading_needs_tags_read_and_registering_tags_write(api: ApiWorld) -> None:
    [rid] = external_ids(1)
    register(api, "sources", {"id": rid})
    assert api.get("/api/v1/sources/", token=api.viewer).status_code == 200
    assert api.get(f"/api/v1/sources/{rid}", token=api.viewer).status_code == 200
    no_read = api.token("tags.write")
    before = snapshot_counts()
    for response in (api.get("/api/v1/sources/", token=no_read),
                     api.get(f"/api/v1/sources/{rid}", token=no_read),
                     api.post("/api/v1/sources/", json={"id": rid, "name": "x"},
                              token=api.viewer),
                     api.post("/api/v1/sources/", json={"id": rid, "name": "x"},
                              token=api.token("tags.read", "tags.create"))):
        assert response.status_code == 403
        assert error_of(response)["code"] == "PERMISSION_DENIED"
    assert register(api, "sources", {"id": rid, "name": "x"}, token=no_read)["name"] == "x"
    assert snapshot_counts()["Resource"] == before["Resource"]
    assert api.get("/api/v1/sources/", token="").status_code == 401


def test_scopes_never_see_each_others_resources(api: ApiWorld) -> None:
    ids = external_ids(2)
    register(api, "sources", {"id": ids[0], "name": "mine"})
    register(api, "sources", {"id": ids[1], "name": "theirs"}, token=api.outsider)
    assert [r["name"] for r in page_of(api.get("/api/v1/sources/"))["results"]] == ["mine"]
    assert [r["name"] for r in page_of(api.get("/api/v1/sources/", token=api.outsider))
            ["results"]] == ["theirs"]
    assert api.get(f"/api/v1/sources/{ids[1]}").status_code == 404
    assert api.get(f"/api/v1/sources/{ids[0]}", token=api.outsider).status_code == 404
    # The same id registers separately in each scope.
    register(api, "sources", {"id": ids[0], "name": "same id"}, token=api.outsider)
    assert api.get(f"/api/v1/sources/{ids[0]}").get_json()["name"] == "mine"
