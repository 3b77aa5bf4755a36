"""One handler for HTTP errors (unknown route, wrong method, body too large, crash): JSON
under /api/v1, an HTML page (or htmx fragment) everywhere else.

Pages also refuse a NUL character anywhere in the query string, the URL or a posted form
with a 400 page naming the field, before a view runs: no stored text may hold one, and
PostgreSQL refuses it even in a search.  (The API checks its own input: see
:mod:`webapp.api.body_guard`.)"""

from __future__ import annotations

from typing import Any

from flask import Flask, request
from werkzeug.exceptions import BadRequest, HTTPException, InternalServerError

from webapp.api.errors import json_http_error
from webapp.ui.errors import html_http_error
from webapp.url_layout import in_api

FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


def _http_error(error: HTTPException) -> Any:
    if error.code is None or error.code < 400:
        return error
    return json_http_error(error) if in_api() else html_http_error(error)


def _nul_field() -> str | None:
    """The first page input (query, URL or form field) holding a NUL, by name."""
    sources: list[Any] = [request.args.items(multi=True), (request.view_args or {}).items()]
    if request.method != "GET" and request.mimetype in FORM_TYPES:
        sources.append(request.form.items(multi=True))
    for items in sources:
        for name, value in items:
            if "\x00" in name or (isinstance(value, str) and "\x00" in value):
                return name.replace("\x00", "")
    return None


def _refuse_nul_in_pages() -> None:
    if in_api():
        return
    field = _nul_field()
    if field is not None:
        raise BadRequest(f"“{field}” holds a NUL character, which no field accepts. "
                         "Remove it and try again.")


def register_http_error_handler(app: Flask) -> None:
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(InternalServerError, _http_error)
    app.before_request(_refuse_nul_in_pages)
