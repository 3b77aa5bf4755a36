"""The hierarchy editor and the groups page in Chromium: build a three-level hierarchy
through the UI, expand it lazily, move a branch with the picker, delete a subtree after the
confirmation with its counts; create, edit and delete a group."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask

from tests.e2e.conftest import shot, sign_in
from tests.unit.factories import PASSWORD, SYSTEM, make_world
from webapp.services.assignments import attach
from webapp.services.groups import create_group
from webapp.services.tags.creation import Provenance, TagSpec, create_tag, create_tags

expect: Any = pytest.importorskip("playwright.sync_api").expect


def node(page: Any, name: str) -> Any:
    """The tree node (li) whose own row shows ``name``."""
    return page.locator(
        "xpath=//li[contains(concat(' ', @class, ' '), ' node ')]"
        "[div[contains(concat(' ', @class, ' '), ' row ')]"
        f"/*[contains(@class, 'node-name') and normalize-space()='{name}']]"
    )


def row(page: Any, name: str) -> Any:
    return node(page, name).locator(":scope > .row")


def act(page: Any, name: str, action: str) -> Any:
    """Open an inline form of a node (its actions show on hover) and return its panel."""
    target = row(page, name)
    target.hover()
    target.get_by_role("link", name=action, exact=True).click()
    panel = node(page, name).locator(":scope > .node-panel")
    expect(panel.locator("form")).to_be_visible()
    return panel


def test_build_expand_move_and_delete_a_hierarchy(page: Any, live_server: str, app: Flask
                                                  ) -> None:
    world = make_world()
    sid = world.scope.id
    create_group(SYSTEM, sid, "priority", label="Priority", color="#EF6C00", exclusive=True)
    create_tags(SYSTEM, sid, [TagSpec("priority::high", color="#C62828"),
                              TagSpec("priority::low", color="#2E7D32"),
                              TagSpec("Topic", color="#1565C0")])
    create_tag(SYSTEM, sid, TagSpec("Discovered.Country.Canada"),
               Provenance(source="scanner", system_created=True, protected=True))
    attach(SYSTEM, sid, ["Omega"], {"table": [f"t{n}" for n in range(4)]})

    sign_in(page, "editor@example.com", PASSWORD)
    page.goto("/s/acme/hierarchy")
    expect(page.locator("#section-count-none")).to_have_text("5 tags")
    page.evaluate("window.__samePage = true")

    # Three levels through the UI: a root, a child, a grandchild.
    page.fill("#root-name", "Alpha")
    page.locator("#root-form").get_by_role("button", name="Add root tag").click()
    expect(row(page, "Alpha")).to_be_visible()
    expect(page.locator("#flashes")).to_contain_text("Added Alpha.")
    expect(page.locator("#root-name")).to_have_value("")

    panel = act(page, "Alpha", "+ Child")
    panel.get_by_label("Name of the new child").fill("Beta")
    panel.get_by_role("button", name="Add").click()
    expect(node(page, "Beta")).to_have_class(re.compile(r"\bfocused\b"))
    expect(row(page, "Alpha")).to_contain_text("1 tag below")

    panel = act(page, "Beta", "+ Child")
    panel.get_by_label("Name of the new child").fill("Gamma")
    panel.get_by_role("button", name="Add").click()
    expect(row(page, "Gamma")).to_be_visible()
    expect(row(page, "Alpha")).to_contain_text("2 tags below")
    expect(page.locator("#section-count-none")).to_have_text("8 tags")
    assert page.evaluate("window.__samePage") is True  # all of it without a page load

    # Lazy expansion: after a reload only the roots are there; children come on demand.
    page.reload()
    expect(row(page, "Alpha")).to_be_visible()
    page.evaluate("window.__samePage = true")
    expect(node(page, "Beta")).to_have_count(0)
    row(page, "Alpha").locator("a.toggle").click()
    expect(row(page, "Beta")).to_be_visible()
    expect(row(page, "Alpha").locator("a.toggle")).to_have_attribute("aria-expanded", "true")
    expect(node(page, "Gamma")).to_have_count(0)
    row(page, "Beta").locator("a.toggle").click()
    expect(row(page, "Gamma")).to_be_visible()
    row(page, "Discovered").locator("a.toggle").click()
    expect(row(page, "Country")).to_be_visible()
    expect(row(page, "Discovered").locator(".badge.lock")).to_be_visible()
    expect(row(page, "Discovered").get_by_role("link", name="Move")).to_have_count(0)
    page.locator("li.section", has_text="priority::").locator(":scope > .row a.toggle").click()
    expect(row(page, "high")).to_be_visible()
    shot(page, "hierarchy-expanded")

    # Collapse and expand again locally (no second request needed).
    row(page, "Alpha").locator("a.toggle").click()
    expect(row(page, "Beta")).to_be_hidden()
    row(page, "Alpha").locator("a.toggle").click()
    expect(row(page, "Beta")).to_be_visible()

    # Move Beta (with Gamma) under Omega with the picker.
    panel = act(page, "Beta", "Move")
    panel.get_by_label("New parent").press_sequentially("ome", delay=40)
    expect(panel.locator(".move-targets")).to_contain_text("Tags matching “ome”")
    suggestion = panel.get_by_role("button", name="Omega", exact=True)
    expect(suggestion).to_be_visible()
    expect(panel.locator(".target-list")).not_to_contain_text("Gamma")  # its own branch
    shot(page, "hierarchy-move-picker")
    suggestion.click()
    expect(page.locator("#flashes")).to_contain_text("Moved Alpha.Beta to Omega.Beta.")
    expect(node(page, "Beta")).to_have_class(re.compile(r"\bfocused\b"))
    expect(page).to_have_url(re.compile(r"/hierarchy\?open=\d+$"))
    expect(node(page, "Omega").locator(":scope > .children")).to_contain_text("Beta")
    expect(row(page, "Alpha")).not_to_contain_text("below")
    row(page, "Beta").locator("a.toggle").click()
    expect(row(page, "Gamma").locator(".node-name")).to_have_attribute(
        "title", "Omega.Beta.Gamma")

    # Delete the Omega subtree after the confirmation with its counts.
    panel = act(page, "Omega", "Delete")
    expect(panel.locator('[data-count="tags"]')).to_have_text("3 tags")
    expect(panel.locator('[data-count="assignments"]')).to_have_text("4 assignments")
    shot(page, "hierarchy-delete-confirm")
    panel.get_by_role("button", name="Delete 3 tags").click()
    expect(node(page, "Omega")).to_have_count(0)
    expect(page.locator("#flashes")).to_contain_text(
        "Deleted Omega: 3 tags and 4 assignments.")
    expect(page.locator("#section-count-none")).to_have_text("5 tags")
    shot(page, "hierarchy-after-delete")

    # Dragging a row onto another moves it the same way.
    row(page, "Topic").drag_to(row(page, "Alpha"))
    expect(page.locator("#flashes")).to_contain_text("Moved Topic to Alpha.Topic.")
    expect(node(page, "Topic")).to_have_class(re.compile(r"\bfocused\b"))
    expect(node(page, "Alpha").locator(":scope > .children")).to_contain_text("Topic")
    assert page.evaluate("window.__samePage") is True


def test_find_box_opens_the_tree_at_a_tag(page: Any, live_server: str, app: Flask) -> None:
    world = make_world()
    create_tags(SYSTEM, world.scope.id, [TagSpec("Region.Europe.France"),
                                         TagSpec("Region.Asia.Japan")])
    sign_in(page, "viewer@example.com", PASSWORD)
    page.goto("/s/acme/hierarchy")
    expect(page.get_by_role("button", name="Add root tag")).to_have_count(0)  # a viewer
    page.evaluate("window.__samePage = true")
    page.get_by_label("Find a tag by path").press_sequentially("fran", delay=30)
    page.locator("#find-results").get_by_role("link", name="Region.Europe.France").click()
    expect(node(page, "France")).to_have_class(re.compile(r"\bfocused\b"))
    expect(page.locator("#find-results")).to_be_empty()
    expect(page).to_have_url(re.compile(r"/hierarchy\?open=\d+$"))
    expect(row(page, "France").locator(".node-actions")).to_have_count(0)
    page.get_by_label("Find a tag by path").fill("Region.Asia.Japan")
    page.get_by_label("Find a tag by path").press("Enter")
    expect(node(page, "Japan")).to_have_class(re.compile(r"\bfocused\b"))
    assert page.evaluate("window.__samePage") is True


@pytest.mark.http_errors(409)
def test_errors_show_in_place(page: Any, live_server: str, app: Flask) -> None:
    world = make_world()
    create_tags(SYSTEM, world.scope.id, [TagSpec("Alpha.Beta"), TagSpec("Alpha.Other")])
    sign_in(page, "editor@example.com", PASSWORD)
    page.goto("/s/acme/hierarchy")
    row(page, "Alpha").locator("a.toggle").click()
    panel = act(page, "Beta", "Rename")
    panel.get_by_label("New name").fill("other")
    panel.get_by_role("button", name="Rename").click()
    expect(panel.locator(".errors")).to_contain_text("already exists")
    shot(page, "hierarchy-rename-error")
    panel.get_by_role("link", name="Cancel").click()
    expect(panel).to_be_empty()

    # Esc closes a panel too, and the keyboard focus goes back to the tag's row.
    panel = act(page, "Beta", "Move")
    panel.locator("input:not([type=hidden])").first.focus()
    page.keyboard.press("Escape")
    expect(panel).to_be_empty()
    focused_in_row = "document.activeElement.closest('.row') === document.getElementById('%s')"
    assert page.evaluate(focused_in_row % row(page, "Beta").get_attribute("id"))


@pytest.mark.http_errors(409)
def test_groups_page(page: Any, live_server: str, app: Flask) -> None:
    world = make_world()
    sid = world.scope.id
    create_group(SYSTEM, sid, "environment", label="Environment", color="#2E7D32",
                 exclusive=True, description="Where a resource runs")
    create_group(SYSTEM, sid, "sensitivity", label="Sensitivity", color="#6A1B9A",
                 allowed_types=["datasource", "table", "column"],
                 description="How careful to be with the data")
    create_tags(SYSTEM, sid, [TagSpec("environment::prod"), TagSpec("environment::dev"),
                              TagSpec("sensitivity::pii")])
    sign_in(page, "manager@example.com", PASSWORD)
    page.goto("/s/acme/groups")
    page.evaluate("window.__samePage = true")

    form = page.locator("#group-form")
    shot(page, "groups-manager")
    form.get_by_label("Identifier").fill("priority")
    form.get_by_label("Label").fill("Priority")
    form.get_by_label("Description").fill("How urgent it is")
    form.locator("#color-picker").fill("#ef6c00")
    expect(form.locator("#color")).to_have_value("#EF6C00")
    form.get_by_label("Exclusive").check()
    form.get_by_label("table", exact=True).check()
    form.get_by_role("button", name="Create group").click()
    expect(page.locator("#flashes")).to_contain_text("Created group priority.")
    expect(page.locator("#group-list")).to_contain_text("priority::")
    expect(form.get_by_label("Identifier")).to_have_value("")
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "groups")

    # Edit: a clash is shown beside the identifier; then a good save.
    page.locator("#group-list tr", has_text="priority::").get_by_role("link", name="Edit").click()
    expect(page.locator("#group-form h2")).to_contain_text("priority::")
    page.locator("#group-form").get_by_label("Identifier").fill("environment")
    page.locator("#group-form").get_by_role("button", name="Save changes").click()
    expect(page.locator("#identifier-errors")).to_contain_text("already exists")
    shot(page, "groups-edit-error")
    page.locator("#group-form").get_by_label("Identifier").fill("urgency")
    page.locator("#group-form").get_by_role("button", name="Save changes").click()
    expect(page.locator("#flashes")).to_contain_text("Saved group urgency (was priority).")

    # Delete: a group with tags says how many and offers no delete; an empty one goes.
    page.locator("#group-list tr", has_text="environment::").get_by_role(
        "link", name="Delete").click()
    expect(page.locator("#group-panel [data-count=tags]")).to_have_text("2 tags")
    expect(page.locator("#group-panel").get_by_role("button", name="Delete group")
           ).to_have_count(0)
    shot(page, "groups-delete-refused")
    page.locator("#group-list tr", has_text="urgency::").get_by_role(
        "link", name="Delete").click()
    page.locator("#group-panel").get_by_role("button", name="Delete group").click()
    expect(page.locator("#flashes")).to_contain_text("Deleted group urgency.")
    expect(page.locator("#group-list")).not_to_contain_text("urgency::")
    assert page.evaluate("window.__samePage") is True
