"""Rate limits (webapp.rate_limits): per API key, per client without a valid key, failed
sign-ins per client and e-mail and per client; 429 with Retry-After; trusted proxies; the
switch; the counters shared through a real Redis by two apps.

Each test makes an app of its own with small limits (the session's app has them off).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask, request
from flask.testing import FlaskClient
from sqlalchemy import event
from werkzeug.test import TestResponse

from tests.http import app_factory
from tests.http.api.conftest import error_of
from tests.http.app_factory import MakeApp
from tests.http.ui.conftest import csrf_token_in
from tests.redis_server import RedisServer, find_redis_server
from tests.unit.factories import PASSWORD, SYSTEM, World, make_world
from webapp import config
from webapp.extensions import db
from webapp.services.api_keys import create_api_key

make_app = app_factory.make_app  # the fixture
A, B = "192.0.2.10", "198.51.100.20"  # two client addresses (documentation ranges)
UNUSED_PREFIX_KEY = "tw_abcdefghij_not-a-real-secret"


@pytest.fixture
def world(app: Flask) -> World:
    return make_world()


def _key(world: World) -> str:
    assert world.manager.user_id is not None
    return create_api_key(SYSTEM, user_id=world.manager.user_id, scope_id=world.sid,
                          name="limited", permissions=("tags.read",))[1]


def _client(app: Flask, address: str = A) -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def _list_tags(client: FlaskClient, key: str | None, **headers: str) -> TestResponse:
    sent = {"x-api-key": key} if key else {}
    return client.get("/api/v1/tags", headers={**sent, **headers})


def _retry_after(response: TestResponse, window: int) -> int:
    seconds = int(response.headers["Retry-After"])
    assert 1 <= seconds <= window
    return seconds


def _assert_rate_limited(response: TestResponse, window: int = 60) -> dict[str, Any]:
    assert response.status_code == 429, response.get_data(True)[:300]
    seconds = _retry_after(response, window)
    error = error_of(response)
    assert error["code"] == "RATE_LIMITED"
    assert f"try again in {seconds} seconds" in error["message"]
    return error


def _sign_in(client: FlaskClient, email: str, password: str) -> TestResponse:
    token = csrf_token_in(client.get("/login").get_data(True))
    return client.post("/login", data={"email": email, "password": password,
                                       "csrf_token": token})


# --- the API ------------------------------------------------------------------------------


def test_a_key_over_its_limit_gets_429_with_retry_after_and_the_envelope(
        world: World, make_app: MakeApp) -> None:
    limited = make_app(TAGWRIGHT_RATELIMIT_API="3 per minute")
    key, other_key = _key(world), _key(world)
    client = _client(limited)
    for _ in range(3):
        assert _list_tags(client, key).status_code == 200
    error = _assert_rate_limited(_list_tags(client, key))
    assert "API key" in error["message"] and "3 per 1 minute" in error["message"]
    assert _list_tags(client, key, **{"X-Requested": "again"}).status_code == 429
    # Per key, not per client: another key from the same client is served.
    assert _list_tags(client, other_key).status_code == 200
    # Every route shares the key's budget.
    assert client.get("/api/v1/tag-groups", headers={"x-api-key": key}).status_code == 429


def test_the_key_limit_counts_the_bearer_header_too(world: World, make_app: MakeApp) -> None:
    limited = make_app(TAGWRIGHT_RATELIMIT_API="2 per minute")
    key = _key(world)
    client = _client(limited)
    assert _list_tags(client, key).status_code == 200
    assert _list_tags(client, None, Authorization=f"Bearer {key}").status_code == 200
    _assert_rate_limited(_list_tags(client, None, Authorization=f"Bearer {key}"))


def test_a_strangers_wrong_secrets_do_not_spend_a_keys_budget(
        world: World, make_app: MakeApp) -> None:
    limited = make_app(TAGWRIGHT_RATELIMIT_API="3 per minute",
                       TAGWRIGHT_RATELIMIT_API_ANON="100 per minute")
    key = _key(world)
    prefix, _, _ = key.removeprefix("tw_").partition("_")
    stranger = _client(limited, B)
    for _ in range(10):
        assert _list_tags(stranger, f"tw_{prefix}_wrong-secret").status_code == 401
    owner = _client(limited, A)
    for _ in range(3):
        assert _list_tags(owner, key).status_code == 200
    _assert_rate_limited(_list_tags(owner, key))


def test_a_burst_of_bad_keys_from_one_client_gets_429_before_any_key_is_looked_up(
        world: World, make_app: MakeApp) -> None:
    limited = make_app(TAGWRIGHT_RATELIMIT_API_ANON="4 per minute")
    client = _client(limited, A)
    answers = [_list_tags(client, UNUSED_PREFIX_KEY).status_code,
               _list_tags(client, "garbage").status_code,
               _list_tags(client, None).status_code,
               _list_tags(client, UNUSED_PREFIX_KEY).status_code]
    assert answers == [401, 401, 401, 401]
    statements: list[str] = []
    with limited.app_context():
        engine = db.engine

    def on_execute(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        error = _assert_rate_limited(_list_tags(client, UNUSED_PREFIX_KEY))
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
    assert statements == []
    assert "without a valid API key" in error["message"]
    # Another client is not affected; a good key from this client waits too.
    assert _list_tags(_client(limited, B), UNUSED_PREFIX_KEY).status_code == 401
    assert _list_tags(client, _key(world)).status_code == 429


def test_refusals_are_not_counted_again(world: World, make_app: MakeApp) -> None:
    """A key hammering past its limit does not also fill its client's no-key budget."""
    limited = make_app(TAGWRIGHT_RATELIMIT_API="1 per minute",
                       TAGWRIGHT_RATELIMIT_API_ANON="2 per minute")
    client = _client(limited)
    key = _key(world)
    assert _list_tags(client, key).status_code == 200
    for _ in range(5):
        assert _list_tags(client, key).status_code == 429
    assert _list_tags(client, None).status_code == 401
    assert _list_tags(client, None).status_code == 401
    assert _list_tags(client, None).status_code == 429


# --- the sign-in form ---------------------------------------------------------------------


def test_failures_from_one_client_never_block_the_right_password_from_another(
        world: World, make_app: MakeApp) -> None:
    limited = make_app(TAGWRIGHT_RATELIMIT_LOGIN="3 per 15 minutes",
                       TAGWRIGHT_RATELIMIT_LOGIN_CLIENT="50 per 15 minutes")
    stranger = _client(limited, A)
    for _ in range(3):
        assert _sign_in(stranger, "editor@example.com", "guess").status_code == 422
    refused = _sign_in(stranger, "editor@example.com", PASSWORD)  # right, but from A
    assert refused.status_code == 429
    _retry_after(refused, 15 * 60)
    html = refused.get_data(True)
    assert "too many failed sign-ins for this e-mail from this client" in html
    assert 'id="login-form"' in html and 'value="editor@example.com"' in html
    assert stranger.get(f"/s/{world.scope.slug}/tags").status_code == 302  # not signed in
    # The account's owner, elsewhere, signs in; the stranger may still try other accounts.
    assert _sign_in(_client(limited, B), "editor@example.com", PASSWORD).status_code == 302
    assert _sign_in(stranger, "viewer@example.com", PASSWORD).status_code == 302


def test_a_client_is_capped_across_accounts(world: World, make_app: MakeApp) -> None:
    limited = make_app(TAGWRIGHT_RATELIMIT_LOGIN="100 per 15 minutes",
                       TAGWRIGHT_RATELIMIT_LOGIN_CLIENT="3 per 15 minutes")
    sprayer = _client(limited, A)
    for email in ("manager@example.com", "editor@example.com", "nobody@example.com"):
        assert _sign_in(sprayer, email, "guess").status_code == 422
    refused = _sign_in(sprayer, "viewer@example.com", PASSWORD)
    assert refused.status_code == 429
    assert "too many failed sign-ins from this client" in refused.get_data(True)
    _retry_after(refused, 15 * 60)
    assert _sign_in(_client(limited, B), "viewer@example.com", PASSWORD).status_code == 302


def test_only_failed_sign_ins_count(world: World, make_app: MakeApp) -> None:
    limited = make_app(TAGWRIGHT_RATELIMIT_LOGIN="1 per 15 minutes",
                       TAGWRIGHT_RATELIMIT_LOGIN_CLIENT="1 per 15 minutes")
    for _ in range(3):
        client = _client(limited, A)
        assert _sign_in(client, "editor@example.com", PASSWORD).status_code == 302
        assert client.get("/login").status_code == 302  # pages are not counted either


def test_the_htmx_sign_in_form_gets_the_fragment_with_the_refusal(
        world: World, make_app: MakeApp) -> None:
    limited = make_app(TAGWRIGHT_RATELIMIT_LOGIN="1 per 15 minutes")
    client = _client(limited, A)
    assert _sign_in(client, "editor@example.com", "guess").status_code == 422
    token = csrf_token_in(client.get("/login").get_data(True))
    refused = client.post("/login", headers={"HX-Request": "true"}, data={
        "email": "editor@example.com", "password": PASSWORD, "csrf_token": token})
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    html = refused.get_data(True)
    assert html.lstrip().startswith('<form id="login-form"') and "too many" in html


# --- client addresses, the switch, the settings --------------------------------------------


def test_forwarded_addresses_are_ignored_unless_proxies_are_trusted(
        world: World, make_app: MakeApp) -> None:
    direct = make_app(TAGWRIGHT_RATELIMIT_API_ANON="2 per minute")
    client = _client(direct, A)
    for forwarded in ("203.0.113.1", "203.0.113.2"):
        assert _list_tags(client, None, **{"X-Forwarded-For": forwarded}).status_code == 401
    _assert_rate_limited(_list_tags(client, None, **{"X-Forwarded-For": "203.0.113.3"}))

    proxied = make_app(TAGWRIGHT_RATELIMIT_API_ANON="2 per minute",
                       TAGWRIGHT_TRUSTED_PROXIES=1)
    proxy = _client(proxied, A)  # every request arrives from the proxy's address
    for _ in range(2):
        assert _list_tags(proxy, None, **{"X-Forwarded-For": "203.0.113.1"}).status_code == 401
    _assert_rate_limited(_list_tags(proxy, None, **{"X-Forwarded-For": "203.0.113.1"}))
    assert _list_tags(proxy, None, **{"X-Forwarded-For": "203.0.113.2"}).status_code == 401
    # Only the last hop is trusted: a client cannot prepend an address of its choice.
    spoofed = {"X-Forwarded-For": "198.51.100.99, 203.0.113.1"}
    assert _list_tags(proxy, None, **spoofed).status_code == 429


def test_trusted_proxies_also_carry_the_scheme(make_app: MakeApp) -> None:
    seen: list[str] = []
    for proxies in (1, 0):
        probed = make_app(TAGWRIGHT_TRUSTED_PROXIES=proxies)
        probed.before_request(lambda: seen.append(request.scheme))
        _client(probed).get("/login", headers={"X-Forwarded-Proto": "https"})
    assert seen == ["https", "http"]


def test_flask_limiters_request_hooks_run_for_the_sign_in_pages_only(
        make_app: MakeApp) -> None:
    """Its hooks cost ~75 µs a request even where no limit applies: not on the API."""
    limited = make_app()
    check = limited.extensions["tagwright_limiter"]._check_request_limit
    assert check in limited.before_request_funcs["auth"]
    assert check not in limited.before_request_funcs[None]
    assert check not in limited.before_request_funcs.get("api", [])


def test_limits_can_be_switched_off(world: World, make_app: MakeApp) -> None:
    unlimited = make_app(TAGWRIGHT_RATELIMIT_ENABLED=False,
                         TAGWRIGHT_RATELIMIT_API="1 per minute",
                         TAGWRIGHT_RATELIMIT_API_ANON="1 per minute",
                         TAGWRIGHT_RATELIMIT_LOGIN="1 per minute")
    client = _client(unlimited)
    key = _key(world)
    assert {_list_tags(client, key).status_code for _ in range(5)} == {200}
    assert {_list_tags(client, None).status_code for _ in range(5)} == {401}
    assert {_sign_in(client, "editor@example.com", "guess").status_code
            for _ in range(3)} == {422}


def test_a_malformed_limit_stops_the_app_naming_the_setting(make_app: MakeApp) -> None:
    with pytest.raises(ValueError, match="TAGWRIGHT_RATELIMIT_API_ANON"):
        make_app(TAGWRIGHT_RATELIMIT_API_ANON="lots per minute")


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*config.RATE_LIMIT_DEFAULTS, "TAGWRIGHT_RATELIMIT_ENABLED",
                 "TAGWRIGHT_TRUSTED_PROXIES", "TAGWRIGHT_HTTPS"):
        monkeypatch.delenv(name, raising=False)
    defaults = config.security_settings()
    assert defaults["TAGWRIGHT_RATELIMIT_API"] == "600 per minute"
    assert defaults["TAGWRIGHT_RATELIMIT_STORAGE_URI"] == "memory://"
    assert defaults["TAGWRIGHT_RATELIMIT_ENABLED"] is True
    assert defaults["TAGWRIGHT_TRUSTED_PROXIES"] == 0 and defaults["TAGWRIGHT_HTTPS"] is False

    monkeypatch.setenv("TAGWRIGHT_RATELIMIT_API", "10 per second")
    monkeypatch.setenv("TAGWRIGHT_RATELIMIT_ENABLED", "off")
    monkeypatch.setenv("TAGWRIGHT_TRUSTED_PROXIES", "2")
    monkeypatch.setenv("TAGWRIGHT_HTTPS", "TRUE")
    settings = config.security_settings()
    assert settings["TAGWRIGHT_RATELIMIT_API"] == "10 per second"
    assert settings["TAGWRIGHT_RATELIMIT_ENABLED"] is False
    assert settings["TAGWRIGHT_TRUSTED_PROXIES"] == 2 and settings["TAGWRIGHT_HTTPS"] is True

    monkeypatch.setenv("TAGWRIGHT_TRUSTED_PROXIES", "-1")
    with pytest.raises(ValueError, match="TAGWRIGHT_TRUSTED_PROXIES"):
        config.security_settings()
    monkeypatch.setenv("TAGWRIGHT_TRUSTED_PROXIES", "1")
    monkeypatch.setenv("TAGWRIGHT_HTTPS", "maybe")
    with pytest.raises(ValueError, match="TAGWRIGHT_HTTPS"):
        config.security_settings()


# --- Redis --------------------------------------------------------------------------------


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    """A throwaway redis-server for this module.  Missing: a failure under CI=true, else a
    skip that says how to install it."""
    if find_redis_server() is None:
        message = ("redis-server is not installed (apt-get install redis-server, or run "
                   "scripts/ensure-system-packages.sh as root)")
        if _in_ci():
            pytest.fail(f"CI=true: {message}", pytrace=False)
        pytest.skip(message)
    server = RedisServer()
    try:
        yield server.start()
    finally:
        server.stop()


def test_two_apps_on_one_redis_share_the_counters(
        world: World, make_app: MakeApp, redis_url: str) -> None:
    settings = {"TAGWRIGHT_RATELIMIT_STORAGE_URI": redis_url,
                "TAGWRIGHT_RATELIMIT_API": "4 per minute",
                "TAGWRIGHT_RATELIMIT_LOGIN": "2 per 15 minutes"}
    first, second = make_app(**settings), make_app(**settings)
    key = _key(world)
    for app in (first, second, first, second):
        assert _list_tags(_client(app), key).status_code == 200
    _assert_rate_limited(_list_tags(_client(first), key))
    _assert_rate_limited(_list_tags(_client(second), key))

    assert _sign_in(_client(first, A), "editor@example.com", "guess").status_code == 422
    assert _sign_in(_client(second, A), "editor@example.com", "guess").status_code == 422
    assert _sign_in(_client(first, A), "editor@example.com", PASSWORD).status_code == 429
    assert _sign_in(_client(second, B), "editor@example.com", PASSWORD).status_code == 302


def test_an_unreachable_storage_lets_requests_through(
        world: World, make_app: MakeApp, tmp_path: Any) -> None:
    gone = tmp_path / "gone.sock"
    with socket.socket(socket.AF_UNIX) as sock:  # a socket file nobody listens on
        sock.bind(str(gone))
    limited = make_app(TAGWRIGHT_RATELIMIT_STORAGE_URI=f"redis+unix://{gone}",
                       TAGWRIGHT_RATELIMIT_API="1 per minute",
                       TAGWRIGHT_RATELIMIT_LOGIN="1 per minute")
    client = _client(limited)
    key = _key(world)
    assert [_list_tags(client, key).status_code for _ in range(3)] == [200, 200, 200]
    assert _list_tags(client, None).status_code == 401
    assert _sign_in(client, "editor@example.com", "guess").status_code == 422
    assert _sign_in(client, "editor@example.com", PASSWORD).status_code == 302
