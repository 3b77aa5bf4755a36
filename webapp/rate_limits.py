"""Rate limits (Flask-Limiter), and the client address they count by.

Four limits, each a Flask-Limiter rate string from the config (see
:func:`webapp.config.security_settings`):

- ``TAGWRIGHT_RATELIMIT_API``: API requests that authenticate, per key (counted by the
  key's lookup prefix, never the secret), over every API route together.
- ``TAGWRIGHT_RATELIMIT_API_ANON``: API requests that do not authenticate (no key, a bad
  or revoked key, a wrong ``X-User-ID``), per client address.  Once a client is over it,
  its API requests are refused before any key is looked up.
- ``TAGWRIGHT_RATELIMIT_LOGIN``: failed sign-ins per client address and e-mail, and
  ``TAGWRIGHT_RATELIMIT_LOGIN_CLIENT``: failed sign-ins per client address.  Only the
  client that failed is refused: nobody can lock an account from somewhere else.

Each request is checked before it is served and counted once its outcome is known: a key
only after it authenticated, so a stranger who knows a key's prefix cannot spend its
budget; a sign-in only when it failed.  (Under concurrency a window can overshoot by the
requests in flight.)  A refusal is 429 with ``Retry-After`` (seconds until the window that
refused it ends): in the API's error envelope, or as the sign-in form's error.

The sign-in limits are Flask-Limiter's own (``shared_limit`` with ``deduct_when``), its
request hooks bound to the sign-in blueprint.  The API is checked by a lean hook over the
same limiter's strategy and storage: two reads and one increment, ~25 µs a request on
``GET /api/v1/tags/{id}`` (~360 µs in all, through the test client), where Flask-Limiter's
own hooks cost ~75 µs on every request even with no limit to apply, and ~200 µs with the
API's two limits.

The counters live in ``TAGWRIGHT_RATELIMIT_STORAGE_URI``: ``memory://`` (each process
counts alone) or ``redis://`` / ``redis+unix://`` (every process and host that shares it
shares the counters).  Should the storage fail, requests are let through and the error
is logged: an outage of Redis does not take the site down.

The client address is the socket's peer unless ``TAGWRIGHT_TRUSTED_PROXIES`` says how many
proxies in front set ``X-Forwarded-For`` and ``X-Forwarded-Proto`` (werkzeug's ProxyFix).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, current_app, g, request
from flask_limiter import Limiter, RateLimitExceeded
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from werkzeug.middleware.proxy_fix import ProxyFix

from webapp.api.errors import error_response
from webapp.services.api_keys import parse_token
from webapp.services.errors import RateLimited

log = logging.getLogger(__name__)

KEY_PREFIX = "tagwright"
EXTENSION = "tagwright_limiter"
SIGN_IN_BLUEPRINT = "auth"
SIGN_IN_ENDPOINT = "auth.login"
REDIS_TIMEOUTS = {"socket_connect_timeout": 1, "socket_timeout": 1}  # seconds


def client_address() -> str:
    """The client a request counts against: the socket's peer, or the address the trusted
    proxies forwarded."""
    return request.remote_addr or "unknown"


def _presented_prefix() -> str:
    """The lookup prefix of the key the request carries ('' when it carries no
    well-formed key)."""
    token = request.headers.get("X-API-Key")
    if not token:
        scheme, _, credentials = request.headers.get("Authorization", "").strip().partition(" ")
        token = credentials if scheme.lower() == "bearer" else ""
    return parse_token(token.strip()) or ""


class SweptMemoryStorage(MemoryStorage):
    """``memory://`` without its timer thread: limits' MemoryStorage starts a thread on an
    increment whenever its 10 ms expiry timer is not running, which under load is every
    few requests (~70 µs a request, measured on ``GET /api/v1/tags/{id}``).  Counters past
    their window are ignored on read as there; here they are also dropped inline, at most
    once a second."""

    STORAGE_SCHEME = ["tagwright-memory"]
    SWEEP_INTERVAL = 1.0  # seconds

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False,
                 **options: Any) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.next_sweep = time.time() + self.SWEEP_INTERVAL

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        now = time.time()
        if now >= self.next_sweep:
            self.next_sweep = now + self.SWEEP_INTERVAL
            for stale in [k for k, at in self.expirations.items() if at <= now]:
                self.clear(stale)
        self.get(key)
        with self.locks[key]:
            self.storage[key] += amount
            if self.storage[key] == amount:
                self.expirations[key] = now + expiry
            return self.storage[key]


def _storage_uri(configured: str) -> str:
    return "tagwright-memory://" if configured.strip() == "memory://" else configured


def _limits(app: Flask, name: str) -> str:
    value = str(app.config[name])
    try:
        parse_many(value)
    except ValueError as error:
        raise ValueError(f"{name}: {error} (e.g. '600 per minute', '5 per 15 minutes')"
                         ) from error
    return value


def _seconds_until(reset_at: float) -> int:
    return max(1, math.ceil(reset_at - time.time()))


# --- the API ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ApiLimits:
    """The API's two limits, checked before each API request and counted after it."""

    limiter: Limiter
    per_key: Sequence[RateLimitItem]
    per_client: Sequence[RateLimitItem]

    def _refusal(self, items: Sequence[RateLimitItem], scope: str, who: str
                 ) -> tuple[RateLimitItem, float] | None:
        strategy = self.limiter.limiter
        for item in items:
            if not strategy.test(item, KEY_PREFIX, scope, who):
                return item, strategy.get_window_stats(item, KEY_PREFIX, scope, who).reset_time
        return None

    def check(self) -> Response | None:
        """Before an API request: 429 when its client or its key is over the limit."""
        if request.blueprint != "api":
            return None
        g.rate_limit_key = prefix = _presented_prefix()
        try:
            refused = self._refusal(self.per_client, "api-anon", client_address())
            message = "too many requests without a valid API key from this client"
            if refused is None and prefix:
                refused = self._refusal(self.per_key, "api-key", prefix)
                message = "too many requests for this API key"
        except Exception:  # the storage failed: serve the request
            log.exception("rate limit storage failed; the request is not limited")
            return None
        if refused is None:
            return None
        item, reset_at = refused
        seconds = _seconds_until(reset_at)
        return error_response(429, "RATE_LIMITED",
                              f"{message} ({item}); try again in {seconds} seconds",
                              headers={"Retry-After": str(seconds)})

    def count(self, response: Response) -> Response:
        """After an API request: count it against its key when it authenticated, else
        against its client (a refusal is not counted again)."""
        if request.blueprint != "api" or response.status_code == 429:
            return response
        if "api_caller" in g:
            items, scope, who = self.per_key, "api-key", g.rate_limit_key
        else:
            items, scope, who = self.per_client, "api-anon", client_address()
        try:
            strategy = self.limiter.limiter
            for item in items:
                strategy.hit(item, KEY_PREFIX, scope, who)
        except Exception:
            log.exception("rate limit storage failed; the request is not counted")
        return response


# --- the sign-in form ---------------------------------------------------------------------


def _client_and_email() -> str:
    email = request.form.get("email", "").strip().lower()[:254]
    return f"{client_address()}|{email}"


def _not_sign_in() -> bool:
    return request.endpoint != SIGN_IN_ENDPOINT


def _sign_in_failed(response: Response) -> bool:
    return response.status_code not in (302, 303, 429)


def _refused_sign_in(error: RateLimitExceeded) -> Any:
    from webapp.ui.auth import refuse_sign_in

    limiter: Limiter = current_app.extensions[EXTENSION]
    refused = limiter.current_limit
    seconds = _seconds_until(refused.window.reset_time) if refused is not None else 1
    return refuse_sign_in(RateLimited(f"{error.description}; try again in {seconds} seconds",
                                      seconds))


def _bind_hooks_to_blueprint(app: Flask, blueprint: str, register: Callable[[], None]
                             ) -> None:
    """Run ``register`` and move the app-wide request hooks it added to ``blueprint``."""
    tables = (app.before_request_funcs, app.after_request_funcs, app.teardown_request_funcs)
    counts = [len(table.get(None, ())) for table in tables]
    register()
    for table, count in zip(tables, counts, strict=True):
        added = table.get(None, [])[count:]
        if added:
            del table[None][count:]
            table.setdefault(blueprint, []).extend(added)


def init_app(app: Flask) -> None:
    """Trust the configured proxies, and put the limits on the API and the sign-in form
    (after the blueprints are registered)."""
    proxies = int(app.config["TAGWRIGHT_TRUSTED_PROXIES"])
    if proxies > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]
    limits = {name: _limits(app, name) for name in (
        "TAGWRIGHT_RATELIMIT_API", "TAGWRIGHT_RATELIMIT_API_ANON",
        "TAGWRIGHT_RATELIMIT_LOGIN", "TAGWRIGHT_RATELIMIT_LOGIN_CLIENT")}
    if not app.config["TAGWRIGHT_RATELIMIT_ENABLED"]:
        return
    storage_uri = _storage_uri(str(app.config["TAGWRIGHT_RATELIMIT_STORAGE_URI"]))
    limiter = Limiter(
        client_address,
        storage_uri=storage_uri,
        storage_options=REDIS_TIMEOUTS if storage_uri.startswith("redis") else {},
        strategy="fixed-window",
        key_prefix=KEY_PREFIX,
        swallow_errors=True,
    )
    sign_in = app.blueprints[SIGN_IN_BLUEPRINT]
    limiter.shared_limit(limits["TAGWRIGHT_RATELIMIT_LOGIN"], "login",
                         key_func=_client_and_email, methods=["POST"],
                         exempt_when=_not_sign_in, deduct_when=_sign_in_failed,
                         error_message="too many failed sign-ins for this e-mail from this "
                                       "client")(sign_in)
    limiter.shared_limit(limits["TAGWRIGHT_RATELIMIT_LOGIN_CLIENT"], "login-client",
                         methods=["POST"], exempt_when=_not_sign_in,
                         deduct_when=_sign_in_failed,
                         error_message="too many failed sign-ins from this client")(sign_in)
    _bind_hooks_to_blueprint(app, SIGN_IN_BLUEPRINT, lambda: limiter.init_app(app))
    app.extensions[EXTENSION] = limiter
    app.register_error_handler(RateLimitExceeded, _refused_sign_in)

    api = ApiLimits(limiter, parse_many(limits["TAGWRIGHT_RATELIMIT_API"]),
                    parse_many(limits["TAGWRIGHT_RATELIMIT_API_ANON"]))
    app.before_request(api.check)
    app.after_request(api.count)
