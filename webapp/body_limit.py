"""The request body limit, for the API and the pages alike.

A body that declares a length over the limit is refused with 413 before anything reads
it. A body sent without a length (chunked transfer) is read up to the limit: Werkzeug stops
there without an error, so a body that reaches the limit is refused with 413 too, rather
than parsed cut short and saved as if it were whole. The API answers the 413 in its error
envelope, the pages with an error page (see :mod:`webapp.http_errors`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from flask import Flask, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

# The default body limit.  The largest legal requests are far below it: an attach of one
# name to 100,000 UUIDs is ~4 MB of JSON, a batch or registration of 1000 items with every
# text at its longest (and every character \u-escaped) ~10 MB.
DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024
BODY_LIMIT_VARIABLES = ("TAGWRIGHT_MAX_BODY_BYTES", "MAX_CONTENT_LENGTH")
# Methods whose requests may carry a body.
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def max_body_bytes(environ: Mapping[str, str] | None = None) -> int:
    """The body limit from ``TAGWRIGHT_MAX_BODY_BYTES`` (or ``MAX_CONTENT_LENGTH``), in
    bytes; 16 MiB when neither is set.  A value that is not a positive whole number stops
    the app from starting, with the variable named."""
    environ = os.environ if environ is None else environ
    for variable in BODY_LIMIT_VARIABLES:
        raw = environ.get(variable, "").strip()
        if raw:
            if not raw.isascii() or not raw.isdigit() or int(raw) < 1:
                raise RuntimeError(f"{variable} must be a positive number of bytes, "
                                   f"not {raw!r}")
            return int(raw)
    return DEFAULT_MAX_BODY_BYTES


def refuse_oversized_body() -> None:
    """413 for a body over the limit: unread when its length is declared, and when it is
    chunked as soon as reading reaches the limit (the read body is kept for the form or
    JSON parser, which reads it from memory)."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if limit is None or request.method not in BODY_METHODS:
        return
    declared = request.content_length
    if declared is not None:
        if declared > limit:
            raise RequestEntityTooLarge()
        return
    if len(request.get_data(cache=True)) >= limit:
        raise RequestEntityTooLarge()


def init_app(app: Flask) -> None:
    """Set the limit (Flask's defaults hold the key as None, so setdefault would never set
    it) and check every request's body against it before any view or form reads it."""
    if app.config.get("MAX_CONTENT_LENGTH") is None:
        app.config["MAX_CONTENT_LENGTH"] = max_body_bytes()
    # First of the app's hooks, so that no other hook reads a cut-short form.
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_oversized_body)
