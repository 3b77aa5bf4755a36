"""Tag policies: the list with each policy's compliance for everyone; create, edit and
delete for managers (``groups.write``), with the preview of what a new or changed policy
would flag among the resources stored now before it is saved.

The list sits beside a panel holding the create form (the groups page's layout); "Edit"
and "Delete" load their form into the panel (htmx) or open a page of their own (no
JavaScript).  The form's "Preview" button renders the preview under the form (htmx) or
the form page with the preview (a plain post with ``intent=preview``); "Save" saves.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for

from webapp.services.actor import Permission, authorize
from webapp.services.errors import Conflict, ValidationFailed
from webapp.services.groups import list_groups
from webapp.services.policies.compliance import PolicyPreview, compliance_report, preview_policy
from webapp.services.policies.crud import (
    PolicyView,
    create_policy,
    delete_policy,
    get_policy,
    update_policy,
)
from webapp.ui.errors import REFUSED_FORM, form_status
from webapp.ui.hierarchy_forms import ConfirmForm
from webapp.ui.policy_forms import PolicyForm
from webapp.ui.rendering import render_page, wants_fragment
from webapp.ui.scoping import current_scope, scoped_actor, scoped_blueprint

policies = scoped_blueprint("policies", __name__)

FORM_ERRORS = (ValidationFailed, Conflict)  # shown beside the field; others are pages
PREVIEW = "preview"


def _may_write() -> bool:
    return scoped_actor().can(current_scope().id, Permission.GROUPS_WRITE)


def _authorize() -> None:
    """Refuse a manager-only form (403) before looking at what was sent."""
    authorize(scoped_actor(), current_scope().id, Permission.GROUPS_WRITE)


def _form(policy: PolicyView | None = None, *, blank: bool = False) -> PolicyForm:
    groups = [row.group.identifier for row in list_groups(scoped_actor(), current_scope().id)]
    if blank:
        return PolicyForm(policy, groups, formdata=None)
    return PolicyForm(policy, groups)


def _context(**extra: Any) -> dict[str, Any]:
    return {"items": compliance_report(scoped_actor(), current_scope().id), **extra}


def _saved(message: str) -> Any:
    """After a change: back to the list (plain post), or the fresh create form for the
    panel with the new list and the flash out of band (htmx)."""
    flash(message, "success")
    if not wants_fragment():
        return redirect(url_for(".index"))
    return render_template("policies/_saved.html", form=_form(blank=True), **_context()), 200, {
        "HX-Reswap": "innerHTML show:window:top"}  # the flash and the list, in view


def _form_answer(page: str, fragment: str, status: int, **context: Any) -> Any:
    if wants_fragment():
        return render_template(fragment, **context), status
    return render_template(page, **_context(**context)), status


def _preview(form: PolicyForm, policy: PolicyView | None) -> tuple[PolicyPreview | None, int]:
    """The preview of what the form holds (errors beside their field: 422)."""
    if not form.validate_on_submit():
        return None, REFUSED_FORM
    try:
        preview = preview_policy(scoped_actor(), current_scope().id, form.values(),
                                 policy.id if policy else None)
    except FORM_ERRORS as error:
        form.apply_error(error)
        return None, form_status(error)
    return preview, 200


@policies.get("/policies")
def index() -> Any:
    form = _form(blank=True) if _may_write() else None
    return render_page("policies/index.html", "policies/_list.html", **_context(form=form))


@policies.get("/policies/new")
def new() -> Any:
    """The create form: for the panel (htmx), else the list page that holds it."""
    _authorize()
    return _form_answer("policies/index.html", "policies/_form.html", 200,
                        form=_form(blank=True))


@policies.post("/policies")
def create() -> Any:
    _authorize()
    form = _form()
    if request.form.get("intent") == PREVIEW:
        preview, status = _preview(form, None)
        return _form_answer("policies/index.html", "policies/_form.html", status, form=form,
                            preview=preview)
    status = REFUSED_FORM
    if form.validate_on_submit():
        try:
            view = create_policy(scoped_actor(), current_scope().id, form.values())
        except FORM_ERRORS as error:
            form.apply_error(error)
            status = form_status(error)
        else:
            return _saved(f"Created policy {view.name}.")
    return _form_answer("policies/index.html", "policies/_form.html", status, form=form)


@policies.post("/policies/preview", defaults={"policy_id": None})
@policies.post("/policies/<int:policy_id>/preview")
def preview(policy_id: int | None) -> Any:
    """What the form's policy would flag now (the preview area, htmx); a plain post
    answers the form page with it."""
    _authorize()
    policy = get_policy(scoped_actor(), current_scope().id, policy_id) if policy_id else None
    form = _form(policy)
    found, status = _preview(form, policy)
    if wants_fragment():
        if found is None:  # the errors beside their fields: the form again, in place
            return render_template("policies/_form.html", form=form, policy=policy,
                                   standalone=bool(request.form.get("standalone"))
                                   ), status, {"HX-Retarget": "#policy-form",
                                               "HX-Reswap": "outerHTML"}
        return render_template("policies/_preview.html", preview=found, form=form,
                               policy=policy), status
    if policy is None:
        return render_template("policies/index.html", **_context(form=form, preview=found)
                               ), status
    return render_template("policies/edit.html", form=form, policy=policy, preview=found
                           ), status


@policies.route("/policies/<int:policy_id>/edit", methods=["GET", "POST"])
def edit(policy_id: int) -> Any:
    _authorize()
    actor, scope = scoped_actor(), current_scope()
    policy = get_policy(actor, scope.id, policy_id)
    form = _form(policy)
    found = None
    status = 200
    if request.method == "POST" and request.form.get("intent") == PREVIEW:
        found, status = _preview(form, policy)
    elif form.validate_on_submit():
        try:
            saved = update_policy(actor, scope.id, policy.id, form.values())
        except FORM_ERRORS as error:
            form.apply_error(error)
            status = form_status(error)
        else:
            return _saved(f"Saved policy {saved.name}.")
    elif form.is_submitted():
        status = REFUSED_FORM
    return _form_answer("policies/edit.html", "policies/_form.html", status, form=form,
                        policy=policy, preview=found)


@policies.route("/policies/<int:policy_id>/delete", methods=["GET", "POST"])
def delete(policy_id: int) -> Any:
    """GET: the confirmation; POST: delete it (an undo in the audit log brings it back)."""
    _authorize()
    actor, scope = scoped_actor(), current_scope()
    policy = get_policy(actor, scope.id, policy_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        delete_policy(actor, scope.id, policy.id)
        return _saved(f"Deleted policy {policy.name}.")
    return _form_answer("policies/delete.html", "policies/_delete.html", 200, policy=policy,
                        form=form)
