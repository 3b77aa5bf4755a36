"""Fixtures for web-admin tests: signed-in test clients per role, and CSRF-aware posting.

``ui.client("editor")`` is a test client signed in as the editor of ``scope_acme`` (slug
``acme``).  ``ui.post(client, url, data)`` adds the CSRF token the way a form does;
``htmx=True`` sends it as the ``X-CSRFToken`` header with ``HX-Request: true`` instead.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask, g, request_started
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from werkzeug.test import TestResponse

from tests.unit.factories import PASSWORD, World, make_user, make_world

HX = {"HX-Request": "true"}
_TOKEN = re.compile(r'"X-CSRFToken": "([^"]+)"|name="csrf_token"[^>]*value="([^"]+)"')
EMAILS = {
    "manager": "manager@example.com",
    "editor": "editor@example.com",
    "viewer": "viewer@example.com",
    "outsider": "outsider@example.com",
    "admin": "admin@example.com",
}


def csrf_token_in(html: str) -> str:
    match = _TOKEN.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1) or match.group(2)


@dataclass
class UiWorld:
    app: Flask
    world: World
    _clients: dict[str, FlaskClient] = field(default_factory=dict)
    _tokens: dict[int, str] = field(default_factory=dict)

    @property
    def slug(self) -> str:
        return self.world.scope.slug

    def url(self, path: str) -> str:
        """``/s/<slug>/<path>`` for the world's scope."""
        return f"/s/{self.slug}/{path.lstrip('/')}"

    def client(self, role: str = "manager") -> FlaskClient:
        """A client signed in as that member (``admin`` is a site administrator)."""
        if role not in self._clients:
            if role == "admin":
                make_user(EMAILS["admin"], admin=True)
            client = self.app.test_client()
            sign_in(client, EMAILS[role])
            self._clients[role] = client
        return self._clients[role]

    def token(self, client: FlaskClient) -> str:
        """A valid CSRF token for the client's session (made as Flask-WTF makes it)."""
        if id(client) not in self._tokens:
            with client.session_transaction() as session:
                raw = session.setdefault("csrf_token", secrets.token_hex(20))
            signer = URLSafeTimedSerializer(self.app.secret_key, salt="wtf-csrf-token")
            self._tokens[id(client)] = str(signer.dumps(raw))
        return self._tokens[id(client)]

    def post(self, client: FlaskClient, url: str, data: dict[str, Any] | None = None, *,
             htmx: bool = False, method: str = "POST", **kwargs: Any) -> TestResponse:
        token = self.token(client)
        if htmx:
            headers = {**HX, "X-CSRFToken": token, **kwargs.pop("headers", {})}
            return client.open(url, method=method, data=data or {}, headers=headers, **kwargs)
        return client.open(url, method=method, data={**(data or {}), "csrf_token": token},
                           **kwargs)

    def get(self, client: FlaskClient, url: str, *, htmx: bool = False, **kwargs: Any
            ) -> TestResponse:
        headers = {**(HX if htmx else {}), **kwargs.pop("headers", {})}
        return client.get(url, headers=headers, **kwargs)


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD) -> TestResponse:
    token = csrf_token_in(client.get("/login").get_data(True))
    response = client.post("/login", data={"email": email, "password": password,
                                           "csrf_token": token})
    assert response.status_code == 302, response.get_data(True)[:500]
    return response


def _fresh_globals(_sender: Flask, **_extra: Any) -> None:
    """Start each request with an empty ``g``.  The test's pushed app context outlives the
    requests, so Flask-Login's cached user (and ``g.scope``) would leak from one client's
    request into the next client's."""
    for name in list(vars(g)):
        delattr(g, name)


@pytest.fixture
def ui(app: Flask) -> Iterator[UiWorld]:
    request_started.connect(_fresh_globals, app)
    try:
        yield UiWorld(app=app, world=make_world())
    finally:
        request_started.disconnect(_fresh_globals, app)
