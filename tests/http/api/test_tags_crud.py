"""``/tags`` writes beyond the seed's examples: validation, handles, hierarchy, protected
tags, permissions, other scopes, bulk delete; every refusal changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.http.api.conftest import ApiWorld, error_of
from tests.unit.factories import SYSTEM, snapshot_counts
from webapp.services.tags.creation import Provenance, TagSpec, create_tag, create_tags
from webapp.services.tags.lookup import find_tag

TAGS = "/api/v1/tags"


def make(api: ApiWorld, name: str, token: str | None = None, **fields: Any) -> dict[str, Any]:
    response = api.post(TAGS, json={"name": name, **fields}, token=token)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def refused(response: Any, status: int, code: str, field: str | None = None
            ) -> dict[str, Any]:
    assert response.status_code == status, response.get_json()
    error = error_of(response)
    assert error["code"] == code
    if field is not None:
        assert field in [d["field"] for d in error["details"]], error
    return error


def tree(api: ApiWorld) -> dict[str, dict[str, Any]]:
    """Parent > Child > Grand, and a sibling root Other."""
    parent = make(api, "Parent")
    child = make(api, "Child", parent_tag_id=parent["id"])
    grand = make(api, "Grand", parent_tag_id=child["id"])
    other = make(api, "Other")
    return {"parent": parent, "child": child, "grand": grand, "other": other}


def path_of(api: ApiWorld, tag: dict[str, Any]) -> str:
    return api.get(f"{TAGS}/{tag['id']}").get_json()["path"]


# --- create -----------------------------------------------------------------------------


@pytest.mark.parametrize(("body", "field"), [
    ({}, "name"),
    ({"name": ""}, "name"),
    ({"name": "   "}, "name"),
    ({"name": "x" * 101}, "name"),
    ({"name": "a.b"}, "name"),
    ({"name": "g::b"}, "name"),
    ({"name": 5}, "name"),
    ({"name": None}, "name"),
    ({"name": "ok", "color": "blue"}, "color"),
    ({"name": "ok", "color": "#12345"}, "color"),
    ({"name": "ok", "color": "#3B82F6\n"}, "color"),
    ({"name": "ok", "color": 123}, "color"),
    ({"name": "ok", "parent_tag_id": True}, "parent_tag_id"),
    ({"name": "ok", "parent_tag_id": 1.5}, "parent_tag_id"),
    ({"name": "ok", "category": "a.b"}, "category"),
    ({"name": "ok", "category": "x" * 101}, "category"),
    ({"name": "ok", "description": "x" * 2001}, "description"),
    ({"name": "ok", "colour": "#000000"}, "colour"),
    (["ok"], "body"),
])
def test_create_refuses_bad_input_naming_the_field(api: ApiWorld, body: Any, field: str
                                                   ) -> None:
    before = snapshot_counts()
    refused(api.post(TAGS, json=body), 400, "VALIDATION_FAILED", field)
    assert snapshot_counts() == before


def test_create_refuses_malformed_json(api: ApiWorld) -> None:
    response = api.post(TAGS, data='{"name": "Work",', headers={"Content-Type": "application/json"})
    refused(response, 400, "MALFORMED_JSON", "body")


def test_a_duplicate_name_is_409_case_insensitively(api: ApiWorld) -> None:
    make(api, "Work")
    before = snapshot_counts()
    error = refused(api.post(TAGS, json={"name": " WORK "}), 409, "CONFLICT", "name")
    assert "already exists" in error["message"]
    assert snapshot_counts() == before
    # Seed 004: the same name at the same level is taken whatever the category (409
    # naming the tag that holds it); under a parent it is another level, another tag.
    error = refused(api.post(TAGS, json={"name": "work", "category": "topic"}), 409,
                    "CONFLICT", "name")
    assert "already exists at this level ('Work')" in error["message"]
    assert snapshot_counts() == before
    make(api, "Work", parent_tag_id=make(api, "Home")["id"])


def test_a_100_character_name_and_every_field(api: ApiWorld) -> None:
    body = make(api, "n" * 100, color="#abcdef", description=" about ", label="Label",
                category="topic")
    assert body["name"] == "n" * 100 and body["color"] == "#ABCDEF"
    assert (body["description"], body["label"], body["category"]) == ("about", "Label", "topic")


def test_category_creates_the_group_once(api: ApiWorld) -> None:
    first = make(api, "a", category="Topic")
    second = make(api, "b", category="topic")  # case-insensitive: the same group
    assert first["category"] == second["category"] == "Topic"
    listed = api.get(TAGS, query_string={"category": "TOPIC"}).get_json()
    assert [item["name"] for item in listed["results"]] == ["a", "b"]


@pytest.mark.parametrize("handle", ["id", "key", "uuid", "qualified_name"])
def test_parent_tag_id_takes_any_handle(api: ApiWorld, handle: str) -> None:
    parent = make(api, "Projects", category="work")
    child = make(api, "Alpha", parent_tag_id=parent[handle])
    assert child["parent_tag_id"] == parent["id"]
    assert (child["path"], child["qualified_name"]) == ("Projects.Alpha", "work::Projects.Alpha")
    assert child["category"] == "work"  # a child takes its parent's category


def test_a_child_cannot_take_another_category(api: ApiWorld) -> None:
    parent = make(api, "Projects", category="work")
    before = snapshot_counts()
    refused(api.post(TAGS, json={"name": "x", "parent_tag_id": parent["id"],
                                 "category": "home"}), 400, "VALIDATION_FAILED", "category")
    assert snapshot_counts() == before


def test_a_parent_of_another_scope_is_unknown(api: ApiWorld) -> None:
    theirs = make(api, "Theirs", token=api.outsider)
    before = snapshot_counts()
    refused(api.post(TAGS, json={"name": "x", "parent_tag_id": theirs["id"]}), 400,
            "VALIDATION_FAILED", "parent_tag_id")
    assert snapshot_counts() == before


def test_an_unknown_parent_is_refused_and_an_empty_one_is_none(api: ApiWorld) -> None:
    refused(api.post(TAGS, json={"name": "x", "parent_tag_id": "nope"}), 400,
            "VALIDATION_FAILED", "parent_tag_id")
    work = make(api, "Work")
    refused(api.put(f"{TAGS}/{work['id']}", json={"parent_tag_id": "nope"}), 400,
            "VALIDATION_FAILED", "parent_tag_id")
    root = api.post(TAGS, json={"name": "Root", "parent_tag_id": ""})
    assert root.status_code == 201 and root.get_json()["parent_tag_id"] is None


def test_a_path_longer_than_255_is_refused(api: ApiWorld) -> None:
    parent = make(api, "p" * 100)
    child = make(api, "c" * 100, parent_tag_id=parent["id"])
    refused(api.post(TAGS, json={"name": "g" * 60, "parent_tag_id": child["id"]}), 400,
            "VALIDATION_FAILED", "name")


@pytest.mark.parametrize("permissions", [("tags.read",), ("tags.delete",), ("groups.write",)])
def test_create_needs_create_or_write(api: ApiWorld, permissions: tuple[str, ...]) -> None:
    token = api.token(*permissions)
    before = snapshot_counts()
    response = api.post(TAGS, json={"name": "Work"}, token=token)
    refused(response, 403, "PERMISSION_DENIED")
    assert snapshot_counts() == before


def test_viewer_cannot_create(api: ApiWorld) -> None:
    refused(api.post(TAGS, json={"name": "Work"}, token=api.viewer), 403, "PERMISSION_DENIED")


@pytest.mark.parametrize(("method", "path"), [
    ("GET", TAGS), ("POST", TAGS), ("GET", f"{TAGS}/1"), ("PUT", f"{TAGS}/1"),
    ("PATCH", f"{TAGS}/1"), ("DELETE", f"{TAGS}/1"), ("POST", f"{TAGS}/bulk-delete"),
    ("GET", f"{TAGS}/1/nodes"), ("GET", f"{TAGS}/1/files"), ("GET", f"{TAGS}/1/resources"),
    ("POST", "/api/v1/third-party/tags"),
])
@pytest.mark.parametrize("token", ["", "tw_not_a_key"])
def test_every_route_needs_a_valid_key(api: ApiWorld, method: str, path: str, token: str
                                       ) -> None:
    response = api.call(method, path, token=token, json={"name": "x"})
    refused(response, 401, "UNAUTHENTICATED")


def test_bearer_and_x_api_key_both_work(api: ApiWorld) -> None:
    work = make(api, "Work")
    for header in ("bearer", "x-api-key", "X-API-Key"):
        assert api.get(f"{TAGS}/{work['id']}", header=header).status_code == 200


# --- get --------------------------------------------------------------------------------


@pytest.mark.parametrize("handle", ["id", "key", "uuid"])
def test_get_by_any_handle(api: ApiWorld, handle: str) -> None:
    work = make(api, "Work")
    response = api.get(f"{TAGS}/{work[handle]}", token=api.viewer)
    assert response.status_code == 200 and response.get_json()["id"] == work["id"]


def test_get_unknown_other_scope_or_deleted_is_404(api: ApiWorld) -> None:
    work = make(api, "Work")
    theirs = make(api, "Theirs", token=api.outsider)
    refused(api.get(f"{TAGS}/tag_nope"), 404, "NOT_FOUND")
    refused(api.get(f"{TAGS}/999999"), 404, "NOT_FOUND")
    for handle in ("id", "key", "uuid"):
        refused(api.get(f"{TAGS}/{theirs[handle]}"), 404, "NOT_FOUND")
        refused(api.get(f"{TAGS}/{work[handle]}", token=api.outsider), 404, "NOT_FOUND")
    api.delete(f"{TAGS}/{work['id']}")
    refused(api.get(f"{TAGS}/{work['id']}"), 404, "NOT_FOUND")


def test_get_needs_read(api: ApiWorld) -> None:
    work = make(api, "Work")
    refused(api.get(f"{TAGS}/{work['id']}", token=api.token("tags.write")), 403,
            "PERMISSION_DENIED")


# --- update -----------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_update_changes_only_the_fields_sent(api: ApiWorld, method: str) -> None:
    work = make(api, "Work", color="#3B82F6", description="d", category="topic")
    response = api.call(method, f"{TAGS}/{work['id']}", json={"color": "#000000"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["color"] == "#000000"
    unchanged = ("name", "label", "description", "category", "parent_tag_id", "created_at")
    assert {k: body[k] for k in unchanged} == {k: work[k] for k in unchanged}
    same = api.call(method, f"{TAGS}/{work['id']}", json={})
    assert same.status_code == 200 and same.get_json() == body


@pytest.mark.parametrize("clear", ["", None])
def test_update_clears_colour_and_description(api: ApiWorld, clear: Any) -> None:
    work = make(api, "Work", color="#3B82F6", description="d")
    body = api.patch(f"{TAGS}/{work['id']}",
                     json={"color": clear, "description": clear}).get_json()
    assert body["color"] is None and body["description"] is None


def test_rename_updates_descendants_paths(api: ApiWorld) -> None:
    t = tree(api)
    body = api.put(f"{TAGS}/{t['parent']['id']}", json={"name": "Renamed"}).get_json()
    assert (body["name"], body["label"], body["path"]) == ("Renamed", "Renamed", "Renamed")
    assert path_of(api, t["child"]) == "Renamed.Child"
    assert path_of(api, t["grand"]) == "Renamed.Child.Grand"


def test_move_and_category_carry_the_subtree(api: ApiWorld) -> None:
    t = tree(api)
    body = api.patch(f"{TAGS}/{t['child']['id']}",
                     json={"parent_tag_id": t["other"]["key"]}).get_json()
    assert body["parent_tag_id"] == t["other"]["id"] and body["path"] == "Other.Child"
    assert path_of(api, t["grand"]) == "Other.Child.Grand"
    root = api.patch(f"{TAGS}/{t['child']['id']}", json={"parent_tag_id": None}).get_json()
    assert root["parent_tag_id"] is None and root["path"] == "Child"
    grouped = api.patch(f"{TAGS}/{t['child']['id']}", json={"category": "topic"}).get_json()
    assert grouped["category"] == "topic"
    grand = api.get(f"{TAGS}/{t['grand']['id']}").get_json()
    assert grand["qualified_name"] == "topic::Child.Grand"
    ungrouped = api.patch(f"{TAGS}/{t['child']['id']}", json={"category": None}).get_json()
    assert ungrouped["category"] is None


@pytest.mark.parametrize("target", ["parent", "child", "grand"])
def test_a_move_into_its_own_subtree_is_400(api: ApiWorld, target: str) -> None:
    t = tree(api)
    before = snapshot_counts()
    response = api.patch(f"{TAGS}/{t['parent']['id']}",
                         json={"parent_tag_id": t[target]["id"]})
    error = refused(response, 400, "VALIDATION_FAILED", "parent_tag_id")
    assert "cycle" in error["message"] and error["message"].startswith("parent_tag_id")
    assert snapshot_counts() == before
    assert path_of(api, t["grand"]) == "Parent.Child.Grand"


@pytest.mark.parametrize(("body", "field"), [
    ({"name": ""}, "name"),
    ({"name": None}, "name"),
    ({"name": "a.b"}, "name"),
    ({"name": "x" * 101}, "name"),
    ({"color": "red"}, "color"),
    ({"parent_tag_id": False}, "parent_tag_id"),
    ({"category": "a::b"}, "category"),
    ({"owner_id": "me"}, "owner_id"),
])
def test_update_refuses_bad_input(api: ApiWorld, body: dict[str, Any], field: str) -> None:
    work = make(api, "Work")
    before = snapshot_counts()
    refused(api.put(f"{TAGS}/{work['id']}", json=body), 400, "VALIDATION_FAILED", field)
    assert snapshot_counts() == before


def test_update_needs_a_body(api: ApiWorld) -> None:
    work = make(api, "Work")
    refused(api.put(f"{TAGS}/{work['id']}"), 400, "VALIDATION_FAILED", "body")


def test_a_category_on_a_child_is_400(api: ApiWorld) -> None:
    t = tree(api)
    refused(api.patch(f"{TAGS}/{t['child']['id']}", json={"category": "topic"}), 400,
            "VALIDATION_FAILED", "category")


def test_renaming_onto_a_sibling_is_409(api: ApiWorld) -> None:
    make(api, "Work")
    home = make(api, "Home")
    before = snapshot_counts()
    refused(api.put(f"{TAGS}/{home['id']}", json={"name": "WORK"}), 409, "CONFLICT", "name")
    assert snapshot_counts() == before


def test_update_permissions_and_scopes(api: ApiWorld) -> None:
    work = make(api, "Work")
    theirs = make(api, "Theirs", token=api.outsider)
    creator = api.token("tags.read", "tags.create")
    before = snapshot_counts()
    url = f"{TAGS}/{work['id']}"
    refused(api.put(url, json={"name": "x"}, token=api.viewer), 403, "PERMISSION_DENIED")
    refused(api.put(url, json={"name": "x"}, token=creator), 403, "PERMISSION_DENIED")
    refused(api.put(url, json={"name": "x"}, token=api.outsider), 404, "NOT_FOUND")
    refused(api.put(f"{TAGS}/{theirs['id']}", json={"name": "x"}), 404, "NOT_FOUND")
    refused(api.patch(f"{TAGS}/tag_nope", json={"name": "x"}), 404, "NOT_FOUND")
    assert snapshot_counts() == before


def test_protected_tags_are_403(api: ApiWorld) -> None:
    locked = create_tag(SYSTEM, api.world.sid, TagSpec("locked"),
                             Provenance(protected=True))
    url = f"{TAGS}/{locked.public_id}"
    assert api.get(url).get_json()["protected"] is True
    before = snapshot_counts()
    refused(api.patch(url, json={"color": "#000000"}), 403, "PERMISSION_DENIED")
    refused(api.delete(url), 403, "PERMISSION_DENIED")
    assert snapshot_counts() == before
    bulk = api.post(f"{TAGS}/bulk-delete", json={"tag_ids": [locked.public_id]}).get_json()
    assert bulk["conflict_ids"] == [locked.public_id] and bulk["deleted_count"] == 0


# --- delete -----------------------------------------------------------------------------


def test_delete_with_children_needs_the_hierarchy(api: ApiWorld) -> None:
    t = tree(api)
    before = snapshot_counts()
    refused(api.delete(f"{TAGS}/{t['parent']['id']}"), 409, "CONFLICT", "deleteHierarchy")
    assert snapshot_counts() == before
    response = api.delete(f"{TAGS}/{t['parent']['id']}",
                          query_string={"deleteHierarchy": "true"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["deleted_count"] == 3 and body["message"] == "Successfully deleted 3 tag(s)"
    assert body["tag"]["id"] == t["parent"]["id"] and body["tag"]["deleted"] is True
    for name in ("parent", "child", "grand"):
        refused(api.get(f"{TAGS}/{t[name]['id']}"), 404, "NOT_FOUND")
    assert api.get(f"{TAGS}/{t['other']['id']}").status_code == 200


def test_delete_hierarchy_in_snake_case(api: ApiWorld) -> None:
    t = tree(api)
    response = api.delete(f"{TAGS}/{t['child']['id']}",
                          query_string={"delete_hierarchy": "1"})
    assert response.get_json()["deleted_count"] == 2


def test_delete_permissions_and_scopes(api: ApiWorld) -> None:
    work = make(api, "Work")
    theirs = make(api, "Theirs", token=api.outsider)
    url = f"{TAGS}/{work['id']}"
    writer, deleter = api.token("tags.read", "tags.write"), api.token("tags.delete")
    before = snapshot_counts()
    refused(api.delete(url, token=api.viewer), 403, "PERMISSION_DENIED")
    refused(api.delete(url, token=writer), 403, "PERMISSION_DENIED")
    refused(api.delete(url, token=api.outsider), 404, "NOT_FOUND")
    refused(api.delete(f"{TAGS}/{theirs['id']}"), 404, "NOT_FOUND")
    refused(api.delete(f"{TAGS}/tag_nope"), 404, "NOT_FOUND")
    assert snapshot_counts() == before
    assert api.delete(url, token=deleter).status_code == 200
    refused(api.delete(url), 404, "NOT_FOUND")  # already gone


# --- bulk delete ------------------------------------------------------------------------

BULK = f"{TAGS}/bulk-delete"


@pytest.mark.parametrize(("body", "field"), [
    ({}, "tag_ids"),
    ({"tag_ids": []}, "tag_ids"),
    ({"tag_ids": "tag_1"}, "tag_ids"),
    ({"tag_ids": ["ok", True]}, "tag_ids[1]"),
    ({"tag_ids": ["ok", None]}, "tag_ids[1]"),
    ({"tag_ids": ["ok"], "delete_hierarchy": "maybe"}, "delete_hierarchy"),
    ({"tag_ids": ["ok"], "extra": 1}, "extra"),
])
def test_bulk_delete_refuses_bad_input(api: ApiWorld, body: dict[str, Any], field: str
                                       ) -> None:
    make(api, "ok")
    before = snapshot_counts()
    refused(api.post(BULK, json=body), 400, "VALIDATION_FAILED", field)
    assert snapshot_counts() == before


def test_bulk_delete_of_more_than_1000_tags_is_over_the_limit(api: ApiWorld) -> None:
    make(api, "ok")
    before = snapshot_counts()
    refused(api.post(BULK, json={"tag_ids": ["ok"] * 1001}), 413, "LIMIT_EXCEEDED", "tag_ids")
    assert snapshot_counts() == before


def test_bulk_delete_takes_any_handle_and_reports_conflicts(api: ApiWorld) -> None:
    t = tree(api)
    loose = [make(api, name) for name in ("a", "b", "c")]
    theirs = make(api, "Theirs", token=api.outsider)
    body = api.post(BULK, json={"tag_ids": [
        loose[0]["key"], loose[1]["uuid"], loose[2]["id"], loose[2]["id"],
        t["parent"]["id"], theirs["id"],
    ]}).get_json()
    assert body == {
        "deleted_count": 3,
        "not_found_ids": [theirs["id"]],
        "conflict_ids": [t["parent"]["id"]],
        "message": "Successfully deleted 3 tag(s)",
    }
    assert api.get(f"{TAGS}/{theirs['id']}", token=api.outsider).status_code == 200


def test_bulk_delete_with_the_hierarchy(api: ApiWorld) -> None:
    t = tree(api)
    body = api.post(BULK, json={"tag_ids": [t["parent"]["id"], t["grand"]["id"]],
                                "delete_hierarchy": True}).get_json()
    assert body["deleted_count"] == 3
    assert body["not_found_ids"] == [] and body["conflict_ids"] == []
    assert [item["name"] for item in api.get(TAGS).get_json()["results"]] == ["Other"]


def test_bulk_delete_needs_delete(api: ApiWorld) -> None:
    work = make(api, "Work")
    writer = api.token("tags.read", "tags.write")
    before = snapshot_counts()
    for token in (api.viewer, writer):
        refused(api.post(BULK, json={"tag_ids": [work["id"]]}, token=token), 403,
                "PERMISSION_DENIED")
    assert snapshot_counts() == before


def test_bulk_delete_of_1000_tags(api: ApiWorld, count_queries: Any) -> None:
    """1,000 tags cost the statements of 10 (set-based), and every one goes."""
    api.get(TAGS)  # the key's first use records last_used_at once

    def bulk_delete(prefix: str, number: int, *extra: str) -> tuple[int, dict[str, Any]]:
        made = create_tags(api.world.editor, api.world.sid,
                                [TagSpec(f"{prefix}{n:04}") for n in range(number)])
        handles = [t.public_id for t in made[::2]] + [str(t.id) for t in made[1::2]]
        with count_queries() as counter:
            response = api.post(BULK, json={"tag_ids": [*handles, *extra]})
        assert response.status_code == 200, response.get_json()
        return counter.count, response.get_json()

    small, body = bulk_delete("s", 10, "s-missing")
    assert (body["deleted_count"], body["not_found_ids"], body["conflict_ids"]) == (
        10, ["s-missing"], [])
    large, body = bulk_delete("t", 1000)
    assert body == {"deleted_count": 1000, "not_found_ids": [], "conflict_ids": [],
                    "message": "Successfully deleted 1000 tag(s)"}
    assert large == small
    assert api.get(TAGS).get_json()["count"] == 0


def test_owners_and_parents_public_ids_cost_one_statement(api: ApiWorld,
                                                          count_queries: Any) -> None:
    from webapp.api.serializers import tags_out
    from webapp.extensions import db
    from webapp.models import Tag, User

    sid = api.world.sid
    create_tags(api.world.editor, sid, [TagSpec("a.b"), TagSpec("a.c")])
    create_tags(api.world.manager, sid, [TagSpec("m.n")])
    create_tag(SYSTEM, sid, TagSpec("sys"), Provenance(system_created=True))
    paths = ("a", "a.b", "a.c", "m", "m.n", "sys")
    found: dict[str, Tag] = {}
    for path in paths:
        tag = find_tag(sid, path)
        assert tag is not None
        found[path] = tag
    editor = db.session.get(User, api.world.editor.user_id)
    manager = db.session.get(User, api.world.manager.user_id)
    assert editor is not None and manager is not None
    for tag in found.values():
        _ = tag.group  # the rows themselves are loaded already when tags_out is called
    with count_queries() as counter:
        out = {item.path: item for item in tags_out(list(found.values()))}
    assert counter.count == 1
    assert out["a.b"].parent_tag_id == out["a.c"].parent_tag_id == found["a"].public_id
    assert out["m.n"].parent_tag_id == found["m"].public_id
    assert out["a"].parent_tag_id is None and out["sys"].parent_tag_id is None
    assert [out[p].owner_id for p in paths] == [editor.public_id] * 3 + [
        manager.public_id] * 2 + [None]
    with count_queries() as counter:
        assert [item.path for item in tags_out([found["sys"]])] == ["sys"]
    assert counter.count == 1  # no owner, no parent: only its aliases to look up
    with count_queries() as counter:
        assert tags_out([]) == []
    assert counter.count == 0


# --- get one ----------------------------------------------------------------------------


def test_get_by_id_checks_the_key_and_reads_the_tag_in_one_statement(
        api: ApiWorld, count_queries: Any) -> None:
    made = make(api, "Work", category="topic")
    api.get(f"{TAGS}/{made['key']}", token=api.viewer)  # the first use records the key's use
    with count_queries() as counter:
        response = api.get(f"{TAGS}/{made['key']}", token=api.viewer)
    assert response.status_code == 200
    assert len([s for s in counter.statements if not s.startswith("BEGIN")]) == 1
    by_uuid = api.get(f"{TAGS}/{made['uuid']}", token=api.viewer)
    assert response.get_json() == by_uuid.get_json() == made


def test_get_by_id_keeps_to_live_tags_of_the_keys_scope(api: ApiWorld) -> None:
    ours = make(api, "Ours")
    theirs = make(api, "Theirs", token=api.outsider)
    gone = make(api, "Gone")
    assert api.delete(f"{TAGS}/{gone['id']}").status_code == 200

    for handle in ("key", "id"):  # the integer key is read with the API key
        refused(api.get(f"{TAGS}/{theirs[handle]}"), 404, "NOT_FOUND")
        refused(api.get(f"{TAGS}/{gone[handle]}"), 404, "NOT_FOUND")
        refused(api.get(f"{TAGS}/{ours[handle]}", token=api.outsider), 404, "NOT_FOUND")
        refused(api.get(f"{TAGS}/{ours[handle]}", token=api.token("groups.write")), 403,
                "PERMISSION_DENIED")
        refused(api.get(f"{TAGS}/{ours[handle]}", token=api.viewer + "x"), 401,
                "UNAUTHENTICATED")
        assert api.get(f"{TAGS}/{ours[handle]}", token=api.viewer).get_json() == ours
