"""Error pages: a service error or HTTP error outside the API renders as HTML, as a full
page or (for htmx) a fragment, with the status code the JSON API would use."""

from __future__ import annotations

from typing import Any

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from webapp.error_status import status_for
from webapp.services.errors import RateLimited, ServiceError, ValidationFailed
from webapp.ui.rendering import wants_fragment

TITLES = {
    400: "Bad request",
    401: "Sign-in required",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Too large",
    429: "Too many attempts",
    500: "Something went wrong",
}


# The status of a form refused for what was typed in it (a field the form or a service
# refused), on every page; a conflict (409), a refusal (403) or a missing row (404) keeps
# its own.
REFUSED_FORM = 422


def form_status(error: ServiceError) -> int:
    """REFUSED_FORM for input a service refused, else the error's own status."""
    return REFUSED_FORM if isinstance(error, ValidationFailed) else status_for(error)


def render_error(status: int, message: str) -> tuple[str, int]:
    title = TITLES.get(status, "Error")
    template = "errors/_error.html" if wants_fragment() else "errors/error.html"
    return render_template(template, status=status, title=title, message=message), status


def service_error(error: ServiceError) -> Any:
    status = status_for(error)
    body, status = render_error(status, error.message)
    headers = {"Retry-After": str(error.retry_after)} if isinstance(error, RateLimited) else {}
    return body, status, headers


def _csrf_error(error: CSRFError) -> Any:
    return render_error(400, f"The form expired or was not sent from this site "
                             f"({error.description}). Reload the page and try again.")


def html_http_error(error: HTTPException) -> tuple[str, int, dict[str, str]]:
    """The error page of an HTTP error, keeping the error's own headers (``Allow`` on a
    405, ``Retry-After`` on a 429) but its content type."""
    status = error.code or 500
    if status >= 500:
        return (*render_error(500, "The server failed to answer; the error is logged."), {})
    headers = {name: value for name, value in error.get_headers()
               if name.lower() != "content-type"}
    return (*render_error(status, error.description or error.name), headers)


def init_app(app: Flask) -> None:
    """The CSRF error page (service errors: see webapp.ui.blueprints; HTTP errors:
    webapp.http_errors)."""
    app.register_error_handler(CSRFError, _csrf_error)
