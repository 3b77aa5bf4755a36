"""Fixtures for API tests: a world of scopes and members, and keys to call with.

``api.call("POST", "/api/v1/tags", json=..., token=api.editor)`` sends the key as
``x-api-key``; ``header="bearer"`` sends ``Authorization: Bearer`` instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.unit.factories import SYSTEM, World, make_world
from webapp.services.actor import API_KEY_PERMISSIONS, Actor
from webapp.services.api_keys import create_api_key

ALL_KEY_PERMISSIONS = tuple(p.value for p in API_KEY_PERMISSIONS)
TAG_PERMISSIONS = ("tags.read", "tags.create", "tags.write", "tags.delete")


@dataclass
class ApiWorld:
    """Scope ``scope_acme`` with a manager, editor and viewer key, and an outsider's key
    for ``scope_beta``."""

    world: World
    client: FlaskClient
    manager: str = ""  # every key permission
    editor: str = ""  # the four tag permissions
    viewer: str = ""  # tags.read
    outsider: str = ""  # editor of scope_beta
    _made: dict[tuple[str, ...], str] = field(default_factory=dict)

    def token(self, *permissions: str, owner: Actor | None = None,
              scope_id: int | None = None) -> str:
        """A key carrying exactly ``permissions`` (owned by the manager by default)."""
        owner = owner or self.world.manager
        assert owner.user_id is not None
        _, token = create_api_key(SYSTEM, user_id=owner.user_id,
                                  scope_id=scope_id or self.world.sid,
                                  name="test key", permissions=permissions)
        return token

    def call(self, method: str, path: str, *, token: str | None = None,
             header: str = "x-api-key", json: Any = None, data: Any = None,
             query_string: Any = None, headers: dict[str, str] | None = None
             ) -> TestResponse:
        sent = dict(headers or {})
        key = self.manager if token is None else token
        if key:
            if header == "bearer":
                sent["Authorization"] = f"Bearer {key}"
            else:
                sent[header] = key
        return self.client.open(path, method=method, json=json, data=data,
                                query_string=query_string, headers=sent)

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> TestResponse:
        return self.call("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> TestResponse:
        return self.call("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> TestResponse:
        return self.call("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> TestResponse:
        return self.call("DELETE", path, **kwargs)


@pytest.fixture
def api(app: Flask) -> Iterator[ApiWorld]:
    """The ``app`` fixture's context is pushed, so requests share the test's session."""
    world = make_world()
    result = ApiWorld(world=world, client=app.test_client())
    result.manager = result.token(*ALL_KEY_PERMISSIONS)
    result.editor = result.token(*TAG_PERMISSIONS, owner=world.editor)
    result.viewer = result.token("tags.read", owner=world.viewer)
    result.outsider = result.token(*TAG_PERMISSIONS, owner=world.outsider,
                                   scope_id=world.other_scope.id)
    yield result


def error_of(response: TestResponse) -> dict[str, Any]:
    """The ``error`` object of an error response, after checking the shape."""
    body = response.get_json()
    assert isinstance(body, dict) and set(body) == {"error"}, body
    error = body["error"]
    assert isinstance(error["code"], str) and isinstance(error["message"], str)
    assert isinstance(error["details"], list)
    return error
