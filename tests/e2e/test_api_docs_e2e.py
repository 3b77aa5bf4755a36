"""The API reference renders in Chromium from vendored assets, under the page's CSP."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import shot


def test_api_docs_render_offline(page: Any) -> None:
    outside: list[str] = []
    page.on("request", lambda request: outside.append(request.url)
            if not request.url.startswith(("http://127.0.0.1", "data:")) else None)
    page.goto("/api/v1/docs")
    page.wait_for_selector(".swagger-ui .opblock", timeout=15_000)
    assert page.locator(".swagger-ui .opblock").count() >= 20
    assert "Tagwright API" in page.locator(".swagger-ui .title").first.inner_text()
    shot(page, "api-docs")
    assert outside == []
