"""The session cookie's flags and HSTS, with and without HTTPS configured."""

from __future__ import annotations

import pytest
from flask import Flask
from werkzeug.test import TestResponse

from tests.http import app_factory
from tests.http.app_factory import MakeApp
from tests.http.ui.conftest import csrf_token_in
from tests.unit.factories import PASSWORD, World, make_world

make_app = app_factory.make_app  # the fixture


@pytest.fixture
def world(app: Flask) -> World:
    return make_world()


def _session_cookie(response: TestResponse) -> list[str]:
    """The attributes of the ``session`` cookie the response sets, lower-cased."""
    for header in response.headers.getlist("Set-Cookie"):
        if header.startswith("session="):
            return [part.strip().lower() for part in header.split(";")[1:]]
    raise AssertionError(f"no session cookie in {response.headers.getlist('Set-Cookie')}")


def _sign_in(app: Flask) -> TestResponse:
    client = app.test_client()
    token = csrf_token_in(client.get("/login").get_data(True))
    # Over HTTPS Flask-WTF also wants a Referer from this site.
    response = client.post("/login", headers={"Referer": "https://localhost/login"},
                           data={"email": "editor@example.com", "password": PASSWORD,
                                 "csrf_token": token})
    assert response.status_code == 302, response.get_data(True)[-1500:]
    return response


def test_the_session_cookie_is_httponly_and_samesite_lax_and_not_secure_over_http(
        world: World, make_app: MakeApp) -> None:
    plain = make_app()
    for response in (plain.test_client().get("/login"), _sign_in(plain)):
        flags = _session_cookie(response)
        assert "httponly" in flags and "samesite=lax" in flags
        assert "secure" not in flags
        assert "Strict-Transport-Security" not in response.headers


@pytest.mark.parametrize("https", [{"TAGWRIGHT_HTTPS": True},
                                   {"PREFERRED_URL_SCHEME": "https"}],
                         ids=["TAGWRIGHT_HTTPS", "PREFERRED_URL_SCHEME"])
def test_under_https_the_cookie_is_secure_and_every_answer_carries_hsts(
        world: World, make_app: MakeApp, https: dict[str, object]) -> None:
    secure = make_app(**https)
    flags = _session_cookie(_sign_in(secure))
    assert {"httponly", "samesite=lax", "secure"} <= set(flags)
    client = secure.test_client()
    for url in ("/login", "/api/v1/tags", "/healthz", "/no-such-page"):
        response = client.get(url)
        assert response.headers["Strict-Transport-Security"] == "max-age=31536000", url


def test_https_comes_from_the_environment(world: World, make_app: MakeApp,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TAGWRIGHT_HTTPS", "true")
    secure = make_app()
    assert "secure" in _session_cookie(secure.test_client().get("/login"))
    assert "Strict-Transport-Security" in secure.test_client().get("/login").headers


def test_a_samesite_given_to_the_app_is_kept(world: World, make_app: MakeApp) -> None:
    strict = make_app(SESSION_COOKIE_SAMESITE="Strict")
    assert "samesite=strict" in _session_cookie(strict.test_client().get("/login"))
