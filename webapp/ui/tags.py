"""The tag list and a tag's page.

``/s/<slug>/tags`` searches as you type, filters, sorts and pages (each answered by the
results fragment for htmx, else the full page, with the URL kept in the address bar),
edits a row in place, creates tags, and acts on the ticked rows (delete, move, merge).
``/s/<slug>/tags/<id>`` shows one tag: details, tagged resources, change history, and
edit / delete / restore for editors.

Every write authorizes first (so a viewer's POST is a 403, never a form error), then
calls one service; a service error is shown beside the field it names.  An htmx write is
answered with the fragment it changed plus out-of-band flashes, and ``HX-Trigger:
tags-changed`` when the list should refresh itself; a plain POST gets a redirect.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from flask import Response, abort, flash, make_response, redirect, render_template, request, url_for

from webapp.models import Scope, Tag
from webapp.services.actor import Actor, Permission, authorize
from webapp.services.errors import ServiceError, ValidationFailed
from webapp.services.groups import list_groups
from webapp.services.paging import MAX_PAGE, Page, PageRequest
from webapp.services.tags.aliases import aliases_of, set_aliases
from webapp.services.tags.bulk import merge_into, move_tags
from webapp.services.tags.creation import CREATE_PERMISSIONS, TagSpec, create_tag
from webapp.services.tags.deletion import bulk_delete_tags, delete_tag, restore_tag
from webapp.services.tags.deprecation import (
    deprecate_tag,
    preview_replace_everywhere,
    replace_everywhere,
    undeprecate_tag,
)
from webapp.services.tags.hierarchy import update_tag
from webapp.services.tags.lookup import Reading, find_tag, get_tag, live_tag
from webapp.services.tags.queries import (
    SORTS,
    TagDetail,
    TagFilter,
    TagRow,
    get_tag_row,
    list_tags,
    matched_aliases,
    search_tags,
    subtree_summary,
    tag_detail,
    tag_events,
    tag_sources,
    tagged_resources,
)
from webapp.services.undo import ChangeSetFilter, list_change_sets
from webapp.services.wording import counted
from webapp.ui.errors import REFUSED_FORM, form_status
from webapp.ui.rendering import apply_service_error, render_page, wants_fragment
from webapp.ui.scoping import current_scope, scoped_actor, scoped_blueprint
from webapp.ui.tag_forms import (
    ActionForm,
    AliasesForm,
    BulkForm,
    DeleteForm,
    DeprecateForm,
    TagCreateForm,
    TagEditForm,
)

tags = scoped_blueprint("tags", __name__)

PER_PAGE = 50
DETAIL_PER_PAGE = 20
OPTIONS_LIMIT = 20
CHILDREN_SHOWN = 50
# Sorting by these starts with the biggest / newest first.
DESCENDING_FIRST = frozenset({"usage", "created", "updated"})
CHANGED = "tags-changed"  # the event that makes the list refresh itself


def _int(raw: str | None, default: int = 1) -> int:
    """A page number: ``default`` unless a whole number from 1; at most MAX_PAGE (a page
    past the last shows the last)."""
    try:
        value = int(raw or "")
    except ValueError:
        return default
    return min(value, MAX_PAGE) if value >= 1 else default


@dataclass(frozen=True)
class ListArgs:
    """The list's query string: search, filters, sort and page."""

    q: str = ""
    group: str = ""
    parent: str = ""
    source: str = ""
    deleted: bool = False
    sort: str = "path"
    desc: bool = False
    page: int = 1

    @classmethod
    def parse(cls, args: Mapping[str, str]) -> ListArgs:
        sort = args.get("sort", "path")
        return cls(
            q=args.get("q", "").strip()[:200],
            group=args.get("group", "").strip()[:100],
            parent=args.get("parent", "").strip()[:1100],
            source=args.get("source", "").strip()[:100],
            deleted=args.get("deleted", "") in {"1", "on", "true", "y"},
            sort=sort if sort in SORTS else "path",
            desc=args.get("dir") == "desc",
            page=_int(args.get("page")),
        )

    def filters(self, actor: Actor, scope: Scope) -> TagFilter:
        """The service filter; the parent is a typed path, never read as an id (an
        unknown one matches nothing: no tag has the key 0)."""
        parent: int | None = None
        if self.parent:
            found = find_tag(scope.id, self.parent, reading=Reading.NAME)
            parent = found.id if found is not None else 0
        return TagFilter(search=self.q or None, group=self.group or None, parent=parent,
                         source=self.source or None, include_deleted=self.deleted)

    @property
    def filtered(self) -> bool:
        return bool(self.q or self.group or self.parent or self.source)

    def params(self, **changes: Any) -> dict[str, Any]:
        """Query parameters (defaults left out) for ``url_for('tags.index', **…)``."""
        args = replace(self, **changes)
        out: dict[str, Any] = {name: getattr(args, name)
                               for name in ("q", "group", "parent", "source")
                               if getattr(args, name)}
        if args.deleted:
            out["deleted"] = "1"
        if args.sort != "path":
            out["sort"] = args.sort
        if args.desc:
            out["dir"] = "desc"
        if args.page > 1:
            out["page"] = args.page
        return out

    def sorted_by(self, column: str) -> dict[str, Any]:
        """Parameters for a column header: toggles the direction of the current sort."""
        desc = not self.desc if column == self.sort else column in DESCENDING_FIRST
        return self.params(sort=column, desc=desc, page=1)


def _actor_scope() -> tuple[Actor, Scope]:
    return scoped_actor(), current_scope()



def _fragment(template: str, status: int = 200, *, trigger: bool = False,
              headers: Mapping[str, str] | None = None, **context: Any) -> Response:
    """An htmx answer: ``template`` plus the flashes out of band."""
    response = make_response(render_template(template, oob_flashes=True, **context), status)
    if trigger:
        response.headers["HX-Trigger"] = CHANGED
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _safe_next(target: str | None) -> str:
    """Back to the list the user came from (a path of this site), else the list."""
    index = url_for("tags.index")
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and parts.path == index:
            return target
    return index


# --- the list ---------------------------------------------------------------------------


def _list(actor: Actor, scope: Scope, args: ListArgs) -> tuple[ListArgs, Page[TagRow]]:
    filters = args.filters(actor, scope)
    page = list_tags(actor, scope.id, filters, sort=args.sort, descending=args.desc,
                     paging=PageRequest(args.page, PER_PAGE))
    if not page.items and page.total and args.page > page.pages:  # past the end: the last
        args = replace(args, page=page.pages)
        page = list_tags(actor, scope.id, filters, sort=args.sort,
                         descending=args.desc, paging=PageRequest(args.page, PER_PAGE))
    return args, page


def _render_index(status: int = 200, *, create_form: TagCreateForm | None = None,
                  bulk_form: BulkForm | None = None) -> tuple[str, int]:
    """The list page (or, for htmx, its results fragment)."""
    actor, scope = _actor_scope()
    args, page = _list(actor, scope, ListArgs.parse(request.args))
    context: dict[str, Any] = {"args": args, "results": page, "oob": wants_fragment(),
                               "via_alias": matched_aliases(args.q, [r.tag for r in page.items])}
    if not wants_fragment():
        context.update(
            groups=[row.group.identifier for row in list_groups(actor, scope.id)],
            sources=tag_sources(actor, scope.id),
            create_form=create_form or TagCreateForm(formdata=None),
            create_open=create_form is not None or (page.total == 0 and not args.filtered
                                                    and not args.deleted),
            bulk_form=bulk_form or BulkForm(formdata=None, prefix="bulk",
                                                data={"next": request.full_path}),
        )
    return render_page("tags/index.html", "tags/_results.html", status, **context)


def _parent_named(scope_id: int, path: str) -> Tag:
    """The live tag a typed parent path names (never read as an id), else the error
    beside the parent field."""
    return live_tag(scope_id, path, "parent", reading=Reading.NAME, missing=ValidationFailed)


@tags.get("/tags")
def index() -> Any:
    return _render_index()


@tags.get("/tags/options")
def options() -> Any:
    """``<option>``s of live tags whose qualified name contains what was typed (for a
    ``<datalist>``): the one non-empty query parameter, whatever the input's name.
    Deprecated tags are left out: a picker offers only tags to use."""
    actor, scope = _actor_scope()
    typed = next((value.strip() for value in request.args.values() if value.strip()), "")
    found = search_tags(actor, scope.id,
                        TagFilter(search=typed or None, exclude_deprecated=True),
                        limit=OPTIONS_LIMIT)
    return render_template("tags/_options.html", tags=found)


@tags.post("/tags")
def create() -> Any:
    actor, scope = _actor_scope()
    authorize(actor, scope.id, *CREATE_PERMISSIONS)
    form = TagCreateForm()
    status = REFUSED_FORM
    if form.validate_on_submit():
        parent_path = (form.parent.data or "").strip()
        try:
            parent = _parent_named(scope.id, parent_path) if parent_path else None
            tag = create_tag(actor, scope.id, TagSpec(
                name=form.name.data or "",
                parent=parent.id if parent else None,
                # As typed: the service trims, and refuses control characters.
                label=form.label.data if (form.label.data or "").strip() else None,
                color=form.chosen_color(),
                description=form.description.data or None,
            ))
        except ServiceError as error:
            apply_service_error(form, error)
            status = form_status(error)
        else:
            flash(f"Created tag {tag.qualified_name}.", "success")
            if not wants_fragment():
                return redirect(url_for("tags.index"))
            # Keep the parent: the next tag is often a sibling.
            fresh = TagCreateForm(formdata=None, data={"parent": parent_path})
            return _fragment("tags/_create_form.html", 201, trigger=True, create_form=fresh)
    if wants_fragment():
        return _fragment("tags/_create_form.html", status, create_form=form)
    return _render_index(status, create_form=form)


BULK_PERMISSIONS = {
    "delete": Permission.TAGS_DELETE,
    "move": Permission.TAGS_WRITE,
    "merge": Permission.TAGS_WRITE,
}


@tags.post("/tags/bulk")
def bulk() -> Any:
    """Delete, move or merge the ticked tags (the pressed button's ``action``)."""
    actor, scope = _actor_scope()
    action = request.form.get("action", "")
    authorize(actor, scope.id, BULK_PERMISSIONS.get(action, Permission.TAGS_WRITE))
    form = BulkForm(prefix="bulk")
    ids = [int(raw) for raw in request.form.getlist("ids") if raw.isdigit()]
    status = REFUSED_FORM
    if action not in BULK_PERMISSIONS:
        form.form_errors.append("Choose an action: delete, move or merge.")
    elif not ids:
        form.form_errors.append("Tick at least one tag in the list first.")
    elif form.validate_on_submit():
        try:
            message, category = _bulk(actor, scope, action, ids, form)
        except ServiceError as error:
            apply_service_error(form, error)
            status = form_status(error)
        else:
            flash(message, category)
            if not wants_fragment():
                return redirect(_safe_next(form.next.data))
            fresh = BulkForm(formdata=None, prefix="bulk", data={"next": form.next.data})
            return _fragment("tags/_bulk_form.html", trigger=True, bulk_form=fresh)
    if wants_fragment():
        return _fragment("tags/_bulk_form.html", status, bulk_form=form)
    return _render_index(status, bulk_form=form)


def _bulk(actor: Actor, scope: Scope, action: str, ids: list[int], form: BulkForm
          ) -> tuple[str, str]:
    """Run one bulk action; returns the flash message and its category."""
    if action == "move":
        parent = (form.parent.data or "").strip() or None
        moved = move_tags(actor, scope.id, ids, parent)
        where = f"under {parent}" if parent else "to the top level"
        return f"Moved {len(moved)} tag(s) {where}.", "success"
    if action == "merge":
        merged = merge_into(actor, scope.id, ids, (form.target.data or "").strip())
        return (f"Merged {counted(merged.count, 'tag')} into {merged.kept.qualified_name}.",
                "success")
    outcome = bulk_delete_tags(actor, scope.id, ids, hierarchy=bool(form.hierarchy.data))
    message = f"Deleted {len(outcome.deleted)} tag(s)."
    if not outcome.refused:
        return message, "success"
    locked = set(outcome.protected)
    protected = [handle for handle in outcome.refused if handle in locked]
    parents = [handle for handle in outcome.refused if handle not in locked]
    if protected:  # refused for that whatever else, as a single delete's 403
        message += (f" Not deleted: {_names_of(actor, scope, protected)} — protected, or "
                    "holding protected tags.")
    if parents:
        message += (f" Not deleted: {_names_of(actor, scope, parents)} — they have children "
                    "(tick “with descendants”).")
    return message, "warning"


def _names_of(actor: Actor, scope: Scope, handles: list[str]) -> str:
    """The first ten handles' names, and how many more."""
    names = [_name_of(actor, scope, handle) for handle in handles[:10]]
    return ", ".join(names) + (f" and {len(handles) - 10} more" if len(handles) > 10 else "")


def _name_of(actor: Actor, scope: Scope, handle: str) -> str:
    try:
        return get_tag_row(actor, scope.id, handle).tag.qualified_name
    except ServiceError:
        return handle


# --- one row of the list ----------------------------------------------------------------


@tags.get("/tags/<handle>/row")
def row(handle: str) -> Any:
    """The display row (Cancel of an inline edit)."""
    if not wants_fragment():
        return redirect(url_for("tags.detail", handle=handle))
    actor, scope = _actor_scope()
    return render_template("tags/_row.html", row=get_tag_row(actor, scope.id, handle))


@tags.get("/tags/<handle>/row/edit")
def row_edit(handle: str) -> Any:
    """The row as a form (name, label, colour, description)."""
    actor, scope = _actor_scope()
    authorize(actor, scope.id, Permission.TAGS_WRITE)
    if not wants_fragment():
        return redirect(url_for("tags.detail", handle=handle, _anchor="edit"))
    tag_row = get_tag_row(actor, scope.id, handle)
    form = TagEditForm.for_tag(tag_row.tag, "", prefix=f"row-{tag_row.tag.id}",
                               formdata=None)
    return render_template("tags/_row_edit.html", row=tag_row, form=form)


@tags.route("/tags/<handle>/row", methods=["PUT", "POST"])
def row_save(handle: str) -> Any:
    actor, scope = _actor_scope()
    authorize(actor, scope.id, Permission.TAGS_WRITE)
    tag_row = get_tag_row(actor, scope.id, handle)
    tag = tag_row.tag
    form = TagEditForm.for_tag(tag, "", prefix=f"row-{tag.id}")
    status = REFUSED_FORM
    if form.validate_on_submit():
        try:
            update_tag(actor, scope.id, tag.id, **form.changes(tag, "", row=True))
        except ServiceError as error:
            apply_service_error(form, error)
            status = form_status(error)
        else:
            if not wants_fragment():
                flash(f"Saved {tag.qualified_name}.", "success")
                return redirect(url_for("tags.index"))
            return render_template("tags/_row.html", row=tag_row, saved=True)
    if not wants_fragment():  # the inline form needs htmx; without it, the tag's page
        problems = "; ".join([*form.form_errors,
                              *(f"{f.label.text}: {e}" for f in form for e in f.errors)])
        flash(f"Not saved: {problems or 'check the form'}", "error")
        return redirect(url_for("tags.detail", handle=tag.id))
    return render_template("tags/_row_edit.html", row=tag_row, form=form), status


@tags.post("/tags/<handle>/restore")
def restore(handle: str) -> Any:
    """Bring a deleted tag back, with the descendants deleted along with it.  From the
    list (``?view=row``) the answer is the row; from the tag's page, the page."""
    actor, scope = _actor_scope()
    authorize(actor, scope.id, Permission.TAGS_DELETE)
    in_row = request.args.get("view") == "row"
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        restored = restore_tag(actor, scope.id, handle, hierarchy=True)
    except ServiceError as error:
        status = form_status(error)
        if not wants_fragment():
            flash(error.message, "error")
            return redirect(url_for("tags.index") if in_row
                            else url_for("tags.detail", handle=handle))
        if in_row:
            tag_row = get_tag_row(actor, scope.id, handle)
            return render_template("tags/_row.html", row=tag_row, row_error=error.message), status
        return _detail_fragment(handle, status, action_error=error.message)
    more = f" and {len(restored) - 1} descendant(s)" if len(restored) > 1 else ""
    flash(f"Restored {restored[0].qualified_name}{more}.", "success")
    if not wants_fragment():
        return redirect(url_for("tags.index") if in_row
                        else url_for("tags.detail", handle=handle))
    if in_row:
        return _fragment("tags/_row.html", trigger=True,
                         row=get_tag_row(actor, scope.id, handle), saved=True)
    return _detail_fragment(handle)


# --- a tag's page -----------------------------------------------------------------------


def _parent_path(detail: TagDetail) -> str:
    return detail.ancestors[-1].qualified_name if detail.ancestors else ""


def _card_pages() -> dict[str, int]:
    """The page of each card (``?rpage=`` resources, ``?hpage=`` history): each card's
    pager keeps the other card's page in its links."""
    return {"rpage": _int(request.args.get("rpage")), "hpage": _int(request.args.get("hpage"))}


def _resources_card(actor: Actor, scope: Scope, tag: Tag) -> dict[str, Any]:
    """What ``tags/_resources.html`` shows: a page of the resources carrying the tag."""
    pages = _card_pages()
    return {"tag": tag, **pages,
            "resources": tagged_resources(actor, scope.id, tag.id,
                                          PageRequest(pages["rpage"], DETAIL_PER_PAGE))}


def _history_card(actor: Actor, scope: Scope, tag: Tag) -> dict[str, Any]:
    """What ``tags/_history.html`` shows: a page of the change sets that touched the tag,
    with what each did to it."""
    pages = _card_pages()
    history = list_change_sets(actor, scope.id, ChangeSetFilter(tag_id=tag.id),
                               PageRequest(pages["hpage"], DETAIL_PER_PAGE))
    return {"tag": tag, **pages, "history": history,
            "history_events": tag_events(actor, scope.id, tag.id,
                                         [change_set.id for change_set in history.items])}


def _detail_context(handle: str, *, edit_form: TagEditForm | None = None,
                    delete_form: DeleteForm | None = None,
                    deprecate_form: DeprecateForm | None = None,
                    aliases_form: AliasesForm | None = None) -> dict[str, Any]:
    """Everything the tag's page shows (its cards included)."""
    actor, scope = _actor_scope()
    detail = tag_detail(actor, scope.id, handle)
    tag = detail.tag
    aliases = aliases_of([tag.id])[tag.id]
    context: dict[str, Any] = {
        "detail": detail,
        "aliases": aliases,
        "children": list_tags(actor, scope.id, TagFilter(parent=tag.id),
                              paging=PageRequest(1, CHILDREN_SHOWN)),
        **_resources_card(actor, scope, tag),
        **_history_card(actor, scope, tag),
    }
    if actor.can(scope.id, Permission.TAGS_WRITE) and tag.deleted_at is None:
        groups = [row.group.identifier for row in list_groups(actor, scope.id)]
        context["edit_form"] = edit_form or TagEditForm.for_tag(
            tag, _parent_path(detail), groups, formdata=None)
        context["deprecate_form"] = deprecate_form or DeprecateForm(
            formdata=None, data={"replacement": _replacement_name(tag)})
        context["undeprecate_form"] = ActionForm(formdata=None)
        context["aliases_form"] = aliases_form or AliasesForm(
            formdata=None, data={"aliases": "\n".join(aliases)})
    if actor.can(scope.id, Permission.TAGS_DELETE):
        context["delete_form"] = delete_form or DeleteForm(formdata=None)
        context["restore_form"] = ActionForm(formdata=None)
        if tag.deleted_at is None:
            context["subtree"] = subtree_summary(actor, scope.id, tag.id)
    return context


def _detail_fragment(handle: str, status: int = 200, **extra: Any) -> Response:
    """The whole tag page body (after an edit, delete or restore), flashes out of band."""
    return _fragment("tags/_detail.html", status, **_detail_context(handle), **extra)


@tags.get("/tags/<handle>")
def detail(handle: str) -> Any:
    return render_page("tags/detail.html", "tags/_detail.html", **_detail_context(handle))


def _card(handle: str, template: str,
          build: Callable[[Actor, Scope, Tag], dict[str, Any]]) -> Any:
    """One card of the tag's page: for htmx the card alone, read with only what it shows
    (the tag, then ``build``'s reads); else the whole page, which includes the same card."""
    if not wants_fragment():
        return render_page("tags/detail.html", template, **_detail_context(handle))
    actor, scope = _actor_scope()
    tag = get_tag(actor, scope.id, handle, include_deleted=True)  # as the page finds it
    return render_page("tags/detail.html", template, **build(actor, scope, tag))


@tags.get("/tags/<handle>/resources")
def resources(handle: str) -> Any:
    """A page of the tag's resources (``?rpage=``): the card for htmx, else the page."""
    return _card(handle, "tags/_resources.html", _resources_card)


@tags.get("/tags/<handle>/history")
def history(handle: str) -> Any:
    """A page of the tag's change sets (``?hpage=``): the card for htmx, else the page."""
    return _card(handle, "tags/_history.html", _history_card)


@tags.post("/tags/<handle>/edit")
def edit(handle: str) -> Any:
    actor, scope = _actor_scope()
    authorize(actor, scope.id, Permission.TAGS_WRITE)
    detail_ = tag_detail(actor, scope.id, handle)
    tag, parent_path = detail_.tag, _parent_path(detail_)
    groups = [row.group.identifier for row in list_groups(actor, scope.id)]
    form = TagEditForm.for_tag(tag, parent_path, groups)
    status = REFUSED_FORM
    if form.validate_on_submit():
        try:
            changes = form.changes(tag, parent_path, row=False)
            if isinstance(changes["parent"], str):  # a typed path, never read as an id
                changes["parent"] = _parent_named(scope.id, changes["parent"]).id
            update_tag(actor, scope.id, tag.id, **changes)
        except ServiceError as error:
            apply_service_error(form, error)
            status = form_status(error)
        else:
            flash(f"Saved {tag.qualified_name}.", "success")
            if not wants_fragment():
                return redirect(url_for("tags.detail", handle=tag.id))
            return _detail_fragment(str(tag.id))
    if wants_fragment():
        return _fragment("tags/_edit_form.html", status, tag=tag, edit_form=form,
                         headers={"HX-Retarget": "#tag-edit", "HX-Reswap": "outerHTML"})
    return render_page("tags/detail.html", "tags/_detail.html", status,
                       **_detail_context(handle, edit_form=form))


@tags.post("/tags/<handle>/delete")
def delete(handle: str) -> Any:
    actor, scope = _actor_scope()
    authorize(actor, scope.id, Permission.TAGS_DELETE)
    form = DeleteForm()
    status = REFUSED_FORM
    if form.validate_on_submit():
        try:
            tag = get_tag(actor, scope.id, handle)
            deleted = delete_tag(actor, scope.id, tag.id, hierarchy=bool(form.hierarchy.data))
        except ServiceError as error:
            apply_service_error(form, error, {"deleteHierarchy": "hierarchy"})
            status = form_status(error)
        else:
            more = f" and {len(deleted) - 1} descendant(s)" if len(deleted) > 1 else ""
            flash(f"Deleted {tag.qualified_name}{more}. Restore it below, or undo "
                  "the change in the audit log.", "success")
            if not wants_fragment():
                return redirect(url_for("tags.detail", handle=tag.id))
            return _detail_fragment(str(tag.id))
    if wants_fragment():
        context = _detail_context(handle, delete_form=form)
        return _fragment("tags/_delete_form.html", status, **context,
                         headers={"HX-Retarget": "#tag-delete", "HX-Reswap": "outerHTML"})
    return render_page("tags/detail.html", "tags/_detail.html", status,
                       **_detail_context(handle, delete_form=form))


# --- aliases ----------------------------------------------------------------------------


def _alias_errors(form: AliasesForm, error: ServiceError) -> None:
    """The service's errors beside the aliases field, an ``aliases[i]`` one naming the
    line it came from."""
    entries = form.entries()
    placed: list[str] = []
    for detail in error.details:
        index = detail.field.removeprefix("aliases[").removesuffix("]")
        if detail.field.startswith("aliases[") and index.isdigit() and int(index) < len(entries):
            number, text = entries[int(index)]
            placed.append(f"Line {number} (“{text}”): {detail.message}")
        elif detail.field.startswith("aliases"):
            placed.append(detail.message)
    if not placed:
        placed.append(error.message)
    form.aliases.errors = [*form.aliases.errors, *placed]


@tags.post("/tags/<handle>/aliases")
def edit_aliases(handle: str) -> Any:
    """Replace the tag's aliases with the lines typed (one per line; blank lines are
    ignored): one change set, a taken or invalid alias refused beside the field."""
    actor, scope = _actor_scope()
    authorize(actor, scope.id, Permission.TAGS_WRITE)
    tag = get_tag(actor, scope.id, handle)
    form = AliasesForm()
    status = REFUSED_FORM
    if form.validate_on_submit():
        try:
            saved = set_aliases(actor, scope.id, tag.id, [text for _, text in form.entries()])
        except ServiceError as error:
            _alias_errors(form, error)
            status = form_status(error)
        else:
            flash(f"Saved the aliases of {tag.qualified_name}: "
                  f"{', '.join(saved) if saved else 'none'}.", "success")
            if not wants_fragment():
                return redirect(url_for("tags.detail", handle=tag.id))
            return _detail_fragment(str(tag.id))
    if wants_fragment():
        context = _detail_context(handle, aliases_form=form)
        return _fragment("tags/_aliases.html", status, **context,
                         headers={"HX-Retarget": "#tag-aliases", "HX-Reswap": "outerHTML"})
    return render_page("tags/detail.html", "tags/_detail.html", status,
                       **_detail_context(handle, aliases_form=form))


# --- deprecation ------------------------------------------------------------------------


def _replacement_name(tag: Tag) -> str:
    """What the replacement field shows: the live replacement's qualified name."""
    replacement = tag.replacement if tag.deprecated_at is not None else None
    return replacement.qualified_name if replacement and not replacement.deleted_at else ""


@tags.post("/tags/<handle>/deprecate")
def deprecate(handle: str) -> Any:
    """Deprecate the tag, or change the replacement of a deprecated one (a typed name,
    never read as an id; empty: none)."""
    actor, scope = _actor_scope()
    authorize(actor, scope.id, Permission.TAGS_WRITE)
    tag = get_tag(actor, scope.id, handle)
    form = DeprecateForm()
    status = REFUSED_FORM
    if form.validate_on_submit():
        was_deprecated = tag.deprecated_at is not None
        try:
            deprecate_tag(actor, scope.id, tag.id, (form.replacement.data or "").strip() or None,
                          reading=Reading.NAME)
        except ServiceError as error:
            apply_service_error(form, error)
            status = form_status(error)
        else:
            replacement = _replacement_name(tag)
            instead = f" Use {replacement} instead." if replacement else ""
            flash((f"Saved the replacement of {tag.qualified_name}." if was_deprecated else
                   f"Deprecated {tag.qualified_name}: it stays on its resources but is not "
                   "attached again.") + instead, "success")
            if not wants_fragment():
                return redirect(url_for("tags.detail", handle=tag.id))
            return _detail_fragment(str(tag.id))
    if wants_fragment():
        context = _detail_context(handle, deprecate_form=form)
        return _fragment("tags/_deprecation.html", status, **context,
                         headers={"HX-Retarget": "#tag-deprecation", "HX-Reswap": "outerHTML"})
    return render_page("tags/detail.html", "tags/_detail.html", status,
                       **_detail_context(handle, deprecate_form=form))


@tags.post("/tags/<handle>/undeprecate")
def undeprecate(handle: str) -> Any:
    actor, scope = _actor_scope()
    authorize(actor, scope.id, Permission.TAGS_WRITE)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        tag = undeprecate_tag(actor, scope.id, handle)
    except ServiceError as error:
        if not wants_fragment():
            flash(error.message, "error")
            return redirect(url_for("tags.detail", handle=handle))
        return _detail_fragment(handle, form_status(error), action_error=error.message)
    flash(f"{tag.qualified_name} is no longer deprecated.", "success")
    if not wants_fragment():
        return redirect(url_for("tags.detail", handle=tag.id))
    return _detail_fragment(str(tag.id))


@tags.get("/tags/<handle>/replace-everywhere")
def confirm_replace(handle: str) -> Any:
    """What "Replace everywhere" would do, counted, with the button that does it: the
    panel for htmx, else a page holding it.  A refusal (not deprecated, no live
    replacement, a group rule) is said in the panel, with its status."""
    actor, scope = _actor_scope()
    authorize(actor, scope.id, Permission.TAGS_WRITE)
    tag = get_tag(actor, scope.id, handle, include_deleted=True)
    context: dict[str, Any] = {"tag": tag, "form": ActionForm(formdata=None)}
    status = 200
    try:
        context["counts"] = preview_replace_everywhere(actor, scope.id, tag.id)
    except ServiceError as error:
        context["refusal"] = error.message
        status = form_status(error)
    return render_page("tags/replace.html", "tags/_replace.html", status, **context)


@tags.post("/tags/<handle>/replace-everywhere")
def replace_all(handle: str) -> Any:
    """Move every link of the deprecated tag to its replacement (one undoable change
    set); back to the tag's page, whose flash says what moved."""
    actor, scope = _actor_scope()
    authorize(actor, scope.id, Permission.TAGS_WRITE)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        done = replace_everywhere(actor, scope.id, handle)
    except ServiceError as error:
        if not wants_fragment():
            flash(error.message, "error")
            return redirect(url_for("tags.detail", handle=handle))
        return _detail_fragment(handle, form_status(error), action_error=error.message)
    counts = done.counts
    if done.change_set_id is None:
        flash(f"{counts.tag.qualified_name} is on no resource: nothing to move.", "info")
    else:
        parts = [f"Moved {counted(counts.links_to_move, 'link')} from "
                 f"{counts.tag.qualified_name} to {counts.replacement.qualified_name}"]
        if counts.already_on_replacement:
            parts.append(f"{counted(counts.already_on_replacement, 'resource')} carried "
                         f"{counts.replacement.qualified_name} already")
        if counts.replaced_in_group:
            parts.append(f"{counted(counts.replaced_in_group, 'link')} of its exclusive "
                         "group replaced")
        flash("; ".join(parts) + f". Undo it in the audit log (change set "
              f"#{done.change_set_id}).", "success")
    if not wants_fragment():
        return redirect(url_for("tags.detail", handle=counts.tag.id))
    return _detail_fragment(str(counts.tag.id))


# The bulk edit of attributes registers its routes on this blueprint.
from webapp.ui import tag_bulk_edit as _bulk_edit  # noqa: E402,F401
