"""Auto-tagging rules: the list for everyone; create, edit (with a live preview), enable,
disable and delete for managers (``groups.write``); "Apply now" (a back-fill) for those
who may tag (``tags.write``), with the bulk tagging page's result and undo.

NetBox's way with htmx: one URL per page; an htmx request (not boosted) gets the page's
fragment (``rules/_list.html``, ``rules/_editor.html`` …), others the page around it.

* ``/rules``: the list (name, when, attach, enabled toggle, created by/when).
* ``/rules/new``, ``/rules/<id>/edit``: the form; as ``when`` and ``attach`` are typed,
  htmx posts the form to ``/rules/preview``, which answers the plan the bulk preview
  shows, and the fields' errors out of band beside them.
* ``/rules/<id>/enabled``: the toggle; ``/rules/<id>/delete``: confirm and delete;
  ``/rules/<id>/apply``: the back-fill's preview as a confirmation, then apply and go to
  ``/rules/changes/<change set>`` (the bulk result and its Undo).
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import TagRule, User
from webapp.services import rules as service
from webapp.services.actor import Permission, authorize
from webapp.services.errors import Conflict, LimitExceeded, ValidationFailed
from webapp.services.link_preview import LinkPreview, change_set_outcome
from webapp.services.undo import preview_undos
from webapp.ui.errors import REFUSED_FORM, form_status
from webapp.ui.hierarchy_forms import ConfirmForm
from webapp.ui.rendering import render_page, wants_fragment
from webapp.ui.rule_forms import RuleForm, ToggleForm
from webapp.ui.scoping import current_scope, scoped_actor, scoped_blueprint

rules = scoped_blueprint("rules", __name__)

FORM_ERRORS = (ValidationFailed, Conflict, LimitExceeded)  # beside the field; others: pages
PREVIEW_ERRORS = (ValidationFailed, Conflict, LimitExceeded)


def _may(permission: Permission) -> bool:
    return scoped_actor().can(current_scope().id, permission)


def _authorize(permission: Permission = Permission.GROUPS_WRITE) -> None:
    """Refuse a manager-only form (403) before looking at what was sent."""
    authorize(scoped_actor(), current_scope().id, permission)


def _list_context(**extra: Any) -> dict[str, Any]:
    """The rules and who created them (two statements, however many rules)."""
    rows = service.list_rules(scoped_actor(), current_scope().id)
    ids = {rule.created_by_id for rule in rows if rule.created_by_id is not None}
    authors: dict[int, str] = {}
    if ids:
        authors = dict(db.session.execute(
            select(User.id, User.email).where(User.id.in_(ids))).tuples().all())
    return {"rows": rows, "authors": authors, "confirm": ConfirmForm(formdata=None),
            "toggle": ToggleForm(formdata=None), **extra}


def _rule(rule_id: int) -> TagRule:
    return service.get_rule(scoped_actor(), current_scope().id, rule_id)


# --- the list ---------------------------------------------------------------------------


@rules.get("/rules")
def index() -> ResponseReturnValue:
    return render_page("rules/index.html", "rules/_list.html", **_list_context())


@rules.post("/rules/<int:rule_id>/enabled")
def toggle(rule_id: int) -> ResponseReturnValue:
    """Enable (``enabled=1``) or disable (``enabled=0``) a rule: its row again (htmx) or
    back to the list."""
    _authorize()
    actor, scope = scoped_actor(), current_scope()
    form = ToggleForm()
    if not form.validate_on_submit():
        return redirect(url_for(".index"))
    rule = service.update_rule(actor, scope.id, rule_id, enabled=form.wanted)
    message = f"{'Enabled' if rule.enabled else 'Disabled'} rule {rule.name}."
    flash(message, "success")
    if not wants_fragment():
        return redirect(url_for(".index"))
    context = _list_context()
    return render_template("rules/_toggled.html", rule=rule, **context)


# --- create and edit, with the live preview -----------------------------------------------


def _editor(form: RuleForm, rule: TagRule | None, status: int = 200,
            plan: LinkPreview | None = None, preview_error: str | None = None
            ) -> ResponseReturnValue:
    may_preview = _may(Permission.TAGS_WRITE)
    if plan is None and preview_error is None and may_preview:
        # the preview of what was typed, and the errors of every field at once (the
        # service stops at the first refused one)
        plan, preview_error = _preview(form)
    context = {"form": form, "rule": rule, "plan": plan, "preview_error": preview_error,
               "may_preview": may_preview}
    return render_page("rules/edit.html", "rules/_editor.html", status, **context)


def _preview(form: RuleForm) -> tuple[LinkPreview | None, str | None]:
    """The plan for what the form holds (None while ``when`` or ``attach`` is empty),
    or the reason it cannot be previewed (each error also beside its field)."""
    values = form.values()
    if not values["when"].strip() or not values["attach"]:
        return None, None
    try:
        return service.preview_rule(scoped_actor(), current_scope().id, values["when"],
                                    values["attach"]), None
    except PREVIEW_ERRORS as error:
        if form.apply_error(error, top=False):
            return None, "Fix what is marked beside the fields to see the preview."
        return None, error.message


@rules.get("/rules/new")
def new() -> ResponseReturnValue:
    _authorize()
    return _editor(RuleForm(formdata=None), None)


@rules.post("/rules")
def create() -> ResponseReturnValue:
    _authorize()
    form = RuleForm()
    status = REFUSED_FORM
    if form.validate_on_submit():
        try:
            rule = service.create_rule(scoped_actor(), current_scope().id, **form.values())
        except FORM_ERRORS as error:
            form.apply_error(error)
            status = form_status(error)
        else:
            return _saved(f"Created rule {rule.name}. It runs on every resource registered "
                          f"from now on; “Apply now” tags the resources it matches already."
                          if rule.enabled else f"Created rule {rule.name} (disabled).")
    return _editor(form, None, status)


@rules.route("/rules/<int:rule_id>/edit", methods=["GET", "POST"])
def edit(rule_id: int) -> ResponseReturnValue:
    _authorize()
    rule = _rule(rule_id)
    form = RuleForm(rule)
    status = 200
    if form.validate_on_submit():
        try:
            rule = service.update_rule(scoped_actor(), current_scope().id, rule.id,
                                       **form.values())
        except FORM_ERRORS as error:
            form.apply_error(error)
            status = form_status(error)
        else:
            return _saved(f"Saved rule {rule.name}.")
    elif form.is_submitted():
        status = REFUSED_FORM
    return _editor(form, rule, status)


def _saved(message: str) -> ResponseReturnValue:
    """After a save: the list (a redirect; for htmx, a full navigation to it)."""
    flash(message, "success")
    target = url_for(".index")
    if wants_fragment():
        return "", 200, {"HX-Redirect": target}
    return redirect(target)


@rules.post("/rules/preview")
def preview() -> ResponseReturnValue:
    """What the rule in the form would do now.  htmx: the preview panel, with the fields'
    errors out of band beside them (422 when refused); a plain post (the form's Preview
    button without JavaScript): the form's page with the preview."""
    _authorize(Permission.TAGS_WRITE)
    form = RuleForm()
    if not form.validate_on_submit():
        status = REFUSED_FORM
        plan, error = None, None
    else:
        plan, error = _preview(form)
        status = REFUSED_FORM if error else 200
    if not wants_fragment():
        rule = _rule_in_args()
        return _editor(form, rule, status, plan, error)
    return render_template("rules/_preview_answer.html", form=form, plan=plan,
                           preview_error=error, may_preview=True), status


def _rule_in_args() -> TagRule | None:
    raw = request.args.get("rule", "")
    if not raw.isascii() or not raw.isdigit() or len(raw) > 12:
        return None
    _authorize()
    return _rule(int(raw))


# --- delete -----------------------------------------------------------------------------


@rules.route("/rules/<int:rule_id>/delete", methods=["GET", "POST"])
def delete(rule_id: int) -> ResponseReturnValue:
    """GET: the confirmation as a page (the list's Delete opens it in a dialog); POST:
    delete the rule (the tags it attached stay) and go back to the list."""
    _authorize()
    actor, scope = scoped_actor(), current_scope()
    rule = _rule(rule_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        service.delete_rule(actor, scope.id, rule.id)
        return _saved(f"Deleted rule {rule.name}. The tags it attached stay.")
    return render_page("rules/delete.html", "rules/_delete.html", rule=rule, form=form,
                       cancel_url=url_for(".index"))


# --- apply now (back-fill) --------------------------------------------------------------


@rules.route("/rules/<int:rule_id>/apply", methods=["GET", "POST"])
def apply(rule_id: int) -> ResponseReturnValue:
    """GET: what the back-fill would do now (the bulk preview's plan) and the Apply
    button; POST: apply it in one change set and show its result, with Undo."""
    _authorize(Permission.TAGS_WRITE)
    actor, scope = scoped_actor(), current_scope()
    rule = _rule(rule_id)
    form = ConfirmForm()
    error: str | None = None
    status = 200
    if form.validate_on_submit():
        try:
            done = service.apply_rule(actor, scope.id, rule.id)
        except PREVIEW_ERRORS as refused:
            error, status = refused.message, form_status(refused)
        else:
            if done.change_set_id is None:
                flash(f"Nothing changed: the {done.resources:,} resource(s) rule "
                      f"{rule.name} matches carry its tags already (or may not).", "info")
                return _go(url_for(".index"))
            if done.changed or done.replaced:
                flash("Done. You can undo the change below.", "success")
            else:
                flash("No link changed: every resource the rule matches carries its tags "
                      "already (or may not carry them).", "info")
            return _go(url_for(".result", change_set_id=done.change_set_id))
    plan: LinkPreview | None = None
    try:
        plan = service.preview_rule(actor, scope.id, rule.when, list(rule.attach or []))
    except PREVIEW_ERRORS as refused:
        error = error or refused.message
        status = status if status != 200 else form_status(refused)
    return render_page("rules/apply.html", "rules/_apply.html", status, rule=rule,
                       plan=plan, error=error, form=form)


def _go(target: str) -> ResponseReturnValue:
    if wants_fragment():
        return "", 200, {"HX-Redirect": target}
    return redirect(target)


@rules.get("/rules/changes/<int:change_set_id>")
def result(change_set_id: int) -> ResponseReturnValue:
    """A back-fill's result: the bulk tagging result (counts, tags' usage, Undo)."""
    actor, scope = scoped_actor(), current_scope()
    outcome = change_set_outcome(actor, scope.id, change_set_id)
    done = outcome.change_set
    undo = (preview_undos(actor, scope.id, [done], check_policies=True).get(done.id)
            if not outcome.undone and done.reverts_id is None else None)
    return render_page("rules/result.html", "bulk/_result.html", outcome=outcome,
                       undo_error=None, preview=undo)
