"""The taxonomy page (``/s/<scope>/taxonomy``): download the scope's groups and tags as
JSON, CSV or YAML (everyone who may read them), and import such a file (``tags.write``;
the service asks more for groups and deletions): choose it, see the exact diff, apply it.

The preview is a dry run of the service; its answer holds the diff (or the file's
problems, by line and field) and, when it can be applied, the apply form carrying the file
and the preview's fingerprint.  The apply answers the outcome, with the change set to
undo; a scope changed since the preview is refused (409) and asks for a new preview.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Response,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)

from webapp.services.actor import Permission, authorize
from webapp.services.errors import ServiceError
from webapp.services.taxonomy.apply import (
    ImportResult,
    export_taxonomy,
    format_of,
    import_taxonomy,
    preview_fingerprint,
)
from webapp.services.taxonomy.plan import Action, Plan
from webapp.services.taxonomy.records import Format, Mode
from webapp.ui.errors import form_status
from webapp.ui.rendering import apply_service_error, wants_fragment
from webapp.ui.scoping import current_scope, scoped_actor, scoped_blueprint
from webapp.ui.taxonomy_forms import ApplyTaxonomyForm, ImportTaxonomyForm

taxonomy = scoped_blueprint("taxonomy", __name__)

SHOWN = 200  # rows listed per section of a diff; the counts say how many in all
FORMATS = [(Format.CSV, "CSV", "one table: a header line, then a group or tag per line; "
                               "opens in a spreadsheet"),
           (Format.JSON, "JSON", "the shape the API takes: a record per line"),
           (Format.YAML, "YAML", "the same document as JSON, easier to edit by hand")]


def _may_import() -> bool:
    return scoped_actor().can(current_scope().id, Permission.TAGS_WRITE)


def _page(status: int = 200, **context: Any) -> tuple[str, int]:
    """The whole page, or (htmx) the part that changed: ``fragment`` in the context."""
    fragment = context.pop("fragment", None)
    if fragment is not None and wants_fragment():
        return render_template(fragment, **context), status
    form = context.pop("form", None)
    if form is None and _may_import():
        form = ImportTaxonomyForm(formdata=None)
    return render_template("taxonomy/index.html", form=form, formats=FORMATS,
                           **context), status


@taxonomy.get("/taxonomy")
def index() -> Any:
    return _page()


@taxonomy.get("/taxonomy/export")
def download() -> Response:
    """The file, streamed as an attachment (needs tags.read)."""
    exported = export_taxonomy(scoped_actor(), current_scope().id,
                               format_of(request.args.get("format") or "csv"))
    chunks = (chunk.encode("utf-8") for chunk in exported.chunks)
    return Response(stream_with_context(chunks), content_type=exported.media_type,
                    headers={"Content-Disposition":
                             f'attachment; filename="{exported.filename}"'})


@taxonomy.post("/taxonomy/preview")
def preview() -> Any:
    """A dry run of the chosen file: the diff, or what is wrong with the file."""
    actor, scope = scoped_actor(), current_scope()
    authorize(actor, scope.id, Permission.TAGS_WRITE)
    form = ImportTaxonomyForm()
    if not form.validate_on_submit():
        return _page(422, form=form, fragment="taxonomy/_import_form.html")
    try:
        text, fmt, name = form.source()
        mode = form.chosen_mode()
        result = import_taxonomy(actor, scope.id, text, fmt, mode=mode, dry_run=True)
    except ServiceError as error:
        problems = _problems(error)
        if not problems:
            apply_service_error(form, error, {"file": "file", "text": "text"})
        return _page(form_status(error), form=form, fragment="taxonomy/_import_form.html",
                     problems=problems, refusal=error.message if problems else None)
    apply_form = ApplyTaxonomyForm.carrying(
        text, fmt, mode, preview_fingerprint(scope.id, text, fmt, mode))
    return _page(200, form=form, fragment="taxonomy/_import_form.html",
                 diff={**_diff(result), "source": name}, apply_form=apply_form)


@taxonomy.post("/taxonomy/apply")
def apply() -> Any:
    """Apply the previewed file in one change set (refused when it went stale)."""
    actor, scope = scoped_actor(), current_scope()
    authorize(actor, scope.id, Permission.TAGS_WRITE)
    form = ApplyTaxonomyForm()
    if not form.validate_on_submit():
        return _page(422, fragment="taxonomy/_result.html",
                     refusal="The form was not sent whole; preview the file again.")
    try:
        fmt, mode = form.chosen_format(), form.chosen_mode()
        result = import_taxonomy(actor, scope.id, form.file_text(), fmt, mode=mode,
                                 dry_run=False, previewed=form.previewed.data or "")
    except ServiceError as error:
        return _page(form_status(error), fragment="taxonomy/_result.html",
                     refusal=error.message, problems=_problems(error))
    if not wants_fragment():
        flash(f"Imported the taxonomy: {result.summary}.", "success")
        return redirect(url_for(".index", done=result.change_set_id or ""))
    return _page(200, fragment="taxonomy/_result.html", result=result)


def _problems(error: ServiceError) -> list[tuple[str, str]]:
    """A refused file's problems as (where, what): the details about its lines."""
    return [(detail.field, detail.message) for detail in error.details
            if detail.field.startswith(("line ", "file"))]


def _diff(result: ImportResult) -> dict[str, Any]:
    """What the preview template shows: the counts, the errors, and each section's first
    SHOWN steps."""
    plan: Plan = result.plan
    sections = []
    for kind, steps in (("groups", plan.groups), ("tags", plan.tags)):
        for action in (Action.CREATE, Action.UPDATE, Action.DELETE, Action.KEPT,
                       Action.UNCHANGED):
            chosen = [step for step in steps if step.action is action]
            if chosen:
                sections.append({"kind": kind, "action": action.value, "count": len(chosen),
                                 "steps": chosen[:SHOWN]})
    return {"result": result, "plan": plan, "mode": plan.mode, "sections": sections,
            "counts": plan.counts(), "errors": plan.errors[:SHOWN],
            "more_errors": max(0, len(plan.errors) - SHOWN),
            "mirror": plan.mode is Mode.MIRROR}
