"""Links between pages of a list response (``next`` and ``previous`` as absolute URLs)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import request

from webapp.services.paging import Page


def _page_url(number: int) -> str:
    args = request.args.copy()
    args["page"] = str(number)
    return f"{request.base_url}?{urlencode(list(args.items(multi=True)))}"


def page_fields(page: Page[Any]) -> dict[str, Any]:
    """``count``, ``page``, ``per_page``, ``next`` and ``previous`` of a list response."""
    return {
        "count": page.total,
        "page": page.page,
        "per_page": page.per_page,
        "next": _page_url(page.page + 1) if page.has_next else None,
        "previous": _page_url(page.page - 1) if page.has_previous else None,
    }
