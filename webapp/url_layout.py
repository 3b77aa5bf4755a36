"""Where each part of the application lives by URL: the JSON API under ``API_PREFIX``, the
web admin's pages everywhere else.  Code that serves both (error handlers, the session's
sign-in redirect) asks :func:`in_api` rather than importing either side."""

from __future__ import annotations

from flask import request

API_PREFIX = "/api/v1"


def in_api() -> bool:
    """Whether the current request is for the JSON API."""
    return request.path == API_PREFIX or request.path.startswith(API_PREFIX + "/")
