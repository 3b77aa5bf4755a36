"""The OpenAPI document: valid OpenAPI 3.1, generated from the pydantic models, covering
every route; and the docs page, which renders from vendored assets only."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Flask
from openapi_spec_validator import validate

from tests.http.api.test_api_auth import PUBLIC

STATIC = Path(__file__).resolve().parents[3] / "static"


def _document(app: Flask) -> dict:  # type: ignore[type-arg]
    response = app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.get_json()  # type: ignore[no-any-return]


def test_the_document_is_valid_openapi_3_1(app: Flask) -> None:
    document = _document(app)
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_every_route_is_documented_with_its_models(app: Flask) -> None:
    document = _document(app)
    documented = {(method.upper(), path) for path, item in document["paths"].items()
                  for method in item if method in {"get", "post", "put", "patch", "delete"}}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1") or rule.rule in PUBLIC:
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>:]+)>", r"{\1}", rule.rule)
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            assert (method, path) in documented, (method, path)
    attach = document["paths"]["/api/v1/tags/attach/"]["post"]
    body = attach["requestBody"]["content"]["application/json"]["schema"]
    assert "$ref" in body
    assert set(attach["responses"]) >= {"200", "400", "401", "403", "413"}


def test_security_schemes_cover_both_header_forms(app: Flask) -> None:
    schemes = _document(app)["components"]["securitySchemes"]
    kinds = {(s["type"], s.get("in"), s.get("name"), s.get("scheme")) for s in schemes.values()}
    assert ("apiKey", "header", "x-api-key", None) in kinds
    assert ("http", None, None, "bearer") in kinds


def test_docs_page_needs_only_vendored_assets(app: Flask) -> None:
    client = app.test_client()
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.get_data(True)
    assets = [a for a in re.findall(r'(?:src|href)="([^"]+)"', html)
              if not a.startswith("data:")]
    assert assets and all(a.startswith("/static/") for a in assets), assets
    for asset in assets:
        assert (STATIC / asset.removeprefix("/static/")).is_file(), asset
        assert client.get(asset).status_code == 200
    assert "<script>" not in html  # the CSP forbids inline scripts
