"""Aliases in Chromium (issue 13 §1): on a tag's page an editor adds an alias, the page
lists it and the history says so; on the bulk page the tag picker finds the tag by that
alias ("via alias …") and attaching through it links the tag itself.  Screenshots of the
tag page at 1366 and 390 px."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask

from tests.e2e.conftest import htmx_idle, shot, sign_in
from tests.unit.factories import PASSWORD, make_world
from webapp.extensions import db
from webapp.services import assignments, resources
from webapp.services.resources import ResourceInput
from webapp.services.tags.creation import TagSpec, create_tags
from webapp.services.tags.lookup import find_tag
from webapp.services.tags.queries import usage_counts

expect: Any = pytest.importorskip("playwright.sync_api").expect


def _fits(page: Any, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.http_errors(409)  # the refused alias: its form swapped in place
def test_add_an_alias_then_attach_through_it_on_the_bulk_page(page: Any, live_server: str,
                                                              app: Flask) -> None:
    world = make_world()
    sid = world.scope.id
    create_tags(world.editor, sid, [
        TagSpec("Customer.Email", color="#2E7D32", description="A customer's e-mail address"),
        TagSpec("Customer.Phone"),
    ])
    resources.register_resources(world.editor, sid, [
        ResourceInput("table", f"crm-{n}", f"crm-contacts-{n}", f"crm_contacts_{n}")
        for n in range(3)])
    assignments.attach(world.editor, sid, ["Customer.Phone"],
                       {"table": [f"crm-{n}" for n in range(3)]})
    email = find_tag(sid, "Customer.Email")
    assert email is not None
    db.session.commit()

    sign_in(page, "editor@example.com", PASSWORD)
    page.goto(f"/s/acme/tags/{email.id}")
    expect(page.locator("#tag-alias-list")).to_have_text("none")
    card = page.locator("#tag-aliases")
    # A taken name is refused beside the field, and nothing is saved.
    card.locator("#aliases").fill("Legacy.Mail\nCustomer.Phone")
    card.get_by_role("button", name="Save aliases").click()
    htmx_idle(page)
    expect(page.locator("#aliases-errors")).to_contain_text("already exists")
    expect(page.locator("#tag-alias-list")).to_have_text("none")
    # One alias per line.
    page.locator("#aliases").fill("Legacy.Mail\ne-mail")
    page.locator("#tag-aliases").get_by_role("button", name="Save aliases").click()
    htmx_idle(page)
    expect(page.locator("#flashes")).to_contain_text("Saved the aliases of Customer.Email")
    expect(page.locator("#tag-alias-list li")).to_have_text(["e-mail", "Legacy.Mail"])
    expect(page.locator("#tag-history")).to_contain_text("alias Legacy.Mail added")
    for width, height in ((1366, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.evaluate("window.scrollTo(0, 0)")
        shot(page, f"aliases-tag-page-{width}")
        _fits(page, width)
    page.set_viewport_size({"width": 1366, "height": 900})

    # The tag list's search finds it by the alias and says why.
    page.goto("/s/acme/tags?q=legacy")
    expect(page.locator(".via-alias")).to_have_text(re.compile(r"via alias\s+Legacy\.Mail"))

    # The bulk page: pick the tag by its alias, attach it to the CRM tables.
    page.goto("/s/acme/bulk?pattern=crm-&mode=starts")
    expect(page.locator("#match-count")).to_have_text("3")
    page.locator("#tag-query").press_sequentially("legacy", delay=30)
    option = page.locator("#tag-options button.option", has_text="Customer.Email")
    expect(option).to_contain_text("via alias")
    expect(option).to_contain_text("Legacy.Mail")
    shot(page, "aliases-bulk-picker-1366")
    option.click()
    expect(page.locator("#chosen-tags .chosen-chip")).to_have_count(1)
    expect(page.locator("#chosen-tags")).to_contain_text("Customer.Email")
    page.locator("#preview-button").click()
    expect(page.locator("#bulk-preview #stat-change")).to_have_text("3")
    page.locator("#apply-button").click()
    expect(page.locator("#bulk-result #result-changed")).to_have_text("3")
    db.session.rollback()
    assert usage_counts([email.id])[email.id] == 3
    assert find_tag(sid, "Legacy.Mail") is not None  # the alias, never a new tag
    assert find_tag(sid, "Legacy.Mail").id == email.id  # type: ignore[union-attr]
