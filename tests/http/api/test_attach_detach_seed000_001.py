"""Seeds 000 (attach) and 001 (detach): every curl example and both Python flows replayed
with their exact bodies, edge cases, permissions, tenant isolation and statement counts."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import pytest
from werkzeug.test import TestResponse

from tests.http.api.conftest import ApiWorld, error_of
from tests.unit.factories import count, external_ids, links, live_tag, snapshot_counts
from webapp.models import Assignment, Resource, Tag
from webapp.services import groups
from webapp.services.link_plan import MAX_LINKS, MAX_NAMES

ATTACH = "/api/v1/tags/attach/"
DETACH = "/api/v1/tags/detach/"

# The resource ids of the seeds' examples.
SOURCE_1 = "d2c1b472-902c-477a-b300-e7c3fd72609b"
SOURCE_2 = "f3e4d5c6-b7a8-49e0-1f2a-3b4c5d6e7f80"
TRANSFORMATION_1 = "a7b4f0d2-5c91-4e34-9c1f-7e3a5f1c9d02"
TRANSFORMATION_2 = "b8c5e1e3-6d02-4f45-ad20-8f4b6e2d0e13"
DESTINATION_1 = "e4d5c6b7-a8b9-40c1-d2e3-f4a5b6c7d8e9"

SEED_000_SINGLE = {"names": ["marketing"], "sources": [SOURCE_1]}
SEED_000_MULTI = {
    "names": ["marketing", "weekly-refresh", "owned-by-revops"],
    "transformations": [TRANSFORMATION_1],
}
SEED_000_BATCH = {
    "names": ["marketing", "production"],
    "sources": [SOURCE_1, SOURCE_2],
    "transformations": [TRANSFORMATION_1, TRANSFORMATION_2],
    "destinations": [DESTINATION_1],
}
SEED_001_SINGLE = {"names": ["marketing"], "sources": [SOURCE_1]}
SEED_001_MULTI = {
    "names": ["weekly-refresh", "owned-by-revops"],
    "transformations": [TRANSFORMATION_1],
}
SEED_001_BATCH = {
    "names": ["production"],
    "sources": [SOURCE_1, SOURCE_2],
    "transformations": [TRANSFORMATION_1, TRANSFORMATION_2],
    "destinations": [DESTINATION_1],
}


def assert_timestamp(value: Any) -> datetime:
    """An RFC 3339 timestamp in UTC."""
    assert isinstance(value, str) and value.endswith("Z"), value
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def assert_tags(response: TestResponse, names: list[str]) -> list[dict[str, Any]]:
    """A 200 whose body is an array of seed-000 tags named ``names``, in that order."""
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert isinstance(body, list)
    assert [tag["name"] for tag in body] == names
    for tag in body:
        assert set(tag) == {"id", "name", "created_at", "updated_at"}
        assert isinstance(tag["id"], str) and str(uuid.UUID(tag["id"])) == tag["id"]
        assert isinstance(tag["name"], str)
        assert assert_timestamp(tag["created_at"]) <= assert_timestamp(tag["updated_at"])
    return body


def link_set(api: ApiWorld) -> set[tuple[str, str, str]]:
    return links(api.world.sid)


def field_names(response: TestResponse) -> list[str]:
    return [detail["field"] for detail in error_of(response)["details"]]


# --- seed 000: attach ---------------------------------------------------------------------


def test_seed_000_attach_one_tag_to_a_single_source(api: ApiWorld) -> None:
    body = assert_tags(api.post(ATTACH, json=SEED_000_SINGLE), ["marketing"])
    tag = live_tag(api.world.sid, "marketing")
    assert tag is not None and body[0]["id"] == str(tag.uuid)
    assert link_set(api) == {("marketing", "source", SOURCE_1)}


def test_seed_000_attach_multiple_tags_to_one_transformation(api: ApiWorld) -> None:
    assert_tags(api.post(ATTACH, json=SEED_000_MULTI),
                ["marketing", "weekly-refresh", "owned-by-revops"])
    assert link_set(api) == {
        (name, "transformation", TRANSFORMATION_1)
        for name in ("marketing", "weekly-refresh", "owned-by-revops")
    }


def test_seed_000_batch_attach_across_resource_types(api: ApiWorld) -> None:
    assert_tags(api.post(ATTACH, json=SEED_000_BATCH), ["marketing", "production"])
    resources = {("source", SOURCE_1), ("source", SOURCE_2),
                 ("transformation", TRANSFORMATION_1), ("transformation", TRANSFORMATION_2),
                 ("destination", DESTINATION_1)}
    assert link_set(api) == {(name, *ref) for name in ("marketing", "production")
                             for ref in resources}
    assert count(Resource) == 5  # registered on the fly


def test_attach_reuses_existing_tags_and_is_idempotent(api: ApiWorld) -> None:
    first = assert_tags(api.post(ATTACH, json=SEED_000_SINGLE), ["marketing"])
    again = assert_tags(api.post(ATTACH, json=SEED_000_BATCH), ["marketing", "production"])
    assert again[0]["id"] == first[0]["id"]
    assert again[0]["created_at"] == first[0]["created_at"]
    assert_tags(api.post(ATTACH, json=SEED_000_BATCH), ["marketing", "production"])
    assert count(Tag) == 2 and count(Assignment) == 10


def test_seed_000_python_flow_tags_every_ads_source(api: ApiWorld) -> None:
    """List sources, keep those whose slug ends with -ads, attach "ads" in one call."""
    registered = [
        {"id": str(uuid.UUID(int=n + 1)), "name": name, "slug": slug}
        for n, (name, slug) in enumerate([("Facebook Ads", "facebook-ads"),
                                          ("Google Ads", "google-ads"),
                                          ("Postgres", "postgres"),
                                          ("LinkedIn Ads", "linkedin-ads")])
    ]
    assert api.post("/api/v1/sources/", json=registered).status_code == 201
    sources = api.get("/api/v1/sources/").get_json()
    ads_source_ids = [s["id"] for s in sources["results"] if s["slug"].endswith("-ads")]
    assert len(ads_source_ids) == 3
    response = api.post(ATTACH, json={"names": ["ads"], "sources": ads_source_ids})
    assert_tags(response, ["ads"])
    assert link_set(api) == {("ads", "source", sid) for sid in ads_source_ids}


def test_both_paths_answer_without_a_redirect(api: ApiWorld) -> None:
    for path in ("/api/v1/tags/attach", "/api/v1/tags/attach/"):
        assert_tags(api.post(path, json=SEED_000_SINGLE), ["marketing"])
    for path in ("/api/v1/tags/detach", "/api/v1/tags/detach/"):
        assert_tags(api.post(path, json=SEED_001_SINGLE), ["marketing"])


def test_bearer_header_and_curl_form_content_type(api: ApiWorld) -> None:
    import json

    response = api.post(ATTACH, data=json.dumps(SEED_000_SINGLE), header="bearer",
                        headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert_tags(response, ["marketing"])


def test_playground_single_name_form(api: ApiWorld) -> None:
    """The seeds' playground shows ``{"name": ...}``: it is one name; ids are still needed."""
    response = api.post(ATTACH, json={"name": "<string>"})
    assert response.status_code == 400
    assert field_names(response) == ["resources"]
    assert_tags(api.post(ATTACH, json={"name": "marketing", "sources": [SOURCE_1]}),
                ["marketing"])


def test_grouped_and_dotted_names(api: ApiWorld) -> None:
    response = api.post(ATTACH, json={"names": ["priority::high", "Address.email"],
                                      "tables": [SOURCE_1]})
    assert_tags(response, ["priority::high", "Address.email"])
    assert live_tag(api.world.sid, "address") is not None  # the missing ancestor


def test_duplicates_in_the_input_are_merged(api: ApiWorld) -> None:
    response = api.post(ATTACH, json={
        "names": ["Marketing", "marketing", " MARKETING "],
        "sources": [SOURCE_1, SOURCE_1.upper(), SOURCE_1.replace("-", "")],
    })
    assert_tags(response, ["Marketing"])
    assert link_set(api) == {("marketing", "source", SOURCE_1)}


def test_uuids_are_stored_in_canonical_form(api: ApiWorld) -> None:
    assert_tags(api.post(ATTACH, json={"names": ["x"], "sources": [SOURCE_1.upper()]}), ["x"])
    detached = api.post(DETACH, json={"names": ["x"], "sources": [SOURCE_1]})
    assert_tags(detached, ["x"])
    assert link_set(api) == set()


# --- seed 000: invalid input --------------------------------------------------------------


@pytest.mark.parametrize(("body", "field"), [
    ({"names": ["a"], "sources": [SOURCE_1, SOURCE_2, SOURCE_1, "not-a-uuid"]}, "sources[3]"),
    ({"names": ["a"], "volumes": [5]}, "volumes[0]"),
    ({"names": ["a"], "sources": SOURCE_1}, "sources"),
    ({"names": "marketing", "sources": [SOURCE_1]}, "names"),
    ({"names": [7], "sources": [SOURCE_1]}, "names[0]"),
    ({"names": [], "sources": [SOURCE_1]}, "names"),
    ({"sources": [SOURCE_1]}, "names"),
    ({"names": ["a"]}, "resources"),
    ({"names": ["a"], "sources": [], "tables": []}, "resources"),
    ({"names": ["a"], "source": [SOURCE_1]}, "source"),
    ({"names": ["x" * 101], "sources": [SOURCE_1]}, "names[0]"),
    ({"names": ["ok", ".".join(["y" * 100] * 3)], "sources": [SOURCE_1]}, "names[1]"),
    ({"names": ["a..b"], "sources": [SOURCE_1]}, "names[0]"),
    ({"names": ["  "], "sources": [SOURCE_1]}, "names[0]"),
    ({"names": ["a\u0000b"], "sources": [SOURCE_1]}, "names[0]"),
])
def test_invalid_bodies_are_400_naming_the_field(api: ApiWorld, body: dict[str, Any],
                                                 field: str) -> None:
    before = snapshot_counts()
    for path in (ATTACH, DETACH):
        response = api.post(path, json=body)
        assert response.status_code == 400, response.get_data(as_text=True)
        assert error_of(response)["code"] == "VALIDATION_FAILED"
        assert field in field_names(response)
    assert snapshot_counts() == before


def test_malformed_json_and_non_object_bodies(api: ApiWorld) -> None:
    response = api.post(ATTACH, data="{names: [", headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and error_of(response)["code"] == "MALFORMED_JSON"
    response = api.post(ATTACH, json=["marketing"])
    assert response.status_code == 400 and error_of(response)["code"] == "VALIDATION_FAILED"
    response = api.post(ATTACH)
    assert response.status_code == 400 and field_names(response) == ["body"]


def test_too_many_names_is_413(api: ApiWorld) -> None:
    names = [f"tag-{n}" for n in range(MAX_NAMES + 1)]
    for path in (ATTACH, DETACH):
        response = api.post(path, json={"names": names, "sources": [SOURCE_1]})
        assert response.status_code == 413
        assert error_of(response)["code"] == "LIMIT_EXCEEDED"
    assert count(Tag) == 0


def test_too_many_links_is_413(api: ApiWorld) -> None:
    ids = external_ids(MAX_LINKS // 2 + 1)
    response = api.post(ATTACH, json={"names": ["a", "b"], "sources": ids})
    assert response.status_code == 413
    assert error_of(response)["code"] == "LIMIT_EXCEEDED"
    assert count(Tag) == 0 and count(Resource) == 0


def test_attach_is_all_or_nothing(api: ApiWorld) -> None:
    """Two tags of one exclusive group cannot go on one resource: nothing is written."""
    groups.create_group(api.world.manager, api.world.sid, "priority", exclusive=True)
    before = snapshot_counts()
    response = api.post(ATTACH, json={"names": ["fresh", "priority::high", "priority::low"],
                                      "sources": [SOURCE_1]})
    assert response.status_code == 400 and field_names(response) == ["names"]
    assert snapshot_counts() == before


def test_exclusive_group_replaces_the_rival_tag(api: ApiWorld) -> None:
    groups.create_group(api.world.manager, api.world.sid, "priority", exclusive=True)
    api.post(ATTACH, json={"names": ["priority::low"], "sources": [SOURCE_1]})
    assert_tags(api.post(ATTACH, json={"names": ["priority::high"], "sources": [SOURCE_1]}),
                ["priority::high"])
    assert link_set(api) == {("priority::high", "source", SOURCE_1)}


# --- seed 001: detach ---------------------------------------------------------------------


def test_seed_001_detach_one_tag_from_a_single_source(api: ApiWorld) -> None:
    attached = assert_tags(api.post(ATTACH, json=SEED_000_BATCH), ["marketing", "production"])
    body = assert_tags(api.post(DETACH, json=SEED_001_SINGLE), ["marketing"])
    assert body[0]["id"] == attached[0]["id"]
    assert body[0]["created_at"] == attached[0]["created_at"]
    assert assert_timestamp(body[0]["updated_at"]) >= assert_timestamp(attached[0]["updated_at"])
    assert ("marketing", "source", SOURCE_1) not in link_set(api)
    assert len(link_set(api)) == 9
    assert live_tag(api.world.sid, "marketing") is not None  # the tag itself stays


def test_seed_001_detach_multiple_tags_from_one_transformation(api: ApiWorld) -> None:
    api.post(ATTACH, json=SEED_000_MULTI)
    assert_tags(api.post(DETACH, json=SEED_001_MULTI), ["weekly-refresh", "owned-by-revops"])
    assert link_set(api) == {("marketing", "transformation", TRANSFORMATION_1)}


def test_seed_001_batch_detach_across_resource_types(api: ApiWorld) -> None:
    api.post(ATTACH, json=SEED_000_BATCH)
    assert_tags(api.post(DETACH, json=SEED_001_BATCH), ["production"])
    assert {name for name, _, _ in link_set(api)} == {"marketing"}
    assert len(link_set(api)) == 5


def test_detach_skips_unknown_names(api: ApiWorld) -> None:
    api.post(ATTACH, json=SEED_000_SINGLE)
    response = api.post(DETACH, json={"names": ["nope", "marketing", "never::seen"],
                                      "sources": [SOURCE_1]})
    assert_tags(response, ["marketing"])
    assert link_set(api) == set()
    before = snapshot_counts()
    assert_tags(api.post(DETACH, json={"names": ["nope"], "sources": [SOURCE_1]}), [])
    assert snapshot_counts() == before
    assert live_tag(api.world.sid, "nope") is None


def test_detach_from_unregistered_resources_changes_nothing(api: ApiWorld) -> None:
    api.post(ATTACH, json=SEED_000_SINGLE)
    assert_tags(api.post(DETACH, json={"names": ["marketing"], "sources": [SOURCE_2]}),
                ["marketing"])
    assert link_set(api) == {("marketing", "source", SOURCE_1)}
    assert count(Resource) == 1


def test_seed_001_python_flow_removes_legacy_from_destinations(api: ApiWorld) -> None:
    """List destinations with expand[]=tags, keep those carrying "legacy", detach it."""
    dest = external_ids(4, start=100)
    api.post(ATTACH, json={"names": ["legacy"], "destinations": dest[:2]})
    api.post(ATTACH, json={"names": ["current"], "destinations": dest[1:]})
    destinations = api.get("/api/v1/destinations/",
                           query_string={"expand[]": "tags"}).get_json()
    legacy_destination_ids = [
        d["id"] for d in destinations["results"]
        if any(tag["name"] == "legacy" for tag in d.get("tags", []))
    ]
    assert legacy_destination_ids == dest[:2]
    response = api.post(DETACH, json={"names": ["legacy"],
                                      "destinations": legacy_destination_ids})
    assert_tags(response, ["legacy"])
    assert link_set(api) == {("current", "destination", d) for d in dest[1:]}


# --- permissions and scopes ---------------------------------------------------------------


@pytest.mark.parametrize("path", [ATTACH, DETACH])
def test_a_key_without_tags_write_is_403(api: ApiWorld, path: str) -> None:
    api.post(ATTACH, json=SEED_000_SINGLE)
    tokens = (api.viewer, api.token("tags.read", "tags.create", "tags.delete"))
    before = snapshot_counts()
    for token in tokens:
        response = api.post(path, json=SEED_000_BATCH, token=token)
        assert response.status_code == 403
        assert error_of(response)["code"] == "PERMISSION_DENIED"
    assert snapshot_counts() == before


@pytest.mark.parametrize("path", [ATTACH, DETACH])
def test_no_key_or_a_bad_key_is_401(api: ApiWorld, path: str) -> None:
    assert api.post(path, json=SEED_000_SINGLE, token="").status_code == 401
    assert api.post(path, json=SEED_000_SINGLE, token="tw_bad_key").status_code == 401


def test_scopes_never_share_tags_or_resources(api: ApiWorld) -> None:
    mine = assert_tags(api.post(ATTACH, json=SEED_000_SINGLE), ["marketing"])
    theirs = assert_tags(api.post(ATTACH, json=SEED_000_SINGLE, token=api.outsider),
                         ["marketing"])
    assert mine[0]["id"] != theirs[0]["id"]
    assert_tags(api.post(DETACH, json=SEED_001_SINGLE, token=api.outsider), ["marketing"])
    assert link_set(api) == {("marketing", "source", SOURCE_1)}
    assert links(api.world.other_scope.id) == set()


# --- scale ----------------------------------------------------------------------------------


def test_10_names_by_10000_resources_cost_the_statements_of_10_by_10(
        api: ApiWorld, count_queries: Any) -> None:
    api.get("/api/v1/sources/")  # the key's first use records last_used_at once

    def attach_call(prefix: str, ids: list[str]) -> tuple[int, TestResponse]:
        body = {"names": [f"{prefix}-{n}" for n in range(10)], "sources": ids}
        with count_queries() as counter:
            response = api.post(ATTACH, json=body)
        return counter.count, response

    small, response = attach_call("small", external_ids(10))
    assert_tags(response, [f"small-{n}" for n in range(10)])
    big, response = attach_call("big", external_ids(10_000, start=10))
    assert_tags(response, [f"big-{n}" for n in range(10)])
    assert big == small
    assert count(Assignment) == 10 * 10 + 10 * 10_000
    assert count(Resource) == 10_010

    def detach_call(prefix: str, ids: list[str]) -> int:
        with count_queries() as counter:
            response = api.post(DETACH, json={"names": [f"{prefix}-{n}" for n in range(10)],
                                              "sources": ids})
        assert response.status_code == 200
        return counter.count

    assert detach_call("small", external_ids(10)) == detach_call(
        "big", external_ids(10_000, start=10))
    assert count(Assignment) == 0
