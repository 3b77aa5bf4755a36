"""The one JSON error shape of the API (service errors take their status from
:mod:`webapp.error_status`).

Every failure answers ``{"error": {"code", "message", "details": [{"field", "message"}]}}``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from flask import Flask, Response, current_app, jsonify, request
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException

from webapp.error_status import status_for
from webapp.services.errors import (
    FieldError,
    ServiceError,
)

HTTP_CODES: dict[int, str] = {
    400: "BAD_REQUEST",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    413: "LIMIT_EXCEEDED",
    415: "UNSUPPORTED_MEDIA_TYPE",
    429: "RATE_LIMITED",
}


class ApiError(Exception):
    """An error raised by the HTTP layer itself (authentication, malformed bodies)."""

    def __init__(self, status: int, code: str, message: str,
                 details: Iterable[FieldError] = (), headers: dict[str, str] | None = None
                 ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = list(details)
        self.headers = headers or {}


def error_response(status: int, code: str, message: str,
                   details: Sequence[FieldError] = (),
                   headers: dict[str, str] | None = None) -> Response:
    body: dict[str, Any] = {
        "error": {
            "code": code,
            "message": message,
            "details": [{"field": d.field, "message": d.message} for d in details],
        }
    }
    response = jsonify(body)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def field_path(location: Sequence[int | str]) -> str:
    """A pydantic location as the services spell a field: ``tags[1].name``, ``[0].id``."""
    path = ""
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else part)
    return path or "body"


def field_errors(error: ValidationError) -> list[FieldError]:
    """Pydantic errors as field errors: the field's path and pydantic's message."""
    details = []
    for item in error.errors(include_url=False):
        location = field_path(item["loc"])
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            message = "unknown field"
        details.append(FieldError(location, message))
    return details


def validation_error(error: ValidationError) -> ApiError:
    details = field_errors(error)
    summary = "; ".join(f"{d.field}: {d.message}" for d in details[:3])
    return ApiError(400, "VALIDATION_FAILED", f"invalid input ({summary})", details)


def json_http_error(error: HTTPException) -> Response:
    """An HTTP error (404 route, 405, 413 body, 500) under /api/v1, in the API's shape."""
    status = error.code or 500
    if status >= 500:
        return error_response(500, "INTERNAL_ERROR",
                              "the server failed to answer; the error is logged")
    message = error.description or error.name
    if status == 404:
        message = "no such API route"
    elif status == 405:
        message = f"{request.method} is not allowed on this route"
    elif status == 413:
        limit = current_app.config.get("MAX_CONTENT_LENGTH")
        return error_response(413, "PAYLOAD_TOO_LARGE",
                              f"the request body is larger than {limit} bytes",
                              [FieldError("body", f"at most {limit} bytes")])
    headers = {k: v for k, v in error.get_headers() if k == "Allow"} if status == 405 else {}
    return error_response(status, HTTP_CODES.get(status, "HTTP_ERROR"), message,
                          headers=headers)


def register_error_handlers(app: Flask) -> None:
    """Errors raised by API views answer JSON (HTTP errors: see webapp.http_errors)."""

    @app.errorhandler(ApiError)
    def _api_error(error: ApiError) -> Response:
        return error_response(error.status, error.code, error.message, error.details,
                              error.headers)

    @app.errorhandler(ServiceError)
    def _service_error(error: ServiceError) -> Response:
        # The web admin's blueprints register their own (HTML) handler, which Flask
        # prefers over this app-wide one.
        return error_response(status_for(error), error.code, error.message, error.details)
