"""The validator and OpenAPI generator: spectree, fed by the pydantic models in ``schemas``.

Every route declares its query, body and response models with ``@spec.validate``; the same
models validate the request, check the response and make ``/api/v1/openapi.json``.  Two
things differ from spectree's defaults, both for clients' sake:

* the body is parsed as JSON whatever the Content-Type (curl's ``--data`` sends a form
  type), and a body that is not JSON is a 400 naming the parse error, not an empty object;
* a validation failure raises :class:`ApiError`, so it answers in the API's one error shape.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask import Request
from pydantic import BaseModel, ValidationError
from spectree import SecurityScheme, SpecTree
from spectree.models import InType, SecureType, SecuritySchemeData
from spectree.plugins.base import Context
from spectree.plugins.flask_plugin import FlaskPlugin
from spectree.plugins.werkzeug_utils import werkzeug_parse_rule
from werkzeug.datastructures import MultiDict
from werkzeug.routing import Rule

from webapp.api.body_guard import parse_json_body
from webapp.api.errors import ApiError, validation_error
from webapp.body_limit import BODY_METHODS
from webapp.services.errors import FieldError


def _list_fields(model: type[BaseModel]) -> set[str]:
    """Query names (aliases included) whose field is a list, so repeats are kept."""
    names: set[str] = set()
    for name, info in model.model_fields.items():
        annotation = str(info.annotation)
        if annotation.startswith(("list[", "typing.List", "list |")) or "list[" in annotation:
            names.add(name)
            if info.alias:
                names.add(info.alias)
    return names


def query_items(args: MultiDict[str, str], model: type[BaseModel]) -> dict[str, Any]:
    listed = _list_fields(model)
    return {key: args.getlist(key) if key in listed else args.get(key) for key in args}


def read_json_body(request: Request) -> Any:
    """The request body parsed as JSON; an absent body is None."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        return None
    return parse_json_body(raw)


class TagwrightFlaskPlugin(FlaskPlugin):
    def find_routes(self) -> Iterator[Rule]:
        """Every route but the spec's own and static files.  (spectree skips every rule
        under its ``path``, which here is the API's own prefix ``/api/v1``.)"""
        for rule in self.get_current_app().url_map.iter_rules():
            if rule.endpoint.startswith("openapi") or str(rule).startswith("/static"):
                continue
            yield rule

    def parse_path(self, route: Any, path_parameter_descriptions: Any) -> tuple[str, list]:
        """spectree's parameters, with the schema and description our converters carry."""
        path, parameters = super().parse_path(route, path_parameter_descriptions)
        known = self.get_current_app().url_map.converters
        converters = {variable: known.get(name) for name, _, variable
                      in werkzeug_parse_rule(str(route)) if name is not None}
        for parameter in parameters:
            converter = converters.get(parameter["name"])
            schema = getattr(converter, "schema", None)
            if schema is not None:
                parameter["schema"] = dict(schema)
                parameter["description"] = parameter["description"] or converter.description
        return path, parameters

    def request_validation(self, request: Request, query: Any, json: Any, form: Any,
                           headers: Any, cookies: Any) -> None:
        query_model = query.model_validate(query_items(request.args, query)) if query else None
        body_model = None
        if json is not None and request.method in BODY_METHODS:
            body = read_json_body(request)
            if body is None:
                raise ApiError(400, "VALIDATION_FAILED", "a JSON request body is required",
                               [FieldError("body", "required")])
            body_model = self.model_adapter.validate_obj(json, body)
        request.context = Context(query_model, body_model, None, None, None)


def raise_validation_error(_request: Any, _response: Any, error: Exception | None,
                           _instance: Any, *_rest: Any) -> None:
    if isinstance(error, ValidationError):
        raise validation_error(error)


# What spectree cannot say about an operation (a body that is not JSON, an answer in
# several media types), merged into the generated document: ``(path, method)`` to the
# operation's fields, and the component schemas they refer to.
EXTRA_OPERATION_FIELDS: dict[tuple[str, str], dict[str, Any]] = {}
EXTRA_SCHEMAS: dict[str, Any] = {}


def _merged(into: dict[str, Any], extra: dict[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merged(into[key], value)
        else:
            into[key] = value


class TagwrightSpecTree(SpecTree):
    def _generate_spec(self) -> dict[str, Any]:
        document = super()._generate_spec()
        for (path, method), extra in EXTRA_OPERATION_FIELDS.items():
            operation = document["paths"].get(path, {}).get(method)
            if operation is not None:
                _merged(operation, extra)
        document["components"]["schemas"].update(EXTRA_SCHEMAS)
        return document


spec = TagwrightSpecTree(
    "flask",
    backend=TagwrightFlaskPlugin,
    title="Tagwright API",
    version="1.0.0",
    description=(
        "Tag administration API. Authenticate every call with `x-api-key: KEY` or "
        "`Authorization: Bearer KEY`; the key's scope is the scope of the call. Errors "
        "answer `{\"error\": {\"code\", \"message\", \"details\": [{\"field\", \"message\"}]}}`."
    ),
    path="api/v1",
    filename="openapi.json",
    page_templates={},
    mode="strict",
    validation_error_status=400,
    before=raise_validation_error,
    security_schemes=[
        SecurityScheme(name="ApiKey", data=SecuritySchemeData(
            type=SecureType.API_KEY, name="x-api-key", field_in=InType.HEADER)),
        SecurityScheme(name="Bearer", data=SecuritySchemeData(
            type=SecureType.HTTP, scheme="bearer")),
    ],
    security=[{"ApiKey": []}, {"Bearer": []}],
)
