"""Bulk edit of tag attributes in Chromium (issue 13 §4): tick tags in the list, "Edit
attributes…", set a colour (picking it ticks its "change" box), preview (the fragment
under the form: counts, a refusal with its reason, before → after), apply, see the result
with its change set, undo it through the audit's confirmation.  Screenshots of the form
with its preview and of the result at 1366 and 390 px; also "all matching" from a
filtered list."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from tests.e2e.conftest import SCREENSHOTS, htmx_idle, shot, sign_in
from tests.unit.factories import PASSWORD, make_world
from webapp.extensions import db
from webapp.models import Tag
from webapp.services.tags.creation import Provenance, TagSpec, create_tag, create_tags
from webapp.services.tags.lookup import find_tag

expect: Any = pytest.importorskip("playwright.sync_api").expect


def _fits(page: Any, width: int) -> None:
    """The page's own content fits the viewport (the site's top bar is not this page's)."""
    right = page.evaluate("(() => { const box = document.querySelector('#bulk-edit');"
                          " return Math.max(box.getBoundingClientRect().right,"
                          " box.scrollWidth + box.getBoundingClientRect().left); })()")
    assert right <= width, right


def shot_path(name: str) -> Any:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / f"{name}.png"


def _colours(sid: int) -> dict[str, str | None]:
    db.session.commit()  # a fresh snapshot: the server wrote in its own transactions
    return {tag.path: tag.color for tag in db.session.scalars(
        select(Tag).where(Tag.scope_id == sid, Tag.deleted_at.is_(None)))}


def _id(sid: int, path: str) -> int:
    found = find_tag(sid, path)
    assert found is not None
    return found.id


def test_tick_edit_colour_preview_apply_undo(page: Any, live_server: str, app: Flask) -> None:
    world = make_world()
    sid = world.scope.id
    create_tags(world.editor, sid, [TagSpec("Address.email", description="Mail address"),
                                    TagSpec("Address.phone"), TagSpec("Address.street"),
                                    TagSpec("Customer.name")])
    create_tag(world.editor, sid, TagSpec("Retention"), Provenance(protected=True))
    db.session.commit()
    before = _colours(sid)

    sign_in(page, "editor@example.com", PASSWORD)
    page.goto("/s/acme/tags")
    for path in ("Address.email", "Address.phone", "Address.street", "Retention"):
        page.locator(f"input[data-tag-select][value='{_id(sid, path)}']").check()
    expect(page.locator("[data-selection-count]")).to_have_text("4 tags selected")
    for width, height in ((1366, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.locator("#bulk-form").screenshot(path=str(shot_path(f"tag-bulk-edit-bar-{width}")))
    page.set_viewport_size({"width": 1366, "height": 900})
    page.locator("#bulk-edit-open").click()

    expect(page).to_have_url(re.compile(r"/s/acme/tags/bulk-edit$"))
    expect(page.locator("#use-ticked")).to_be_checked()
    expect(page.locator("[data-count='ticked']")).to_have_text("4")
    expect(page.locator("[data-count='matching']")).to_have_text("7")
    expect(page.locator("#set_color")).not_to_be_checked()
    page.locator("#color").fill("#c62828")  # picking a colour ticks "Change colour"
    expect(page.locator("#set_color")).to_be_checked()
    page.locator("#be-preview").click()
    htmx_idle(page)

    preview = page.locator("#bulk-edit-preview")
    expect(preview.locator("#be-changed")).to_have_text("3")
    expect(preview.locator("#be-refused")).to_have_text("1")
    expect(preview.locator("tr[data-refused='Retention']")).to_contain_text("protected")
    expect(preview.locator("tr[data-sample='Address.email']")).to_contain_text("#C62828")
    assert _colours(sid) == before  # the preview wrote nothing
    for width, height in ((1366, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        shot(page, f"tag-bulk-edit-preview-{width}")
        _fits(page, width)
    page.set_viewport_size({"width": 1366, "height": 900})

    # A change after the preview disables Apply until the next preview.
    page.locator("#set_description").check()
    expect(page.locator("#be-apply")).to_be_disabled()
    expect(page.locator("#be-stale")).to_be_visible()
    page.locator("#set_description").uncheck()
    page.locator("#be-preview").click()
    htmx_idle(page)
    expect(page.locator("#be-apply")).to_be_enabled()

    preview.get_by_role("button", name="Apply to 3 tags").click()
    htmx_idle(page)
    result = page.locator("#be-result")
    expect(result.locator("#be-result-title")).to_have_text("Done")
    expect(result.locator("#be-changed")).to_have_text("3")
    expect(page).to_have_url(re.compile(r"/s/acme/tags/bulk-edit/changes/\d+$"))
    after = _colours(sid)
    assert {p: after[p] for p in ("Address.email", "Address.phone", "Address.street")} == {
        "Address.email": "#C62828", "Address.phone": "#C62828", "Address.street": "#C62828"}
    assert after["Retention"] is None and after["Customer.name"] is None
    for width, height in ((1366, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        shot(page, f"tag-bulk-edit-result-{width}")
        _fits(page, width)
    page.set_viewport_size({"width": 1366, "height": 900})

    # Undo, through the audit's confirmation dialog.
    result_url = page.url
    page.locator("#undo-button").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Undo change set")
    dialog.get_by_role("button", name=re.compile(r"^Undo change set")).click()
    expect(page.locator("#flashes")).to_contain_text("was undone")
    assert _colours(sid) == before
    page.goto(result_url)
    expect(page.locator("#be-result-title")).to_have_text("Undone")
    expect(page.locator("#undo-button")).to_have_count(0)


@pytest.mark.http_errors(422)
def test_all_matching_a_filtered_list_and_an_error_beside_its_field(
        page: Any, live_server: str, app: Flask) -> None:
    world = make_world()
    sid = world.scope.id
    create_tags(world.editor, sid, [TagSpec("Address.email"), TagSpec("Address.phone"),
                                    TagSpec("Customer.name"), TagSpec("Archive")])
    db.session.commit()

    sign_in(page, "editor@example.com", PASSWORD)
    page.goto("/s/acme/tags")
    page.locator("#f-q").fill("Address")
    htmx_idle(page)
    expect(page.locator("#tag-count")).to_contain_text("3")
    page.locator("#bulk-edit-open").click()  # nothing ticked: all matching
    expect(page.locator("#use-matching")).to_be_checked()
    expect(page.locator("#use-ticked")).to_be_disabled()
    expect(page.locator("[data-count='matching']")).to_have_text("3")
    expect(page.locator(".be-selection")).to_contain_text("search “Address”")

    # A parent move with no parent named: the error beside the field, 422.
    page.locator("#set_parent").check()
    page.locator("#be-preview").click()
    htmx_idle(page)
    expect(page.locator("#parent-errors")).to_contain_text("name the new parent")
    # Now move them under Archive: the form came back, still holding the choice.
    page.locator("#parent").fill("Archive")
    page.locator("#be-preview").click()
    htmx_idle(page)
    expect(page.locator("#be-changed")).to_have_text("3")
    page.get_by_role("button", name="Apply to 3 tags").click()
    htmx_idle(page)
    expect(page.locator("#be-result-title")).to_have_text("Done")
    db.session.commit()
    assert find_tag(sid, "Archive.Address") is not None
    assert find_tag(sid, "Customer.name") is not None
