"""Aliases through the native ``/tags`` API (issue 13 §1): ``aliases`` read on every tag
body (without a statement per tag; ``GET /tags/{id}`` stays one statement) and written on
create, PUT and PATCH in the change set of the other fields."""

from __future__ import annotations

from typing import Any

import pytest

from tests.http.api.conftest import ApiWorld, error_of
from tests.unit.factories import change_sets, snapshot_counts
from webapp.services import undo
from webapp.services.tags.aliases import aliases_of, set_aliases
from webapp.services.tags.creation import TagSpec, create_tags
from webapp.services.tags.lookup import find_tag

TAGS = "/api/v1/tags"


@pytest.fixture
def email(api: ApiWorld) -> dict[str, Any]:
    """``Customer.Email`` (aliases ``Legacy.Mail`` and ``e-mail``) and ``other``."""
    create_tags(api.world.editor, api.world.sid, [TagSpec("Customer.Email"),
                                                  TagSpec("other")])
    set_aliases(api.world.editor, api.world.sid, "Customer.Email", ["Legacy.Mail", "e-mail"])
    tag = find_tag(api.world.sid, "Customer.Email")
    assert tag is not None
    return {"id": tag.public_id, "key": tag.id}


def refused(response: Any, status: int, code: str, field: str) -> dict[str, Any]:
    assert response.status_code == status, response.get_json()
    error = error_of(response)
    assert error["code"] == code, error
    assert field in [d["field"] for d in error["details"]], error
    return error


def test_every_tag_body_reads_the_aliases_sorted_by_key(api: ApiWorld,
                                                        email: dict[str, Any]) -> None:
    expected = ["e-mail", "Legacy.Mail"]
    for path in (f"{TAGS}/{email['id']}", f"{TAGS}/{email['key']}",
                 f"{TAGS}/Customer.Email"):
        assert api.get(path).get_json()["aliases"] == expected, path
    listed = {item["path"]: item["aliases"] for item in api.get(TAGS).get_json()["results"]}
    assert listed == {"Customer": [], "Customer.Email": expected, "other": []}
    assert aliases_of([email["key"]])[email["key"]] == expected


def test_get_by_id_reads_the_aliases_in_its_one_statement(
        api: ApiWorld, email: dict[str, Any], count_queries: Any) -> None:
    api.get(f"{TAGS}/{email['key']}", token=api.viewer)  # the key's first use is recorded
    with count_queries() as counter:
        response = api.get(f"{TAGS}/{email['key']}", token=api.viewer)
    assert response.get_json()["aliases"] == ["e-mail", "Legacy.Mail"]
    assert len([s for s in counter.statements if not s.startswith("BEGIN")]) == 1


def test_a_list_reads_every_tags_aliases_in_a_fixed_number_of_statements(
        api: ApiWorld, count_queries: Any) -> None:
    sid = api.world.sid

    def statements(count: int) -> int:
        create_tags(api.world.editor, sid, [TagSpec(f"t{count}.n{i}") for i in range(count)])
        for i in range(count):
            set_aliases(api.world.editor, sid, f"t{count}.n{i}", [f"a{count}.x{i}",
                                                                   f"b{count}.y{i}"])
        api.get(TAGS, token=api.viewer)
        with count_queries() as counter:
            body = api.get(f"{TAGS}?search=t{count}.&per_page=100", token=api.viewer).get_json()
        assert all(item["aliases"] for item in body["results"])
        return len([s for s in counter.statements if not s.startswith("BEGIN")])

    assert statements(2) == statements(12)


def test_create_sets_the_aliases_in_the_tags_change_set(api: ApiWorld) -> None:
    before = len(change_sets())
    response = api.post(TAGS, json={"name": "Phone", "aliases": ["Tel", "legacy::Fon"]})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["aliases"] == ["legacy::Fon", "Tel"]
    assert len(change_sets()) == before + 1
    third = api.post("/api/v1/third-party/tags", json={"name": "Fax", "aliases": ["Telefax"]})
    assert third.status_code == 201 and third.get_json()["aliases"] == ["Telefax"]
    assert api.post(TAGS, json={"name": "Plain"}).get_json()["aliases"] == []


def test_create_refuses_a_taken_or_bad_alias_and_writes_nothing(
        api: ApiWorld, email: dict[str, Any]) -> None:
    counts = snapshot_counts()
    error = refused(api.post(TAGS, json={"name": "New", "aliases": ["ok", "legacy.mail"]}),
                    409, "CONFLICT", "aliases")
    assert "Legacy.Mail" in error["message"]
    error = refused(api.post(TAGS, json={"name": "New", "aliases": ["Customer.Email"]}),
                    409, "CONFLICT", "aliases")
    assert "Customer.Email" in error["message"]
    refused(api.post(TAGS, json={"name": "New", "aliases": ["ok", "a..b"]}),
            400, "VALIDATION_FAILED", "aliases[1]")
    refused(api.post(TAGS, json={"name": "New", "aliases": ["new"]}),
            400, "VALIDATION_FAILED", "aliases")
    assert api.post(TAGS, json={"name": "New", "aliases": "x"}).status_code == 400
    assert api.post(TAGS, json={"name": "New", "aliases": [1]}).status_code == 400
    too_many = api.post(TAGS, json={"name": "New", "aliases": [f"x{i}" for i in range(51)]})
    assert too_many.status_code == 413, too_many.get_json()
    assert snapshot_counts() == counts


@pytest.mark.parametrize("method", ["put", "patch"])
def test_put_and_patch_replace_the_list_with_the_other_fields_in_one_change_set(
        api: ApiWorld, email: dict[str, Any], method: str) -> None:
    sid = api.world.sid
    before = len(change_sets())
    send = getattr(api, method)
    response = send(f"{TAGS}/{email['id']}",
                    json={"label": "E-mail", "deprecated": True, "aliases": ["Mail", "e-mail"]})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["label"], body["deprecated"], body["aliases"]) == ("E-mail", True,
                                                                    ["e-mail", "Mail"])
    made = change_sets()
    assert len(made) == before + 1
    # One undo takes back the label, the deprecation and the aliases together.
    undo.undo_change_set(api.world.manager, sid, made[-1].id)
    again = api.get(f"{TAGS}/{email['id']}").get_json()
    assert (again["label"], again["deprecated"], again["aliases"]) == (
        "Email", False, ["e-mail", "Legacy.Mail"])
    # Aliases alone; [] removes them all; left out, they stay.
    only = send(f"{TAGS}/{email['id']}", json={"aliases": ["Courriel"]})
    assert only.status_code == 200 and only.get_json()["aliases"] == ["Courriel"]
    assert change_sets()[-1].summary == "Update tag Customer.Email"
    assert send(f"{TAGS}/{email['id']}", json={"color": "#112233"}).get_json()[
        "aliases"] == ["Courriel"]
    assert send(f"{TAGS}/{email['id']}", json={"aliases": []}).get_json()["aliases"] == []


def test_an_update_refuses_a_clash_naming_the_holder_and_changes_nothing(
        api: ApiWorld, email: dict[str, Any]) -> None:
    counts = snapshot_counts()
    other = f"{TAGS}/other"
    error = refused(api.patch(other, json={"label": "Changed", "aliases": ["LEGACY.mail"]}),
                    409, "CONFLICT", "aliases")
    assert error["message"] == "'Legacy.Mail' is already an alias of 'Customer.Email'"
    error = refused(api.put(other, json={"aliases": ["customer.email"]}),
                    409, "CONFLICT", "aliases")
    assert "Customer.Email" in error["message"]
    refused(api.patch(other, json={"name": "renamed", "aliases": ["fine", "x::"]}),
            400, "VALIDATION_FAILED", "aliases[1]")
    assert api.patch(other, json={"aliases": None}).status_code == 400
    assert snapshot_counts() == counts
    assert api.get(other).get_json()["label"] == "other"


def test_an_alias_resolves_on_attach_after_an_api_write(api: ApiWorld,
                                                        email: dict[str, Any]) -> None:
    api.patch(f"{TAGS}/other", json={"aliases": ["Autre"]})
    response = api.post("/api/v1/tag/node/n1", json=[{"name": "autre"}])
    assert response.status_code in (200, 201), response.get_json()
    assert [tag["name"] for tag in response.get_json()] == ["other"]


def test_the_document_describes_aliases(api: ApiWorld) -> None:
    document = api.get("/api/v1/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    names = {name.split(".")[0]: schema for name, schema in schemas.items() if name.count(".") == 1}
    for model in ("TagOut", "TagCreateIn", "TagUpdateIn"):
        assert "aliases" in names[model]["properties"], model
    assert "aliases" in names["TagOut"]["required"]
    assert names["TagUpdateIn"]["properties"]["aliases"]["maxItems"] == 50
