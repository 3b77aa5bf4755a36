"""Resources: the list with its tags (search as you type, a tag expression whose matched
count and errors update as you type, type tabs with counts, a tag filter, paging), register
one resource, import many from CSV; one resource's page (its tags with where each came
from, and its history).

``/resources`` and ``/resources/<type>`` are one view: htmx requests get the list
fragment (and the address bar follows), others the whole page.  Register and import
answer htmx with their form (success note or errors beside the field) and the refreshed
list out of band; plain posts are redirected with a flash, or get the page back with the
errors.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from webapp.models import RESOURCE_TYPES, Tag
from webapp.services.errors import LimitExceeded, ValidationFailed
from webapp.services.paging import Page, PageRequest
from webapp.services.policies.resource_check import check_resource
from webapp.services.resource_detail import find_resource, resource_history, resource_tags
from webapp.services.resource_import import import_resources, register_resource
from webapp.services.resource_selection import (
    EXPRESSION_FIELD,
    SelectionCount,
    browse_selection,
    build_criteria,
)
from webapp.services.resources import ResourceInput
from webapp.services.tags.lookup import find_tag
from webapp.ui.errors import REFUSED_FORM
from webapp.ui.rendering import apply_service_error, wants_fragment
from webapp.ui.resource_forms import (
    ImportResourcesForm,
    RegisterResourceForm,
    ResourceFilterForm,
    line_errors,
    read_resource_csv,
)
from webapp.ui.scoping import current_scope, scoped_actor, scoped_blueprint

resources = scoped_blueprint("resources", __name__)

PER_PAGE = 50
MAX_PAGE = 1_000_000


def _list_context(rtype: str | None = None) -> dict[str, Any]:
    """The list for the filters in the request (query string, or a form's included
    filters): four statements whatever the page size (five with a tag expression).  A
    refused expression lists nothing and says why beside its field (``expr_errors``)."""
    filters = ResourceFilterForm(formdata=request.values)
    rtype = rtype or (filters.type.data or "").strip().lower() or None
    if rtype is not None and rtype not in RESOURCE_TYPES:
        abort(404, f"there is no resource type {rtype!r}")
    scope, actor = current_scope(), scoped_actor()
    expression = (filters.expr.data or "").strip()
    expr_errors: list[str] = []
    try:
        criteria = build_criteria(rtype=rtype, search=filters.q.data, tag_id=filters.tag.data,
                                  expression=expression, scope_id=scope.id)
    except ValidationFailed as error:
        expr_errors = [d.message for d in error.details if d.field == EXPRESSION_FIELD]
        if len(expr_errors) < len(error.details):
            raise
        criteria = build_criteria(rtype=rtype, search=filters.q.data, tag_id=filters.tag.data)
    page_number = min(filters.page.data or 1, MAX_PAGE) if (filters.page.data or 0) > 0 else 1
    if expr_errors:
        counts, page = SelectionCount({}, 0), Page([], 0, 1, PER_PAGE)
    else:
        found = browse_selection(actor, scope.id, criteria, PageRequest(page_number, PER_PAGE))
        if not found.page.items and page_number > found.page.pages:  # past the end: the last
            found = browse_selection(actor, scope.id, criteria,
                                     PageRequest(found.page.pages, PER_PAGE))
        counts, page = found.counts, found.page
    tag: Tag | None = None
    if criteria.tag_id is not None:
        tag = find_tag(scope.id, criteria.tag_id, include_deleted=True)
    args = {"q": criteria.search, "tag": criteria.tag_id, "expr": expression}
    return {
        "rtype": rtype,
        "q": criteria.search or "",
        "expr": expression,
        "expr_errors": expr_errors,
        "tag": tag,
        "tag_id": criteria.tag_id,
        "counts": counts,
        "all_total": sum(counts.by_type.values()),
        "page": page,
        "args": {key: value for key, value in args.items() if value},
        "fragment": wants_fragment(),
    }


def _status(context: dict[str, Any]) -> int:
    return REFUSED_FORM if context["expr_errors"] else 200


def _canonical(context: dict[str, Any], page: int | None = None) -> str:
    return url_for("resources.index", rtype=context["rtype"], page=page, **context["args"])


def _full_page(status: int = 200, context: dict[str, Any] | None = None, **forms: Any
               ) -> ResponseReturnValue:
    """The whole page; ``forms`` replace the empty register and import forms."""
    return render_template(
        "resources/index.html",
        register_form=forms.get("register_form") or RegisterResourceForm(formdata=None),
        import_form=forms.get("import_form") or ImportResourcesForm(formdata=None),
        **(context or _list_context()),
    ), status


@resources.get("/resources", defaults={"rtype": None})
@resources.get("/resources/<rtype>")
def index(rtype: str | None) -> ResponseReturnValue:
    context = _list_context(rtype.lower() if rtype else None)
    if not wants_fragment():
        return _full_page(_status(context), context=context)
    page = context["page"].page
    push = _canonical(context, page if page > 1 else None)
    return render_template("resources/_list.html", **context), _status(context), {
        "HX-Push-Url": push}


@resources.post("/resources/register")
def register() -> ResponseReturnValue:
    form = RegisterResourceForm()
    form.validate_on_submit()
    item = ResourceInput(form.resource_type.data or "", form.external_id.data or "",
                         form.name.data, form.slug.data)
    try:
        created = register_resource(scoped_actor(), current_scope().id, item)
    except ValidationFailed as error:
        apply_service_error(form, error, {"type": "resource_type", "id": "external_id"})
        if not wants_fragment():
            return _full_page(REFUSED_FORM, register_form=form)
        return render_template("resources/_register_form.html", register_form=form), REFUSED_FORM
    rtype, external_id = item.type.strip().lower(), item.external_id.strip()
    message = (f"Registered {rtype} “{external_id}”." if created else
               f"{rtype} “{external_id}” was registered already; its name and slug were "
               "updated where given.")
    if not wants_fragment():
        flash(message, "success")
        return redirect(url_for("resources.index", rtype=rtype))
    return render_template("resources/_form_response.html",
                           form_template="resources/_register_form.html",
                           register_form=RegisterResourceForm(formdata=None), message=message,
                           oob=True, **_list_context())


@resources.post("/resources/import")
def import_csv() -> ResponseReturnValue:
    form = ImportResourcesForm()
    form.validate_on_submit()
    field = "csv_text"
    try:
        text, field = form.source()
        outcome = import_resources(scoped_actor(), current_scope().id, read_resource_csv(text))
    except (ValidationFailed, LimitExceeded) as error:
        status = 413 if isinstance(error, LimitExceeded) else REFUSED_FORM
        named = [d.field for d in error.details]
        if named and all(name in ("csv_file", "csv_text") for name in named):
            apply_service_error(form, error)
        else:
            getattr(form, field).errors = line_errors(error)
            bad = sum(name.startswith("line ") for name in named)
            form.form_errors.append(
                error.message if isinstance(error, LimitExceeded) else
                f"Nothing was imported: {bad} lines have errors. Fix them and import again."
                if bad > 1 else "Nothing was imported: fix the problem below and import again."
            )
        if not wants_fragment():
            return _full_page(status, import_form=form)
        return render_template("resources/_import_form.html", import_form=form), status
    parts = [f"{outcome.created:,} new", f"{outcome.existing:,} already registered"]
    message = (f"Imported {outcome.lines:,} line(s): {', '.join(parts)}"
               + (f" ({outcome.duplicates:,} repeated line(s) merged)" if outcome.duplicates
                  else "") + ".")
    if not wants_fragment():
        flash(message, "success")
        return redirect(url_for("resources.index"))
    return render_template("resources/_form_response.html",
                           form_template="resources/_import_form.html",
                           import_form=ImportResourcesForm(formdata=None), message=message,
                           oob=True, **_list_context())


# --- one resource's page ----------------------------------------------------------------

DETAIL_PER_PAGE = 25
# The cards an htmx request may ask for alone (``?card=``), by template.
CARDS = {"tags": "resources/_tags_card.html", "history": "resources/_history.html"}


def _page_arg(name: str) -> int:
    """A card's page number from the query string (1 when absent or not a number)."""
    raw = request.args.get(name, "")
    return min(int(raw), MAX_PAGE) if raw.isdigit() and len(raw) <= 9 and int(raw) else 1


def _card_context(card: str, actor: Any, scope_id: int, resource: Any,
                  pages: dict[str, int]) -> dict[str, Any]:
    if card == "tags":
        return {"links": resource_tags(actor, scope_id, resource,
                                       PageRequest(pages["tpage"], DETAIL_PER_PAGE))}
    return {"history": resource_history(actor, scope_id, resource,
                                        PageRequest(pages["hpage"], DETAIL_PER_PAGE))}


@resources.get("/resources/<rtype>/<path:external_id>")
def detail(rtype: str, external_id: str) -> ResponseReturnValue:
    """A resource's page: its fields, its tags with who added each, when and how, its
    history and its compliance with each policy.  htmx gets one card
    (``?card=tags|history``, paged by ``tpage`` and ``hpage``) or the page's body; other
    requests the whole page."""
    actor, scope = scoped_actor(), current_scope()
    resource = find_resource(actor, scope.id, rtype, external_id)
    pages = {"tpage": _page_arg("tpage"), "hpage": _page_arg("hpage")}
    context: dict[str, Any] = {"resource": resource, **pages}
    card = request.args.get("card", "")
    if wants_fragment() and card in CARDS:
        context.update(_card_context(card, actor, scope.id, resource, pages))
        return render_template(CARDS[card], **context)
    for name in CARDS:
        context.update(_card_context(name, actor, scope.id, resource, pages))
    context["checks"] = check_resource(actor, scope.id, resource)
    template = "resources/_detail.html" if wants_fragment() else "resources/detail.html"
    return render_template(template, **context)
