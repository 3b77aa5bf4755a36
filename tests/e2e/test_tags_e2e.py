"""The tag pages in Chromium: search as you type without a page load, inline edit (with a
validation error on the way), bulk merge of ticked rows, and the tag's own page."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask

from tests.e2e.conftest import shot, sign_in
from tests.unit.factories import PASSWORD, World, make_world
from webapp.models import Tag
from webapp.services import assignments
from webapp.services.tags.creation import TagSpec, create_tags
from webapp.services.tags.lookup import find_tag

expect: Any = pytest.importorskip("playwright.sync_api").expect


def _seed(world: World) -> dict[str, Tag]:
    """A small scope: a hierarchy, a group, colours, descriptions and some links."""
    sid = world.scope.id
    create_tags(world.editor, sid, [
        TagSpec("Address.email", color="#2E7D32", description="E-mail addresses"),
        TagSpec("Address.phone", color="#1565C0"),
        TagSpec("Address.street"),
        TagSpec("Discovered.Country.Canada", color="#C62828", label="Canada (discovered)"),
        TagSpec("Discovered.Country.France"),
        TagSpec("priority::high", color="#EF6C00", description="Look at these first"),
        TagSpec("priority::low"),
        TagSpec("pii", color="#6A1B9A"),
        TagSpec("personal"),
    ])
    assignments.attach(world.editor, sid, ["Address.email", "pii"],
                       {"column": [f"db_{n}_email" for n in range(12)]})
    assignments.attach(world.editor, sid, ["personal"], {"column": ["db_1_email", "db_2_name"]})
    assignments.attach(world.editor, sid, ["priority::high"], {"table": ["customers"]})
    found = {}
    for path in ("Address.email", "pii", "personal"):
        tag = find_tag(sid, path)
        assert tag is not None
        found[path] = tag
    return found


@pytest.mark.http_errors(422)
def test_search_as_you_type_and_inline_edit(page: Any, live_server: str, app: Flask) -> None:
    world = make_world()
    tags = _seed(world)
    email = tags["Address.email"]
    sign_in(page, "editor@example.com", PASSWORD)
    page.goto("/s/acme/tags")
    rows = page.locator("#tag-results tbody tr")
    expect(rows).to_have_count(12)
    shot(page, "tags-index")

    # Typing narrows the list in place: the URL follows (pushState), the page stays.
    page.evaluate("window.__marker = 1")
    page.locator("#f-q").press_sequentially("addr", delay=30)
    expect(rows).to_have_count(4)
    expect(page).to_have_url(re.compile(r"/s/acme/tags\?q=addr"))
    assert page.evaluate("window.__marker") == 1
    expect(page.locator("#tag-count")).to_contain_text("4 tags")

    # Inline edit: a bad name is refused beside the field, inside the row.
    row = page.locator(f"#tag-row-{email.id}")
    row.get_by_role("link", name="Edit").click()
    name = page.locator(f"#row-{email.id}-name")
    expect(name).to_be_focused()
    shot(page, "tags-inline-edit")
    name.fill("e.mail")
    row.get_by_role("button", name="Save").click()
    expect(page.locator(f"#row-{email.id}-name-errors")).to_contain_text("must not contain '.'")
    shot(page, "tags-inline-edit-error")

    # Rename and recolour; the row comes back as a display row with the new values.
    name.fill("mail")
    page.locator(f"#row-{email.id}-color").fill("#ff8800")
    expect(page.locator(f"#row-{email.id}-no_color")).not_to_be_checked()
    row.get_by_role("button", name="Save").click()
    expect(row.locator(".tag-link")).to_have_text("Address.mail")
    expect(row.locator(".swatch")).to_have_attribute("style", re.compile("#FF8800", re.I))
    assert page.evaluate("window.__marker") == 1

    # Enter in the one-line description saves the row (Shift+Enter would start a new line).
    row.get_by_role("link", name="Edit").click()
    page.locator(f"#row-{email.id}-description").fill("Work e-mail")
    page.locator(f"#row-{email.id}-description").press("Enter")
    expect(row.locator(".desc")).to_have_text("Work e-mail")
    expect(row.get_by_role("link", name="Edit")).to_be_visible()

    # Cancel of an edit brings the row back unchanged; Esc does the same, even pressed
    # before htmx has settled the edit row (a slow settle makes that race certain).
    page.evaluate("window.htmx.config.defaultSettleDelay = 1500")
    row.get_by_role("link", name="Edit").click()
    page.locator(f"#row-{email.id}-name").fill("other")
    page.locator(f"#row-{email.id}-name").press("Escape")
    expect(row.locator(".tag-link")).to_have_text("Address.mail")
    page.evaluate("window.htmx.config.defaultSettleDelay = 20")

    # The tag's page: details, breadcrumb, resources and history.
    row.locator(".tag-link").click()
    expect(page).to_have_url(re.compile(rf"/s/acme/tags/{email.id}$"))
    expect(page.locator("#tag-resources")).to_contain_text("db_0_email")
    expect(page.locator("#tag-history")).to_contain_text("Update tag")
    expect(page.locator(".breadcrumb")).to_contain_text("Address")
    shot(page, "tag-detail")


@pytest.mark.http_errors(409, 422)
def test_create_and_bulk_merge(page: Any, live_server: str, app: Flask) -> None:
    world = make_world()
    tags = _seed(world)
    sign_in(page, "editor@example.com", PASSWORD)
    page.goto("/s/acme/tags?q=p")
    page.evaluate("window.__marker = 1")

    # Create: a clash is shown beside the name; a good name joins the list in place.
    page.get_by_text("+ New tag").click()
    page.locator("#name").fill("pii")
    page.get_by_role("button", name="Create tag").click()
    expect(page.locator("#name-errors")).to_contain_text("already exists")
    shot(page, "tags-create-error")
    page.locator("#name").fill("postcode")
    page.locator("#parent").fill("Address")
    page.get_by_role("button", name="Create tag").click()
    expect(page.locator("#flashes")).to_contain_text("Created tag Address.postcode")
    expect(page.locator("#name-errors")).to_have_count(0)
    expect(page.locator("#parent")).to_have_value("Address")
    expect(page.locator("#tag-results .tag-link", has_text="Address.postcode")).to_have_count(1)
    # "Select all" ticks every row of the page; ticking one by one is counted too.
    page.locator("input[data-tags-select-all]").check()
    expect(page.locator("[data-selection-count]")).to_have_text("6 tags selected")
    page.locator("input[data-tags-select-all]").uncheck()
    expect(page.locator("[data-selection-count]")).to_have_text("No tags selected")
    expect(page.get_by_role("button", name="Merge")).to_be_disabled()
    page.locator(f"#tag-row-{tags['personal'].id} input[type=checkbox]").check()
    expect(page.locator("[data-selection-count]")).to_have_text("1 tag selected")
    # The target picker suggests tag paths as one types.
    page.locator("#bulk-target").fill("pi")
    expect(page.locator("#bulk-target-options option[value='pii']")).to_have_count(1)
    page.locator("#bulk-target").fill("pii")
    # Ticking the target too merges no more: the confirmation counts the tags merged away.
    page.locator(f"#tag-row-{tags['pii'].id} input[type=checkbox]").check()
    expect(page.locator("[data-selection-count]")).to_have_text("2 tags selected")
    messages: list[str] = []

    def accept(dialog: Any) -> None:
        messages.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)
    page.get_by_role("button", name="Merge").click()
    expect(page.locator("#flashes")).to_contain_text("Merged 1 tag into pii.")
    expect(page.locator(f"#tag-row-{tags['personal'].id}")).to_have_count(0)
    expect(page.locator("[data-selection-count]")).to_have_text("No tags selected")
    assert messages and "Merge 1 tag into pii" in messages[0]
    assert page.evaluate("window.__marker") == 1
    shot(page, "tags-after-bulk-merge")

    # "Show deleted" lists the merged tag, struck through, with Restore.
    page.get_by_label("Show deleted").check()
    personal = page.locator(f"#tag-row-{tags['personal'].id}")
    expect(personal).to_have_class(re.compile("deleted"))
    expect(page).to_have_url(re.compile("deleted=1"))
    shot(page, "tags-show-deleted")
    # Its name is now an alias of the tag it was merged into: the restore says so, in
    # the row, and the tag stays deleted.
    personal.get_by_role("button", name="Restore").click()
    expect(personal.locator(".errors")).to_contain_text("is now an alias of another tag")
    expect(personal).to_have_class(re.compile("deleted"))
    assert page.evaluate("window.__marker") == 1

    # An unknown target is refused beside the field.
    page.locator(f"#tag-row-{tags['pii'].id} input[type=checkbox]").check()
    page.locator("#bulk-target").fill("nope")
    page.locator("#bulk-target").press("Enter")  # presses Merge, not the first button
    expect(page.locator("#bulk-target-errors")).to_contain_text("no live tag")
    shot(page, "tags-bulk-error")


def test_a_viewer_sees_the_empty_list_without_controls(page: Any, live_server: str,
                                                       app: Flask) -> None:
    make_world()
    sign_in(page, "viewer@example.com", PASSWORD)
    page.goto("/s/acme/tags")
    expect(page.locator("#tag-results")).to_contain_text("No tags yet.")
    expect(page.locator("#bulk-form")).to_have_count(0)
    expect(page.locator("#create-tag")).to_have_count(0)
    shot(page, "tags-empty-viewer")
