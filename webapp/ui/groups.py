"""Tag groups: the list with tag counts for everyone; create, edit and delete for
managers (``groups.write``).

The list sits beside a panel that holds the create form; "Edit" and "Delete" load their
form into the panel (htmx) or open a page of their own (no JavaScript).  A successful
change answers the fresh create form for the panel and, out of band, the new list and
the flash message.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for

from webapp.models import RESOURCE_TYPES
from webapp.services.actor import Permission, authorize
from webapp.services.errors import Conflict, ValidationFailed
from webapp.services.groups import (
    assign_role_impact,
    create_group,
    delete_group,
    get_group,
    get_group_row,
    list_groups,
    update_group,
)
from webapp.ui.errors import REFUSED_FORM, form_status
from webapp.ui.group_forms import GroupForm
from webapp.ui.hierarchy_forms import ConfirmForm
from webapp.ui.rendering import apply_service_error, render_page, wants_fragment
from webapp.ui.scoping import current_scope, scoped_actor, scoped_blueprint

groups = scoped_blueprint("groups", __name__)

FORM_ERRORS = (ValidationFailed, Conflict)  # shown beside the field; others are pages


def _may_write() -> bool:
    return scoped_actor().can(current_scope().id, Permission.GROUPS_WRITE)


def _authorize() -> None:
    """Refuse a manager-only form (403) before looking at what was sent."""
    authorize(scoped_actor(), current_scope().id, Permission.GROUPS_WRITE)


def _context(**extra: Any) -> dict[str, Any]:
    return {"rows": list_groups(scoped_actor(), current_scope().id),
            "resource_types": RESOURCE_TYPES, **extra}


def _saved(message: str) -> Any:
    """After a change: back to the list (plain post), or the fresh create form for the
    panel with the new list and the flash out of band (htmx)."""
    flash(message, "success")
    if not wants_fragment():
        return redirect(url_for(".index"))
    return render_template("groups/_saved.html", form=GroupForm(formdata=None),
                           **_context()), 200


def _form_answer(page: str, fragment: str, status: int, **context: Any) -> Any:
    if wants_fragment():
        return render_template(fragment, **context), status
    return render_template(page, **_context(**context)), status


@groups.get("/groups")
def index() -> Any:
    form = GroupForm(formdata=None) if _may_write() else None
    return render_page("groups/index.html", "groups/_list.html", **_context(form=form))


@groups.get("/groups/new")
def new() -> Any:
    """The create form: for the panel (htmx), else the list page that holds it."""
    _authorize()
    return _form_answer("groups/index.html", "groups/_form.html", 200,
                        form=GroupForm(formdata=None))


@groups.post("/groups")
def create() -> Any:
    _authorize()
    actor, scope = scoped_actor(), current_scope()
    form = GroupForm()
    status = REFUSED_FORM
    if form.validate_on_submit():
        try:
            group = create_group(actor, scope.id, **form.values())
        except FORM_ERRORS as error:
            apply_service_error(form, error)
            status = form_status(error)
        else:
            return _saved(f"Created group {group.identifier}.")
    return _form_answer("groups/index.html", "groups/_form.html", status, form=form)


@groups.route("/groups/<group_id>/edit", methods=["GET", "POST"])
def edit(group_id: str) -> Any:
    _authorize()
    actor, scope = scoped_actor(), current_scope()
    group = get_group(actor, scope.id, group_id)
    form = GroupForm(group)
    status = 200
    if form.validate_on_submit():
        old = group.identifier
        try:
            group = update_group(actor, scope.id, group.id, **form.values())
        except FORM_ERRORS as error:
            apply_service_error(form, error)
            status = form_status(error)
        else:
            renamed = f" (was {old})" if old != group.identifier else ""
            return _saved(f"Saved group {group.identifier}{renamed}.")
    elif form.is_submitted():
        status = REFUSED_FORM
    return _form_answer("groups/edit.html", "groups/_form.html", status, form=form, group=group)


@groups.get("/groups/<group_id>/assign-impact")
def assign_impact(group_id: str) -> Any:
    """Who would lose the right to change the group's tags' links with the role chosen in
    the edit form (htmx; a plain request goes to the form)."""
    _authorize()
    actor, scope = scoped_actor(), current_scope()
    group = get_group(actor, scope.id, group_id)
    if not wants_fragment():
        return redirect(url_for(".edit", group_id=group.id))
    wanted = request.args.get("assign_role", group.assign_role)
    try:
        impact = assign_role_impact(actor, scope.id, group.id, wanted)
    except ValidationFailed as error:
        return render_template("groups/_assign_impact.html", error=error.message), REFUSED_FORM
    return render_template("groups/_assign_impact.html", impact=impact, role=wanted,
                           group=group)


@groups.route("/groups/<group_id>/delete", methods=["GET", "POST"])
def delete(group_id: str) -> Any:
    """GET: the confirmation, with the number of tags in the group; POST: delete it (the
    service refuses a group that still has live tags)."""
    _authorize()
    actor, scope = scoped_actor(), current_scope()
    row = get_group_row(actor, scope.id, group_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        delete_group(actor, scope.id, row.group.id)
        return _saved(f"Deleted group {row.group.identifier}.")
    return _form_answer("groups/delete.html", "groups/_delete.html", 200, row=row, form=form)
