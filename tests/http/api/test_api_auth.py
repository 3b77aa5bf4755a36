"""Authentication on every API route, found by walking the URL map (so a new route is
covered the day it is added): no key, a malformed key, a wrong secret, a revoked key → 401;
``x-api-key``, ``X-API-Key`` and ``Authorization: Bearer`` all work; ``X-User-ID`` must
name the key's owner; and the session cookie of the web admin is never accepted."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask

from tests.http.api.conftest import ApiWorld, error_of
from tests.unit.factories import SYSTEM
from webapp.services.api_keys import list_api_keys, revoke_api_key

PUBLIC = {"/api/v1/docs", "/api/v1/openapi.json"}
SAMPLE_VALUES = {"type": "datasource", "model_type": "datasource"}


def _sample(match: re.Match[str]) -> str:
    converter, options, name = match.groups()
    if converter == "any" and options:
        return options.split(",")[0].strip()
    if converter == "int":  # a policy or rule id: the route matches a number only
        return "1"
    return SAMPLE_VALUES.get(name, "x1")


def api_routes(app: Flask) -> Iterator[tuple[str, str]]:
    """(method, concrete path) for every API route, parameters filled with samples."""
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1") or rule.rule in PUBLIC:
            continue
        path = re.sub(r"<(?:([^:<>(]+)(?:\(([^)]*)\))?:)?([^<>:]+)>", _sample, rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield method, path


def test_the_walk_finds_the_api(app: Flask) -> None:
    routes = set(api_routes(app))
    assert ("GET", "/api/v1/tags") in routes
    assert len(routes) >= 10


@pytest.mark.parametrize("headers", [
    {},
    {"x-api-key": ""},
    {"x-api-key": "not-a-key"},
    {"x-api-key": "tw_aaaaaaaaaa_wrongsecret"},
    {"Authorization": "Bearer tw_aaaaaaaaaa_wrongsecret"},
    {"Authorization": "Basic dXNlcjpwYXNz"},
], ids=["none", "empty", "malformed", "unknown", "bearer-unknown", "basic"])
def test_every_route_refuses_a_missing_or_bad_key(api: ApiWorld, headers: dict[str, str]
                                                  ) -> None:
    for method, path in api_routes(api.client.application):
        response = api.client.open(path, method=method, headers=headers, json={})
        assert response.status_code == 401, (method, path, response.status_code)
        assert error_of(response)["code"] == "UNAUTHENTICATED"
        assert "WWW-Authenticate" in response.headers


def test_a_wrong_secret_for_a_real_prefix_is_refused(api: ApiWorld) -> None:
    prefix = api.manager.split("_")[1]
    response = api.get("/api/v1/tags", token=f"tw_{prefix}_{'x' * 43}")
    assert response.status_code == 401


def test_a_revoked_key_is_refused_on_every_route(api: ApiWorld) -> None:
    key = list_api_keys(SYSTEM, scope_id=api.world.sid)[0]
    token = {k: v for k, v in vars(api).items() if isinstance(v, str)}
    revoke_api_key(SYSTEM, key.id)
    revoked = next(t for t in token.values() if t and t.split("_")[1] == key.prefix)
    for method, path in api_routes(api.client.application):
        response = api.call(method, path, token=revoked, json={})
        assert response.status_code == 401, (method, path)


@pytest.mark.parametrize("form", ["x-api-key", "X-API-Key", "bearer"])
def test_each_header_form_authenticates(api: ApiWorld, form: str) -> None:
    response = api.get("/api/v1/tags", header=form)
    assert response.status_code == 200, response.get_json()


def test_two_different_keys_in_one_request_are_refused(api: ApiWorld) -> None:
    response = api.client.get("/api/v1/tags", headers={
        "x-api-key": api.manager, "Authorization": f"Bearer {api.editor}"})
    assert response.status_code == 401


def test_x_user_id_must_name_the_owner(api: ApiWorld) -> None:
    from webapp.extensions import db
    from webapp.models import User

    owner = db.session.get(User, api.world.manager.user_id)
    assert owner is not None
    for claimed in (owner.public_id, str(owner.id), owner.email.upper()):
        response = api.get("/api/v1/tags", headers={"X-User-ID": claimed})
        assert response.status_code == 200, claimed
    response = api.get("/api/v1/tags", headers={"X-User-ID": "user-123"})
    assert response.status_code == 403
    assert error_of(response)["code"] == "PERMISSION_DENIED"


def test_the_session_cookie_is_not_an_api_credential(api: ApiWorld) -> None:
    from tests.http.ui.conftest import sign_in

    client = api.client.application.test_client()
    sign_in(client, "manager@example.com")
    assert client.get("/api/v1/tags").status_code == 401


def test_api_writes_need_no_csrf_token(api: ApiWorld) -> None:
    response = api.post("/api/v1/tags", json={"name": "csrf-free"})
    assert response.status_code == 201, response.get_json()
