"""The audit pages: a scope's change sets, what each changed, and undo.

``/s/<slug>/audit`` lists change sets newest first with filters kept in the query string;
a change set expands (htmx) into its events with a before/after diff of each.  Undo posts
to ``/audit/<id>/undo`` and answers with the re-rendered list (same filters and page), a
refused undo showing the service's reason beside its row.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from markupsafe import Markup

from webapp.error_status import status_for
from webapp.models import AuditEvent
from webapp.services.errors import Conflict, PermissionDenied
from webapp.services.paging import PageRequest
from webapp.services.undo import (
    ChangeSetDetail,
    ChangeSetFilter,
    can_be_undone,
    describe_change_set,
    digest_change_sets,
    get_change_set,
    list_change_set_actors,
    list_change_sets,
    preview_undo,
    preview_undos,
    undo_change_set,
)
from webapp.ui.audit_forms import AuditFilterForm, page_number
from webapp.ui.rendering import render_page, wants_fragment
from webapp.ui.scoping import current_scope, scoped_actor, scoped_blueprint

audit = scoped_blueprint("audit", __name__)

HEX_COLOR = re.compile(r"#[0-9a-fA-F]{6}")
PER_PAGE = 50
EVENTS_INLINE = 50  # events shown when a change set is expanded in the list
EVENTS_PER_PAGE = 100  # on a change set's own page

KIND_LABELS = {
    "tag": "Tag",
    "tag_alias": "Alias",
    "assignments": "Links",
    "resources": "Resources",
    "tag_group": "Group",
    "membership": "Member",
    "api_key": "API key",
    "scope": "Scope",
    "user": "User",
}
FIELD_LABELS = {
    "parent_id": "parent",
    "group_id": "group",
    "allowed_types": "allowed types",
    "display_name": "display name",
    "links_added": "links moved",
    "from": "merged from",
    "count": "registered",
    "resources": "resources",
    "deprecated_at": "deprecated at",
    "replaced_by": "replaced by",
}
NOUNS = {  # singular and plural, for "3 tags", "1 group"
    "tag": ("tag", "tags"),
    "tag_alias": ("alias", "aliases"),
    "tag_group": ("group", "groups"),
    "membership": ("member", "members"),
    "api_key": ("API key", "API keys"),
    "scope": ("scope", "scopes"),
    "user": ("user", "users"),
}
HIDDEN_FIELDS = frozenset({"public_id", "scope_id", "user_id", "deleted", "tag",
                           "replacement_id"})


def format_time(value: datetime | None, now: datetime | None = None) -> Markup:
    """A ``<time>`` element: "3 min ago" within a day, else the UTC date and time."""
    if value is None:
        return Markup('<span class="muted">never</span>')
    moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    seconds = ((now or datetime.now(UTC)) - moment).total_seconds()
    if seconds < 60:
        text = "just now"
    elif seconds < 3600:
        text = f"{int(seconds // 60)} min ago"
    elif seconds < 86400:
        text = f"{int(seconds // 3600)} h ago"
    else:
        text = moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
    full = moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return Markup('<time datetime="{}" title="{}">{}</time>').format(
        moment.isoformat(), full, text
    )


def replaces_flashes() -> bool:
    """An htmx answer to a write also replaces the page's flashed messages (out of band),
    so a message from an earlier action does not linger beside a new result or error."""
    return wants_fragment() and request.method != "GET"


@audit.context_processor
def _helpers() -> dict[str, Any]:
    return {"format_time": format_time, "nouns": NOUNS, "hex_color": is_hex_color}


def is_hex_color(value: object) -> bool:
    """Only such values go into a ``style`` attribute."""
    return isinstance(value, str) and HEX_COLOR.fullmatch(value) is not None


# --- presenting events ------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One field of an event: its value before and after (display strings)."""

    field: str
    before: str | None
    after: str | None
    is_color: bool = False


@dataclass(frozen=True)
class EventView:
    kind: str
    name: str
    action: str
    changes: list[Change]


def _value(key: str, value: Any, names: dict[tuple[str, int], str]) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if key == "parent_id" and isinstance(value, int):
        return names.get(("tag", value), f"tag #{value}")
    if key == "group_id" and isinstance(value, int):
        return names.get(("tag_group", value), f"group #{value}")
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    return str(value)


def _alias_changes(event: AuditEvent, names: dict[tuple[str, int], str]) -> list[Change]:
    """A ``tag_alias`` event: the alias added, removed or moved (from which tag)."""
    after = event.after or {}
    action = event.action.removeprefix("undo ")
    removed = (action == "remove") != event.action.startswith("undo ")
    changes = [Change("alias", str(after.get("alias")), None) if removed and action != "move"
               else Change("alias", None, str(after.get("alias")))]
    source = after.get("from_tag_id")
    if action == "move" and isinstance(source, int):
        changes.append(Change("moved from", None, names.get(("tag", source), f"tag #{source}")))
    return changes


def _changes(event: AuditEvent, names: dict[tuple[str, int], str]) -> list[Change]:
    if event.object_type == "tag_alias":
        return _alias_changes(event, names)
    before, after = event.before, event.after
    if after is None:  # a deletion: the action says it all
        return []
    keys = [key for key in after if key not in HIDDEN_FIELDS]
    changes = []
    for key in keys:
        new = after.get(key)
        if before is None:
            if new in (None, "", [], False):
                continue
            old_text = None
        else:
            if key in before and before.get(key) == new:
                continue
            if key not in before:
                continue  # partial snapshots (delete/restore) only name what they flip
            old_text = _value(key, before.get(key), names)
        changes.append(Change(FIELD_LABELS.get(key, key), old_text, _value(key, new, names),
                              is_color=key == "color"))
    return changes


def _snapshot_text(event: AuditEvent, *keys: str) -> str | None:
    for snapshot in (event.after or {}, event.before or {}):
        for key in keys:
            value = snapshot.get(key)
            if isinstance(value, str) and value:
                return value
    return None


def _object_name(event: AuditEvent, names: dict[tuple[str, int], str]) -> str:
    kind, oid = event.object_type, event.object_id
    if kind in ("tag", "assignments", "tag_alias"):
        return names.get(("tag", oid)) or _snapshot_text(event, "path", "tag") or f"tag #{oid}"
    if kind == "tag_group":
        return names.get(("tag_group", oid)) or _snapshot_text(event, "identifier") or \
            f"group #{oid}"
    if kind == "resources":
        return f"{_snapshot_text(event, 'type') or 'resource'} resources"
    if kind in ("membership", "user"):
        return _snapshot_text(event, "email") or f"user #{oid}"
    if kind == "api_key":
        name, prefix = _snapshot_text(event, "name"), _snapshot_text(event, "prefix")
        return f"{name} (tw_{prefix}…)" if name and prefix else f"key #{oid}"
    if kind == "scope":
        return _snapshot_text(event, "name") or f"scope #{oid}"
    return f"{kind} #{oid}"


def event_views(detail: ChangeSetDetail) -> list[EventView]:
    """The events of ``detail`` as rows: kind, object name, action, changed fields."""
    return [
        EventView(KIND_LABELS.get(e.object_type, e.object_type),
                  _object_name(e, detail.names), e.action, _changes(e, detail.names))
        for e in detail.events.items
    ]


# --- pages ------------------------------------------------------------------------------


def _filters() -> tuple[AuditFilterForm, ChangeSetFilter]:
    scope = current_scope()
    form = AuditFilterForm(request.args, list_change_set_actors(scoped_actor(), scope.id))
    form.validate()
    object_type = form.object_type.data if not form.object_type.errors else None
    return form, ChangeSetFilter(
        actor_id=form.actor_id() if not form.actor.errors else None,
        object_type=object_type or None,
        include_undone=not form.hide_undone.data,
    )


def _list(status: int = 200, errors: dict[int, str] | None = None) -> tuple[str, int]:
    """The change-set list (page or fragment) for the filters and page in the URL."""
    actor, scope = scoped_actor(), current_scope()
    form, filters = _filters()
    page = list_change_sets(actor, scope.id, filters,
                            PageRequest(page_number(request.args), PER_PAGE))
    digests = digest_change_sets(actor, scope.id, page.items)
    undoable = {cs.id for cs in page.items if can_be_undone(cs, digests[cs.id])}
    previews = preview_undos(actor, scope.id, [cs for cs in page.items if cs.id in undoable])
    return render_page(
        "audit/index.html", "audit/_results.html", status,
        form=form, results=page, digests=digests, undoable=undoable, previews=previews,
        errors=errors or {}, filter_args=form.query_args(), oob=replaces_flashes(),
    )


@audit.get("/audit")
def index() -> Any:
    return _list()


def _detail(change_set_id: int, per_page: int, status: int = 200,
            undo_error: str | None = None) -> tuple[str, int]:
    actor, scope = scoped_actor(), current_scope()
    page = page_number(request.args) if not wants_fragment() else 1
    detail = describe_change_set(actor, scope.id, change_set_id, PageRequest(page, per_page))
    undoable = can_be_undone(detail.change_set, detail.digest)
    preview = (preview_undos(actor, scope.id, [detail.change_set])[change_set_id]
               if undoable and not wants_fragment() else None)
    return render_page(
        "audit/detail.html", "audit/_events.html", status,
        detail=detail, events=event_views(detail),
        undoable=undoable, preview=preview, undo_error=undo_error,
    )


@audit.get("/audit/<int:change_set_id>")
def detail(change_set_id: int) -> Any:
    """The change set's own page; for htmx, its events (the list's expand)."""
    return _detail(change_set_id, EVENTS_INLINE if wants_fragment() else EVENTS_PER_PAGE)


LIST_ARGS = ("actor", "object_type", "hide_undone", "page")


def _list_args() -> dict[str, str]:
    """The list's filters and page, from the query string."""
    return {k: v for k, v in request.args.items() if k in LIST_ARGS and v}


def _confirm_undo(change_set_id: int) -> Any:
    """The undo's confirmation, saying what it will do, as a page of its own: where the
    Undo button leads without JavaScript (with it, the same opens in a dialog)."""
    actor, scope = scoped_actor(), current_scope()
    change_set = get_change_set(actor, scope.id, change_set_id)
    from_detail = request.args.get("next") == "detail"
    back = (url_for("audit.detail", change_set_id=change_set_id) if from_detail
            else url_for("audit.index", **_list_args()))
    try:
        preview = preview_undo(actor, scope.id, change_set_id)
    except Conflict as error:
        return render_template("audit/undo.html", cs=change_set, error=error.message,
                               back=back), status_for(error)
    action = url_for("audit.undo", change_set_id=change_set_id,
                     **({} if from_detail else _list_args()))
    return render_template("audit/undo.html", cs=change_set, preview=preview, action=action,
                           fields={"next": "detail"} if from_detail else {}, back=back)


# One rule for both methods: an id past 64 bits then matches no route (404), where a GET
# rule beside a POST one would make Werkzeug answer 405 before converting the id.
@audit.route("/audit/<int:change_set_id>/undo", methods=["GET", "POST"])
def undo(change_set_id: int) -> Any:
    """GET: the confirmation (see _confirm_undo).  POST: undo a change set.  The list's
    form keeps its filters and page in the query string; the change set's page posts
    ``next=detail``."""
    if request.method == "GET":
        return _confirm_undo(change_set_id)
    actor, scope = scoped_actor(), current_scope()
    from_detail = request.form.get("next") == "detail"
    try:
        done = undo_change_set(actor, scope.id, change_set_id)
    except (Conflict, PermissionDenied) as error:
        status = status_for(error)
        if from_detail:
            return _detail(change_set_id, EVENTS_PER_PAGE, status, undo_error=error.message)
        return _list(status, errors={change_set_id: error.message})
    flash(f"Change set #{change_set_id} was undone (by change set #{done.id}).", "success")
    if wants_fragment():
        return _list()
    if from_detail:
        return redirect(url_for("audit.detail", change_set_id=change_set_id))
    return redirect(url_for("audit.index", **_list_args()))
