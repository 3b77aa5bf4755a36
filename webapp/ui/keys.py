"""``/settings/keys``: the signed-in user's API keys, and those of the scopes they manage.

A key is created with a name, one of the user's scopes and the key permissions their role
there allows; its token is in the answer to that one request and never again (only a
keyed hash is stored), so the plain-form answer renders the page instead of redirecting.
Managers see and may revoke the keys of others in the scopes they manage.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from webapp.models import ApiKey, Role, Scope
from webapp.services.actor import API_KEY_PERMISSIONS
from webapp.services.api_keys import (
    create_api_key,
    grantable_permissions,
    list_api_keys,
    revoke_api_key,
)
from webapp.services.errors import ValidationFailed
from webapp.services.scopes import list_scopes
from webapp.ui.audit import format_time, replaces_flashes
from webapp.ui.errors import REFUSED_FORM
from webapp.ui.key_forms import KEY_FIELDS, PERMISSION_HELP, CreateKeyForm
from webapp.ui.rendering import apply_service_error, render_page, wants_fragment
from webapp.ui.session import current_actor

keys = Blueprint("keys", __name__, url_prefix="/settings/keys")


@keys.context_processor
def _helpers() -> dict[str, Any]:
    return {"format_time": format_time, "all_permissions": API_KEY_PERMISSIONS,
            "permission_help": PERMISSION_HELP}


def _form_context(form: CreateKeyForm, *, strict: bool = False) -> dict[str, Any]:
    """The form with the user's scopes as choices and what they may grant in the chosen
    one.  An unknown scope falls back to the first one unless ``strict`` (a post)."""
    actor = current_actor()
    rows: list[tuple[Scope, Role | None]] = list_scopes(actor)
    form.scope.choices = [
        SelectChoice(scope.slug, f"{scope.name} ({role.value if role else 'admin'})")
        for scope, role in rows
    ]
    by_slug = {scope.slug: (scope, role) for scope, role in rows}
    chosen: Scope | None = None
    role: Role | None = None
    if form.scope.data in by_slug:
        chosen, role = by_slug[form.scope.data]
    elif rows and not (strict and form.scope.data):
        chosen, role = rows[0]
        form.scope.data = chosen.slug
    grantable = grantable_permissions(actor, chosen.id) if chosen is not None else ()
    return {"form": form, "chosen": chosen, "chosen_role": role,
            "grantable": {p.value for p in grantable}, "has_scopes": bool(rows)}


def _lists() -> dict[str, Any]:
    actor = current_actor()
    found = list_api_keys(actor)
    return {"mine": [k for k in found if k.user_id == actor.user_id],
            "others": [k for k in found if k.user_id != actor.user_id]}


def _page(form: CreateKeyForm, status: int = 200, *, token: str | None = None,
          created: ApiKey | None = None) -> tuple[str, int]:
    return render_page("keys/index.html", "keys/_body.html", status, oob=replaces_flashes(),
                       token=token, created=created, **_lists(), **_form_context(form))


@keys.get("")
def index() -> Any:
    form = CreateKeyForm(formdata=None)
    form.scope.data = request.args.get("scope")
    return _page(form)


@keys.get("/permissions")
def permissions() -> Any:
    """The permission checkboxes for the scope chosen in the form (htmx, on change)."""
    if not wants_fragment():
        return redirect(url_for("keys.index", scope=request.args.get("scope")))
    form = CreateKeyForm(formdata=request.args, meta={"csrf": False})
    return render_template("keys/_permissions.html", **_form_context(form))


@keys.post("")
def create() -> Any:
    actor = current_actor()
    form = CreateKeyForm()
    chosen: Scope | None = _form_context(form, strict=True)["chosen"]
    if not form.validate() or chosen is None:
        if chosen is None:
            form.scope.errors = ["You need a role in a scope to create a key."]
        return _page(form, REFUSED_FORM)
    try:
        key, token = create_api_key(actor, user_id=current_user.user.id, scope_id=chosen.id,
                                    name=form.name.data or "",
                                    permissions=form.permissions.data or [])
    except ValidationFailed as error:
        apply_service_error(form, error, KEY_FIELDS)
        return _page(form, REFUSED_FORM)
    fresh = CreateKeyForm(formdata=None)
    fresh.scope.data = chosen.slug
    return _page(fresh, token=token, created=key)


@keys.post("/<int:key_id>/revoke")
def revoke(key_id: int) -> Any:
    key = revoke_api_key(current_actor(), key_id)
    flash(f"Key {key.name} (tw_{key.prefix}…) is revoked and no longer works.", "success")
    if wants_fragment():
        return render_template("keys/_lists.html", lists_oob=True, **_lists())
    return redirect(url_for("keys.index"))
