"""Deprecation in Chromium (issue 13 §2): on a tag's page an editor deprecates it naming a
replacement, previews "Replace everywhere", confirms it, the tag list shows the
deprecated badge, and un-deprecating takes it back.  Screenshots of the tag page and
the list at 1366 and 390 px."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from tests.e2e.conftest import htmx_idle, shot, sign_in
from tests.unit.factories import PASSWORD, links, make_world
from webapp.extensions import db
from webapp.services import assignments, groups
from webapp.services.tags.creation import TagSpec, create_tags
from webapp.services.tags.lookup import find_tag

expect: Any = pytest.importorskip("playwright.sync_api").expect


def _fits(page: Any, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_deprecate_with_a_replacement_then_replace_everywhere(page: Any, live_server: str,
                                                              app: Flask) -> None:
    world = make_world()
    sid = world.scope.id
    groups.create_group(world.manager, sid, "priority", exclusive=True, color="#EF6C00")
    create_tags(world.editor, sid, [
        TagSpec("priority::urgent", color="#C62828", description="Look at these first"),
        TagSpec("priority::low"),
        TagSpec("priority::p1", description="The old name of urgent"),
        TagSpec("Address.email", color="#2E7D32"),
    ])
    assignments.attach(world.editor, sid, ["priority::p1"],
                       {"table": [f"t{n}" for n in range(5)]})
    assignments.attach(world.editor, sid, ["Address.email"], {"table": ["t0", "t1"]})
    old = find_tag(sid, "priority::p1")
    assert old is not None
    db.session.commit()

    sign_in(page, "editor@example.com", PASSWORD)
    page.goto(f"/s/acme/tags/{old.id}")
    card = page.locator("#tag-deprecation")
    expect(card).to_contain_text("Deprecating keeps the tag on its resources")

    # Deprecate, naming the replacement picked from the suggestions.
    field = page.locator("#replacement")
    field.press_sequentially("urgent", delay=20)
    expect(page.locator("#replacement-options option[value='priority::urgent']")
           ).to_have_count(1)
    field.fill("priority::urgent")  # what picking the suggestion does
    card.get_by_role("button", name="Deprecate").click()
    htmx_idle(page)
    expect(page.locator("#tag-deprecated-note")).to_contain_text(
        "Use priority::urgent instead.")
    expect(page.locator(".page-head .badge.deprecated")).to_have_text("deprecated")
    expect(page.locator("#tag-replacement")).to_have_text("priority::urgent")
    expect(page.locator("#flashes")).to_contain_text("Deprecated priority::p1")

    # Preview "Replace everywhere", then confirm it.
    page.get_by_role("link", name="Preview “Replace everywhere”…").click()
    htmx_idle(page)
    panel = page.locator("#replace-panel")
    expect(panel.locator("#replace-move")).to_have_text("5")
    expect(panel.locator("#replace-already")).to_have_text("0")
    expect(panel.locator("#replace-group")).to_have_text("0")
    for width, height in ((1366, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        shot(page, f"deprecation-tag-page-{width}")
        _fits(page, width)
    page.set_viewport_size({"width": 1366, "height": 900})
    panel.get_by_role("button", name="Replace everywhere (5 links)").click()
    htmx_idle(page)
    expect(page.locator("#flashes")).to_contain_text(
        "Moved 5 links from priority::p1 to priority::urgent")
    expect(page.locator("#tag-resources")).to_contain_text("No resource carries this tag")
    db.session.commit()  # a fresh snapshot: the server wrote in its own transactions
    assert {(tag, ext) for tag, _type, ext in links(sid) if tag.startswith("priority")} == {
        ("priority::urgent", f"t{n}") for n in range(5)}

    # The list shows the badge on the deprecated tag's row only.
    page.goto("/s/acme/tags")
    row = page.locator(f"#tag-row-{old.id}")
    expect(row.locator(".badge.deprecated")).to_have_text("deprecated")
    expect(page.locator("#tag-results .badge.deprecated")).to_have_count(1)
    for width, height in ((1366, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        shot(page, f"deprecation-tags-list-{width}")
        _fits(page, width)

    # Un-deprecate (its button sits beside Save, posting its own form).
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"/s/acme/tags/{old.id}")
    page.locator("#tag-deprecation").get_by_role("button", name="Un-deprecate").click()
    htmx_idle(page)
    expect(page.locator("#flashes")).to_contain_text("priority::p1 is no longer deprecated.")
    expect(page.locator("#tag-deprecated-note")).to_have_count(0)
    expect(page.locator("#tag-deprecation")).to_contain_text("Deprecating keeps the tag")
