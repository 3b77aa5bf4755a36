"""``url_for_row``: ``url_for`` for lists, where hundreds of links differ only in a row id.

Building a URL through the routing map costs tens of microseconds; a tag page links every
row four or five times.  The first call for an endpoint and its other values builds the
URL once with a marker in the id's place; later calls in the same request fill in the id.
Ids are integers, which every converter and query string writes as plain digits, so the
result is exactly ``url_for``'s.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, request, url_for

_MARKER = "__row_id__"


def url_for_row(endpoint: str, argument: str, row_id: int, **values: Any) -> str:
    """``url_for(endpoint, **{argument: row_id}, **values)``, for an integer ``row_id``."""
    if not isinstance(row_id, int) or isinstance(row_id, bool):
        raise TypeError(f"url_for_row needs an integer id, not {row_id!r}")
    # Kept with the request (WSGI environ), not in ``g``: an app context may outlive it.
    patterns: dict[tuple[Any, ...], str] = request.environ.setdefault(
        "tagwright.row_url_patterns", {})
    key = (endpoint, argument, *sorted(values.items()))
    pattern = patterns.get(key)
    if pattern is None:
        pattern = patterns[key] = url_for(endpoint, **{argument: _MARKER}, **values)
    return pattern.replace(_MARKER, str(row_id))


def init_app(app: Flask) -> None:
    app.add_template_global(url_for_row)
