"""``url_for_row`` builds exactly what ``url_for`` builds, for every row of a request, and
keeps its patterns to that request."""

from __future__ import annotations

import pytest
from flask import Flask, url_for

from webapp.ui.urls import url_for_row


@pytest.mark.parametrize("values", [{}, {"_anchor": "edit"}, {"view": "row"},
                                    {"view": "a b&c", "_anchor": "x"}])
def test_url_for_row_equals_url_for(app: Flask, values: dict[str, str]) -> None:
    with app.test_request_context("/s/acme/tags"):
        for scope_slug in ("acme", "beta"):
            for row_id in (1, 42, 10**9):
                expected = url_for("tags.detail", scope_slug=scope_slug, handle=row_id,
                                   **values)
                assert url_for_row("tags.detail", "handle", row_id, scope_slug=scope_slug,
                                   **values) == expected


def test_patterns_belong_to_one_request(app: Flask) -> None:
    with app.test_request_context("/", base_url="http://one.example/"):
        first = url_for_row("tags.detail", "handle", 7, scope_slug="acme", _external=True)
    with app.test_request_context("/", base_url="http://two.example/"):
        second = url_for_row("tags.detail", "handle", 7, scope_slug="acme", _external=True)
    assert first.startswith("http://one.example/") and second.startswith("http://two.example/")


def test_only_integer_ids(app: Flask) -> None:
    with app.test_request_context("/"), pytest.raises(TypeError):
        url_for_row("tags.detail", "handle", "tag_x", scope_slug="acme")  # type: ignore[arg-type]
