"""Bulk tagging: choose resources, choose tags, preview the exact change, apply, undo.

One page holds the whole state in one form (``bulk_forms.BulkForm``); htmx refreshes its
parts: the selection (count, rows, pager) as filters change or rows are ticked, the tag
picker's options and chosen tags, and the preview.  The preview's Apply form carries a
copy of the state it was computed from, so the apply uses the same criteria.  The result
has a URL of its own (``/bulk/changes/<id>``) with the Undo button.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from webapp.models import Tag
from webapp.services import names
from webapp.services.errors import (
    Conflict,
    FieldError,
    LimitExceeded,
    ServiceError,
    ValidationFailed,
)
from webapp.services.link_plan import LinkAction
from webapp.services.link_preview import (
    apply_links,
    change_set_outcome,
    describe_names,
    preview_links,
)
from webapp.services.paging import PageRequest
from webapp.services.resource_selection import (
    ResourceCriteria,
    SelectionPage,
    browse_selection,
    count_selection,
)
from webapp.services.tags.lookup import find_tag
from webapp.services.tags.queries import (
    TagFilter,
    matched_aliases,
    search_tags,
    usage_counts,
)
from webapp.services.undo import get_change_set, preview_undo, preview_undos, undo_change_set
from webapp.ui.bulk_forms import USE_MATCHING, USE_TICKED, BulkForm, TagQueryForm
from webapp.ui.errors import REFUSED_FORM, form_status
from webapp.ui.rendering import apply_service_error, wants_fragment
from webapp.ui.scoping import current_scope, scoped_actor, scoped_blueprint

bulk = scoped_blueprint("bulk", __name__)

PER_PAGE = 25
OPTIONS = 8
# Their errors are shown in the selection's summary (the tag expression's beside its field).
FILTER_FIELDS = ("type", "q", "mode", "pattern", "on", "tag", "ticked")
MAX_PAGE = 1_000_000


def _form() -> BulkForm:
    return BulkForm(formdata=request.values)


def _page_number() -> int:
    raw = request.values.get("page", "")
    if not raw.isascii() or not raw.isdigit():
        return 1
    value = int(raw) if len(raw) <= 9 else MAX_PAGE  # never parse thousands of digits
    return min(value, MAX_PAGE) if value > 0 else 1


def _selection(form: BulkForm, page: int = 1, *, auto_use: bool = False) -> dict[str, Any]:
    """The selection part of the page: per-type counts, a page of matching rows, how many
    ticked rows exist (four statements at most, five with a tag expression).  Filter errors
    go beside their field; ``refused`` says there are some."""
    scope, actor = current_scope(), scoped_actor()
    found: SelectionPage | None = None
    tag: Tag | None = None
    try:
        criteria = form.filter_criteria(scope.id)
    except ValidationFailed as error:
        apply_service_error(form, error)
    else:
        found = browse_selection(actor, scope.id, criteria, PageRequest(page, PER_PAGE))
        if not found.page.items and page > found.page.pages:
            found = browse_selection(actor, scope.id, criteria,
                                     PageRequest(found.page.pages, PER_PAGE))
        if criteria.tag_id is not None:
            tag = find_tag(scope.id, criteria.tag_id, include_deleted=True)
    ticked_ids: list[int] = []
    ticked_total = 0
    try:
        ticked = form.ticked_criteria()
    except (ValidationFailed, LimitExceeded) as error:
        apply_service_error(form, error)
    else:
        ticked_ids = list(ticked.ids or ())
        if ticked_ids:
            ticked_total = count_selection(actor, scope.id, ticked).total
    if auto_use:  # ticking rows means "these rows"; unticking them all, "all matching"
        form.use.data = USE_TICKED if ticked_total else USE_MATCHING
    on_page = {row.resource.id for row in found.page.items} if found else set()
    return {
        "form": form,
        "found": found,
        "tag": tag,
        "ticked": set(ticked_ids),
        "ticked_elsewhere": [i for i in ticked_ids if i not in on_page],
        "ticked_total": ticked_total,
        "type_counts": found.counts.by_type if found else {},
        "all_total": sum(found.counts.by_type.values()) if found else 0,
        "filter_fields": FILTER_FIELDS,
        "expr": (form.expr.data or "").strip(),
        "expr_errors": form.expr.errors,
        "expr_count": found.counts.total if found else 0,
        "refused": any(form[name].errors for name in (*FILTER_FIELDS, "expr")),
    }


def _chosen(form: BulkForm, errors: list[str] | None = None) -> dict[str, Any]:
    statuses = describe_names(scoped_actor(), current_scope().id, form.tags.data)
    return {"statuses": statuses, "tag_errors": errors or [],
            "detaching": form.link_action is LinkAction.DETACH}


def _canonical(form: BulkForm) -> str:
    return url_for("bulk.index", **form.state_args())


@bulk.get("/bulk")
def index() -> ResponseReturnValue:
    form = _form()
    context = {**_selection(form, _page_number()), **_chosen(form)}
    status = REFUSED_FORM if context["refused"] else 200
    if wants_fragment():
        return render_template("bulk/_selection.html", **context), status
    return render_template("bulk/index.html", tag_query=TagQueryForm(formdata=None),
                           **context), status


@bulk.post("/bulk/selection")
def selection() -> ResponseReturnValue:
    """The selection again for the state posted (filters changed, a row ticked, another
    page); ``part=summary`` answers with the count and the apply-to choice only."""
    form = _form()
    if request.form.get("clear_ticks"):
        form.ticked.data = []
        form.use.data = USE_MATCHING
    if not wants_fragment():
        return redirect(_canonical(form))
    summary_only = request.form.get("part") == "summary"
    context = _selection(form, _page_number(), auto_use=bool(request.form.get("auto")))
    template = "bulk/_summary.html" if summary_only else "bulk/_selection.html"
    status = REFUSED_FORM if context["refused"] else 200
    return render_template(template, **context), status, {"HX-Replace-Url": _canonical(form)}


@bulk.get("/bulk/tag-options")
def tag_options() -> ResponseReturnValue:
    """Existing tags matching the typed text and, when attaching, the typed name itself
    when it would be a new tag (or why it is not a valid name)."""
    query = (TagQueryForm(formdata=request.args).tag_query.data or "").strip()
    detaching = request.args.get("action") == LinkAction.DETACH.value
    scope, actor = current_scope(), scoped_actor()
    matches: list[Tag] = []
    new_name: str | None = None
    name_error: str | None = None
    if query:
        # Deprecated tags are not offered to attach (an attach refuses them); to detach, they are.
        matches = search_tags(actor, scope.id,
                              TagFilter(search=query, exclude_deprecated=not detaching),
                              limit=OPTIONS,
                              assignable_only=True)
        try:
            typed = names.parse_name(query, "tag")
        except ValidationFailed as error:
            name_error = error.details[0].message
        else:
            if not detaching and find_tag(scope.id, typed.text) is None:
                new_name = typed.text
    usage = usage_counts([t.id for t in matches])
    return render_template("bulk/_tag_options.html", query=query, matches=matches,
                           usage=usage, new_name=new_name, name_error=name_error,
                           detaching=detaching, via_alias=matched_aliases(query, matches))


@bulk.post("/bulk/tags")
def chosen() -> ResponseReturnValue:
    """The chosen tags after adding (``add``) or removing (``remove``) one; the whole
    state is posted so that the address bar can follow."""
    form = _form()
    wanted = list(form.tags.data)
    added = (request.form.get("add") or "").strip()
    removed = (request.form.get("remove") or "").strip()
    if removed:
        wanted = [name for name in wanted if names.key(name) != names.key(removed)]
    if added and names.key(added) not in {names.key(name) for name in wanted}:
        wanted.append(added)
    form.tags.data = wanted
    if not wants_fragment():
        return redirect(_canonical(form))
    return render_template("bulk/_chosen.html", **_chosen(form)), 200, {
        "HX-Replace-Url": _canonical(form)}


def _is_about_tags(detail: FieldError) -> bool:
    """The service names the tags of a change ``names`` (or ``names[i]``)."""
    return detail.field == "names" or detail.field.startswith("names[")


def _split_errors(error: ServiceError) -> tuple[list[str], list[FieldError]]:
    """Errors about the tags, and errors about the selection."""
    tag_errors = [d.message for d in error.details if _is_about_tags(d)]
    other = [d for d in error.details if not _is_about_tags(d)]
    if not error.details:
        other = [FieldError("selection", error.message)]
    return tag_errors, other


def _refused(form: BulkForm, error: ServiceError, status: int, verb: str
             ) -> ResponseReturnValue:
    """A preview or apply that failed: the message in the preview area (whatever the
    request targeted), and each error beside its cause (the chosen tags, or the selection
    summary), out of band."""
    tag_errors, selection_errors = _split_errors(error)
    context: dict[str, Any] = {"message": error.message, "oob": True, "verb": verb}
    if tag_errors:
        context.update(_chosen(form, tag_errors))
    if selection_errors:
        context.update(_selection(form, 1))
        context["selection_errors"] = [d.message for d in selection_errors]
    headers = {"HX-Retarget": "#bulk-preview", "HX-Reswap": "outerHTML"}
    return render_template("bulk/_refused.html", **context), status, headers


@bulk.post("/bulk/preview")
def preview() -> ResponseReturnValue:
    form = _form()
    scope, actor = current_scope(), scoped_actor()
    try:
        criteria = form.selection_criteria(scope.id)
        plan = preview_links(actor, scope.id, form.link_action, form.tags.data, criteria)
    except (ValidationFailed, LimitExceeded) as error:
        if not wants_fragment():
            flash(error.message, "error")
            return redirect(_canonical(form))
        return _refused(form, error, form_status(error), "Cannot preview this change")
    context = {"form": form, "plan": plan, "criteria": criteria, "tag": _tag_of(criteria)}
    if not wants_fragment():
        return render_template("bulk/preview.html", **context)
    return render_template("bulk/_preview.html", **context)


def _tag_of(criteria: ResourceCriteria) -> Tag | None:
    if criteria.tag_id is None:
        return None
    return find_tag(current_scope().id, criteria.tag_id, include_deleted=True)


@bulk.post("/bulk/apply")
def apply() -> ResponseReturnValue:
    form = _form()
    scope, actor = current_scope(), scoped_actor()
    try:
        applied = apply_links(actor, scope.id, form.link_action, form.tags.data,
                              form.selection_criteria(scope.id))
    except (ValidationFailed, LimitExceeded, Conflict) as error:
        if not wants_fragment():
            flash(error.message, "error")
            return redirect(_canonical(form))
        return _refused(form, error, form_status(error), "Cannot apply this change")
    if applied.change_set_id is None:
        message = "Nothing changed: none of these tags is on the selected resources."
        if not wants_fragment():
            flash(message, "info")
            return redirect(_canonical(form))
        return _refused(form, ValidationFailed(message), REFUSED_FORM, "Nothing to apply")
    target = url_for("bulk.result", change_set_id=applied.change_set_id)
    if not wants_fragment():
        flash("Done. You can undo the change below.", "success")
        return redirect(target)
    return _result(applied.change_set_id), 200, {"HX-Push-Url": target}


def _result(change_set_id: int, *, undo_error: str | None = None) -> str:
    actor, scope = scoped_actor(), current_scope()
    outcome = change_set_outcome(actor, scope.id, change_set_id)
    done = outcome.change_set
    preview = (preview_undos(actor, scope.id, [done], check_policies=True).get(done.id)
               if not outcome.undone and done.reverts_id is None else None)
    template = "bulk/_result.html" if wants_fragment() else "bulk/result.html"
    return render_template(template, outcome=outcome, undo_error=undo_error, preview=preview)


@bulk.get("/bulk/changes/<int:change_set_id>")
def result(change_set_id: int) -> ResponseReturnValue:
    return _result(change_set_id)


def _confirm_undo(change_set_id: int) -> ResponseReturnValue:
    """The undo's confirmation as a page (the Undo button without JavaScript)."""
    actor, scope = scoped_actor(), current_scope()
    change_set = get_change_set(actor, scope.id, change_set_id)
    back = url_for("bulk.result", change_set_id=change_set_id)
    try:
        preview = preview_undo(actor, scope.id, change_set_id)
    except Conflict as error:
        return render_template("audit/undo.html", cs=change_set, error=error.message,
                               back=back), 409
    return render_template("audit/undo.html", cs=change_set, preview=preview, back=back,
                           action=url_for("bulk.undo", change_set_id=change_set_id))


@bulk.route("/bulk/changes/<int:change_set_id>/undo", methods=["GET", "POST"])
def undo(change_set_id: int) -> ResponseReturnValue:
    """GET: the confirmation; POST: undo.  (One rule: see audit.undo.)"""
    if request.method == "GET":
        return _confirm_undo(change_set_id)
    try:
        undo_change_set(scoped_actor(), current_scope().id, change_set_id)
    except Conflict as error:
        if not wants_fragment():
            flash(error.message, "error")
            return redirect(url_for("bulk.result", change_set_id=change_set_id))
        return _result(change_set_id, undo_error=error.message), 409
    if not wants_fragment():
        flash("Undone: the links are back as they were.", "success")
        return redirect(url_for("bulk.result", change_set_id=change_set_id))
    return _result(change_set_id)
