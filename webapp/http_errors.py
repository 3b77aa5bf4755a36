"""One handler for HTTP errors (unknown route, wrong method, body too large, crash): JSON
under /api/v1, an HTML page (or htmx fragment) everywhere else."""

from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.exceptions import HTTPException, InternalServerError

from webapp.api.errors import in_api, json_http_error
from webapp.ui.errors import html_http_error


def _http_error(error: HTTPException) -> Any:
    if error.code is None or error.code < 400:
        return error
    return json_http_error(error) if in_api() else html_http_error(error)


def register_http_error_handler(app: Flask) -> None:
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(InternalServerError, _http_error)
