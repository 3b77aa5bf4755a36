"""The compliance loop in Chromium (issue 12 §2): a manager writes a policy with its
preview, the compliance page shows it failing, "Fix in bulk" opens the bulk page with
exactly the violating resources selected, preview, apply, and the compliance page shows
100%.  Screenshots of both pages at 1366 and 390 px."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask

from tests.e2e.conftest import htmx_idle, shot, sign_in
from tests.unit.factories import PASSWORD, SYSTEM, make_world
from webapp.extensions import db
from webapp.services import assignments, groups, resources
from webapp.services.policies.compliance import compliance_report
from webapp.services.policies.crud import PolicyInput, create_policy
from webapp.services.resources import ResourceInput

expect: Any = pytest.importorskip("playwright.sync_api").expect


def _seed(scope_id: int) -> None:
    """30 tables, 12 of them with a sensitivity; legacy on 3 sources; team tags."""
    groups.create_group(SYSTEM, scope_id, "sensitivity", exclusive=True)
    groups.create_group(SYSTEM, scope_id, "team")
    resources.register_resources(SYSTEM, scope_id, [
        ResourceInput("table", f"tbl-{n:02d}", f"warehouse.orders_{n:02d}", f"orders-{n:02d}")
        for n in range(30)] + [ResourceInput("source", f"src-{n}", f"feed {n}", f"feed-{n}")
                               for n in range(6)])
    assignments.attach(SYSTEM, scope_id, ["sensitivity::internal"],
                       {"table": [f"tbl-{n:02d}" for n in range(0, 12)]})
    assignments.attach(SYSTEM, scope_id, ["sensitivity::restricted"], {"table": ["tbl-29"]})
    assignments.attach(SYSTEM, scope_id, ["legacy.v1"], {"source": ["src-0", "src-1", "src-2"]})
    assignments.attach(SYSTEM, scope_id, ["team::data"], {"source": ["src-3"]})


def _percent(scope_id: int) -> list[int]:
    db.session.rollback()  # the server's writes, not this thread's snapshot
    return [item.percent for item in compliance_report(SYSTEM, scope_id)]


def _shots(page: Any, name: str) -> None:
    for width in (1366, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.evaluate("window.scrollTo(0, 0)")
        shot(page, f"{name}-{width}")
    page.set_viewport_size({"width": 1366, "height": 900})


def test_compliance_fix_in_bulk_apply_and_back_to_100_percent(
    page: Any, live_server: str, app: Flask,
) -> None:
    world = make_world()
    sid = world.scope.id
    _seed(sid)
    sign_in(page, "manager@example.com", PASSWORD)

    # No policy yet: the compliance page says so and links to the policies page.
    page.goto("/s/acme/compliance")
    expect(page.locator("#compliance-report")).to_contain_text("No policies in")
    _shots(page, "compliance-0-empty")
    page.get_by_role("link", name="Create a policy").click()
    expect(page).to_have_url(re.compile(r"/s/acme/policies$"))

    # Write a policy, preview it (nothing saved), then save it.
    form = page.locator("#policy-form")
    form.locator("#name").fill("Tables carry a sensitivity")
    form.locator("input[name=resource_types][value=table]").check()
    form.locator("input[name=require_groups][value=sensitivity]").check()
    form.locator("#forbid_tags").fill("legacy")
    form.get_by_role("button", name="Preview").click()
    preview = page.locator("#policy-preview")
    expect(preview.locator("[data-count=covered]")).to_have_text("30")
    expect(preview.locator("[data-count=flagged]")).to_have_text("17")
    expect(preview).to_contain_text("no tag of group sensitivity — 17")
    assert _percent(sid) == []
    _shots(page, "policies-1-preview")
    form.get_by_role("button", name="Create policy").click()
    htmx_idle(page)
    expect(page.locator("#policy-list")).to_contain_text("Tables carry a sensitivity")
    expect(page.locator("#flashes")).to_contain_text("Created policy")
    expect(page.locator("#policy-list .percent")).to_have_text("43%")
    _shots(page, "policies-2-list")

    # The compliance page: the bar, the counts, the reason and its fix.
    page.get_by_role("link", name="Compliance", exact=True).click()
    expect(page).to_have_url(re.compile(r"/s/acme/compliance$"))
    card = page.locator(".policy-compliance").first
    expect(card.locator("[data-count=non-compliant]")).to_have_text("17")
    expect(card.locator(".compliance-bar")).to_be_visible()
    expect(card.locator(".reason")).to_contain_text("missing group sensitivity:: — 17 resources")
    _shots(page, "compliance-1-report")

    # Fix in bulk, with the tag to attach: the bulk page selects exactly the 17.
    card.locator("a.fix-tag", has_text="sensitivity::internal").click()
    expect(page).to_have_url(re.compile(r"/s/acme/bulk\?"))
    expect(page.locator("#match-count")).to_have_text("17")
    expect(page.locator("#chosen-tags .chosen-chip")).to_have_count(1)
    expect(page.locator("#chosen-tags")).to_contain_text("sensitivity::internal")
    page.locator("#preview-button").click()
    expect(page.locator("#bulk-preview #stat-change")).to_have_text("17")
    page.locator("#apply-button").click()
    expect(page.locator("#bulk-result #result-changed")).to_have_text("17")

    # Back on the compliance page: 100%, and it says so.
    page.goto("/s/acme/compliance")
    expect(page.locator(".policy-compliance .percent").first).to_have_text("100%")
    expect(page.locator(".all-compliant")).to_contain_text("All compliant")
    expect(page.locator("a.fix-link")).to_have_count(0)
    assert _percent(sid) == [100]
    _shots(page, "compliance-2-fixed")


def test_a_forbidden_tag_is_detached_in_bulk_and_the_violations_page(
    page: Any, live_server: str, app: Flask,
) -> None:
    world = make_world()
    sid = world.scope.id
    _seed(sid)
    from webapp.services.policies.crud import PolicyInput, create_policy
    create_policy(SYSTEM, sid, PolicyInput(name="No legacy feeds", resource_types=["source"],
                                           forbid_tags=["legacy"], mode="enforce"))
    sign_in(page, "viewer@example.com", PASSWORD)
    page.goto("/s/acme/compliance")
    card = page.locator(".policy-compliance").first
    expect(card.locator(".percent")).to_have_text("50%")
    card.get_by_role("link", name=re.compile("See the 3 non-compliant")).click()
    expect(page.locator("#violations tbody tr")).to_have_count(3)
    expect(page.locator("#violations")).to_contain_text("carries forbidden tag legacy")
    _shots(page, "compliance-3-violations")
    page.goto("/s/acme/compliance")
    page.locator("a.fix-link").first.click()
    expect(page.locator("#match-count")).to_have_text("3")
    expect(page).to_have_url(re.compile(r"action=detach"))
    # A viewer sees the selection but cannot apply: the policies page is read-only too.
    page.goto("/s/acme/policies")
    expect(page.locator("#policy-form")).to_have_count(0)
    expect(page.locator("#policy-list")).to_contain_text("No legacy feeds")


def test_an_enforced_policy_is_named_before_anything_is_refused(
    page: Any, live_server: str, app: Flask,
) -> None:
    """The bulk preview of an attach the policy forbids names it and offers no Apply; the
    resource page's compliance card tells each policy's verdict."""
    world = make_world()
    sid = world.scope.id
    _seed(sid)
    create_policy(SYSTEM, sid, PolicyInput(
        name="Tables carry a sensitivity, never legacy", resource_types=["table"],
        require_groups=["sensitivity"], forbid_tags=["legacy"], mode="enforce"))
    sign_in(page, "manager@example.com", PASSWORD)

    page.goto("/s/acme/bulk?type=table&tags=legacy.v1")
    htmx_idle(page)
    page.locator("#preview-button").click()
    htmx_idle(page)
    refusal = page.locator("#policy-refusal")
    expect(refusal).to_contain_text("Tables carry a sensitivity, never legacy")
    expect(refusal).to_contain_text("warehouse.orders_00 (table:tbl-00)")
    expect(page.locator("#apply-button")).to_have_count(0)
    _shots(page, "bulk-policy-refusal")

    page.goto("/s/acme/resources/table/tbl-20")
    card = page.locator("#resource-compliance")
    expect(card).to_contain_text("not compliant")
    expect(card).to_contain_text("no tag of group sensitivity")
    _shots(page, "resource-compliance-card")
