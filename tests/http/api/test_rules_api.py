"""``/api/v1/rules``: preview, CRUD, apply (back-fill) and the rules that run when the API
registers resources."""

from __future__ import annotations

from typing import Any

from tests.http.api.conftest import ApiWorld, error_of
from tests.unit.factories import SYSTEM
from webapp.services.assignments import attach

SOURCE = "5f2b8a3c-1d4e-4f6a-8b9c-0d1e2f3a4b5c"
OTHER = "6a3c9b4d-2e5f-4a7b-9c0d-1e2f3a4b5c6d"
NEW = "7b4d0c5e-3f6a-4b8c-8d1e-2f3a4b5c6d7e"


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.get_json()
    return response.get_json()


def register(api: ApiWorld) -> None:
    ok(api.post("/api/v1/sources/", json=[
        {"id": SOURCE, "name": "Facebook Ads", "slug": "facebook-ads"},
        {"id": OTHER, "name": "Mail", "slug": "mail"},
    ]), 201)


def test_preview_save_apply_and_run_on_registration(api: ApiWorld) -> None:
    register(api)
    rule = {"when": "type:source AND name:*-ads", "attach": ["ads"]}
    preview = ok(api.post("/api/v1/rules/preview", json=rule))
    assert (preview["resources"], preview["toAdd"], preview["created"]) == (1, 1, ["ads"])
    assert preview["sample"][0]["id"] == SOURCE
    assert preview["sample"][0]["tags"] == {"ads": "add"}
    saved = ok(api.post("/api/v1/rules", json={"name": "Ads sources", **rule}), 201)
    assert saved["enabled"] is True and saved["attach"] == ["ads"]
    assert ok(api.get("/api/v1/rules"))["results"] == [saved]
    assert ok(api.get(f"/api/v1/rules/{saved['id']}")) == saved
    applied = ok(api.post(f"/api/v1/rules/{saved['id']}/apply"))
    assert (applied["resources"], applied["added"], applied["alreadyPresent"]) == (1, 1, 0)
    assert applied["changeSetId"] is not None
    # a new -ads source is tagged as it is registered
    ok(api.post("/api/v1/sources/", json={"id": NEW, "name": "X", "slug": "google-ads"}), 201)
    tags = ok(api.get("/api/v1/sources/", query_string={"q": "tag:ads"}))
    assert sorted(r["id"] for r in tags["results"]) == sorted([SOURCE, NEW])
    patched = ok(api.patch(f"/api/v1/rules/{saved['id']}", json={"enabled": False}))
    assert patched["enabled"] is False
    assert api.delete(f"/api/v1/rules/{saved['id']}").status_code == 204
    assert api.get(f"/api/v1/rules/{saved['id']}").status_code == 404


def test_malformed_rules_are_400s_naming_the_field(api: ApiWorld) -> None:
    response = api.post("/api/v1/rules/preview", json={"when": "tag:(x", "attach": ["a"]})
    assert response.status_code == 400
    assert [d["field"] for d in error_of(response)["details"]] == ["when"]
    response = api.post("/api/v1/rules", json={"name": "r", "when": "tag:Nowhere",
                                               "attach": ["a"]})
    assert response.status_code == 400
    assert "Nowhere" in error_of(response)["details"][0]["message"]
    ok(api.post("/api/v1/rules", json={"name": "r", "when": "untagged", "attach": ["a"]}), 201)
    response = api.post("/api/v1/rules", json={"name": "R", "when": "untagged",
                                               "attach": ["a"]})
    assert response.status_code == 409
    assert api.post("/api/v1/rules", json={"name": "x", "when": "untagged", "attach": ["a"]},
                    token=api.editor).status_code == 403



def test_preview_names_an_enforced_policy_that_would_refuse_the_back_fill(api: ApiWorld) -> None:
    register(api)
    attach(SYSTEM, api.world.sid, ["legacy"], {"source": [OTHER]})
    rule = {"when": "type:source AND name:*-ads", "attach": ["legacy"]}
    assert ok(api.post("/api/v1/rules/preview", json=rule))["policyRefusal"] is None
    ok(api.post("/api/v1/policies", json={
        "name": "No legacy sources", "resourceTypes": ["source"], "forbidTags": ["legacy"],
        "mode": "enforce"}), 201)
    refusal = ok(api.post("/api/v1/rules/preview", json=rule))["policyRefusal"]
    assert refusal["policy"] == "No legacy sources"
    assert (refusal["resources"], refusal["count"]) == ([f"source:{SOURCE}"], 1)
    saved = ok(api.post("/api/v1/rules", json={"name": "Legacy ads", **rule}), 201)
    refused = api.post(f"/api/v1/rules/{saved['id']}/apply")
    assert refused.status_code == 409
    assert error_of(refused)["code"] == "POLICY_VIOLATION"
