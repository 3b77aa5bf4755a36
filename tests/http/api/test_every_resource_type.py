"""Every resource type in every dialect (issue 13 §5): seeds 000/001's attach and detach
take a list per type under its plural, seed 003's ``/tag/{modelType}/{modelId}`` takes
every type, and seed 004's ``GET /tags/{id}/nodes`` and ``/files`` list what either
dialect tagged.  Also the routing of ``DELETE /tag/<path>`` once every type's word names a
resource's tags (docs/decisions.md)."""

from __future__ import annotations

from typing import Any

import pytest
from werkzeug.test import TestResponse

from tests.http.api.conftest import ApiWorld, error_of
from tests.unit.factories import external_ids, links, snapshot_counts
from webapp.api.schemas.links import ALL_LINK_LISTS, EXTRA_LINK_LISTS, LINK_LISTS
from webapp.models import RESOURCE_TYPES
from webapp.services.link_plan import MAX_LINKS

ATTACH = "/api/v1/tags/attach/"
DETACH = "/api/v1/tags/detach/"
UUID_1 = "d2c1b472-902c-477a-b300-e7c3fd72609b"


def fields_of(response: TestResponse) -> list[str]:
    return [detail["field"] for detail in error_of(response)["details"]]


def names_of(response: TestResponse) -> list[str]:
    assert response.status_code == 200, response.get_json()
    return [item["name"] for item in response.get_json()]


# --- the lists of seeds 000/001 ---------------------------------------------------------


def test_the_body_has_a_list_for_every_resource_type() -> None:
    assert {plural.removesuffix("s") for plural in ALL_LINK_LISTS} == set(RESOURCE_TYPES)
    assert len(ALL_LINK_LISTS) == len(RESOURCE_TYPES)
    assert set(EXTRA_LINK_LISTS) == {"datasources", "columns", "projects", "nodes", "files"}


def test_the_document_lists_every_list_with_its_cap(api: ApiWorld) -> None:
    doc = api.get("/api/v1/openapi.json").get_json()
    for path in (ATTACH, DETACH):
        ref = doc["paths"][path]["post"]["requestBody"]["content"]["application/json"][
            "schema"]["$ref"]
        schema = doc["components"]["schemas"][ref.rsplit("/", 1)[1]]
        properties = schema["properties"]
        for plural in ALL_LINK_LISTS:
            assert properties[plural]["type"] == "array"
            assert properties[plural]["maxItems"] == MAX_LINKS
        for plural in LINK_LISTS:  # the seed's own lists keep their UUIDs
            assert properties[plural]["items"]["format"] == "uuid"
        for plural in EXTRA_LINK_LISTS:
            assert properties[plural]["items"]["type"] == "string"
            assert "format" not in properties[plural]["items"]
        one_id = schema["allOf"][1]["anyOf"]
        assert [option["required"] for option in one_id] == [[p] for p in ALL_LINK_LISTS]


def test_attach_and_detach_every_other_type(api: ApiWorld) -> None:
    body = {"names": ["kind::nodes-and-files", "plain"], "nodes": ["n1", " n2 ", "n1"],
            "files": ["report.pdf"], "datasources": ["22"], "columns": ["22_email"],
            "projects": ["7"], "sources": [UUID_1.upper()]}
    response = api.post(ATTACH, json=body)
    assert names_of(response) == ["kind::nodes-and-files", "plain"]
    assert set(response.get_json()[0]) == {"id", "name", "created_at", "updated_at"}
    expected = {(tag, rtype, rid) for tag in ("kind::nodes-and-files", "plain")
                for rtype, rid in [("node", "n1"), ("node", "n2"), ("file", "report.pdf"),
                                   ("datasource", "22"), ("column", "22_email"),
                                   ("project", "7"), ("source", UUID_1)]}
    assert links(api.world.sid) == expected
    detached = api.post(DETACH, json={"names": ["plain"], "nodes": ["n2"], "files": ["report.pdf"]})
    assert names_of(detached) == ["plain"]
    assert links(api.world.sid) == expected - {("plain", "node", "n2"),
                                               ("plain", "file", "report.pdf")}


def test_a_body_with_only_another_types_list_is_enough(api: ApiWorld) -> None:
    assert names_of(api.post(ATTACH, json={"name": "solo", "files": ["f"]})) == ["solo"]
    refused = api.post(ATTACH, json={"names": ["solo"], "files": []})
    assert refused.status_code == 400


@pytest.mark.parametrize("body, field", [
    ({"names": ["x"], "nodes": [""]}, "nodes[0]"),
    ({"names": ["x"], "files": ["ok", "a\x00b"]}, "files[1]"),
    ({"names": ["x"], "columns": ["c" * 256]}, "columns[0]"),
    ({"names": ["x"], "projects": [7]}, "projects[0]"),
    ({"names": ["x"], "nodes": "n1"}, "nodes"),
])
def test_bad_ids_of_the_other_lists_are_refused_by_name(api: ApiWorld, body: Any,
                                                        field: str) -> None:
    before = snapshot_counts()
    response = api.post(ATTACH, json=body)
    assert response.status_code == 400, response.get_json()
    assert field in fields_of(response)
    assert snapshot_counts() == before


def test_each_list_is_capped_as_sent(api: ApiWorld) -> None:
    before = snapshot_counts()
    response = api.post(ATTACH, json={"names": ["x"], "nodes": ["n1"] * (MAX_LINKS + 1)})
    assert response.status_code == 413 and error_of(response)["code"] == "LIMIT_EXCEEDED"
    assert fields_of(response) == ["nodes"]
    assert snapshot_counts() == before


def test_the_link_cap_counts_every_list_together(api: ApiWorld) -> None:
    """Five lists of 20,001 ids: each within its cap, 100,005 links together."""
    per_list = MAX_LINKS // 5 + 1
    body: dict[str, Any] = {"names": ["x"], "nodes": [f"n{n}" for n in range(per_list)],
                            "files": [f"f{n}" for n in range(per_list)],
                            "projects": [f"p{n}" for n in range(per_list)],
                            "datasources": [f"d{n}" for n in range(per_list)],
                            "sources": external_ids(per_list)}
    before = snapshot_counts()
    response = api.post(ATTACH, json=body)
    assert response.status_code == 413 and error_of(response)["code"] == "LIMIT_EXCEEDED"
    assert snapshot_counts() == before
    body["sources"] = body["sources"][:-5]  # exactly the cap
    assert names_of(api.post(ATTACH, json=body)) == ["x"]
    assert len(links(api.world.sid)) == MAX_LINKS


def test_the_other_lists_cost_no_extra_statements(api: ApiWorld, count_queries: Any) -> None:
    api.post(ATTACH, json={"names": ["warm"], "sources": [UUID_1]})
    with count_queries() as seed_only:
        assert api.post(ATTACH, json={"names": ["a"], "sources": external_ids(3)}
                        ).status_code == 200
    with count_queries() as every_type:
        body = {"names": ["b"], "sources": external_ids(3, 10),
                **{plural: [f"id{n}" for n in range(50)] for plural in EXTRA_LINK_LISTS}}
        assert api.post(ATTACH, json=body).status_code == 200
    assert every_type.count == seed_only.count
