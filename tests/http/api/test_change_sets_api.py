"""``/api/v1/change-sets``: the audit trail's change sets and undo over the API — the
governance loop a client drives: a policy reports violations, a rule's back-fill fixes
them, undoing the back-fill brings them back."""

from __future__ import annotations

from typing import Any

from tests.http.api.conftest import ApiWorld, error_of

ADS = [f"0000000{n}-1d4e-4f6a-8b9c-0d1e2f3a4b5c" for n in range(1, 4)]
MAIL = "6a3c9b4d-2e5f-4a7b-9c0d-1e2f3a4b5c6d"


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.get_json()
    return response.get_json()


def report(api: ApiWorld) -> tuple[int, int]:
    (item,) = ok(api.get("/api/v1/compliance", token=api.viewer))["results"]
    return item["covered"], item["nonCompliant"]


def test_a_rule_back_fill_fixes_a_policy_and_its_undo_brings_the_violations_back(
        api: ApiWorld) -> None:
    ok(api.post("/api/v1/tags/attach/", json={"names": ["channel::web"], "sources": [MAIL]}))
    ok(api.post("/api/v1/sources/", json=[
        {"id": source, "name": f"Source {n}", "slug": f"s{n}-ads"}
        for n, source in enumerate(ADS)]), 201)
    ok(api.post("/api/v1/policies", json={
        "name": "Sources have a channel", "resourceTypes": ["source"],
        "requireGroups": ["channel"], "mode": "report"}), 201)
    assert report(api) == (4, 3)
    rule = ok(api.post("/api/v1/rules", json={
        "name": "Ads", "when": "type:source AND name:*-ads", "attach": ["channel::ads"]}), 201)
    applied = ok(api.post(f"/api/v1/rules/{rule['id']}/apply"))
    assert (applied["resources"], applied["added"]) == (3, 3)
    assert report(api) == (4, 0)
    change_set = ok(api.get(f"/api/v1/change-sets/{applied['changeSetId']}"))
    assert change_set["summary"] == "Rule Ads: back-fill on 3 resource(s)"
    assert change_set["via"] == "api" and change_set["revertedById"] is None
    undone = ok(api.post(f"/api/v1/change-sets/{applied['changeSetId']}/undo"))
    assert undone["revertsId"] == applied["changeSetId"]
    assert ok(api.get(f"/api/v1/change-sets/{applied['changeSetId']}"))["revertedById"] == (
        undone["id"])
    assert report(api) == (4, 3)
    again = api.post(f"/api/v1/change-sets/{applied['changeSetId']}/undo")
    assert again.status_code == 409 and "already" in error_of(again)["message"]


def test_change_sets_are_listed_newest_first_and_guarded(api: ApiWorld) -> None:
    for name in ("a", "b", "c"):
        ok(api.post("/api/v1/tags/attach/", json={"names": [name], "sources": [MAIL]}))
    page = ok(api.get("/api/v1/change-sets", query_string={"per_page": 2},
                      token=api.viewer))
    assert page["count"] >= 3 and len(page["results"]) == 2 and page["next"]
    newest = page["results"][0]
    assert newest["id"] > page["results"][1]["id"]
    assert api.post(f"/api/v1/change-sets/{newest['id']}/undo",
                    token=api.viewer).status_code == 403
    ok(api.post(f"/api/v1/change-sets/{newest['id']}/undo"))
    kept = ok(api.get("/api/v1/change-sets", query_string={"undone": "false"}))["results"]
    assert newest["id"] not in {item["id"] for item in kept}
    assert all(item["revertedById"] is None for item in kept)
    for missing in (newest["id"] + 1000, 2**31, 2**40):
        assert api.get(f"/api/v1/change-sets/{missing}").status_code == 404
        assert api.post(f"/api/v1/change-sets/{missing}/undo").status_code == 404
    assert api.get(f"/api/v1/change-sets/{newest['id']}",
                   token=api.outsider).status_code == 404
    assert api.get("/api/v1/change-sets", token="").status_code == 401
