"""Auto-tagging rules in Chromium: the empty list explains rules; a manager creates a
rule while its live preview follows what is typed (an expression error shown beside the
field, then the counts of the bulk preview); the list with the enabled switch; "Apply
now" confirmed with the preview's counts; the result page; undo; delete in a dialog.
Screenshots at 1366 and 390 px wide."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask

from tests.e2e.conftest import htmx_idle, shot, sign_in
from tests.unit.factories import PASSWORD, SYSTEM, make_world
from webapp.extensions import db
from webapp.models import TagRule
from webapp.services import resources
from webapp.services.resources import ResourceInput
from webapp.services.tags.lookup import find_tag
from webapp.services.tags.queries import usage_counts

expect: Any = pytest.importorskip("playwright.sync_api").expect

WIDE, NARROW = 1366, 390


def _usage(scope_id: int, name: str) -> int:
    """Usage as the server left it (a new read transaction, not this thread's snapshot)."""
    db.session.rollback()
    tag = find_tag(scope_id, name)
    return usage_counts([tag.id])[tag.id] if tag else 0


def _rule(scope_id: int) -> TagRule | None:
    db.session.rollback()
    return db.session.scalar(db.select(TagRule).where(TagRule.scope_id == scope_id))


def _shots(page: Any, name: str) -> None:
    """Full-page screenshots at both widths, from the top; back to wide after."""
    for width in (WIDE, NARROW):
        page.set_viewport_size({"width": width, "height": 900})
        page.evaluate("window.scrollTo(0, 0)")
        shot(page, f"{name}-{width}")
    page.set_viewport_size({"width": WIDE, "height": 900})


@pytest.mark.http_errors(422)
def test_create_a_rule_with_live_preview_apply_and_undo(
    page: Any, live_server: str, app: Flask,
) -> None:
    world = make_world()
    sid = world.scope.id
    resources.register_resources(SYSTEM, sid, [
        ResourceInput("source" if n % 3 else "table", f"res-{n:03d}",
                      f"{'facebook' if n % 2 else 'google'}-{n:03d}" + ("-ads" if n % 4 == 0
                                                                        else "-orders"))
        for n in range(60)
    ])
    # sources ending in -ads: n % 4 == 0 and n % 3 != 0
    expected = len([n for n in range(60) if n % 4 == 0 and n % 3])
    sign_in(page, "manager@example.com", PASSWORD)

    # The empty list explains what a rule does.
    page.goto("/s/acme/rules")
    expect(page.locator(".rules-empty")).to_contain_text("every resource registration")
    expect(page.locator("nav.mainnav a[aria-current=page]")).to_have_text("Rules")
    _shots(page, "rules-1-empty")
    page.get_by_role("link", name="Create a rule").click()
    expect(page).to_have_url(re.compile(r"/s/acme/rules/new$"))

    # The live preview follows the fields, without a page load.
    page.evaluate("window.__marker = 1")
    page.locator("#name").fill("Ads sources")
    page.locator("#attach").press_sequentially("ads", delay=30)
    page.locator("#when").press_sequentially("type:source AND (", delay=20)
    expect(page.locator("#when-errors")).to_contain_text("expected a term")
    expect(page.locator("#when")).to_have_attribute("aria-invalid", "true")
    expect(page.locator(".rule-when-field")).to_have_class(re.compile(r"has-error"))
    expect(page.locator("#preview-error")).to_be_visible()
    htmx_idle(page)
    _shots(page, "rules-2-expression-error")
    page.locator("#when").fill("")
    page.locator("#when").press_sequentially("type:source AND name:*-ads", delay=20)
    preview = page.locator("#rule-preview")
    expect(preview.locator("#rule-match-count")).to_have_text(str(expected))
    expect(preview.locator("#stat-change")).to_have_text(str(expected))
    expect(preview.locator("#stat-created")).to_have_text("1")
    expect(page.locator("#when-errors")).to_have_count(0)
    expect(page.locator("#when")).not_to_have_attribute("aria-invalid", "true")
    expect(page.locator(".rule-when-field")).not_to_have_class(re.compile(r"has-error"))
    expect(preview.locator(".sample-table tbody tr")).to_have_count(min(expected, 12))
    assert page.evaluate("window.__marker") == 1
    assert _rule(sid) is None  # a preview writes nothing
    htmx_idle(page)
    _shots(page, "rules-3-live-preview")

    # Save: back on the list, with the switch on.
    page.locator("#save-rule").click()
    expect(page).to_have_url(re.compile(r"/s/acme/rules$"))
    expect(page.locator("#flashes")).to_contain_text("Created rule Ads sources.")
    row = page.locator("tr.rule-row")
    expect(row).to_have_count(1)
    expect(row.locator(".rule-when code")).to_have_text("type:source AND name:*-ads")
    switch = row.get_by_role("switch")
    expect(switch).to_have_attribute("aria-checked", "true")
    _shots(page, "rules-4-list")
    switch.click()
    expect(page.locator("tr.rule-row").get_by_role("switch")).to_have_attribute(
        "aria-checked", "false")
    expect(page.locator("#flashes")).to_contain_text("Disabled rule Ads sources.")
    rule = _rule(sid)
    assert rule is not None and not rule.enabled
    htmx_idle(page)
    page.locator("tr.rule-row").get_by_role("switch").click()
    expect(page.locator("tr.rule-row").get_by_role("switch")).to_have_attribute(
        "aria-checked", "true")
    htmx_idle(page)

    # Apply now: the confirmation shows the preview's counts; then the result, and undo.
    page.locator("tr.rule-row").get_by_role("link", name="Apply now").click()
    confirm = page.locator("#rule-apply")
    expect(confirm.locator("#stat-change")).to_have_text(str(expected))
    assert _usage(sid, "ads") == 0
    _shots(page, "rules-5-apply-confirm")
    page.locator("#apply-button").click()
    expect(page).to_have_url(re.compile(r"/s/acme/rules/changes/\d+$"))
    result = page.locator("#bulk-result")
    expect(result.locator("#result-changed")).to_have_text(str(expected))
    expect(result.locator("tr[data-tag='ads'] .usage")).to_have_text(str(expected))
    assert _usage(sid, "ads") == expected
    _shots(page, "rules-6-result")
    page.locator("#undo-button").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text(f"Remove {expected} links, delete 1 tag.")
    dialog.get_by_role("button", name=re.compile(r"^Undo change set")).click()
    expect(result.locator("h2#result-title")).to_have_text("Undone")
    assert _usage(sid, "ads") == 0 and find_tag(sid, "ads") is None
    _shots(page, "rules-7-undone")

    # Delete, confirmed in a dialog.
    page.get_by_role("link", name="Back to the rules").click()
    page.locator("tr.rule-row").get_by_role("button", name="Delete").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Delete rule “Ads sources”?")
    _shots(page, "rules-8-delete-dialog")
    dialog.get_by_role("button", name="Delete rule").click()
    expect(page.locator("#flashes")).to_contain_text("Deleted rule Ads sources.")
    expect(page.locator(".rules-empty")).to_be_visible()
    assert _rule(sid) is None


@pytest.mark.http_errors(422, 409)
def test_a_refused_save_shows_the_errors_beside_the_fields(
    page: Any, live_server: str, app: Flask,
) -> None:
    world = make_world()
    sign_in(page, "manager@example.com", PASSWORD)
    page.goto("/s/acme/rules/new")
    page.evaluate("window.__marker = 1")
    page.locator("#when").fill("type:table")
    page.locator("#attach").fill("fine\nbad..name")
    htmx_idle(page)
    page.locator("#save-rule").click()
    expect(page.locator("#name-errors")).to_contain_text("must not be empty")
    expect(page.locator("#attach-errors")).to_contain_text("“bad..name” is not a valid")
    assert page.evaluate("window.__marker") == 1  # swapped in place, no page load
    expect(page.locator("#attach")).to_have_value("fine\nbad..name")  # what was typed stays
    htmx_idle(page)
    _shots(page, "rules-9-refused-save")
    page.locator("#name").fill("Tables")
    page.locator("#attach").fill("warehouse")
    htmx_idle(page)
    page.locator("#save-rule").click()
    expect(page).to_have_url(re.compile(r"/s/acme/rules$"))
    expect(page.locator("tr.rule-row")).to_contain_text("Tables")
    assert _rule(world.scope.id) is not None
