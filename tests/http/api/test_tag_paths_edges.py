"""Seed 003 edge cases: filters, validation, all-or-nothing writes, permissions, other
scopes, and constant statement counts."""

from __future__ import annotations

from typing import Any

import pytest
from werkzeug.test import TestResponse

from tests.http.api.conftest import ApiWorld, error_of
from tests.unit.factories import SYSTEM, links, snapshot_counts
from webapp.models import AssignmentContext
from webapp.services.assignments import attach
from webapp.services.groups import create_group
from webapp.services.tags.creation import Provenance, TagSpec, create_tags
from webapp.services.tags.deletion import delete_tag


def names_of(response: TestResponse) -> list[str]:
    assert response.status_code == 200, response.get_json()
    return [item["name"] for item in response.get_json()]


def fields_of(response: TestResponse) -> list[str]:
    return [detail["field"] for detail in error_of(response)["details"]]


def make(api: ApiWorld, *paths: str, provenance: Provenance | None = None) -> None:
    create_tags(SYSTEM if provenance else api.world.editor, api.world.sid,
                [TagSpec(name=path) for path in paths], provenance)


def save(api: ApiWorld, body: Any, token: str | None = None) -> TestResponse:
    return api.post("/api/v1/tag", json=body, token=token)


def ids_by_name(api: ApiWorld) -> dict[str, int]:
    return {item["name"]: item["id"] for item in api.get("/api/v1/tag").get_json()}


# --- GET /tag ---------------------------------------------------------------------------


@pytest.fixture
def catalog(api: ApiWorld) -> ApiWorld:
    make(api, "Address.email", "Address.home", "Finance.Revenue")
    make(api, "Discovered.Country.Canada", "Discovered.Email",
         provenance=Provenance(system_created=True, protected=True))
    make(api, "Glossary.Customer", provenance=Provenance(source="alation"))
    delete_tag(SYSTEM, api.world.sid, "Discovered.Email")
    return api


def test_search_text_is_a_case_insensitive_substring(catalog: ApiWorld) -> None:
    assert names_of(catalog.get("/api/v1/tag", query_string={"searchText": "EMAIL"})) == [
        "Address.email"]
    assert names_of(catalog.get("/api/v1/tag", query_string={"searchText": "ss.Ho"})) == [
        "Address.home"]
    assert names_of(catalog.get("/api/v1/tag", query_string={"searchText": "%"})) == []


def test_source_filters(catalog: ApiWorld) -> None:
    assert names_of(catalog.get("/api/v1/tag?source=alation")) == ["Glossary", "Glossary.Customer"]
    excluded = names_of(catalog.get("/api/v1/tag?excludedSource=curated"))
    assert excluded == ["Glossary", "Glossary.Customer"]
    assert "Glossary" not in names_of(catalog.get("/api/v1/tag?excludedSource=alation"))


def test_include_all_system_tags(catalog: ApiWorld) -> None:
    default = names_of(catalog.get("/api/v1/tag"))
    assert "Discovered.Country.Canada" in default and "Discovered.Email" not in default
    with_deleted = catalog.get("/api/v1/tag?includeAllSystemTags=true").get_json()
    deleted = [item for item in with_deleted if item["deleted"]]
    assert [(item["name"], item["systemCreated"]) for item in deleted] == [
        ("Discovered.Email", True)]
    assert len(with_deleted) == len(default) + 1
    without = catalog.get("/api/v1/tag?includeAllSystemTags=false").get_json()
    assert without and not any(item["systemCreated"] for item in without)
    assert "Address.email" in [item["name"] for item in without]


@pytest.mark.parametrize("query", [
    "excludedHierarchies=Discovered&excludedHierarchies=Glossary",
    "excludedHierarchies[]=Discovered&excludedHierarchies[]=Glossary",
    'excludedHierarchies=["Discovered","Glossary"]',
    "excludedHierarchies=discovered&excludedHierarchies[]=glossary",
])
def test_excluded_hierarchies(catalog: ApiWorld, query: str) -> None:
    assert names_of(catalog.get(f"/api/v1/tag?{query}")) == [
        "Address", "Address.email", "Address.home", "Finance", "Finance.Revenue"]


def test_a_comma_is_part_of_a_name(catalog: ApiWorld) -> None:
    make(catalog, "Korea, Republic of")
    names = names_of(catalog.get("/api/v1/tag?excludedHierarchies=Discovered,Glossary"))
    assert "Glossary" in names
    assert "Korea, Republic of" not in names_of(
        catalog.get("/api/v1/tag?excludedHierarchies=Korea, Rep"))


def test_limit(catalog: ApiWorld) -> None:
    assert names_of(catalog.get("/api/v1/tag?limit=2")) == ["Address", "Address.email"]
    assert len(names_of(catalog.get("/api/v1/tag?limit=1000"))) == 10


@pytest.mark.parametrize("query, field", [
    ("limit=0", "limit"), ("limit=1001", "limit"), ("limit=ten", "limit"),
    ("includeAllSystemTags=maybe", "includeAllSystemTags"),
    ("searchText=" + "x" * 256, "searchText"),
    ("&".join(["excludedHierarchies=a"] * 51), "excludedHierarchies"),
])
def test_bad_search_parameters(catalog: ApiWorld, query: str, field: str) -> None:
    response = catalog.get(f"/api/v1/tag?{query}")
    assert response.status_code == 400
    assert error_of(response)["code"] == "VALIDATION_FAILED"
    assert fields_of(response) == [field]


def test_search_permissions_and_scopes(catalog: ApiWorld) -> None:
    assert catalog.get("/api/v1/tag", token="").status_code == 401
    assert catalog.get("/api/v1/tag", token="tw_bogus").status_code == 401
    no_read = catalog.get("/api/v1/tag", token=catalog.token("tags.write"))
    assert no_read.status_code == 403 and error_of(no_read)["code"] == "PERMISSION_DENIED"
    assert len(names_of(catalog.get("/api/v1/tag", token=catalog.viewer))) == 10
    assert names_of(catalog.get("/api/v1/tag", token=catalog.outsider)) == []


def test_search_costs_constant_statements(api: ApiWorld, count_queries: Any) -> None:
    make(api, "One")
    api.get("/api/v1/tag")  # the same request before each: same session state
    with count_queries() as few:
        assert len(names_of(api.get("/api/v1/tag"))) == 1
    make(api, *(f"Many.Tag{n}" for n in range(60)))
    api.get("/api/v1/tag")
    with count_queries() as many:
        assert len(names_of(api.get("/api/v1/tag"))) == 62
    assert many.count == few.count


# --- POST /tag --------------------------------------------------------------------------


@pytest.mark.parametrize("body, field", [
    ({}, "tags"),
    ({"tags": "Address.email"}, "tags"),
    ({"tags": [{"id": 1}]}, "tags[0].name"),
    ({"tags": [{"name": 5}]}, "tags[0].name"),
    ({"tags": [{"name": "A.b", "id": "abc"}]}, "tags[0].id"),
    ({"tags": [{"name": "A.b", "id": 0}]}, "tags[0].id"),
    ({"tags": [{"name": "A.b", "id": 2**40}]}, "tags[0].id"),
    ({"tags": []}, "tags"),
    ({"tags": [{"name": "A." + "x" * 101}]}, "tags[0].name"),
    ({"tags": [{"name": ".".join(["abcdefghij"] * 24)}]}, "tags[0].name"),
    ({"tags": [{"name": "A..b"}]}, "tags[0].name"),
    ({"tags": [{"name": "ok"}, {"name": "  "}]}, "tags[1].name"),
    ({"tags": [{"name": "A.b"}, {"name": "a.B"}]}, "tags[1].name"),
    ({"tags": [{"name": "A.b"}], "rootTag": {}}, "rootTag.name"),
    ({"tags": [{"name": "A.b"}, {"name": "B.c"}], "rootTag": {"name": "A"}}, "tags[1].name"),
    ({"tags": [{"name": "A"}], "rootTag": {"name": "A"}}, "tags[0].name"),
    ({"tags": [{"name": "A.b"}], "rootTag": {"name": "A", "source": "alation"}},
     "rootTag.source"),
    ({"tags": [{"name": "A.b"}], "rootTag": {"name": "A", "deleteHierarchy": "often"}},
     "rootTag.deleteHierarchy"),
])
def test_bad_save_bodies_change_nothing(api: ApiWorld, body: Any, field: str) -> None:
    before = snapshot_counts()
    response = save(api, body)
    assert response.status_code == 400, response.get_json()
    assert field in fields_of(response)
    assert snapshot_counts() == before


def test_malformed_json(api: ApiWorld) -> None:
    response = api.post("/api/v1/tag", data="{tags: [", headers={"Content-Type":
                                                                  "application/json"})
    assert response.status_code == 400 and error_of(response)["code"] == "MALFORMED_JSON"


def test_too_many_tags(api: ApiWorld) -> None:
    response = save(api, {"tags": [{"name": f"T.n{n}"} for n in range(1001)]})
    assert response.status_code == 413 and fields_of(response) == ["tags"]


def test_saving_an_existing_name_returns_it(api: ApiWorld) -> None:
    first = save(api, {"tags": [{"name": "Address.email"}]}).get_json()
    again = save(api, {"tags": [{"name": "address.EMAIL"}, {"name": "Address.work"}]})
    assert again.status_code == 200
    assert again.get_json()[0]["id"] == first[0]["id"]
    assert names_of(api.get("/api/v1/tag")) == ["Address", "Address.email", "Address.work"]


def test_unknown_or_foreign_ids_are_404(api: ApiWorld) -> None:
    create_tags(api.world.outsider, api.world.other_scope.id, [TagSpec(name="Beta.tag")])
    make(api, "Address.email")
    ids = ids_by_name(api)
    foreign = api.get("/api/v1/tag", token=api.outsider).get_json()[1]["id"]
    delete_tag(SYSTEM, api.world.sid, "Address.email")
    for unknown in (999_999, foreign, ids["Address.email"]):
        before = snapshot_counts()
        response = save(api, {"tags": [{"name": "Address.new"},
                                       {"name": "Address.x", "id": unknown}]})
        assert response.status_code == 404, response.get_json()
        assert fields_of(response) == ["tags[1].id"]
        assert snapshot_counts() == before


def test_renames_move_and_create_ancestors(api: ApiWorld) -> None:
    make(api, "Address.email.work")
    email = ids_by_name(api)["Address.email"]
    response = save(api, {"tags": [{"id": email, "name": "Contact.Electronic.mail"}]})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()[0]["id"] == email
    assert names_of(api.get("/api/v1/tag")) == [
        "Address", "Contact", "Contact.Electronic", "Contact.Electronic.mail",
        "Contact.Electronic.mail.work"]


def test_rename_clash_is_409_and_nothing_changes(api: ApiWorld) -> None:
    make(api, "Address.email", "Address.work", "Address.home")
    ids = ids_by_name(api)
    before = names_of(api.get("/api/v1/tag"))
    response = save(api, {"tags": [{"id": ids["Address.email"], "name": "Address.mail"},
                                   {"id": ids["Address.work"], "name": "Address.home"}]})
    assert response.status_code == 409
    assert fields_of(response) == ["tags[1].name"]
    assert names_of(api.get("/api/v1/tag")) == before


def test_a_move_under_itself_is_refused(api: ApiWorld) -> None:
    make(api, "Address.email")
    ids = ids_by_name(api)
    response = save(api, {"tags": [{"id": ids["Address"], "name": "Address.email.Address"}]})
    assert response.status_code == 400
    assert fields_of(response) == ["tags[0].name"]
    assert names_of(api.get("/api/v1/tag")) == ["Address", "Address.email"]


def test_protected_tags_cannot_be_renamed(api: ApiWorld) -> None:
    make(api, "Discovered.Passport", provenance=Provenance(system_created=True, protected=True))
    passport = ids_by_name(api)["Discovered.Passport"]
    response = save(api, {"tags": [{"id": passport, "name": "Discovered.Pass"}]})
    assert response.status_code == 403
    assert error_of(response)["code"] == "PERMISSION_DENIED"


def test_delete_hierarchy_replaces_the_children(api: ApiWorld) -> None:
    make(api, "Address.email", "Address.work.office", "Address.home", "Other")
    ids = ids_by_name(api)
    response = save(api, {"rootTag": {"name": "Address", "source": "curated",
                                      "deleteHierarchy": True},
                          "tags": [{"name": "Address.email"}, {"name": "Address.phone.mobile"},
                                   {"id": ids["Address.home"], "name": "Address.postal"}]})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert [(item["name"], item["deleted"]) for item in body] == [
        ("Address.email", False), ("Address.phone.mobile", False), ("Address.postal", False)]
    assert body[0]["id"] == ids["Address.email"] and body[2]["id"] == ids["Address.home"]
    assert names_of(api.get("/api/v1/tag")) == [
        "Address", "Address.email", "Address.phone", "Address.phone.mobile", "Address.postal",
        "Other"]


def test_delete_hierarchy_with_no_tags_empties_the_root(api: ApiWorld) -> None:
    make(api, "Address.email", "Address.work")
    response = save(api, {"rootTag": {"name": "Address", "deleteHierarchy": True}, "tags": []})
    assert response.status_code == 200 and response.get_json() == []
    assert names_of(api.get("/api/v1/tag")) == ["Address"]


def test_delete_hierarchy_false_keeps_the_children(api: ApiWorld) -> None:
    make(api, "Address.email")
    response = save(api, {"rootTag": {"name": "Address"}, "tags": [{"name": "Address.work"}]})
    assert names_of(response) == ["Address.work"]
    assert names_of(api.get("/api/v1/tag")) == ["Address", "Address.email", "Address.work"]


def test_delete_hierarchy_needs_tags_delete(api: ApiWorld) -> None:
    make(api, "Address.email")
    no_delete = api.token("tags.read", "tags.write")
    before = snapshot_counts()
    response = save(api, {"rootTag": {"name": "Address", "deleteHierarchy": True},
                          "tags": [{"name": "Address.work"}]}, token=no_delete)
    assert response.status_code == 403
    assert snapshot_counts() == before


def test_delete_hierarchy_refuses_protected_children(api: ApiWorld) -> None:
    make(api, "Address.email")
    make(api, "Address.verified", provenance=Provenance(system_created=True, protected=True))
    before = snapshot_counts()
    response = save(api, {"rootTag": {"name": "Address", "deleteHierarchy": True},
                          "tags": [{"name": "Address.work"}]})
    assert response.status_code == 403
    assert snapshot_counts() == before


def test_save_permissions(api: ApiWorld) -> None:
    make(api, "Address.email")
    email = ids_by_name(api)["Address.email"]
    assert save(api, {"tags": [{"name": "X.y"}]}, token=api.viewer).status_code == 403
    create_only = api.token("tags.create")
    assert save(api, {"tags": [{"name": "X.y"}]}, token=create_only).status_code == 200
    rename = save(api, {"tags": [{"id": email, "name": "Address.mail"}]}, token=create_only)
    assert rename.status_code == 403 and error_of(rename)["code"] == "PERMISSION_DENIED"


def test_grouped_names(api: ApiWorld) -> None:
    create_group(SYSTEM, api.world.sid, "priority")
    response = save(api, {"tags": [{"name": "priority::high"}]})
    assert names_of(response) == ["priority::high"]
    assert names_of(api.get("/api/v1/tag?searchText=priority::")) == ["priority::high"]


def test_saving_costs_constant_statements(api: ApiWorld, count_queries: Any) -> None:
    save(api, {"tags": [{"name": "Warm.up"}]})
    with count_queries() as one:
        assert save(api, {"tags": [{"name": "A.one"}]}).status_code == 200
    with count_queries() as many:
        assert save(api, {"tags": [{"name": f"B.n{n}"} for n in range(50)]}).status_code == 200
    assert many.count == one.count  # new tags: one INSERT per level, on both databases


# --- POST /tag/{modelType}/{modelId} ----------------------------------------------------


def add(api: ApiWorld, path: str, body: Any, token: str | None = None) -> TestResponse:
    return api.post(f"/api/v1/tag/{path}", json=body, token=token)


@pytest.mark.parametrize("path, body, field", [
    ("datasource/22", {"name": "Confidential"}, "body"),
    ("datasource/22", [], "body"),
    ("datasource/22", [{"source": "curated"}], "[0].name"),
    ("datasource/22", [{"name": 7}], "[0].name"),
    ("datasource/22", [{"name": "Confidential"}, {"name": ""}], "[1].name"),
    ("column/6", [{"name": "Confidential"}], "modelId"),
    ("column/_x", [{"name": "Confidential"}], "modelId"),
    ("datasource/" + "9" * 256, [{"name": "Confidential"}], "modelId"),
])
def test_bad_resource_tagging_adds_nothing(api: ApiWorld, path: str, body: Any,
                                           field: str) -> None:
    make(api, "Confidential", "Gone")
    delete_tag(SYSTEM, api.world.sid, "Gone")
    before = snapshot_counts()
    response = add(api, path, body)
    assert response.status_code == 400, response.get_json()
    assert field in fields_of(response)
    assert snapshot_counts() == before


@pytest.mark.parametrize("body, field", [
    ([{"name": "Confidential"}, {"name": "Nope"}], "[1].name"),
    ([{"name": "Gone"}, {"name": "Confidential"}], "[0].name"),
])
def test_unknown_or_deleted_tags_are_refused_and_nothing_is_added(
        api: ApiWorld, body: Any, field: str) -> None:
    make(api, "Confidential", "Gone")
    delete_tag(SYSTEM, api.world.sid, "Gone")
    before = snapshot_counts()
    response = add(api, "datasource/22", body)
    assert response.status_code == 400, response.get_json()
    assert error_of(response)["code"] == "VALIDATION_FAILED"
    assert fields_of(response) == [field]
    assert snapshot_counts() == before


def test_a_word_that_is_no_resource_type_is_a_tag_name_which_takes_only_delete(
        api: ApiWorld) -> None:
    make(api, "widget/22")
    response = add(api, "widget/22", [{"name": "Confidential"}])
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) == {"DELETE", "OPTIONS"}
    assert names_of(api.delete("/api/v1/tag/widget/22")) == ["widget/22"]


def test_too_many_tags_for_a_resource(api: ApiWorld) -> None:
    response = add(api, "project/2", [{"name": f"T{n}"} for n in range(101)])
    assert response.status_code == 413


def test_existing_links_keep_their_context_and_adder(api: ApiWorld) -> None:
    make(api, "Confidential", "pii")
    attach(api.world.editor, api.world.sid, ["pii"], {"datasource": ["22"]},
           context=AssignmentContext.RULE)
    response = add(api, "datasource/22", [{"name": "pii"}, {"name": "confidential"},
                                          {"name": "PII"}])
    assert response.get_json() == [
        {"name": "pii", "source": "curated", "context": "rule",
         "addedBy": api.world.editor.user_id, "deleted": False},
        {"name": "Confidential", "source": "curated", "context": "manual",
         "addedBy": api.world.manager.user_id, "deleted": False},
    ]


def test_resource_tagging_permissions_and_scopes(api: ApiWorld) -> None:
    make(api, "Confidential")
    denied = add(api, "project/2", [{"name": "Confidential"}], token=api.viewer)
    assert denied.status_code == 403 and error_of(denied)["code"] == "PERMISSION_DENIED"
    foreign = add(api, "project/2", [{"name": "Confidential"}], token=api.outsider)
    assert foreign.status_code == 400 and fields_of(foreign) == ["[0].name"]
    assert links(api.world.sid) == set() and links(api.world.other_scope.id) == set()


def test_resource_tagging_costs_constant_statements(api: ApiWorld, count_queries: Any) -> None:
    make(api, "One", *(f"Many.t{n}" for n in range(20)))
    add(api, "project/1", [{"name": "One"}])
    with count_queries() as one:
        assert add(api, "project/2", [{"name": "One"}]).status_code == 200
    with count_queries() as many:
        body = [{"name": f"Many.t{n}"} for n in range(20)]
        assert add(api, "project/3", body).status_code == 200
    assert many.count == one.count


# --- DELETE /tag/{modelType}/{modelId}/{tag} --------------------------------------------


def test_untag_errors(api: ApiWorld) -> None:
    make(api, "Confidential", "pii")
    add(api, "datasource/523", [{"name": "Confidential"}])
    cases = [
        ("datasource/523/Nope", 404, "tag"),
        ("datasource/524/Confidential", 404, "modelId"),
        ("datasource/523/pii", 404, "tag"),
        ("column/523/Confidential", 400, "modelId"),
    ]
    for path, status, field in cases:
        response = api.delete(f"/api/v1/tag/{path}")
        assert response.status_code == status, (path, response.get_json())
        assert fields_of(response) == [field]
    assert api.delete("/api/v1/tag/datasource/523/Confidential",
                      token=api.viewer).status_code == 403
    assert api.delete("/api/v1/tag/datasource/523/Confidential",
                      token=api.outsider).status_code == 404
    assert links(api.world.sid) == {("confidential", "datasource", "523")}


def test_untag_a_name_with_a_slash(api: ApiWorld) -> None:
    make(api, "Owners.R/D")
    add(api, "project/7", [{"name": "Owners.R/D"}])
    response = api.delete("/api/v1/tag/project/7/Owners.R/D")
    assert names_of(response) == ["Owners.R/D"]
    assert links(api.world.sid) == set()


# --- DELETE /tag/{tag} ------------------------------------------------------------------


def test_delete_with_children_needs_delete_hierarchy(api: ApiWorld) -> None:
    make(api, "Address.email", "Address.work")
    refused = api.delete("/api/v1/tag/Address")
    assert refused.status_code == 409 and fields_of(refused) == ["deleteHierarchy"]
    response = api.delete("/api/v1/tag/Address?deleteHierarchy=true")
    assert response.status_code == 200
    body = response.get_json()
    assert [(item["name"], item["deleted"]) for item in body] == [
        ("Address", True), ("Address.email", True), ("Address.work", True)]
    assert names_of(api.get("/api/v1/tag")) == []


def test_delete_errors(api: ApiWorld) -> None:
    make(api, "Address.email", "R/D")
    assert api.delete("/api/v1/tag/Nope").status_code == 404
    assert api.delete("/api/v1/tag/Address.email", token=api.outsider).status_code == 404
    assert api.delete("/api/v1/tag/Address.email",
                      token=api.token("tags.read", "tags.write")).status_code == 403
    bad = api.delete("/api/v1/tag/Address?deleteHierarchy=perhaps")
    assert bad.status_code == 400 and fields_of(bad) == ["deleteHierarchy"]
    assert names_of(api.delete("/api/v1/tag/R%2FD")) == ["R/D"]
    assert names_of(api.delete("/api/v1/tag/address.EMAIL")) == ["Address.email"]
    assert api.delete("/api/v1/tag/Address.email").status_code == 404
