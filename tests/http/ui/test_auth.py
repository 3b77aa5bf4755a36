"""Sign-in, sign-out, session replay, and the login requirement (failed sign-ins are
rate-limited: tests/http/test_rate_limits.py)."""

from __future__ import annotations

from flask import Flask

from tests.http.ui.conftest import HX, UiWorld, csrf_token_in, sign_in
from tests.unit.factories import PASSWORD


def _login(client, email: str, password: str):  # type: ignore[no-untyped-def]
    token = csrf_token_in(client.get("/login").get_data(True))
    return client.post("/login", data={"email": email, "password": password,
                                       "csrf_token": token})


def test_login_page_renders_a_form_with_csrf(app: Flask) -> None:
    response = app.test_client().get("/login")
    assert response.status_code == 200
    html = response.get_data(True)
    assert 'name="email"' in html and 'name="password"' in html and "csrf_token" in html


def test_wrong_password_shows_an_error_beside_the_password(ui: UiWorld) -> None:
    client = ui.app.test_client()
    response = _login(client, "editor@example.com", "wrong-password")
    assert response.status_code == 422
    html = response.get_data(True)
    assert 'id="password-errors"' in html and "wrong" in html
    assert 'value="editor@example.com"' in html  # what was typed is kept


def test_sign_in_makes_a_new_session_and_sign_out_kills_it(ui: UiWorld) -> None:
    client = ui.app.test_client()
    client.get("/login")
    before = client.get_cookie("session")
    response = sign_in(client, "editor@example.com")
    assert response.location.endswith(f"/s/{ui.slug}/tags")
    after = client.get_cookie("session")
    assert after is not None and (before is None or after.value != before.value)
    copied = after.value

    ui._clients["editor"] = client
    response = ui.post(client, "/logout")
    assert response.status_code == 302 and response.location.endswith("/login")

    replay = ui.app.test_client()
    replay.set_cookie("session", copied)
    response = replay.get(ui.url("tags"))
    assert response.status_code == 302 and "/login" in response.location


def test_pages_need_a_session_and_htmx_gets_a_redirect_header(ui: UiWorld) -> None:
    client = ui.app.test_client()
    response = client.get(ui.url("tags"))
    assert response.status_code == 302 and "/login?next=" in response.location
    response = client.get(ui.url("tags"), headers=HX)
    assert response.status_code == 401 and "/login" in response.headers["HX-Redirect"]


def test_next_is_followed_only_within_the_site(ui: UiWorld) -> None:
    client = ui.app.test_client()
    token = csrf_token_in(client.get("/login").get_data(True))
    response = client.post("/login?next=//evil.example/x", data={
        "email": "viewer@example.com", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302 and "evil" not in response.location


def test_login_without_csrf_token_is_refused(ui: UiWorld) -> None:
    client = ui.app.test_client()
    response = client.post("/login", data={"email": "editor@example.com",
                                           "password": PASSWORD})
    assert response.status_code == 400
    assert client.get(ui.url("tags")).status_code == 302


def test_security_headers(app: Flask) -> None:
    response = app.test_client().get("/login")
    csp = response.headers["Content-Security-Policy"]
    script_src = csp.split("script-src")[1].split(";")[0]
    assert script_src.strip() == "'self'"
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "HX-Request" in response.headers["Vary"]
