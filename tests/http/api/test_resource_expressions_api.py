"""Tag expressions in the API: ``GET /api/v1/resources?q=`` over every type, the same
``q`` on every ``/{type}s/`` list (ANDed with the type), 400s naming ``q`` with the
position, the OpenAPI document, scopes, and statements that do not grow with the page."""

from __future__ import annotations

from typing import Any

import pytest

from tests.http.api.conftest import ApiWorld, error_of
from tests.http.api.test_resources_api import assert_resource, page_of
from tests.unit.factories import SYSTEM, external_ids
from webapp.services import assignments, groups

ATTACH = "/api/v1/tags/attach/"
SOURCES = external_ids(3)
TABLES = external_ids(3, start=10)


def ok(response: Any) -> None:
    assert response.status_code in (200, 201), response.get_data(True)


@pytest.fixture
def seeded(api: ApiWorld) -> ApiWorld:
    """Sources s0..s2 and tables t0..t2 (UUIDs), nodes n1 and n2.

    t0: sensitivity::pii, Address.email; t1: Address.home; s0, s1: paid; n1: paid.
    t2, s2 and n2 carry nothing.
    """
    groups.create_group(SYSTEM, api.world.sid, "sensitivity")
    ok(api.post("/api/v1/sources/", json=[
        {"id": SOURCES[0], "name": "Facebook Ads", "slug": "facebook-ads"},
        {"id": SOURCES[1], "name": "Google Ads", "slug": "google-ads"},
        {"id": SOURCES[2], "name": "Postgres", "slug": "pg"},
    ]))
    ok(api.post("/api/v1/tables/", json=[{"id": rid, "name": f"table {n}"}
                                         for n, rid in enumerate(TABLES)]))
    ok(api.post("/api/v1/nodes/", json=[{"id": "n1"}, {"id": "n2"}]))
    ok(api.post(ATTACH, json={"names": ["sensitivity::pii", "Address.email"],
                              "tables": TABLES[:1]}))
    ok(api.post(ATTACH, json={"names": ["Address.home"], "tables": TABLES[1:2]}))
    ok(api.post(ATTACH, json={"names": ["paid"], "sources": SOURCES[:2]}))
    assignments.attach(SYSTEM, api.world.sid, ["paid"], {"node": ["n1"]})
    return api


def listed(api: ApiWorld, path: str, **query: Any) -> list[tuple[str, str]]:
    body = page_of(api.get(path, query_string=query))
    return [(item["type"], item["id"]) for item in body["results"]]


def refused(api: ApiWorld, path: str, q: str) -> str:
    response = api.get(path, query_string={"q": q})
    assert response.status_code == 400, response.get_data(True)
    error = error_of(response)
    assert error["code"] == "VALIDATION_FAILED"
    assert [d["field"] for d in error["details"]] == ["q"]
    return error["details"][0]["message"]


# --- GET /resources ---------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/resources", "/api/v1/resources/"])
def test_every_type_in_one_list(seeded: ApiWorld, path: str) -> None:
    body = page_of(seeded.get(path))
    assert body["count"] == 8
    assert [(i["type"], i["id"]) for i in body["results"]] == [
        ("node", "n1"), ("node", "n2"), *(("source", rid) for rid in SOURCES),
        *(("table", rid) for rid in TABLES)]
    for item in body["results"]:
        assert_resource(item, tags=False)


def test_an_expression_across_types(seeded: ApiWorld) -> None:
    path = "/api/v1/resources"
    assert listed(seeded, path, q="type:table AND NOT group:sensitivity") == [
        ("table", TABLES[1]), ("table", TABLES[2])]
    assert listed(seeded, path, q="tag:paid") == [
        ("node", "n1"), ("source", SOURCES[0]), ("source", SOURCES[1])]
    assert listed(seeded, path, q="tag:Address.*") == [("table", TABLES[0]),
                                                       ("table", TABLES[1])]
    assert listed(seeded, path, q="untagged") == [
        ("node", "n2"), ("source", SOURCES[2]), ("table", TABLES[2])]
    assert listed(seeded, path, q='name:"*-ads" OR (type:node -untagged)') == [
        ("node", "n1"), ("source", SOURCES[0]), ("source", SOURCES[1])]
    assert listed(seeded, path, q="  ") == listed(seeded, path)  # blank: no filter


def test_expand_tags_and_the_other_filters(seeded: ApiWorld) -> None:
    body = page_of(seeded.get("/api/v1/resources", query_string={
        "q": "group:sensitivity OR tag:Address.*", "expand[]": "tags"}))
    assert [item["id"] for item in body["results"]] == TABLES[:2]
    for item in body["results"]:
        assert_resource(item, tags=True)
    assert sorted(t["name"] for t in body["results"][0]["tags"]) == [
        "Address.email", "sensitivity::pii"]
    assert listed(seeded, "/api/v1/resources", q="tag:paid", search="google") == [
        ("source", SOURCES[1])]
    assert listed(seeded, "/api/v1/resources", q="-tag:paid", tag="Address.home") == [
        ("table", TABLES[1])]


def test_paging_keeps_the_expression(seeded: ApiWorld) -> None:
    first = page_of(seeded.get("/api/v1/resources",
                               query_string={"q": "-type:node", "per_page": 4}))
    assert first["count"] == 6 and len(first["results"]) == 4
    assert "q=-type%3Anode" in first["next"]
    second = page_of(seeded.get(first["next"]))
    assert [item["id"] for item in second["results"]] == TABLES[1:]
    assert second["next"] is None


# --- q on /{type}s/ ---------------------------------------------------------------------


def test_q_on_a_collection_is_anded_with_its_type(seeded: ApiWorld) -> None:
    assert listed(seeded, "/api/v1/sources/", q="tag:paid") == [("source", SOURCES[0]),
                                                                ("source", SOURCES[1])]
    assert listed(seeded, "/api/v1/nodes", q="tag:paid") == [("node", "n1")]
    assert listed(seeded, "/api/v1/tables/", q="type:source") == []
    assert listed(seeded, "/api/v1/tables", q="NOT group:sensitivity") == [
        ("table", TABLES[1]), ("table", TABLES[2])]
    assert listed(seeded, "/api/v1/files/", q="untagged") == []


# --- errors -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/resources", "/api/v1/sources/", "/api/v1/nodes"])
def test_a_malformed_expression_is_400_naming_q_and_the_position(seeded: ApiWorld,
                                                                path: str) -> None:
    assert refused(seeded, path, "type:table AND tag:") == \
        'at 20: expected a value after "tag:"'
    assert refused(seeded, path, "(tag:paid").startswith(
        'at 10: expected ")" to close the "(" at 1')
    assert refused(seeded, path, "paid").startswith(
        "at 1: expected a term (tag:, group:, type:, name:, source: or untagged)")


def test_unknown_names_are_400_not_an_empty_page(seeded: ApiWorld) -> None:
    path = "/api/v1/resources"
    assert refused(seeded, path, "tag:unpaid") == (
        'at 5: unknown tag "unpaid" (no live tag of this scope has that path)')
    assert refused(seeded, path, "group:secret") == 'at 7: unknown group "secret"'
    assert refused(seeded, path, "type:tabel").startswith('at 6: unknown resource type "tabel"')
    response = seeded.get(path, query_string={"q": "tag:unpaid OR group:secret"})
    assert [d["message"] for d in error_of(response)["details"]] == [
        'at 5: unknown tag "unpaid" (no live tag of this scope has that path)',
        'at 21: unknown group "secret"']


def test_limits_are_400(seeded: ApiWorld) -> None:
    response = seeded.get("/api/v1/resources", query_string={"q": "untagged " * 230})
    assert response.status_code == 400
    assert [d["field"] for d in error_of(response)["details"]] == ["q"]
    assert refused(seeded, "/api/v1/resources", " OR ".join(["untagged"] * 101)) == (
        "at 1201: too many terms (at most 100)")


def test_another_scopes_names_are_unknown_here(seeded: ApiWorld) -> None:
    other = seeded.world.other_scope.id
    groups.create_group(SYSTEM, other, "theirs")
    assert refused(seeded, "/api/v1/resources", "group:theirs") == 'at 7: unknown group "theirs"'
    outsider = seeded.get("/api/v1/resources", token=seeded.outsider,
                          query_string={"q": "tag:paid"})
    assert outsider.status_code == 400  # their scope has no tag "paid"
    body = page_of(seeded.get("/api/v1/resources", token=seeded.outsider))
    assert body["count"] == 0


def test_a_key_without_tags_read_is_403(seeded: ApiWorld) -> None:
    response = seeded.get("/api/v1/resources", token=seeded.token("tags.write"),
                          query_string={"q": "untagged"})
    assert response.status_code == 403


# --- the document -------------------------------------------------------------------------


def test_q_and_its_400_are_documented(seeded: ApiWorld) -> None:
    document = seeded.client.get("/api/v1/openapi.json").get_json()
    for path in ("/api/v1/resources", "/api/v1/resources/", "/api/v1/sources/",
                 "/api/v1/{collection}/"):
        operation = document["paths"][path]["get"]
        [q] = [p for p in operation["parameters"] if p["name"] == "q"]
        assert q["in"] == "query" and "tag expression" in q["description"]
        assert "q" in operation["responses"]["400"]["description"]
        assert set(operation["responses"]) >= {"200", "400", "401", "403"}


# --- statements ---------------------------------------------------------------------------


def test_statements_do_not_grow_with_the_page(api: ApiWorld, count_queries: Any) -> None:
    ok(api.post(ATTACH, json={"names": ["a", "g::b", "c.d"], "tables": external_ids(60)}))
    ok(api.post(ATTACH, json={"names": ["a", "g::b"], "folders": external_ids(2, start=100)}))
    assignments.attach(SYSTEM, api.world.sid, ["zz.top"], {"node": ["n1"]})

    def statements(path: str, per_page: int, q: str) -> int:
        with count_queries() as counter:
            body = page_of(api.get(path, query_string={"q": q, "expand[]": "tags",
                                                       "per_page": per_page}))
        assert len(body["results"]) == per_page
        assert all(len(item["tags"]) >= 2 for item in body["results"])
        return counter.count

    every = "tag:a group:g -tag:zz.* OR (untagged source:curated)"
    statements("/api/v1/resources", 1, every)  # the key's first use
    assert statements("/api/v1/resources", 1, every) == statements("/api/v1/resources", 60,
                                                                   every)
    assert statements("/api/v1/folders/", 2, "tag:a") == statements("/api/v1/tables", 50,
                                                                    "tag:a")
