"""Tag expressions in Chromium: typing one on the resources page updates the matched count
and the list as you type, a malformed one shows its error beside the field (the field keeps
focus and what was typed), and fixing it brings the count back; the bulk page's selection
takes the same field.  Screenshots of both pages at 1366 and 390 pixels wide."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_plus

import pytest
from flask import Flask

from tests.e2e.conftest import htmx_idle, shot, sign_in
from tests.unit.factories import PASSWORD, SYSTEM, World, make_world
from webapp.services import assignments, groups, resources
from webapp.services.resources import ResourceInput

expect: Any = pytest.importorskip("playwright.sync_api").expect


def _seed(world: World) -> None:
    """40 tables (the first 15 sensitive), 10 sources (4 paid, named ``…-ads``)."""
    sid = world.scope.id
    groups.create_group(SYSTEM, sid, "sensitivity", color="#C62828")
    resources.register_resources(SYSTEM, sid, [
        *(ResourceInput("table", f"tbl-{n:02d}", f"warehouse.orders_{n:02d}") for n in range(40)),
        *(ResourceInput("source", f"src-{n:02d}", f"Source {n}",
                        f"source-{n:02d}" + ("-ads" if n < 4 else "")) for n in range(10)),
    ])
    assignments.attach(SYSTEM, sid, ["sensitivity::pii"],
                       {"table": [f"tbl-{n:02d}" for n in range(15)]})
    assignments.attach(SYSTEM, sid, ["paid", "Campaign.spring"],
                       {"source": [f"src-{n:02d}" for n in range(4)]})


def _type(page: Any, field: Any, text: str) -> None:
    field.fill("")
    field.press_sequentially(text, delay=5)
    htmx_idle(page)


@pytest.mark.http_errors(422)
def test_typing_an_expression_on_the_resources_page(page: Any, live_server: str,
                                                     app: Flask) -> None:
    world = make_world()
    _seed(world)
    sign_in(page, "viewer@example.com", PASSWORD)
    page.goto("/s/acme/resources")
    field = page.locator("#r-expr")
    expect(field).to_be_visible()

    _type(page, field, "type:table -group:sensitivity")
    expect(page.locator("#expr-count")).to_have_attribute("data-count", "25")
    expect(page.locator("#resource-list")).to_contain_text("tbl-15")
    expect(page.locator("#resource-list")).not_to_contain_text("tbl-00")
    assert unquote_plus(page.url).endswith("/s/acme/resources?expr=type:table -group:sensitivity")

    _type(page, field, "type:table AND tag:")
    errors = page.locator("#expr-errors")
    expect(errors).to_have_text('at 20: expected a value after "tag:"')
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_be_focused()
    expect(field).to_have_value("type:table AND tag:")
    expect(page.locator("#resource-list")).to_contain_text("The tag expression has an error")

    _type(page, field, "tag:paid OR name:*-ads")
    expect(page.locator("#expr-errors")).to_have_count(0)
    expect(field).not_to_have_attribute("aria-invalid", "true")
    expect(page.locator("#expr-count")).to_have_attribute("data-count", "4")

    _type(page, field, "tag:unpaid")
    expect(page.locator("#expr-errors")).to_contain_text('at 5: unknown tag "unpaid"')

    _type(page, field, "tag:Campaign.* OR (type:table group:sensitivity)")
    expect(page.locator("#expr-count")).to_have_attribute("data-count", "19")
    page.locator(".expr-help > summary").click()
    expect(page.locator(".expr-terms")).to_be_visible()

    for width, height in ((1366, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.evaluate("window.scrollTo(0, 0)")
        shot(page, f"expressions-resources-{width}")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    _type(page, field, "type:table AND (tag:")
    expect(page.locator("#expr-errors")).to_have_text('at 21: expected a value after "tag:"')
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "expressions-resources-error-390")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


@pytest.mark.http_errors(422)
def test_the_bulk_page_selects_by_expression(page: Any, live_server: str, app: Flask) -> None:
    world = make_world()
    _seed(world)
    sign_in(page, "editor@example.com", PASSWORD)
    page.goto("/s/acme/bulk")
    field = page.locator("#expr")
    _type(page, field, "type:table -group:sensitivity")
    expect(page.locator("#match-count")).to_have_attribute("data-count", "25")
    expect(page.locator("#expr-count")).to_have_attribute("data-count", "25")
    page.locator(".expr-help > summary").click()
    for width, height in ((1366, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.evaluate("window.scrollTo(0, 0)")
        shot(page, f"expressions-bulk-{width}")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    _type(page, field, "type:table -group:secret")
    expect(page.locator("#expr-errors")).to_have_text('at 19: unknown group "secret"')
    expect(field).to_be_focused()
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "expressions-bulk-error-390")
