"""Scopes outside any one scope: ``/scopes`` (list, create), a scope's members and its
external tag sources.

Site administrators create scopes (the service says who may); a scope's managers add
members by e-mail, change roles and remove members, and anyone may leave a scope.
Managers configure the scope's external tag sources and refresh them.  Each form answers
htmx with the re-rendered page body (list and form) and a plain post with a redirect; a
refused change is shown beside the field or the row it concerns.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, g, redirect, request, url_for
from flask_wtf import FlaskForm
from htmx_flask import make_response

from webapp.models import Scope
from webapp.services.actor import ROLE_PERMISSIONS, Actor, Permission, authorize
from webapp.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from webapp.services.external_sources import (
    add_source,
    list_sources,
    refresh_external_tags,
    remove_source,
)
from webapp.services.scopes import (
    add_member,
    create_scope,
    get_scope,
    list_members,
    list_scopes,
    remove_member,
    scope_counts,
)
from webapp.services.users import get_user, require_site_admin
from webapp.ui.audit import format_time, replaces_flashes
from webapp.ui.errors import REFUSED_FORM, form_status
from webapp.ui.rendering import apply_service_error, render_page, wants_fragment
from webapp.ui.scope_forms import (
    ROLE_NAMES,
    SCOPE_FIELDS,
    SOURCE_FIELDS,
    AddMemberForm,
    CreateScopeForm,
    RoleForm,
    SourceForm,
)
from webapp.ui.session import current_actor

scopes = Blueprint("scopes", __name__)


@scopes.context_processor
def _helpers() -> dict[str, Any]:
    return {"format_time": format_time}


# --- the scope list ---------------------------------------------------------------------


def _scope_list(form: FlaskForm, status: int = 200, *, created: Scope | None = None
                ) -> tuple[str, int]:
    actor = current_actor()
    rows = list_scopes(actor)
    counts = scope_counts(actor, [scope.id for scope, _ in rows])
    # The role each row already carries says who manages sources (no query per scope).
    sources = {scope.id for scope, role in rows if actor.is_admin or (
        role is not None and Permission.SOURCES_MANAGE in ROLE_PERMISSIONS[role])}
    return render_page("scopes/index.html", "scopes/_body.html", status,
                       rows=rows, counts=counts, form=form, is_admin=actor.is_admin,
                       manages_sources=sources, oob=replaces_flashes(), created=created)


@scopes.get("/scopes")
def index() -> Any:
    return _scope_list(CreateScopeForm(formdata=None))


@scopes.post("/scopes")
def create() -> Any:
    actor = current_actor()
    require_site_admin(actor)  # a forbidden post is a 403 even when the form is invalid
    form = CreateScopeForm()
    if not form.validate():
        return _scope_list(form, REFUSED_FORM)
    try:
        scope = create_scope(actor, form.public_id.data or None, name=form.name.data or "",
                             slug=form.slug.data or None)
    except (ValidationFailed, Conflict) as error:
        apply_service_error(form, error, SCOPE_FIELDS)
        return _scope_list(form, form_status(error))
    flash(f"Scope {scope.name} created. You are its manager.", "success")
    if wants_fragment():
        return _scope_list(CreateScopeForm(formdata=None), created=scope)
    return redirect(url_for("scopes.index"))


# --- members ----------------------------------------------------------------------------


def _load(slug: str) -> tuple[Actor, Scope]:
    """The scope (404 unless the user may see it), put in ``g`` so the layout shows its
    navigation as on the scope's own pages."""
    actor = current_actor()
    scope = get_scope(actor, slug)
    g.actor, g.scope = actor, scope
    return actor, scope


def _members(actor: Actor, scope: Scope, form: FlaskForm, status: int = 200, *,
             row_errors: dict[int, str] | None = None) -> tuple[str, int]:
    return render_page("scopes/members.html", "scopes/_members.html", status,
                       members=list_members(actor, scope.id), form=form, roles=ROLE_NAMES,
                       row_errors=row_errors or {}, oob=replaces_flashes(),
                       me=actor.user_id)


def _done(actor: Actor, scope: Scope, message: str) -> Any:
    flash(message, "success")
    if wants_fragment():
        return _members(actor, scope, AddMemberForm(formdata=None))
    return redirect(url_for("scopes.members", slug=scope.slug))


@scopes.get("/scopes/<slug>/members")
def members(slug: str) -> Any:
    actor, scope = _load(slug)
    return _members(actor, scope, AddMemberForm(formdata=None))


@scopes.post("/scopes/<slug>/members")
def add(slug: str) -> Any:
    actor, scope = _load(slug)
    authorize(actor, scope.id, Permission.MEMBERS_MANAGE)
    form = AddMemberForm()
    if not form.validate():
        return _members(actor, scope, form, REFUSED_FORM)
    email, role = form.email.data or "", form.role.data or ""
    try:
        membership = add_member(actor, scope.id, email, role)
    except NotFound:
        form.email.errors.append("No account has this e-mail; a site administrator "
                                 "creates accounts.")
        return _members(actor, scope, form, REFUSED_FORM)
    except Conflict as error:  # demoting the last manager
        form.role.errors.append(error.message)
        return _members(actor, scope, form, 409)
    except ValidationFailed as error:
        apply_service_error(form, error)
        return _members(actor, scope, form, REFUSED_FORM)
    return _done(actor, scope, f"{membership.user.email} is {membership.role} of {scope.name}.")


@scopes.post("/scopes/<slug>/members/<int:user_id>/role")
def change_role(slug: str, user_id: int) -> Any:
    actor, scope = _load(slug)
    authorize(actor, scope.id, Permission.MEMBERS_MANAGE)
    form = RoleForm()
    if not form.validate():
        return _members(actor, scope, AddMemberForm(formdata=None), REFUSED_FORM,
                        row_errors={user_id: "; ".join(form.role.errors)})
    user = get_user(user_id)
    try:
        add_member(actor, scope.id, user.email, form.role.data or "")
    except Conflict as error:
        return _members(actor, scope, AddMemberForm(formdata=None), 409,
                        row_errors={user_id: error.message})
    return _done(actor, scope, f"{user.email} is {form.role.data} of {scope.name}.")


@scopes.post("/scopes/<slug>/members/<int:user_id>/remove")
def remove(slug: str, user_id: int) -> Any:
    """Remove a member (managers), or leave the scope (anyone, for themself)."""
    actor, scope = _load(slug)
    try:
        remove_member(actor, scope.id, user_id)
    except Conflict as error:
        return _members(actor, scope, AddMemberForm(formdata=None), 409,
                        row_errors={user_id: error.message})
    user = get_user(user_id)
    if user_id == actor.user_id and actor.role_in(scope.id) is None and not actor.is_admin:
        flash(f"You left {scope.name}.", "success")
        if wants_fragment():
            return make_response("", 200, redirect=url_for("scopes.index"))
        return redirect(url_for("scopes.index"))
    return _done(actor, scope, f"{user.email} was removed from {scope.name}.")


# --- external tag sources ---------------------------------------------------------------


def _sources(actor: Actor, scope: Scope, form: FlaskForm, status: int = 200
             ) -> tuple[str, int]:
    return render_page("scopes/sources.html", "scopes/_sources.html", status,
                       sources=list_sources(actor, scope.id), form=form,
                       oob=replaces_flashes())


@scopes.get("/scopes/<slug>/sources")
def sources(slug: str) -> Any:
    actor, scope = _load(slug)
    return _sources(actor, scope, SourceForm(formdata=None))


@scopes.post("/scopes/<slug>/sources")
def add_source_view(slug: str) -> Any:
    actor, scope = _load(slug)
    authorize(actor, scope.id, Permission.SOURCES_MANAGE)
    form = SourceForm()
    if not form.validate():
        return _sources(actor, scope, form, REFUSED_FORM)
    try:
        source = add_source(actor, scope.id, form.name.data or "", form.url.data or "",
                            timeout_seconds=form.timeout_seconds.data or 0.0)
    except PermissionDenied as error:  # file:// sources: site administrators only
        form.url.errors.append(error.message)
        return _sources(actor, scope, form, 403)
    except (ValidationFailed, Conflict) as error:
        apply_service_error(form, error, SOURCE_FIELDS)
        return _sources(actor, scope, form, form_status(error))
    flash(f"Source {source.name} added. Refresh to pull its tags.", "success")
    if wants_fragment():
        return _sources(actor, scope, SourceForm(formdata=None))
    return redirect(url_for("scopes.sources", slug=scope.slug))


@scopes.post("/scopes/<slug>/sources/remove")
def remove_source_view(slug: str) -> Any:
    """Forget the source named in the form; its tags stay."""
    actor, scope = _load(slug)
    name = request.form.get("name", "")
    remove_source(actor, scope.id, name)
    flash(f"Source {name} removed; the tags it brought stay.", "success")
    if wants_fragment():
        return _sources(actor, scope, SourceForm(formdata=None))
    return redirect(url_for("scopes.sources", slug=scope.slug))


@scopes.post("/scopes/<slug>/sources/refresh")
def refresh_sources(slug: str) -> Any:
    """Pull every enabled source now; one message per source says what it did."""
    actor, scope = _load(slug)
    authorize(actor, scope.id, Permission.SOURCES_MANAGE)
    outcomes = refresh_external_tags(actor, scope.id)
    if not outcomes:
        flash("There is no enabled source to refresh.", "info")
    for outcome in outcomes:
        if outcome.error:
            flash(f"{outcome.name}: the refresh failed: {outcome.error}", "error")
        else:
            c = outcome.counts
            flash(f"{outcome.name}: {c.created} created, {c.restored} restored, "
                  f"{c.unchanged} unchanged, {c.deleted} deleted.", "success")
    if wants_fragment():
        return _sources(actor, scope, SourceForm(formdata=None))
    return redirect(url_for("scopes.sources", slug=scope.slug))
