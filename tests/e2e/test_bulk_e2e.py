"""Bulk tagging in Chromium: 200 of 500 resources chosen by the name pattern "ends with
-ads", one existing and one new tag, the preview's counts, apply, the result's counts and
the tags' usage, undo and the counts back; ticking rows across pages; and the resources
page with a CSV import refused line by line."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask

from tests.e2e.conftest import shot, sign_in
from tests.unit.factories import PASSWORD, SYSTEM, World, make_world
from webapp.extensions import db
from webapp.services import assignments, resources
from webapp.services.resources import ResourceInput
from webapp.services.tags.lookup import find_tag
from webapp.services.tags.queries import usage_counts

expect: Any = pytest.importorskip("playwright.sync_api").expect

PLATFORMS = ("facebook", "google", "linkedin", "tiktok", "reddit")


def _seed(world: World) -> None:
    """500 resources (sources and tables), 200 of them named ``…-ads``; ``marketing`` is
    on 50 others."""
    items = []
    for n in range(500):
        if n % 5 < 2:  # 200 of 500
            name = f"{PLATFORMS[n % 5 + (n // 5) % 3]}-{n:03d}-ads"
        else:
            name = f"warehouse-{n:03d}-orders"
        rtype = "source" if n % 2 else "table"
        items.append(ResourceInput(rtype, f"res-{n:03d}", name, name.replace("-", "_")))
    resources.register_resources(SYSTEM, world.scope.id, items)
    assignments.attach(SYSTEM, world.scope.id, ["marketing"], {
        "table": [f"res-{n:03d}" for n in range(0, 500, 2) if n % 5 >= 2][:50],
    })


def _usage(scope_id: int, name: str) -> int:
    """Usage as the server left it (a new read transaction, not this thread's snapshot)."""
    db.session.rollback()
    tag = find_tag(scope_id, name)
    return usage_counts([tag.id])[tag.id] if tag else 0


def _shot(page: Any, name: str) -> None:
    """A full-page screenshot from the top (sticky parts drawn where they start)."""
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, name)


def test_bulk_tag_200_resources_by_name_pattern_preview_apply_undo(
    page: Any, live_server: str, app: Flask,
) -> None:
    world = make_world()
    sid = world.scope.id
    _seed(world)
    assert _usage(sid, "marketing") == 50
    sign_in(page, "manager@example.com", PASSWORD)

    # Step 1: resources by pattern; the count follows as you type, without a page load.
    page.goto("/s/acme/bulk")
    expect(page.locator("#match-count")).to_have_text("500")
    page.evaluate("window.__marker = 1")
    expect(page.locator("#mode")).to_have_value("ends")
    page.locator("#pattern").press_sequentially("-ads", delay=40)
    expect(page.locator("#match-count")).to_have_text("200")
    expect(page.locator("#selection tbody tr")).to_have_count(25)
    expect(page.locator("#selection tbody tr").first).to_contain_text("-ads")
    assert page.evaluate("window.__marker") == 1
    expect(page).to_have_url(re.compile(r"/s/acme/bulk\?pattern=-ads&mode=ends"))
    _shot(page, "bulk-1-selection")

    # Step 2: one existing tag from the autocomplete, one new tag created inline.
    tag_box = page.locator("#tag-query")
    tag_box.press_sequentially("market", delay=30)
    option = page.locator("#tag-options button.option", has_text="marketing")
    expect(option).to_contain_text("50 resources")
    option.click()
    expect(page.locator("#chosen-tags .chosen-chip")).to_have_count(1)
    expect(tag_box).to_have_value("")
    tag_box.press_sequentially("Campaign.spring-2025", delay=20)
    create = page.locator("#tag-options button.option.create")
    expect(create).to_contain_text("new — will be created")
    tag_box.press("Enter")  # Enter takes the first option: here, the only one
    chips = page.locator("#chosen-tags .chosen-chip")
    expect(chips).to_have_count(2)
    expect(chips.nth(1)).to_contain_text("Campaign.spring-2025")
    expect(chips.nth(1)).to_contain_text("new — will be created")
    _shot(page, "bulk-2-tags")

    # Step 3: preview: exact counts, nothing written.
    page.locator("#preview-button").click()
    preview = page.locator("#bulk-preview")
    expect(preview.locator("#stat-change")).to_have_text("400")
    expect(preview.locator("#stat-unchanged")).to_have_text("0")
    expect(preview.locator("#stat-created")).to_have_text("2")  # Campaign and its child
    expect(preview).to_contain_text("name or slug ends with “-ads”")
    expect(preview.locator(".sample-table tbody tr")).to_have_count(12)
    assert find_tag(sid, "Campaign.spring-2025") is None and _usage(sid, "marketing") == 50
    _shot(page, "bulk-3-preview")

    # Apply: the result page has its own URL, the counts and the tags' usage.
    page.locator("#apply-button").click()
    result = page.locator("#bulk-result")
    expect(result.locator("#result-changed")).to_have_text("400")
    expect(page).to_have_url(re.compile(r"/s/acme/bulk/changes/\d+$"))
    expect(result.locator("tr[data-tag='marketing'] .usage")).to_have_text("250")
    expect(result.locator("tr[data-tag='Campaign.spring-2025'] .usage")).to_have_text("200")
    assert page.evaluate("window.__marker") == 1  # still the same page: no full reload
    assert (_usage(sid, "marketing"), _usage(sid, "Campaign.spring-2025")) == (250, 200)
    _shot(page, "bulk-4-result")

    # Undo, once confirmed: the usage returns to what it was.
    page.locator("#undo-button").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Remove 400 links, delete 2 tags.")
    _shot(page, "bulk-5-undo-confirm")
    dialog.get_by_role("button", name=re.compile(r"^Undo change set")).click()
    expect(result.locator("h2#result-title")).to_have_text("Undone")
    expect(result.locator("tr[data-tag='marketing'] .usage")).to_have_text("50")
    expect(result.locator("tr[data-tag='Campaign.spring-2025'] .usage")).to_have_text("0")
    expect(page.locator("#undo-button")).to_have_count(0)
    assert _usage(sid, "marketing") == 50
    assert find_tag(sid, "Campaign.spring-2025") is None  # the new tags went with the undo
    _shot(page, "bulk-6-undone")

    # The result URL stands on its own (a reload shows the same, undone, change).
    page.reload()
    expect(page.locator("#bulk-result h2#result-title")).to_have_text("Undone")


def test_ticked_rows_across_pages_are_the_selection(
    page: Any, live_server: str, app: Flask,
) -> None:
    world = make_world()
    _seed(world)
    sign_in(page, "editor@example.com", PASSWORD)
    page.goto("/s/acme/bulk?pattern=-ads&mode=ends")
    expect(page.locator("#match-count")).to_have_text("200")
    rows = page.locator("#selection tbody tr")
    rows.nth(0).locator("input[name=ticked]").check()
    expect(page.locator("#ticked-count")).to_have_text("1")
    # Ticking switches "apply to" to the ticked rows.
    expect(page.locator("input[name=use][value=ticked]")).to_be_checked()
    rows.nth(3).locator("input[name=ticked]").check()
    expect(page.locator("#ticked-count")).to_have_text("2")
    page.locator(".pager a", has_text="2").first.click()
    expect(page.locator(".pager [aria-current=page]")).to_have_text("2")
    page.locator("#selection tbody tr").nth(5).locator("input[name=ticked]").check()
    expect(page.locator("#ticked-count")).to_have_text("3")
    _shot(page, "bulk-ticked-rows")

    page.locator("#tag-query").press_sequentially("hand-picked", delay=20)
    page.locator("#tag-query").press("Enter")
    expect(page.locator("#chosen-tags .chosen-chip")).to_have_count(1)
    page.locator("#preview-button").click()
    expect(page.locator("#bulk-preview #stat-change")).to_have_text("3")
    expect(page.locator("#bulk-preview")).to_contain_text("The 3 ticked rows")
    page.locator("#apply-button").click()
    expect(page.locator("#result-changed")).to_have_text("3")
    assert _usage(world.scope.id, "hand-picked") == 3


@pytest.mark.http_errors(422)
def test_resources_page_search_and_a_csv_import_refused_line_by_line(
    page: Any, live_server: str, app: Flask,
) -> None:
    world = make_world()
    _seed(world)
    sign_in(page, "editor@example.com", PASSWORD)
    page.goto("/s/acme/resources")
    expect(page.locator("#resource-list tbody tr")).to_have_count(50)
    expect(page.locator(".type-tabs a[aria-current=page]")).to_contain_text("500")
    _shot(page, "resources-index")

    page.evaluate("window.__marker = 1")
    # Type tabs and tag chips narrow the list in place.
    page.locator(".type-tabs a", has_text="table").click()
    expect(page.locator(".result-count")).to_contain_text("250 resources of type table")
    page.locator("#resource-list a.tag-chip", has_text="marketing").first.click()
    expect(page.locator(".result-count")).to_contain_text("50 resources of type table")
    expect(page).to_have_url(re.compile(r"/s/acme/resources/table\?tag=\d+$"))
    page.locator(".result-count a", has_text="any tag").click()
    expect(page.locator(".result-count")).to_contain_text("250 resources")
    page.locator(".type-tabs a", has_text="All").click()
    expect(page.locator(".result-count")).to_contain_text("500 resources")
    page.locator("#r-q").press_sequentially("linkedin", delay=30)
    expect(page.locator(".result-count")).to_contain_text("matching “linkedin”")
    page.locator(".type-tabs a", has_text="table").click()
    expect(page).to_have_url(re.compile(r"/s/acme/resources/table\?q=linkedin"))
    expect(page.locator("#resource-list tbody tr").first).to_contain_text("linkedin")
    assert page.evaluate("window.__marker") == 1

    page.locator("#csv_text").fill(
        "type,id,name,slug\n"
        "table,new-1,New one,new-one\n"
        "tabel,new-2,Typo in the type,\n"
        "folder,,No id,\n"
        "folder,new-4,\"Quoted, with comma\",quoted\n"
    )
    page.locator("#import-form button[type=submit]").click()
    errors = page.locator("#csv_text-errors li")
    expect(errors).to_have_count(2)
    expect(errors.nth(0)).to_contain_text("Line 3: type: unknown resource type 'tabel'")
    expect(errors.nth(1)).to_contain_text("Line 4: id: must be a non-empty string")
    expect(page.locator("#import-form .flash-error")).to_contain_text("Nothing was imported")
    db.session.rollback()
    assert resources.resources_by_external_id(world.scope.id, "table", ["new-1"]) == {}
    _shot(page, "resources-import-errors")

    page.locator("#csv_text").fill(
        "type,id,name\ntable,new-1,New one\nfolder,new-4,\"Quoted, with comma\"\ntable,res-000,x\n"
    )
    page.locator("#import-form button[type=submit]").click()
    expect(page.locator("#import-form .flash-success")).to_contain_text(
        "Imported 3 line(s): 2 new, 1 already registered")
    _shot(page, "resources-import-done")
    page.locator("#r-q").fill("")
    expect(page.locator(".type-tabs a", has_text="folder")).to_contain_text("1")
