"""Bulk edit of tag attributes (issue 13 §4), from the tags list: ``/s/<scope>/tags/bulk-edit``.

The list's bar posts the ticked rows' ids (``ids``, as many as were ticked: the POST body,
never the URL) and the list's address (``bulk-next``, whose query string holds the
filters); a GET takes the same selection in its query string (``ids``, ``q``, ``group``,
``parent``, ``source``).  The page offers "the N ticked tags" or "all M matching tags",
then a form: colour, description (set / clear), group, parent (a live tag, or the top
level), deprecation (deprecate naming a replacement / un-deprecate), each changed only
when its "change" box is ticked.  The page's own form carries the selection in plain
fields (the ids comma-joined in one field, the filters as ``f_*``).

Preview (``step=preview``): the counts, the refusals with their reasons and the sample
before → after — for htmx the preview fragment under the form, else the whole page with
it.  Apply (``step=apply``): one change set through
:func:`~webapp.services.tags.bulk_edit.apply_bulk_edit`; a plain POST is redirected to the
result's page ``/tags/bulk-edit/changes/<id>``, htmx gets the result fragment (and that
URL pushed).  The result offers Undo through the audit's undo (confirmation and POST to
``/audit/<id>/undo``).

Errors: a field the form or the service refused is shown beside it (422; a selection over
the cap 413, a tag gone 404, with the reason beside the selection).  Permission: tags.write,
as the list's move and merge.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from flask import flash, make_response, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from webapp.models import Scope
from webapp.services.actor import Actor, Permission, authorize
from webapp.services.errors import Conflict, ServiceError
from webapp.services.groups import list_groups
from webapp.services.paging import PageRequest
from webapp.services.tags.bulk_edit import (
    MAX_EDIT,
    BulkEditPreview,
    Selection,
    apply_bulk_edit,
    preview_bulk_edit,
)
from webapp.services.tags.queries import list_tags
from webapp.services.undo import get_change_set, preview_undo
from webapp.services.wording import counted
from webapp.ui.errors import REFUSED_FORM, form_status
from webapp.ui.rendering import apply_service_error, render_page, wants_fragment
from webapp.ui.tag_bulk_edit_forms import MATCHING, TICKED, BulkEditForm
from webapp.ui.tags import ListArgs, _actor_scope, _safe_next, tags

FILTERS = ("q", "group", "parent", "source")
REFUSALS_SHOWN = 200  # the preview lists this many refusals; the count says how many in all
# The service's field names that are not the form's: the selection's errors go beside
# the choice between ticked and matching tags.
FIELD_MAP = {"ids": "use"}
MAX_ID = 2**63 - 1  # a larger number names no tag (and overflows the database's integer)


@dataclass(frozen=True)
class Chosen:
    """The selection the page works on: the ticked ids and the list's filters."""

    ids: tuple[int, ...]
    args: ListArgs

    @property
    def ids_text(self) -> str:
        return ",".join(map(str, self.ids))

    def query(self, use: str | None = None) -> dict[str, Any]:
        """The GET query string of this selection (for links)."""
        params: dict[str, Any] = {name: getattr(self.args, name) for name in FILTERS
                                  if getattr(self.args, name)}
        if self.ids:
            params["ids"] = self.ids_text
        if use:
            params["use"] = use
        return params

    def described(self) -> str:
        """The filters in words ("search “x”, group team"), or "" for none."""
        parts = []
        if self.args.q:
            parts.append(f"search “{self.args.q}”")
        if self.args.group:
            parts.append(f"group {self.args.group}")
        if self.args.parent:
            parts.append(f"children of {self.args.parent}")
        if self.args.source:
            parts.append(f"source {self.args.source}")
        return ", ".join(parts)


def _ids(values: MultiDict[str, str]) -> tuple[int, ...]:
    """The ticked ids: ``ids`` repeated (the list's checkboxes) or comma-joined (this
    page's field); anything else is ignored, duplicates once, in the order given."""
    seen: dict[int, None] = {}
    for raw in values.getlist("ids"):
        for part in raw.split(","):
            part = part.strip()
            if part.isascii() and part.isdigit() and len(part) <= 19 and int(part) <= MAX_ID:
                seen.setdefault(int(part), None)
    return tuple(seen)


def _chosen(values: MultiDict[str, str]) -> Chosen:
    """The selection from the list's bar (``bulk-next``), this page's form (``f_*``) or
    a GET's query string (the list's own names)."""
    listed = values.get("bulk-next")
    if listed is not None:
        target = _safe_next(listed)
        args = ListArgs.parse(MultiDict(parse_qsl(urlsplit(target).query)))
    elif any(f"f_{name}" in values for name in FILTERS):
        args = ListArgs.parse({name: values.get(f"f_{name}", "") for name in FILTERS})
    else:
        args = ListArgs.parse(values)
    return Chosen(_ids(values), replace(args, deleted=False, page=1))


def _selection(actor: Actor, scope: Scope, chosen: Chosen, use: str) -> Selection:
    if use == MATCHING:
        return Selection(filters=chosen.args.filters(actor, scope))
    return Selection(handles=chosen.ids)


def _fingerprint(chosen: Chosen, form: BulkEditForm) -> str:
    """What a preview was made from (the selection and the changes asked): its Apply
    carries it, and an apply of anything else shows the new preview instead."""
    text = repr((chosen.ids_text, chosen.query(), str(form.use.data), form.changes()))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _groups(actor: Actor, scope: Scope) -> list[str]:
    return [row.group.identifier for row in list_groups(actor, scope.id)]


def _matching(actor: Actor, scope: Scope, chosen: Chosen) -> tuple[int, bool]:
    """How many live tags match the filters (and whether that is a lower bound)."""
    page = list_tags(actor, scope.id, chosen.args.filters(actor, scope),
                     paging=PageRequest(1, 1))
    return page.total, page.total_is_lower_bound


def _form_context(actor: Actor, scope: Scope, chosen: Chosen, form: BulkEditForm
                  ) -> dict[str, Any]:
    """What the form shows besides its fields: the two choices and their counts."""
    matching, lower_bound = _matching(actor, scope, chosen)
    return {"form": form, "chosen": chosen, "ticked": len(chosen.ids),
            "matching": matching, "matching_lower_bound": lower_bound,
            "max_edit": MAX_EDIT, "filters_text": chosen.described(),
            "list_url": url_for("tags.index", **chosen.args.params())}


def _new_form(actor: Actor, scope: Scope, chosen: Chosen, use: str | None) -> BulkEditForm:
    if use not in (TICKED, MATCHING):
        use = TICKED if chosen.ids else MATCHING
    return BulkEditForm(formdata=None, data={"use": use}).with_groups(_groups(actor, scope))


def _page(actor: Actor, scope: Scope, chosen: Chosen, form: BulkEditForm, status: int = 200,
          **extra: Any) -> tuple[str, int]:
    return render_template("tags/bulk_edit.html",
                           **_form_context(actor, scope, chosen, form), **extra), status


@tags.route("/tags/bulk-edit", methods=["GET", "POST"])
def bulk_edit() -> Any:
    """GET (the selection in the query string) or POST from the list's bar: the form.
    POST ``step=preview`` / ``step=apply``: preview or apply it."""
    actor, scope = _actor_scope()
    authorize(actor, scope.id, Permission.TAGS_WRITE)
    values = request.args if request.method == "GET" else request.form
    chosen = _chosen(values)
    step = values.get("step", "") if request.method == "POST" else ""
    if step not in ("preview", "apply"):
        return _page(actor, scope, chosen, _new_form(actor, scope, chosen, values.get("use")))
    form = BulkEditForm().with_groups(_groups(actor, scope))
    status = REFUSED_FORM
    if form.validate_on_submit():
        previewed = request.form.get("previewed")
        if step == "apply" and previewed and previewed != _fingerprint(chosen, form):
            step = "preview"  # the form changed since its preview (no JavaScript): again
            flash("The form changed since the preview: here is the preview of what it asks "
                  "now. Apply it if it is right.", "warning")
        try:
            selection = _selection(actor, scope, chosen, str(form.use.data))
            if step == "preview":
                preview = preview_bulk_edit(actor, scope.id, selection, form.changes())
            else:
                done = apply_bulk_edit(actor, scope.id, selection, form.changes())
        except ServiceError as error:
            apply_service_error(form, error, FIELD_MAP)
            status = form_status(error)
        else:
            if step == "preview":
                return _previewed(actor, scope, chosen, form, preview)
            return _applied(actor, scope, chosen, form, done)
    if wants_fragment():
        response = make_response(render_template(
            "tags/_bulk_edit_form.html", **_form_context(actor, scope, chosen, form)), status)
        response.headers["HX-Retarget"] = "#bulk-edit-form"
        response.headers["HX-Reswap"] = "outerHTML"
        return response
    return _page(actor, scope, chosen, form, status)


def _previewed(actor: Actor, scope: Scope, chosen: Chosen, form: BulkEditForm,
               preview: BulkEditPreview) -> Any:
    context = {"preview": preview, "refusals_shown": REFUSALS_SHOWN,
               "fingerprint": _fingerprint(chosen, form)}
    if wants_fragment():
        response = make_response(render_template("tags/_bulk_edit_preview.html",
                                                 oob_flashes=True, **context))
        # An apply refused as stale answers this preview in place of the result.
        response.headers["HX-Retarget"] = "#bulk-edit-preview"
        response.headers["HX-Reswap"] = "outerHTML"
        return response
    return _page(actor, scope, chosen, form, **context)


def outcome_text(done: BulkEditPreview) -> str:
    """``Edited 5 tags; 2 already as asked; 1 refused.``"""
    parts = [f"Edited {counted(done.changed, 'tag')}"]
    if done.unchanged:
        parts.append(f"{counted(done.unchanged, 'tag')} already as asked")
    if done.refused:
        parts.append(f"{counted(done.refused, 'tag')} refused")
    return "; ".join(parts) + "."


def _applied(actor: Actor, scope: Scope, chosen: Chosen, form: BulkEditForm,
             done: BulkEditPreview) -> Any:
    if done.change_set_id is None:  # nothing changed: no change set; the preview says why
        context = {"preview": done, "refusals_shown": REFUSALS_SHOWN, "nothing_done": True}
        if wants_fragment():
            response = make_response(render_template("tags/_bulk_edit_preview.html",
                                                     **context))
            response.headers["HX-Retarget"] = "#bulk-edit-preview"
            response.headers["HX-Reswap"] = "outerHTML"
            return response
        return _page(actor, scope, chosen, form, **context)
    result_url = url_for("tags.bulk_edit_result", change_set_id=done.change_set_id)
    if not wants_fragment():
        flash(outcome_text(done), "success")
        return redirect(result_url)
    response = make_response(render_template(
        "tags/_bulk_edit_result.html", done=done, refusals_shown=REFUSALS_SHOWN,
        **_undo_context(actor, scope, done.change_set_id)))
    response.headers["HX-Push-Url"] = result_url
    return response


def _undo_context(actor: Actor, scope: Scope, change_set_id: int) -> dict[str, Any]:
    """The change set, and what undoing it would do (or why it cannot be undone)."""
    change_set = get_change_set(actor, scope.id, change_set_id)
    context: dict[str, Any] = {"cs": change_set, "undo_preview": None, "undo_refusal": None}
    if change_set.reverted_by_id is None:
        try:
            context["undo_preview"] = preview_undo(actor, scope.id, change_set_id)
        except Conflict as error:
            context["undo_refusal"] = error.message
    return context


@tags.get("/tags/bulk-edit/changes/<int:change_set_id>")
def bulk_edit_result(change_set_id: int) -> Any:
    """The result of a bulk edit: its change set, with Undo (the audit's)."""
    actor, scope = _actor_scope()
    authorize(actor, scope.id, Permission.TAGS_WRITE)
    context = _undo_context(actor, scope, change_set_id)
    return render_page("tags/bulk_edit.html", "tags/_bulk_edit_result.html", **context)

