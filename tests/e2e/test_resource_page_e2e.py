"""A resource's page in Chromium (issue 12 §5): from the resources list, open a resource,
read where each tag came from (manual, API, a named rule), page the history card in place
(htmx) and follow a change set to the audit page; screenshots at 1366 and 390 px."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from tests.e2e.conftest import htmx_idle, shot, sign_in
from tests.unit.factories import PASSWORD, SYSTEM, make_world
from webapp.models import AssignmentContext
from webapp.services import assignments, resources, rules
from webapp.services.groups import create_group
from webapp.services.resources import ResourceInput

expect: Any = pytest.importorskip("playwright.sync_api").expect

TABLE = "warehouse.analytics.orders_by_customer_and_region_daily"


def _shots(page: Any, name: str) -> None:
    for width, height in ((1366, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.evaluate("window.scrollTo(0, 0)")
        width_now = page.evaluate("document.documentElement.scrollWidth")
        assert width_now <= width, f"{name} is {width_now} px wide at {width}"
        shot(page, f"{name}-{width}")
    page.set_viewport_size({"width": 1366, "height": 900})


def test_open_a_resource_from_the_list_and_read_where_its_tags_came_from(
        page: Any, live_server: str, app: Flask) -> None:
    world = make_world()
    create_group(SYSTEM, world.sid, "sensitivity", label="Sensitivity", color="#DC2626",
                 exclusive=True)
    resources.register_resources(world.editor, world.sid, [
        ResourceInput("table", TABLE, "Orders by customer and region, daily", "orders-daily"),
    ])
    assignments.attach(world.editor, world.sid, ["sensitivity::internal"],
                       {"table": [TABLE]}, context=AssignmentContext.MANUAL)
    assignments.attach(world.manager, world.sid, ["Domain.Sales.Orders", "priority::high"],
                       {"table": [TABLE]})
    rule = rules.create_rule(world.manager, world.sid, name="Warehouse tables",
                             when="type:table", attach=["warehouse"])
    rules.apply_rule(world.manager, world.sid, rule.id)
    assignments.attach(world.editor, world.sid, ["sensitivity::confidential"],
                       {"table": [TABLE]}, context=AssignmentContext.MANUAL)
    for n in range(26):  # enough change sets for a second history page
        assignments.attach(world.editor, world.sid, [f"t{n:02d}"], {"table": [TABLE]},
                           context=AssignmentContext.MANUAL)
        if n % 2:
            assignments.detach(world.editor, world.sid, [f"t{n:02d}"], {"table": [TABLE]})
    sign_in(page, "viewer@example.com", PASSWORD)

    page.goto("/s/acme/resources")
    page.get_by_role("link", name=TABLE).click()
    page.wait_for_url(f"**/resources/table/{TABLE}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Orders by customer")
    tags = page.locator("#resource-tags")
    expect(tags.get_by_role("heading")).to_contain_text("Tags (17)")
    warehouse = tags.locator("li", has_text="warehouse")
    expect(warehouse.locator(".badge")).to_have_text("rule")
    expect(warehouse).to_contain_text("“Warehouse tables”")
    expect(warehouse).to_contain_text("manager@example.com")
    confidential = tags.locator("li", has_text="confidential")
    expect(confidential.locator(".badge")).to_have_text("manual")
    expect(confidential).to_contain_text("editor@example.com")
    expect(tags.locator("li", has_text="Domain.Sales.Orders").locator(".badge")).to_have_text(
        "API")
    _shots(page, "resource-1-page")

    history = page.locator("#resource-history")
    expect(history).to_contain_text("Page 1 of 2")
    history.get_by_role("link", name="Next ›").click()
    htmx_idle(page)
    expect(history).to_contain_text("Page 2 of 2")
    expect(history).to_contain_text("Attach sensitivity::internal")
    expect(page).to_have_url(f"{live_server}/s/acme/resources/table/{TABLE}")  # in place
    _shots(page, "resource-2-history-page-2")

    history.get_by_role("link", name="Attach sensitivity::internal").first.click()
    page.wait_for_url("**/audit/*")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Change set")
