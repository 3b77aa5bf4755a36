"""The JSON API under ``/api/v1``: thin views over the service layer.

Each module holds the routes of one seed document's family; ``schemas`` holds the pydantic
models that validate them and generate the OpenAPI document.
"""

from __future__ import annotations

from flask import Blueprint, Flask, Response, current_app, g, render_template, request, url_for
from werkzeug.exceptions import RequestEntityTooLarge

from webapp.api.auth import authenticate
from webapp.api.body_guard import max_body_bytes, refuse_control_parameters
from webapp.api.converters import install as install_converters
from webapp.api.errors import register_error_handlers
from webapp.api.openapi import BODY_METHODS, spec
from webapp.services.sql import integer_key

api = Blueprint("api", __name__, url_prefix="/api/v1")
api.record_once(install_converters)  # before any rule: the rules use them

# Routes anyone may read: the API's own description.
PUBLIC_ENDPOINTS = frozenset({"api.docs"})

# GET /tags/{id}, the call integrations make most, checks its key and reads the tag in one
# statement: the view argument that names the tag, by endpoint.
TAG_READ_WITH_KEY = {"api.get_one_tag": "tag_id"}

@api.before_request
def _bounded_input() -> None:
    """Before anything else reads the request: a declared body over the limit is a 413
    unread (a chunked one stops with 413 when reading passes the limit), and a control
    character in the query string or the URL is a 400 naming the parameter."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if limit is not None and request.content_length is not None \
            and request.content_length > limit:
        raise RequestEntityTooLarge()
    if limit is not None and request.content_length is None and request.method in BODY_METHODS \
            and len(request.get_data(cache=True)) >= limit:
        # Werkzeug stops reading a chunked body at the limit without an error: a body that
        # reaches it is (or may be) cut short.
        raise RequestEntityTooLarge()
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

    # Flask's defaults hold the key (as None), so setdefault would never set it.
    if app.config.get("MAX_CONTENT_LENGTH") is None:
        app.config["MAX_CONTENT_LENGTH"] = max_body_bytes()
    app.register_blueprint(api)
    register_error_handlers(app)
    spec.register(app)
