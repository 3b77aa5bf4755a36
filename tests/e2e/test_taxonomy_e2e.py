"""The taxonomy page in Chromium: choose a CSV file, see the diff (a group and tags to
create, a tag to update with its colour before and after), apply it, and find the result
in the export; screenshots at 1366 and 390 px."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.e2e.conftest import htmx_idle, shot, sign_in
from tests.unit.factories import PASSWORD, SYSTEM, make_world
from webapp.extensions import db
from webapp.services.groups import create_group
from webapp.services.tags.creation import TagSpec, create_tags
from webapp.services.tags.lookup import find_tag

expect: Any = pytest.importorskip("playwright.sync_api").expect

CSV = ("kind,name,label,color,description,exclusive\n"
       "group,topic,Topic,#0EA5E9,What a resource is about,true\n"
       "tag,topic::Finance,Finance,#16A34A,,\n"
       "tag,topic::Finance.Tax,Taxes,,\"Returns, audits and the like\",\n"
       "tag,Address.email,E-mail,#DC2626,,\n")


def _shots(page: Any, name: str) -> None:
    for width, height in ((1366, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.evaluate("window.scrollTo(0, 0)")
        width_now = page.evaluate("document.documentElement.scrollWidth")
        assert width_now <= width, f"{name} is {width_now} px wide at {width}"
        shot(page, f"{name}-{width}")
    page.set_viewport_size({"width": 1366, "height": 900})


def test_upload_see_the_diff_and_apply(page: Any, live_server: str, app: Flask,
                                       tmp_path: Path) -> None:
    world = make_world()
    create_group(SYSTEM, world.sid, "priority", label="Priority", color="#EF4444",
                 exclusive=True)
    create_tags(SYSTEM, world.sid, [TagSpec(name="Address.email", label="E-mail"),
                                    TagSpec(name="priority::high")])
    upload = tmp_path / "taxonomy.csv"
    upload.write_text(CSV)
    sign_in(page, "manager@example.com", PASSWORD)

    page.goto("/s/acme/taxonomy")
    expect(page.get_by_role("link", name="Taxonomy")).to_have_attribute("aria-current", "page")
    expect(page.get_by_role("link", name="Download CSV")).to_be_visible()
    _shots(page, "taxonomy-1-page")

    page.set_input_files("#file", str(upload))
    page.get_by_role("button", name="Preview the changes").click()
    htmx_idle(page)
    diff = page.locator("#taxonomy-diff")
    expect(diff).to_contain_text("2 tags to create, 1 to update; 1 group to create")
    expect(diff.locator(".diff-section.action-create")).to_have_count(2)
    update = diff.locator(".diff-section.action-update")
    expect(update).to_contain_text("Address.email")
    expect(update.locator("del")).to_contain_text("none")
    expect(update.locator("ins")).to_contain_text("#DC2626")
    expect(diff).to_contain_text("topic::Finance.Tax")
    db.session.rollback()
    assert find_tag(world.sid, "topic::Finance") is None  # a preview writes nothing
    _shots(page, "taxonomy-2-preview")

    page.get_by_role("button", name="Apply these changes").click()
    htmx_idle(page)
    result = page.locator("#taxonomy-result")
    expect(result).to_contain_text("Imported: 2 tags created, 1 updated; 1 group created.")
    expect(result.get_by_role("link", name="Change set #")).to_be_visible()
    _shots(page, "taxonomy-3-applied")
    db.session.rollback()
    tax = find_tag(world.sid, "topic::Finance.Tax")
    assert tax is not None and tax.label == "Taxes"
    email = find_tag(world.sid, "Address.email")
    assert email is not None and email.color == "#DC2626"

    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    text = Path(download.value.path()).read_text()
    assert "tag,topic::Finance.Tax,Taxes,,\"Returns, audits and the like\"" in text
