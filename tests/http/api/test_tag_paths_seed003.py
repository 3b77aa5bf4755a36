"""Seed 003 (the ``/tag`` family): every curl example replayed with its exact body, each
documented field checked with its type and casing."""

from __future__ import annotations

import re
from typing import Any

import pytest
from werkzeug.test import TestResponse

from tests.http.api.conftest import ApiWorld, error_of
from tests.unit.factories import SYSTEM, links
from webapp.services.tags.creation import Provenance, TagSpec, create_tags

CURL_HEADERS = {"Content-Type": "application/json"}
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")

NEW_PARENT = {
    "tags": [{
        "name": "Address.email"
    }, {
        "name": "Address.work"
    }, {
        "name": "Address.home"
    }]
}

SEARCH_FIELDS = {"id": int, "name": str, "color": type(None), "description": type(None),
                 "source": str, "deleted": bool, "systemCreated": bool}
CREATED_FIELDS = {**SEARCH_FIELDS, "createdBy": int, "createdAt": str, "updatedAt": str}
UPDATED_FIELDS = {**CREATED_FIELDS, "displayName": str, "protected": bool}
DELETED_FIELDS = {**SEARCH_FIELDS, "createdBy": type(None), "createdAt": str, "updatedAt": str}


def send(api: ApiWorld, method: str, path: str, body: Any = None) -> TestResponse:
    """A request as the seed's curl sends it: JSON content type, bearer key."""
    return api.call(method, f"/api/v1{path}", json=body, header="bearer",
                    headers=None if body is not None else CURL_HEADERS)


def assert_fields(item: dict[str, Any], documented: dict[str, type]) -> None:
    for name, kind in documented.items():
        assert name in item, f"{name} missing from {item}"
        assert isinstance(item[name], kind), (name, item[name])
        if kind is bool:
            assert type(item[name]) is bool
        if name in ("createdAt", "updatedAt"):
            assert TIMESTAMP.fullmatch(item[name]), item[name]


def system_tags(api: ApiWorld, *paths: str, protected: bool = False) -> None:
    create_tags(SYSTEM, api.world.sid, [TagSpec(name=path) for path in paths],
                Provenance(system_created=True, protected=protected))


def test_create_a_new_parent_tag(api: ApiWorld) -> None:
    response = send(api, "POST", "/tag", NEW_PARENT)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert [item["name"] for item in body] == ["Address.email", "Address.work", "Address.home"]
    for item in body:
        assert_fields(item, CREATED_FIELDS)
        assert item["color"] is None and item["description"] is None
        assert (item["source"], item["deleted"], item["systemCreated"]) == ("curated", False,
                                                                             False)
        assert item["createdBy"] == api.world.manager.user_id
    assert len({item["id"] for item in body}) == 3


def test_update_a_parent_tag_by_ids(api: ApiWorld) -> None:
    first = send(api, "POST", "/tag", NEW_PARENT).get_json()
    ids = [item["id"] for item in first]
    update_payload = {
        "rootTag": {
            "name": "Address",
            "deleteHierarchy": False
        },
        "tags": [{
            "id": ids[0],
            "name": "Address.state"
        }, {
            "id": ids[1],
            "name": "Address.city"
        }, {
            "id": ids[2],
            "name": "Address.zip"
        }]
    }
    response = send(api, "POST", "/tag", update_payload)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert [(item["id"], item["name"], item["displayName"]) for item in body] == [
        (ids[0], "Address.state", "state"), (ids[1], "Address.city", "city"),
        (ids[2], "Address.zip", "zip"),
    ]
    for before, item in zip(first, body, strict=True):
        assert set(item) == set(UPDATED_FIELDS)
        assert_fields(item, UPDATED_FIELDS)
        assert (item["source"], item["deleted"], item["systemCreated"], item["protected"]) == (
            "curated", False, False, False)
        assert item["createdBy"] == api.world.manager.user_id
        assert item["createdAt"] == before["createdAt"]
        assert item["updatedAt"] >= before["updatedAt"]
    names = [item["name"] for item in send(api, "GET", "/tag").get_json()]
    assert names == ["Address", "Address.city", "Address.state", "Address.zip"]


def test_search_across_all_tags(api: ApiWorld) -> None:
    system_tags(api, "DataProperties.Cross-Sectional", "Discovered.Country.Argentina",
                "Discovered.Country.Australia")
    response = send(api, "GET", "/tag")
    assert response.status_code == 200
    body = response.get_json()
    assert isinstance(body, list)
    by_name = {item["name"]: item for item in body}
    for name in ("DataProperties.Cross-Sectional", "Discovered.Country.Argentina",
                 "Discovered.Country.Australia"):
        item = by_name[name]
        assert_fields(item, SEARCH_FIELDS)
        assert (item["source"], item["deleted"], item["systemCreated"]) == ("curated", False,
                                                                             True)
    argentina = send(api, "GET", "/tag?searchText=argentina").get_json()
    assert [item["name"] for item in argentina] == ["Discovered.Country.Argentina"]


def test_refresh_external_tags(api: ApiWorld) -> None:
    response = send(api, "POST", "/tag/refresh")
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"sources": []}


def test_add_tags_to_a_data_source(api: ApiWorld) -> None:
    system_tags(api, "Discovered.Passport")
    response = send(api, "POST", "/tag/datasource/22", [{
        "name": "Discovered.Passport",
        "source": "curated"
    }])
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body == [{"name": "Discovered.Passport", "source": "curated",
                     "context": "manual", "addedBy": api.world.manager.user_id,
                     "deleted": False}]
    assert links(api.world.sid) == {("discovered.passport", "datasource", "22")}


def test_add_tags_to_a_project(api: ApiWorld) -> None:
    create_tags(api.world.manager, api.world.sid, [TagSpec(name="Confidential")])
    response = send(api, "POST", "/tag/project/2", [{
        "name": "Confidential",
        "source": "curated"
    }])
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == [{"name": "Confidential", "source": "curated",
                                    "context": "manual",
                                    "addedBy": api.world.manager.user_id, "deleted": False}]


def test_add_tags_to_a_data_source_column(api: ApiWorld) -> None:
    system_tags(api, "Discovered.Passport")
    response = send(api, "POST", "/tag/column/6_countrycode", [{
        "name": "Discovered.Passport",
        "source": "curated"
    }])
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == [{"name": "Discovered.Passport", "source": "curated",
                                    "context": "manual",
                                    "addedBy": api.world.manager.user_id, "deleted": False}]
    assert links(api.world.sid) == {("discovered.passport", "column", "6_countrycode")}


def test_delete_a_tag(api: ApiWorld) -> None:
    system_tags(api, "DataProperties.Cross-Sectional")
    response = send(api, "DELETE", "/tag/DataProperties.Cross-Sectional")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert len(body) == 1
    item = body[0]
    assert_fields(item, DELETED_FIELDS)
    assert (item["name"], item["source"], item["deleted"], item["systemCreated"],
            item["createdBy"]) == ("DataProperties.Cross-Sectional", "curated", True, True, None)
    remaining = [tag["name"] for tag in send(api, "GET", "/tag").get_json()]
    assert remaining == ["DataProperties"]


def test_delete_a_protected_tag_is_refused(api: ApiWorld) -> None:
    system_tags(api, "DataProperties.Cross-Sectional", protected=True)
    response = send(api, "DELETE", "/tag/DataProperties.Cross-Sectional")
    assert response.status_code == 403
    assert error_of(response)["code"] == "PERMISSION_DENIED"
    assert len(send(api, "GET", "/tag").get_json()) == 2


def test_remove_tags_from_a_data_source(api: ApiWorld) -> None:
    system_tags(api, "Discovered.Country.Canada")
    added = send(api, "POST", "/tag/datasource/523", [{"name": "Discovered.Country.Canada"}])
    assert added.status_code == 200
    response = send(api, "DELETE", "/tag/datasource/523/Discovered.Country.Canada")
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == [{"name": "Discovered.Country.Canada", "source": "curated",
                                    "context": "manual",
                                    "addedBy": api.world.manager.user_id, "deleted": False}]
    assert links(api.world.sid) == set()


@pytest.mark.parametrize("header", ["x-api-key", "bearer"])
def test_both_key_headers_work(api: ApiWorld, header: str) -> None:
    response = api.get("/api/v1/tag", header=header)
    assert response.status_code == 200
