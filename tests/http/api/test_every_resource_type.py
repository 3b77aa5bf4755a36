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
from tests.unit.factories import SYSTEM, external_ids, links, snapshot_counts
from webapp.api.schemas.links import ALL_LINK_LISTS, EXTRA_LINK_LISTS, LINK_LISTS
from webapp.api.tag_paths import UUID_MODELS
from webapp.models import RESOURCE_TYPES
from webapp.services.link_plan import MAX_LINKS
from webapp.services.tags.creation import TagSpec, create_tag, create_tags
from webapp.services.tags.lookup import find_tag

ATTACH = "/api/v1/tags/attach/"
DETACH = "/api/v1/tags/detach/"
UUID_1 = "d2c1b472-902c-477a-b300-e7c3fd72609b"


def fields_of(response: TestResponse) -> list[str]:
    return [detail["field"] for detail in error_of(response)["details"]]


def names_of(response: TestResponse) -> list[str]:
    assert response.status_code == 200, response.get_json()
    return [item["name"] for item in response.get_json()]


def listed(api: ApiWorld, tag_id: str, kind: str) -> list[tuple[str, list[str]]]:
    """``GET /tags/{id}/nodes`` or ``/files``: (resource id, its tags' names) per row."""
    response = api.get(f"/api/v1/tags/{tag_id}/{kind}")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["count"] == len(body["results"])
    return [(row["id"], sorted(tag["name"] for tag in row["tags"]))
            for row in body["results"]]


def public_id(api: ApiWorld, path: str) -> str:
    tag = find_tag(api.world.sid, path)
    assert tag is not None
    return tag.public_id


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


# --- seed 003: /tag/{modelType}/{modelId} -----------------------------------------------


def add(api: ApiWorld, path: str, *tag_names: str, token: str | None = None) -> TestResponse:
    return api.post(f"/api/v1/tag/{path}", json=[{"name": name} for name in tag_names],
                    token=token)


@pytest.mark.parametrize("rtype", RESOURCE_TYPES)
def test_every_type_takes_tags_and_gives_them_back(api: ApiWorld, rtype: str) -> None:
    create_tags(SYSTEM, api.world.sid, [TagSpec("Confidential"), TagSpec("Owners.R/D")])
    model_id = {"column": "6_countrycode"}.get(rtype, UUID_1 if rtype in UUID_MODELS else "m1")
    response = add(api, f"{rtype}/{model_id}", "Confidential", "Owners.R/D")
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == [
        {"name": name, "source": "curated", "context": "manual",
         "addedBy": api.world.manager.user_id, "deleted": False}
        for name in ("Confidential", "Owners.R/D")]
    assert links(api.world.sid) == {("confidential", rtype, model_id),
                                    ("owners.r/d", rtype, model_id)}
    removed = api.delete(f"/api/v1/tag/{rtype}/{model_id}/Owners.R/D")
    assert names_of(removed) == ["Owners.R/D"]
    assert links(api.world.sid) == {("confidential", rtype, model_id)}


def test_the_uuid_types_store_the_canonical_uuid_and_refuse_other_ids(api: ApiWorld) -> None:
    create_tag(SYSTEM, api.world.sid, TagSpec("Confidential"))
    assert add(api, f"source/{UUID_1.upper()}", "Confidential").status_code == 200
    assert links(api.world.sid) == {("confidential", "source", UUID_1)}
    # the same resource for seed 000/001 (which reads UUIDs) and for the collection
    detached = api.post(DETACH, json={"names": ["Confidential"], "sources": [UUID_1]})
    assert names_of(detached) == ["Confidential"] and links(api.world.sid) == set()
    before = snapshot_counts()
    for bad in ("22", UUID_1.replace("-", ""), "{" + UUID_1 + "}", f" {UUID_1}"):
        response = add(api, f"table/{bad}", "Confidential")
        assert response.status_code == 400, (bad, response.get_json())
        assert fields_of(response) == ["modelId"]
        removal = api.delete(f"/api/v1/tag/table/{bad}/Confidential")
        assert removal.status_code == 400 and fields_of(removal) == ["modelId"]
    assert snapshot_counts() == before


def test_the_document_lists_every_type(api: ApiWorld) -> None:
    paths = api.get("/api/v1/openapi.json").get_json()["paths"]
    shared = paths["/api/v1/tag/{modelType}/{modelId}"]["post"]["parameters"][0]
    assert shared["schema"]["enum"] == ["datasource", "project", "node", "file"]
    removal = paths["/api/v1/tag/{modelType}/{modelId}/{tag}"]["delete"]["parameters"][0]
    assert removal["schema"]["enum"] == shared["schema"]["enum"]
    for model in UUID_MODELS:
        (model_id,) = paths[f"/api/v1/tag/{model}/{{modelId}}"]["post"]["parameters"]
        assert model_id["schema"]["format"] == "uuid"
        assert "delete" in paths[f"/api/v1/tag/{model}/{{modelId}}/{{tag}}"]
    assert set(UUID_MODELS) | set(shared["schema"]["enum"]) | {"column"} == set(RESOURCE_TYPES)


# --- listed by seed 004 whichever dialect tagged them -------------------------------------


def test_nodes_and_files_tagged_through_both_dialects_are_listed(api: ApiWorld) -> None:
    create_tag(SYSTEM, api.world.sid, TagSpec("Reviewed"))
    # seed 000: attach (creates `Work`) to nodes and files
    assert names_of(api.post(ATTACH, json={"names": ["Work", "Reviewed"],
                                           "nodes": ["node-a"], "files": ["a.pdf"]})
                    ) == ["Work", "Reviewed"]
    # seed 003: the existing tags on another node and file
    assert add(api, "node/node-b", "Work").status_code == 200
    assert add(api, "file/b.pdf", "Work", "Reviewed").status_code == 200
    work, reviewed = public_id(api, "Work"), public_id(api, "Reviewed")
    assert listed(api, work, "nodes") == [("node-a", ["Reviewed", "Work"]),
                                          ("node-b", ["Work"])]
    assert listed(api, work, "files") == [("a.pdf", ["Reviewed", "Work"]),
                                          ("b.pdf", ["Reviewed", "Work"])]
    assert listed(api, reviewed, "nodes") == [("node-a", ["Reviewed", "Work"])]
    # seed 001 and seed 003 take them off again
    assert names_of(api.post(DETACH, json={"names": ["Work"], "nodes": ["node-a"]})
                    ) == ["Work"]
    assert names_of(api.delete("/api/v1/tag/file/b.pdf/Work")) == ["Work"]
    assert listed(api, work, "nodes") == [("node-b", ["Work"])]
    assert listed(api, work, "files") == [("a.pdf", ["Reviewed", "Work"])]
    assert listed(api, reviewed, "files") == [("a.pdf", ["Reviewed", "Work"]),
                                              ("b.pdf", ["Reviewed"])]


# --- DELETE /tag/<path> once every type's word names a resource's tags ---------------------


def test_a_type_word_without_a_slash_is_still_a_tag_name(api: ApiWorld) -> None:
    create_tags(SYSTEM, api.world.sid, [TagSpec("node"), TagSpec("file.x"),
                                        TagSpec("source"), TagSpec("nodes/a")])
    assert names_of(api.delete("/api/v1/tag/node")) == ["node"]
    assert names_of(api.delete("/api/v1/tag/file.x")) == ["file.x"]
    assert names_of(api.delete("/api/v1/tag/source")) == ["source"]
    assert names_of(api.delete("/api/v1/tag/nodes/a")) == ["nodes/a"]  # a plural is no word


def test_a_type_word_and_a_slash_name_a_resources_tags(api: ApiWorld) -> None:
    """`DELETE /tag/node/n1/x` removes tag `x` from node n1, even where a tag is named
    `node/n1/x`; that tag is deleted by `DELETE /tags/{id}`."""
    create_tags(SYSTEM, api.world.sid, [TagSpec("x"), TagSpec("node/n1/x")])
    add(api, "node/n1", "x")
    assert names_of(api.delete("/api/v1/tag/node/n1/x")) == ["x"]
    assert find_tag(api.world.sid, "node/n1/x") is not None  # not deleted
    assert links(api.world.sid) == set()
    whole = api.delete("/api/v1/tag/node/n1")  # a resource's path: only POST
    assert whole.status_code == 405
    assert set(whole.headers["Allow"].split(", ")) == {"POST", "OPTIONS"}
    encoded = api.delete("/api/v1/tag/file%2Fb.pdf")  # %2F is a slash there as well
    assert encoded.status_code == 405
    deleted = api.delete(f"/api/v1/tags/{public_id(api, 'node/n1/x')}")
    assert deleted.status_code == 200 and find_tag(api.world.sid, "node/n1/x") is None

