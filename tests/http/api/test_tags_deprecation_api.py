"""Deprecation through the native ``/tags`` API (issue 13 §2): ``deprecated`` and
``replacement`` read on every tag body and written by PUT / PATCH, attach refusing a
deprecated tag, and ``POST /tags/{id}/replace-everywhere`` with and without a dry run."""

from __future__ import annotations

from typing import Any

import pytest

from tests.http.api.conftest import ApiWorld, error_of
from tests.unit.factories import SYSTEM, change_sets, links, snapshot_counts
from webapp.services import assignments, undo
from webapp.services.tags.creation import Provenance, TagSpec, create_tags
from webapp.services.tags.deletion import delete_tag
from webapp.services.tags.lookup import find_tag

TAGS = "/api/v1/tags"


@pytest.fixture
def tags(api: ApiWorld) -> dict[str, str]:
    """Public ids of ``colour.red`` (on n1, n2), ``colour.crimson`` (on n2) and ``shade``."""
    sid = api.world.sid
    made = create_tags(SYSTEM, sid, [TagSpec("colour.red"), TagSpec("colour.crimson"),
                                     TagSpec("shade")])
    assignments.attach(SYSTEM, sid, ["colour.red"], {"node": ["n1", "n2"]})
    assignments.attach(SYSTEM, sid, ["colour.crimson"], {"node": ["n2"]})
    return {tag.path: tag.public_id for tag in made}


def refused(response: Any, status: int, code: str, field: str | None = None) -> None:
    assert response.status_code == status, response.get_json()
    error = error_of(response)
    assert error["code"] == code, error
    if field is not None:
        assert field in [d["field"] for d in error["details"]], error


def test_a_tag_body_says_whether_it_is_deprecated(api: ApiWorld, tags: dict[str, str]
                                                   ) -> None:
    body = api.get(f"{TAGS}/{tags['colour.red']}").get_json()
    assert (body["deprecated"], body["deprecated_at"], body["replacement"],
            body["replacement_name"]) == (False, None, None, None)


def test_patch_deprecates_naming_the_replacement_by_name_or_id(
        api: ApiWorld, tags: dict[str, str]) -> None:
    red = tags["colour.red"]
    response = api.patch(f"{TAGS}/{red}", json={"deprecated": True,
                                                "replacement": "colour.crimson"})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["deprecated"] is True and body["deprecated_at"]
    assert body["replacement"] == tags["colour.crimson"]
    assert body["replacement_name"] == "colour.crimson"
    # Every read says the same: one tag by any handle (the key's hot read too), lists.
    key = find_tag(api.world.sid, "colour.red").id  # type: ignore[union-attr]
    for path in (f"{TAGS}/{red}", f"{TAGS}/{key}"):
        again = api.get(path).get_json()
        assert (again["deprecated"], again["replacement"]) == (True, tags["colour.crimson"])
    [item] = [t for t in api.get(f"{TAGS}?search=colour.red").get_json()["results"]]
    assert item["replacement_name"] == "colour.crimson"
    # A replacement alone, by public id, changes it; null clears it.
    body = api.patch(f"{TAGS}/{red}", json={"replacement": tags["shade"]}).get_json()
    assert body["replacement_name"] == "shade" and body["deprecated"] is True
    body = api.put(f"{TAGS}/{red}", json={"replacement": None}).get_json()
    assert body["deprecated"] is True and body["replacement"] is None
    # deprecated: false takes it back.
    body = api.patch(f"{TAGS}/{red}", json={"deprecated": False}).get_json()
    assert body["deprecated"] is False and body["deprecated_at"] is None


def test_a_replacement_alone_deprecates_and_null_alone_changes_nothing(
        api: ApiWorld, tags: dict[str, str]) -> None:
    body = api.patch(f"{TAGS}/{tags['shade']}", json={"replacement": None}).get_json()
    assert body["deprecated"] is False
    body = api.patch(f"{TAGS}/{tags['shade']}",
                     json={"replacement": "colour.crimson"}).get_json()
    assert body["deprecated"] is True and body["replacement_name"] == "colour.crimson"


def test_a_rename_and_a_deprecation_are_one_change_set(api: ApiWorld, tags: dict[str, str]
                                                       ) -> None:
    before = len(change_sets())
    body = api.patch(f"{TAGS}/{tags['shade']}", json={"name": "tint", "deprecated": True}
                     ).get_json()
    assert body["path"] == "tint" and body["deprecated"] is True
    assert len(change_sets()) == before + 1
    assert change_sets()[-1].summary == "Update tag shade"


@pytest.mark.parametrize(("body", "status", "field"), [
    ({"deprecated": True, "replacement": "colour.red"}, 400, "replacement"),  # itself
    ({"deprecated": True, "replacement": "nowhere"}, 400, "replacement"),
    ({"deprecated": True, "replacement": 0}, 400, "replacement"),
    ({"deprecated": False, "replacement": "shade"}, 400, "replacement"),
    ({"deprecated": None}, 400, "deprecated"),
    ({"deprecated": "yes"}, 400, "deprecated"),
    ({"replacement": 1.5}, 400, "replacement"),
])
def test_bad_deprecation_fields_change_nothing(api: ApiWorld, tags: dict[str, str],
                                               body: dict[str, Any], status: int,
                                               field: str) -> None:
    before = snapshot_counts()
    refused(api.patch(f"{TAGS}/{tags['colour.red']}", json=body), status,
            "VALIDATION_FAILED", field)
    assert snapshot_counts() == before


def test_a_deprecated_replacement_and_protected_tags_are_refused(
        api: ApiWorld, tags: dict[str, str]) -> None:
    api.patch(f"{TAGS}/{tags['shade']}", json={"deprecated": True})
    refused(api.patch(f"{TAGS}/{tags['colour.red']}", json={"replacement": "shade"}),
            400, "VALIDATION_FAILED", "replacement")
    [locked] = create_tags(SYSTEM, api.world.sid, [TagSpec("locked")],
                           Provenance(protected=True))
    refused(api.patch(f"{TAGS}/{locked.public_id}", json={"deprecated": True}),
            403, "PERMISSION_DENIED")
    refused(api.patch(f"{TAGS}/{tags['colour.red']}", json={"deprecated": True},
                      token=api.viewer), 403, "PERMISSION_DENIED")


def test_attach_refuses_a_deprecated_tag_with_409_naming_the_replacement(
        api: ApiWorld, tags: dict[str, str]) -> None:
    api.patch(f"{TAGS}/{tags['colour.red']}", json={"deprecated": True,
                                                    "replacement": "colour.crimson"})
    response = api.post("/api/v1/tags/attach", json={"names": ["colour.red"],
                                                     "nodes": ["n9"]})
    refused(response, 409, "TAG_DEPRECATED")
    assert "colour.crimson" in error_of(response)["message"]


def test_a_deleted_replacement_reads_as_none(api: ApiWorld, tags: dict[str, str]) -> None:
    api.patch(f"{TAGS}/{tags['colour.red']}", json={"replacement": "shade"})
    delete_tag(SYSTEM, api.world.sid, "shade")
    body = api.get(f"{TAGS}/{tags['colour.red']}").get_json()
    assert body["deprecated"] is True and body["replacement"] is None


# --- replace everywhere -----------------------------------------------------------------


def replace_url(public_id: str, dry_run: str | None = None) -> str:
    query = f"?dry_run={dry_run}" if dry_run is not None else ""
    return f"{TAGS}/{public_id}/replace-everywhere{query}"


def test_replace_everywhere_dry_run_then_for_real(api: ApiWorld, tags: dict[str, str]
                                                  ) -> None:
    sid = api.world.sid
    api.patch(f"{TAGS}/{tags['colour.red']}", json={"replacement": "colour.crimson"})
    before, rows = links(sid), snapshot_counts()
    response = api.post(replace_url(tags["colour.red"], "true"))
    assert response.status_code == 200, response.get_json()
    counts = response.get_json()
    assert counts == {
        "dry_run": True, "tag": tags["colour.red"], "tag_name": "colour.red",
        "replacement": tags["colour.crimson"], "replacement_name": "colour.crimson",
        "links_to_move": 1, "already_on_replacement": 1, "replaced_in_exclusive_group": 0,
        "change_set_id": None,
    }
    assert links(sid) == before and snapshot_counts() == rows
    response = api.post(replace_url(tags["colour.red"], "false"))
    assert response.status_code == 200, response.get_json()
    done = response.get_json()
    assert done["dry_run"] is False and done["links_to_move"] == 1
    assert done["change_set_id"] == change_sets()[-1].id
    assert links(sid) == {("colour.crimson", "node", "n1"), ("colour.crimson", "node", "n2")}
    assert change_sets()[-1].via == "api"
    undo.undo_change_set(api.world.editor, sid, done["change_set_id"])
    assert links(sid) == before


def test_replace_everywhere_refusals(api: ApiWorld, tags: dict[str, str]) -> None:
    refused(api.post(replace_url(tags["colour.red"])), 409, "CONFLICT")  # not deprecated
    api.patch(f"{TAGS}/{tags['colour.red']}", json={"deprecated": True})
    refused(api.post(replace_url(tags["colour.red"], "true")), 409, "CONFLICT")  # none named
    refused(api.post(replace_url("tag_nope")), 404, "NOT_FOUND")
    api.patch(f"{TAGS}/{tags['colour.red']}", json={"replacement": "shade"})
    refused(api.post(replace_url(tags["colour.red"]), token=api.viewer), 403,
            "PERMISSION_DENIED")
    refused(api.post(replace_url(tags["colour.red"], "maybe")), 400, "VALIDATION_FAILED",
            "dry_run")


def test_the_document_describes_deprecation(api: ApiWorld) -> None:
    document = api.get("/api/v1/openapi.json").get_json()
    operation = document["paths"]["/api/v1/tags/{tag_id}/replace-everywhere"]["post"]
    assert {"200", "400", "404", "409"} <= set(operation["responses"])
    assert [p["name"] for p in operation["parameters"] if p["in"] == "query"] == ["dry_run"]
    schemas = document["components"]["schemas"]
    update = next(s for name, s in schemas.items() if name.startswith("TagUpdateIn"))
    assert {"deprecated", "replacement"} <= set(update["properties"])
    out = next(s for name, s in schemas.items() if name.startswith("TagOut"))
    assert {"deprecated", "replacement", "replacement_name"} <= set(out["properties"])
