"""The JSON API under ``/api/v1``: thin views over the service layer.

Each module holds the routes of one seed document's family; ``schemas`` holds the pydantic
models that validate them and generate the OpenAPI document.
"""

from __future__ import annotations

from flask import Blueprint, Flask, Response, g, render_template, request, url_for

from webapp.api.auth import authenticate
from webapp.api.body_guard import refuse_control_parameters
from webapp.api.converters import install as install_converters
from webapp.api.errors import register_error_handlers
from webapp.api.openapi import spec
from webapp.services.sql import integer_key
from webapp.url_layout import API_PREFIX

api = Blueprint("api", __name__, url_prefix=API_PREFIX)
api.record_once(install_converters)  # before any rule: the rules use them

# Routes anyone may read: the API's own description.
PUBLIC_ENDPOINTS = frozenset({"api.docs"})

# GET /tags/{id}, the call integrations make most, checks its key and reads the tag in one
# statement: the view argument that names the tag, by endpoint.
TAG_READ_WITH_KEY = {"api.get_one_tag": "tag_id"}

@api.before_request
def _bounded_input() -> None:
    """A control character in the query string or the URL is a 400 naming the parameter
    (the body's size is checked app-wide first: see webapp.body_limit)."""
    refuse_control_parameters(request.args, request.view_args)


@api.before_request
def _authenticate() -> None:
    if request.endpoint in PUBLIC_ENDPOINTS:
        return
    g.api_caller = authenticate(_tag_read_with_key())


def _tag_read_with_key() -> int | None:
    argument = TAG_READ_WITH_KEY.get(request.endpoint or "")
    if argument is None or request.view_args is None:
        return None
    return integer_key(request.view_args.get(argument))


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
    register_error_handlers(app)
    spec.register(app)
