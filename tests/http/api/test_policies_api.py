"""Tag policies and the compliance report over the API: CRUD, the preview, the report,
violations paged and as streamed CSV, and 409 ``POLICY_VIOLATION`` on attach, detach and
seed 003's path dialect against an enforced policy (nothing written)."""

from __future__ import annotations

from tests.http.api.conftest import ApiWorld, error_of
from tests.unit.factories import SYSTEM, count
from webapp.models import Assignment
from webapp.services.assignments import attach
from webapp.services.groups import create_group

P = "/api/v1/policies"
# Tables are named by UUID in the attach API.
T1, T2, T3 = (f"00000000-0000-4000-8000-00000000000{n}" for n in (1, 2, 3))


def seed(api: ApiWorld) -> None:
    sid = api.world.sid
    create_group(SYSTEM, sid, "sensitivity", exclusive=True)
    attach(SYSTEM, sid, ["sensitivity::high"], {"table": [T1]})
    attach(SYSTEM, sid, ["legacy.old"], {"table": [T2]})
    attach(SYSTEM, sid, ["team"], {"table": [T3], "source": ["s1"]})


POLICY = {"name": "Tables", "resourceTypes": ["table"], "requireGroups": ["sensitivity"],
          "forbidTags": ["legacy"], "mode": "report"}


def test_policy_crud_preview_and_report(api: ApiWorld) -> None:
    seed(api)
    preview = api.post(f"{P}/preview", json=POLICY)
    assert preview.status_code == 200, preview.json
    assert (preview.json["covered"], preview.json["nonCompliant"]) == (3, 2)
    assert [s["id"] for s in preview.json["sample"]] == [T2, T3]
    created = api.post(P, json=POLICY)
    assert created.status_code == 201, created.json
    policy = created.json
    assert (policy["requireGroups"], policy["forbidTags"]) == (["sensitivity"], ["legacy"])
    assert api.post(P, json=POLICY).status_code == 409
    assert api.post(P, json=POLICY, token=api.editor).status_code == 403
    bad = api.post(P, json={**POLICY, "name": "X", "where": "tag:(", "requireGroups": ["zz"]})
    assert bad.status_code == 400
    assert {d["field"] for d in error_of(bad)["details"]} >= {"where", "requireGroups[0]"}

    report = api.get("/api/v1/compliance", token=api.viewer).json["results"]
    assert len(report) == 1
    (item,) = report
    assert (item["covered"], item["compliant"], item["nonCompliant"]) == (3, 1, 2)
    assert item["missingGroups"] == {"sensitivity": 2}
    assert item["forbiddenTags"] == {"legacy": 1}

    page = api.get("/api/v1/compliance/violations",
                   query_string={"policy": policy["id"], "per_page": 1}, token=api.viewer)
    assert page.status_code == 200 and page.json["count"] == 2
    assert page.json["results"] == [{"type": "table", "id": T2, "name": None, "reasons": [
        "no tag of group sensitivity", "carries forbidden tag legacy"]}]
    assert page.json["next"]
    csv = api.get("/api/v1/compliance/violations.csv", query_string={"policy": policy["id"]},
                  token=api.viewer)
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    assert csv.get_data(as_text=True).splitlines() == [
        "type,id,name,reasons",
        f"table,{T2},,no tag of group sensitivity; carries forbidden tag legacy",
        f"table,{T3},,no tag of group sensitivity",
    ]
    assert api.get("/api/v1/compliance/violations", query_string={"policy": 999}
                   ).status_code == 404

    changed = api.patch(f"{P}/{policy['id']}", json={"mode": "enforce"})
    assert changed.status_code == 200 and changed.json["mode"] == "enforce"
    assert changed.json["forbidTags"] == ["legacy"]
    assert api.get(f"{P}/{policy['id']}", token=api.viewer).json["mode"] == "enforce"
    assert api.delete(f"{P}/{policy['id']}").status_code == 204
    assert api.get(P).json["results"] == []


def test_enforced_policy_refuses_every_api_dialect(api: ApiWorld) -> None:
    seed(api)
    created = api.post(P, json={**POLICY, "mode": "enforce"})
    assert created.status_code == 201
    links = count(Assignment)
    refused = api.post("/api/v1/tags/attach/", json={"names": ["legacy.x"],
                                                     "tables": [T1, T3]})
    assert refused.status_code == 409
    error = error_of(refused)
    assert error["code"] == "POLICY_VIOLATION" and '"Tables"' in error["message"]
    assert f"table:{T1}, table:{T3}" in error["message"]
    detached = api.post("/api/v1/tags/detach/", json={"names": ["sensitivity::high"],
                                                      "tables": [T1]})
    assert detached.status_code == 409 and error_of(detached)["code"] == "POLICY_VIOLATION"
    # Seed 003's dialect: a resource's tags by path.
    attach(SYSTEM, api.world.sid, ["legacy.y"], {"datasource": ["9"]})
    api.post(P, json={"name": "Sources", "resourceTypes": ["datasource"],
                      "forbidTags": ["legacy"], "mode": "enforce"})
    links = count(Assignment)
    by_path = api.call("POST", "/api/v1/tag/datasource/22", header="bearer",
                       json=[{"name": "legacy.y", "source": "curated"}])
    assert by_path.status_code == 409, by_path.json
    assert error_of(by_path)["code"] == "POLICY_VIOLATION"
    assert count(Assignment) == links
    # Report mode: the same changes go through.
    api.patch(f"{P}/{created.json['id']}", json={"mode": "report"})
    assert api.post("/api/v1/tags/attach/", json={"names": ["legacy.x"],
                                                  "tables": [T1]}).status_code == 200
