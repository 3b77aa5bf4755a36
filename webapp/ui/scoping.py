"""Blueprints for pages under ``/s/<scope slug>/…``.

A scoped blueprint loads the scope named in the URL (404 when it does not exist or the
signed-in user holds no role there), the actor and the permissions, into ``g``; and
``url_for`` fills in the current scope's slug, so templates link within the scope.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g

from webapp.models import Scope
from webapp.services.actor import Actor, Permission
from webapp.services.scopes import get_scope, list_scopes
from webapp.ui.session import current_actor


def scoped_blueprint(name: str, import_name: str) -> Blueprint:
    blueprint = Blueprint(name, import_name, url_prefix="/s/<scope_slug>")

    @blueprint.url_value_preprocessor
    def _take_slug(_endpoint: str | None, values: dict[str, Any] | None) -> None:
        g.scope_slug = (values or {}).pop("scope_slug", None)

    @blueprint.url_defaults
    def _give_slug(_endpoint: str, values: dict[str, Any]) -> None:
        scope = g.get("scope")
        if scope is not None:
            values.setdefault("scope_slug", scope.slug)

    @blueprint.before_request
    def _load_scope() -> None:
        actor = current_actor()
        g.actor = actor
        g.scope = get_scope(actor, g.scope_slug)

    return blueprint


def current_scope() -> Scope:
    return g.scope  # type: ignore[no-any-return]


def scoped_actor() -> Actor:
    return g.actor  # type: ignore[no-any-return]


def template_globals() -> dict[str, Any]:
    """What every template may use: the scope, what the user may do in it, their scopes."""
    scope = g.get("scope")
    actor = g.get("actor")
    can: dict[str, bool] = {}
    if scope is not None and actor is not None:
        held = actor.permissions_in(scope.id)
        can = {p.value.replace(".", "_"): p in held for p in Permission}
    return {"scope": scope, "can": can, "visible_scopes": _visible_scopes}


def _visible_scopes() -> list[tuple[Scope, Any]]:
    from flask_login import current_user

    if not current_user.is_authenticated:
        return []
    return list_scopes(current_user.actor)
