"""``GET /api/v1/taxonomy`` and ``POST /api/v1/taxonomy``: the file in each format, streamed;
the dry run's report; row errors as 400 (the file does not read) or 409 (the scope refuses);
the round trip through the API in every format."""

from __future__ import annotations

import json

import pytest

from tests.http.api.conftest import ApiWorld, error_of
from tests.unit.factories import make_scope, member, snapshot_counts
from tests.unit.test_taxonomy import seed_taxonomy
from webapp.models import Role
from webapp.services.taxonomy.records import Format

MEDIA = {"json": "application/json", "csv": "text/csv", "yaml": "application/yaml"}


@pytest.fixture
def seeded(api: ApiWorld) -> ApiWorld:
    seed_taxonomy(api.world)
    return api


@pytest.mark.parametrize("fmt", ["json", "csv", "yaml"])
def test_the_export_is_a_streamed_attachment(seeded: ApiWorld, fmt: str) -> None:
    response = seeded.get(f"/api/v1/taxonomy?format={fmt}", token=seeded.viewer)
    assert response.status_code == 200
    assert response.is_streamed
    assert response.mimetype == MEDIA[fmt]
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="acme-taxonomy.{fmt}"')
    assert response.headers["Cache-Control"] == "no-store"
    assert "Address.email" in response.get_data(as_text=True)


def test_json_is_the_default_and_a_bad_format_is_400(seeded: ApiWorld) -> None:
    document = seeded.get("/api/v1/taxonomy").get_json()
    assert document["format"] == "tagwright-taxonomy"
    response = seeded.get("/api/v1/taxonomy?format=xml")
    assert response.status_code == 400 and error_of(response)["details"][0]["field"] == "format"


@pytest.mark.parametrize("fmt", ["json", "csv", "yaml"])
def test_export_import_export_through_the_api(seeded: ApiWorld, fmt: str) -> None:
    first = seeded.get(f"/api/v1/taxonomy?format={fmt}").get_data()
    gamma = make_scope("scope_gamma")
    owner = member(gamma, "manager@example.com", Role.MANAGER)
    token = seeded.token("tags.read", "tags.write", "groups.write", owner=owner,
                         scope_id=gamma.id)
    response = seeded.post("/api/v1/taxonomy?dry_run=false", token=token, data=first,
                           headers={"Content-Type": MEDIA[fmt]})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["dry_run"] is False and body["valid"] and body["change_set_id"]
    assert body["counts"]["groups"]["create"] == 3
    again = seeded.get(f"/api/v1/taxonomy?format={fmt}", token=token).get_data()
    assert again == first


def test_a_dry_run_answers_the_diff_and_writes_nothing(seeded: ApiWorld) -> None:
    before = snapshot_counts()
    csv = ("kind,name,label,color\n"
           "group,priority,Urgency,\n"
           "tag,Address.email,E-mail,#112233\n"
           "tag,topic::Finance.Tax,,\n")
    response = seeded.post("/api/v1/taxonomy", data=csv,
                           headers={"Content-Type": "text/csv; charset=utf-8"})
    assert response.status_code == 200, response.get_json()
    assert snapshot_counts() == before
    body = response.get_json()
    assert (body["dry_run"], body["mode"], body["format"], body["valid"]) == (
        True, "merge", "csv", True)
    assert body["change_set_id"] is None
    assert body["counts"]["tags"] == {"create": 2, "update": 1, "unchanged": 1, "delete": 0,
                                      "kept": 0}
    tags = {step["path"]: step for step in body["tags"]}
    assert tags["Address.email"]["changes"] == [
        {"field": "color", "before": None, "after": "#112233"}]
    assert tags["Address.email"]["line"] == 3
    assert tags["topic::Finance"]["implied"] is True
    assert tags["topic::Finance.Tax"]["values"]["label"] == "Tax"
    groups = {step["identifier"]: step for step in body["groups"]}
    assert groups["priority"]["changes"] == [  # an empty cell is no colour
        {"field": "label", "before": "Priority", "after": "Urgency"},
        {"field": "color", "before": "#FF0000", "after": None}]
    assert groups["topic"]["action"] == "create" and groups["topic"]["implied"]
    assert body["summary"] == "2 tags to create, 1 to update; 1 group to create, 1 to update"


def test_a_file_that_does_not_read_is_400_with_lines(seeded: ApiWorld) -> None:
    before = snapshot_counts()
    text = "tags:\n- path: ok\n- path: bad\n  color: red\n"
    for dry_run in ("true", "false"):
        response = seeded.post(f"/api/v1/taxonomy?dry_run={dry_run}", data=text,
                               headers={"Content-Type": "application/yaml"})
        assert response.status_code == 400
        error = error_of(response)
        assert error["code"] == "VALIDATION_FAILED"
        assert error["details"] == [{"field": "line 3: color",
                                     "message": "must be a colour in the form #RRGGBB"}]
    assert snapshot_counts() == before


def test_rows_the_scope_refuses_are_listed_by_a_dry_run_and_409_for_real(
        seeded: ApiWorld) -> None:
    body = json.dumps({"tags": [{"path": "Discovered.Country.Canada", "label": "Kanada"}]})
    dry = seeded.post("/api/v1/taxonomy", data=body,
                      headers={"Content-Type": "application/json"}).get_json()
    assert dry["valid"] is False
    assert dry["errors"] == [{"line": 1, "field": "label", "message": (
        "the tag is protected (its source owns it): an import cannot change it")}]
    before = snapshot_counts()
    real = seeded.post("/api/v1/taxonomy?dry_run=false", data=body,
                       headers={"Content-Type": "application/json"})
    assert real.status_code == 409 and error_of(real)["details"][0]["field"] == "line 1: label"
    assert snapshot_counts() == before


def test_the_format_comes_from_the_content_type_or_the_query(seeded: ApiWorld) -> None:
    csv = "kind,name\ntag,Address.email\n"
    response = seeded.post("/api/v1/taxonomy", data=csv,
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 400
    assert error_of(response)["details"][0]["field"] == "format"
    response = seeded.post("/api/v1/taxonomy?format=csv", data=csv,
                           headers={"Content-Type": "text/plain"})
    assert response.status_code == 200 and response.get_json()["format"] == "csv"


def test_mirror_through_the_api_deletes_and_undoes(seeded: ApiWorld) -> None:
    before = seeded.get("/api/v1/taxonomy?format=csv").get_data()
    csv = "kind,name\ngroup,priority\ntag,priority::urgent\n"
    response = seeded.post("/api/v1/taxonomy?dry_run=false&mode=mirror", data=csv,
                           headers={"Content-Type": "text/csv"})
    body = response.get_json()
    assert response.status_code == 200 and body["counts"]["tags"]["delete"] > 0
    assert {step["path"] for step in body["tags"] if step["action"] == "kept"} == {
        "Discovered", "Discovered.Country", "Discovered.Country.Canada"}
    from webapp.services.undo import undo_change_set
    undo_change_set(seeded.world.manager, seeded.world.sid, body["change_set_id"])
    assert seeded.get("/api/v1/taxonomy?format=csv").get_data() == before


def test_the_document_describes_both_operations(api: ApiWorld) -> None:
    document = api.client.get("/api/v1/openapi.json").get_json()
    get = document["paths"]["/api/v1/taxonomy"]["get"]
    assert set(get["responses"]["200"]["content"]) == set(MEDIA.values())
    post = document["paths"]["/api/v1/taxonomy"]["post"]
    assert set(post["requestBody"]["content"]) == set(MEDIA.values())
    assert {"400", "409"} <= set(post["responses"])
    assert {"dry_run", "mode", "format"} == {p["name"] for p in post["parameters"]}
    assert "TaxonomyTag" in document["components"]["schemas"]
    assert Format.JSON.value == "json"


def test_imported_tags_are_whole_tags(api: ApiWorld) -> None:
    """Written in one statement, they are what the tag services write: found by search,
    their public id spelling their UUID, under their parent."""
    csv = "kind,name,label\ntag,Imported.Searchable_leaf,Leaf\n"
    response = api.post("/api/v1/taxonomy?dry_run=false", data=csv,
                        headers={"Content-Type": "text/csv"})
    assert response.status_code == 200, response.get_json()
    found = api.get("/api/v1/tags?search=searchable").get_json()["results"]
    assert [tag["name"] for tag in found] == ["Searchable_leaf"]
    tag = api.get(f"/api/v1/tags/{found[0]['id']}").get_json()
    assert tag["id"] == f"tag_{tag['uuid']}" and tag["label"] == "Leaf"
    parent = api.get(f"/api/v1/tags/{tag['parent_tag_id']}").get_json()
    assert parent["name"] == "Imported"


def test_the_report_is_streamed_as_the_document_of_the_whole_report(
        seeded: ApiWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    """The answer is written in pieces (here of 2 steps), and is the same text as the
    report dumped at once; a bad query is still a 400 naming the field."""
    from webapp.api import taxonomy as api_taxonomy
    from webapp.services.actor import Actor
    from webapp.services.taxonomy.apply import import_taxonomy

    monkeypatch.setattr(api_taxonomy, "REPORT_CHUNK", 2)
    csv = ("kind,name,label,color\ngroup,priority,Urgency,\n"
           "tag,Address.email,E-mail,#112233\ntag,topic::Finance.Tax,,\ntag,a.b.c,,\n")
    response = seeded.post("/api/v1/taxonomy?mode=mirror", data=csv,
                           headers={"Content-Type": "text/csv"})
    assert response.status_code == 200, response.get_json()
    assert response.headers["Content-Type"] == "application/json"
    result = import_taxonomy(Actor.system(), seeded.world.scope.id, csv, Format.CSV,
                             mode=api_taxonomy.Mode.MIRROR)
    body = response.get_json()
    assert len(body["tags"]) > 4 and body["tags"][0]["action"]
    expected = json.loads(json.dumps(api_taxonomy.report(result), ensure_ascii=False))
    assert {k: v for k, v in body.items() if k not in ("valid", "errors")} == {
        k: v for k, v in expected.items() if k not in ("valid", "errors")}
    text = response.get_data(as_text=True)
    assert text == json.dumps(json.loads(text), ensure_ascii=False)
    bad = seeded.post("/api/v1/taxonomy?mode=bogus", data=csv,
                      headers={"Content-Type": "text/csv"})
    assert bad.status_code == 400 and "mode" in json.dumps(error_of(bad))
