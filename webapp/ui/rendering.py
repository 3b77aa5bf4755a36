"""Rendering helpers shared by every area of the admin.

NetBox's way with htmx: one URL per page.  A request made by htmx (and not boosted) gets
the fragment; any other request gets the full page, which ``{% include %}``s the same
fragment.  Partials are named ``_thing.html`` beside their page.
"""

from __future__ import annotations

from typing import Any

from flask import render_template, request
from flask_wtf import FlaskForm

from webapp.services.errors import ServiceError


def wants_fragment() -> bool:
    """True for htmx requests that swap part of a page (not boosted navigation)."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def render_page(page: str, fragment: str, status: int = 200, **context: Any
                ) -> tuple[str, int]:
    """Render ``fragment`` for htmx requests, else ``page`` (which includes it)."""
    template = fragment if wants_fragment() else page
    return render_template(template, **context), status


def apply_service_error(form: FlaskForm, error: ServiceError,
                        field_map: dict[str, str] | None = None) -> None:
    """Show a service error beside the form field it names, else at the top of the form.

    ``field_map`` translates service field names to form field names where they differ.
    """
    placed = False
    for detail in error.details:
        name = (field_map or {}).get(detail.field, detail.field)
        field = getattr(form, name, None)
        if field is not None and hasattr(field, "errors"):
            if isinstance(field.errors, tuple):
                field.errors = list(field.errors)
            field.errors.append(detail.message)
            placed = True
    if not placed:
        form.form_errors.append(error.message)
