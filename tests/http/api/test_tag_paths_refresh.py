"""``POST /tag/refresh`` against a file and against a local HTTP server started here: counts,
restores, deletes, per-source failures (timeout, bad JSON, HTTP errors), permissions."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import TestResponse

from tests.feed_server import FeedServer, feed_server
from tests.http.api.conftest import ApiWorld, error_of
from tests.unit.factories import SYSTEM
from webapp.extensions import db
from webapp.models import ExternalTagSource
from webapp.services.external_sources import add_source


@pytest.fixture
def feeds() -> Iterator[FeedServer]:
    with feed_server() as server:
        yield server


def refresh(api: ApiWorld, token: str | None = None) -> TestResponse:
    return api.post("/api/v1/tag/refresh", token=token)


def outcomes(response: TestResponse) -> dict[str, dict[str, Any]]:
    assert response.status_code == 200, response.get_json()
    return {item["name"]: item for item in response.get_json()["sources"]}


def counts(item: dict[str, Any]) -> tuple[int, int, int, int, int]:
    return (item["paths"], item["created"], item["restored"], item["unchanged"],
            item["deleted"])


def tags_of(api: ApiWorld, source: str) -> dict[str, dict[str, Any]]:
    found = api.get("/api/v1/tag", query_string={"source": source}).get_json()
    return {item["name"]: item for item in found}


def write_feed(tmp_path: Path, paths: Any, name: str = "feed.json") -> str:
    target = tmp_path / name
    target.write_text(paths if isinstance(paths, str) else json.dumps(paths))
    return target.as_uri()


def test_refresh_from_a_file(api: ApiWorld, tmp_path: Path) -> None:
    url = write_feed(tmp_path, ["Catalog.PII.Email", "Catalog.PII.Phone", "Catalog.Finance"])
    add_source(SYSTEM, api.world.sid, "catalog", url)
    result = outcomes(refresh(api))["catalog"]
    assert counts(result) == (5, 5, 0, 0, 0)
    assert result["error"] is None and result["refreshedAt"].endswith("Z")
    tags = tags_of(api, "catalog")
    assert sorted(tags) == ["Catalog", "Catalog.Finance", "Catalog.PII", "Catalog.PII.Email",
                            "Catalog.PII.Phone"]
    email = tags["Catalog.PII.Email"]
    assert (email["source"], email["systemCreated"], email["protected"], email["createdBy"]) == (
        "catalog", False, True, None)
    source = db.session.scalars(db.select(ExternalTagSource)).one()
    db.session.refresh(source)
    assert source.last_refreshed_at is not None and source.last_error is None


def test_refresh_restores_and_deletes(api: ApiWorld, tmp_path: Path) -> None:
    feed = tmp_path / "feed.json"
    url = write_feed(tmp_path, ["Catalog.PII.Email", "Catalog.PII.Phone"])
    add_source(SYSTEM, api.world.sid, "catalog", url)
    refresh(api)
    email_id = tags_of(api, "catalog")["Catalog.PII.Email"]["id"]
    tagged = api.post("/api/v1/tag/datasource/22", json=[{"name": "Catalog.PII.Email"}])
    assert tagged.status_code == 200
    feed.write_text(json.dumps(["Catalog.PII.Phone", "Catalog.Other"]))
    assert counts(outcomes(refresh(api))["catalog"]) == (4, 1, 0, 3, 1)
    assert "Catalog.PII.Email" not in tags_of(api, "catalog")
    feed.write_text(json.dumps(["Catalog.PII.Email", "Catalog.PII.Phone", "Catalog.Other"]))
    assert counts(outcomes(refresh(api))["catalog"]) == (5, 0, 1, 4, 0)
    assert tags_of(api, "catalog")["Catalog.PII.Email"]["id"] == email_id
    untag = api.delete("/api/v1/tag/datasource/22/Catalog.PII.Email")
    assert untag.status_code == 200, "the restored tag kept its link"
    assert counts(outcomes(refresh(api))["catalog"]) == (5, 0, 0, 5, 0)


def test_external_tags_are_protected_from_the_api(api: ApiWorld, tmp_path: Path) -> None:
    add_source(SYSTEM, api.world.sid, "catalog", write_feed(tmp_path, ["Catalog.PII"]))
    refresh(api)
    response = api.delete("/api/v1/tag/Catalog.PII")
    assert response.status_code == 403 and error_of(response)["code"] == "PERMISSION_DENIED"


def test_refresh_from_http(api: ApiWorld, feeds: FeedServer) -> None:
    add_source(SYSTEM, api.world.sid, "glossary",
               feeds.serve("/tags.json", ["Glossary.Customer", "Glossary.Order"]))
    assert counts(outcomes(refresh(api))["glossary"]) == (3, 3, 0, 0, 0)
    assert sorted(tags_of(api, "glossary")) == ["Glossary", "Glossary.Customer",
                                                "Glossary.Order"]


def test_one_failing_source_keeps_the_others(api: ApiWorld, feeds: FeedServer,
                                             tmp_path: Path) -> None:
    sid = api.world.sid
    add_source(SYSTEM, sid, "a-good", feeds.serve("/good", ["Good.one"]))
    add_source(SYSTEM, sid, "b-slow", feeds.serve("/slow", ["Slow.one"], delay=1.0),
               timeout_seconds=0.2)
    add_source(SYSTEM, sid, "c-bad-json", feeds.serve("/bad", b"[\"Bad.one\","))
    add_source(SYSTEM, sid, "d-object", feeds.serve("/object", {"tags": ["X"]}))
    add_source(SYSTEM, sid, "e-bad-path", feeds.serve("/path", ["Fine", "Not..fine"]))
    add_source(SYSTEM, sid, "f-http-500", feeds.serve("/boom", ["X"], status=500))
    add_source(SYSTEM, sid, "g-missing-file", (tmp_path / "missing.json").as_uri())
    add_source(SYSTEM, sid, "h-file", write_feed(tmp_path, ["File.one"]))
    result = outcomes(refresh(api))
    assert list(result) == ["a-good", "b-slow", "c-bad-json", "d-object", "e-bad-path",
                            "f-http-500", "g-missing-file", "h-file"]
    assert counts(result["a-good"]) == (2, 2, 0, 0, 0) and result["a-good"]["error"] is None
    assert counts(result["h-file"]) == (2, 2, 0, 0, 0)
    errors = {name: item["error"] for name, item in result.items()}
    assert "timed out" in errors["b-slow"]
    assert "not valid JSON" in errors["c-bad-json"]
    assert "JSON list" in errors["d-object"]
    assert "item 1" in errors["e-bad-path"]
    assert "HTTP 500" in errors["f-http-500"]
    assert "cannot read" in errors["g-missing-file"]
    for name in ("b-slow", "c-bad-json", "d-object", "e-bad-path", "f-http-500"):
        assert counts(result[name]) == (0, 0, 0, 0, 0) and result[name]["refreshedAt"] is None
    names = [item["name"] for item in api.get("/api/v1/tag").get_json()]
    assert names == ["File", "File.one", "Good", "Good.one"]
    failed = db.session.scalar(db.select(ExternalTagSource).where(
        ExternalTagSource.name == "c-bad-json"))
    assert failed is not None
    db.session.refresh(failed)
    assert failed.last_error is not None and failed.last_refreshed_at is None


def test_disabled_sources_are_skipped(api: ApiWorld, tmp_path: Path) -> None:
    add_source(SYSTEM, api.world.sid, "off", write_feed(tmp_path, ["Off.tag"]), enabled=False)
    assert outcomes(refresh(api)) == {}


def test_refresh_permissions_and_scopes(api: ApiWorld, tmp_path: Path) -> None:
    add_source(SYSTEM, api.world.sid, "catalog", write_feed(tmp_path, ["Catalog.PII"]))
    denied = refresh(api, token=api.viewer)
    assert denied.status_code == 403 and error_of(denied)["code"] == "PERMISSION_DENIED"
    assert refresh(api, token="").status_code == 401
    assert outcomes(refresh(api, token=api.outsider)) == {}
    assert api.get("/api/v1/tag").get_json() == []
    write_only = api.token("tags.write")
    assert counts(outcomes(refresh(api, token=write_only))["catalog"]) == (2, 2, 0, 0, 0)


def test_refresh_costs_constant_statements(api: ApiWorld, tmp_path: Path,
                                           count_queries: Any) -> None:
    feed = tmp_path / "feed.json"
    add_source(SYSTEM, api.world.sid, "catalog", write_feed(tmp_path, ["Few.a"]))
    api.get("/api/v1/tag")  # the same request before each: same session state
    with count_queries() as few:
        assert counts(outcomes(refresh(api))["catalog"]) == (2, 2, 0, 0, 0)
    feed.write_text(json.dumps([f"Many.t{n}" for n in range(500)]))
    api.get("/api/v1/tag")
    with count_queries() as many:
        assert counts(outcomes(refresh(api))["catalog"]) == (501, 501, 0, 0, 2)
    # finding and deleting what vanished, and the enforced policies' check of their links
    assert many.count == few.count + 3


def test_a_big_list(api: ApiWorld, tmp_path: Path) -> None:
    paths = [f"Big.g{n // 100}.t{n}" for n in range(20_000)]
    add_source(SYSTEM, api.world.sid, "big", write_feed(tmp_path, paths))
    assert counts(outcomes(refresh(api))["big"]) == (20_201, 20_201, 0, 0, 0)
    assert counts(outcomes(refresh(api))["big"]) == (20_201, 0, 0, 20_201, 0)
