"""The JSON API under ``/api/v1``: thin views over the service layer.

Each module holds the routes of one seed document's family; ``schemas`` holds the pydantic
models that validate them and generate the OpenAPI document.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    g,
    render_template,
    request,
    url_for,
)

from webapp.api.auth import authenticate
from webapp.api.body_guard import refuse_control_parameters
from webapp.api.converters import install as install_converters
from webapp.api.errors import register_error_handlers
from webapp.api.openapi import spec
from webapp.fastpath import check_tag_reads_with_key, tag_read_with_key
from webapp.url_layout import API_PREFIX

api = Blueprint("api", __name__, url_prefix=API_PREFIX)
api.record_once(install_converters)  # before any rule: the rules use them

# Routes anyone may read: the API's own description.
PUBLIC_ENDPOINTS = frozenset({"api.docs"})


@api.before_request
def _bounded_input() -> None:
    """A control character in the query string or the URL is a 400 naming the parameter
    (the body's size is checked app-wide first: see webapp.body_limit)."""
    refuse_control_parameters(request.args, request.view_args)


@api.before_request
def _authenticate() -> None:
    if request.endpoint in PUBLIC_ENDPOINTS:
        return
    view = current_app.view_functions.get(request.endpoint or "")
    # A view marked @reads_tag_with_key has its tag read with the key (webapp.fastpath).
    g.api_caller = authenticate(tag_read_with_key(view, request.view_args))


@api.after_request
def _no_store(response: Response) -> Response:
    response.headers.setdefault("Cache-Control", "no-store")
    return response


@api.get("/docs")
def docs() -> str:
    """The interactive API reference, rendered from vendored Swagger UI (works offline)."""
    return render_template("api/docs.html", spec_url=url_for("openapi_api/v1"))


def register_api(app: Flask) -> None:
    from webapp.api import routes  # noqa: F401  (attach every route to the blueprint)

    app.register_blueprint(api)
    check_tag_reads_with_key(app)
    register_error_handlers(app)
    spec.register(app)
