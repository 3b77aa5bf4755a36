"""Who is signed in: Flask-Login backed by server-side session rows.

The Flask-Login "user id" kept in the signed cookie is the session token, so each request
resolves it through :func:`webapp.services.sessions.session_user`; a signed-out token
resolves to nobody.  Every page except sign-in, static files, the health check and the API
(which has its own key authentication) requires a session.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, Request, Response, redirect, request, url_for
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from flask_login import current_user

from webapp.models import User
from webapp.services.actor import Actor
from webapp.services.sessions import session_user
from webapp.ui.extensions import login_manager
from webapp.url_layout import in_api

# Endpoints reachable without signing in (the API checks its keys itself).
PUBLIC_ENDPOINTS = frozenset({"static", "auth.login", "health.healthz"})
PUBLIC_BLUEPRINTS = frozenset({"api"})


@dataclass(eq=False)
class SignedIn:
    """The Flask-Login user: a database user plus the session token it signed in with."""

    user: User
    token: str
    is_authenticated: bool = True
    is_active: bool = True
    is_anonymous: bool = False

    def get_id(self) -> str:
        return self.token

    @property
    def actor(self) -> Actor:
        return Actor(user_id=self.user.id, is_admin=self.user.is_admin, via="web")


@login_manager.user_loader
def _load(token: str) -> SignedIn | None:
    user = session_user(token)
    return SignedIn(user, token) if user is not None else None


def current_actor() -> Actor:
    """The signed-in user as a service-layer actor."""
    return current_user.actor  # type: ignore[no-any-return]


def _is_public() -> bool:
    endpoint = request.endpoint or ""
    if endpoint in PUBLIC_ENDPOINTS or endpoint.startswith("openapi_"):
        return True
    return request.blueprint in PUBLIC_BLUEPRINTS


def _require_session() -> Any:
    if request.endpoint is None or _is_public() or current_user.is_authenticated:
        return None
    login_url = url_for("auth.login", next=request.full_path.rstrip("?"))
    if getattr(request, "htmx", False):
        response = Response(status=401)
        response.headers["HX-Redirect"] = login_url
        return response
    return redirect(login_url)


class BrowserSessionInterface(SecureCookieSessionInterface):
    """The signed-cookie session, for the web admin only.

    Requests under the API get a null session: the API never reads the session cookie
    (it authenticates with keys), and an API request skips the cookie's verification."""

    def open_session(self, app: Flask, request: Request) -> SessionMixin | None:
        if in_api():
            return self.make_null_session(app)
        return super().open_session(app, request)


def init_app(app: Flask) -> None:
    login_manager.session_protection = None  # the server-side session row is the guard
    app.session_interface = BrowserSessionInterface()
    app.before_request(_require_session)
