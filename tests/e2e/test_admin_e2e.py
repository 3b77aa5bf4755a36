"""The admin pages in Chromium: API keys (token shown once, revoke), audit (expand, filter,
undo, a refused undo beside its row), scopes and members (role change, last-manager error).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import htmx_idle, shot, sign_in
from tests.unit.factories import PASSWORD, World, external_ids, live_tag, make_user, make_world
from webapp.extensions import db
from webapp.models import ApiKey, Membership
from webapp.services import assignments, groups
from webapp.services.api_keys import create_api_key, verify_api_key
from webapp.services.scopes import add_member
from webapp.services.tags.creation import TagSpec, create_tag
from webapp.services.tags.hierarchy import update_tag


def _accept_dialogs(page: Any) -> None:
    page.on("dialog", lambda dialog: dialog.accept())


def _data() -> World:
    world = make_world()
    groups.create_group(world.manager, world.sid, "priority", color="#d9480f", exclusive=True)
    create_tag(world.editor, world.sid, TagSpec(name="Region.Europe.France"))
    assignments.attach(world.editor, world.sid, ["priority::high", "Region.Europe"],
                       {"source": external_ids(40)})
    create_tag(world.editor, world.sid, TagSpec(name="pii", color="#1971c2"))
    update_tag(world.editor, world.sid, "pii", label="Personal data", color="#e03131")
    create_api_key(world.editor, user_id=world.editor.user_id, scope_id=world.sid,
                   name="nightly CMDB sync", permissions=["tags.read", "tags.write"])
    return world


def test_keys_token_shown_once_then_revoked(page: Any, app: Any) -> None:
    _data()
    _accept_dialogs(page)
    sign_in(page, "manager@example.com", PASSWORD)
    page.goto("/settings/keys")
    others = page.locator("#keys-lists table.keys").nth(1)  # members' keys, seen by a manager
    assert others.get_by_text("nightly CMDB sync", exact=True).count() == 1

    page.fill("#name", "deploy bot")
    page.check("input[name=permissions][value='tags.write']")
    page.click("#create-key-form button[type=submit]")
    token_box = page.locator("#new-token")
    token_box.wait_for()
    token = token_box.input_value()
    assert re.fullmatch(r"tw_[a-z0-9]{10}_\S+", token)
    assert page.locator(".new-token").get_by_text("only time it is shown").count() == 1
    shot(page, "keys-created")
    verified = verify_api_key(token)
    key = db.session.get(ApiKey, verified.id) if verified else None
    assert key is not None and key.permissions == ["tags.read", "tags.write"]

    page.reload()
    assert token not in page.content()
    row = page.locator(f"#key-{key.id}")
    assert row.get_by_text("deploy bot").count() == 1
    row.get_by_role("button", name="Revoke").click()
    page.locator(f"#key-{key.id} .badge.danger").wait_for()
    assert "no longer works" in page.locator("#flashes").inner_text()
    db.session.rollback()  # end the test's read snapshot
    assert db.session.get(ApiKey, key.id).revoked_at is not None
    shot(page, "keys")


def test_keys_permissions_follow_the_chosen_scope(page: Any, app: Any) -> None:
    world = _data()
    add_member(world.manager, world.sid, "outsider@example.com", "viewer")
    sign_in(page, "outsider@example.com", PASSWORD)  # editor of beta, viewer of acme
    page.goto("/settings/keys?scope=acme")
    assert page.locator("input[value='tags.write']").is_disabled()
    page.select_option("#scope", "beta")
    # expect() polls without eval (a string predicate would break the page's CSP).
    expect(page.locator("input[value='tags.write']")).to_be_enabled()
    assert not page.locator("input[value='tags.write']").is_disabled()
    assert page.locator("input[value='groups.write']").is_disabled()


@pytest.mark.http_errors(409)  # the refused undo
def test_audit_expand_filter_and_undo(page: Any, app: Any) -> None:
    world = _data()
    _accept_dialogs(page)
    sign_in(page, "manager@example.com", PASSWORD)
    page.goto("/s/acme/audit")
    shot(page, "audit")

    update_row = page.locator("tr", has_text="Update tag pii").first
    update_row.locator("details.cs-events > summary").click()
    events = update_row.locator("table.events")
    events.wait_for()
    assert "Personal data" in events.inner_text()
    shot(page, "audit-expanded")

    page.select_option("#object_type", "tag_group")
    page.wait_for_url(re.compile(r"object_type=tag_group"))
    page.locator("text=1 change set").wait_for()
    assert page.locator("tr", has_text="Update tag pii").count() == 0
    page.go_back()
    page.wait_for_url(re.compile(r"/audit$"))
    page.locator("tr", has_text="Update tag pii").first.wait_for()

    # Undo asks first, in a dialog that says what the undo does; Cancel and Esc close it.
    create_row = page.locator("tr", has_text="Create tag pii").first
    create_row.get_by_role("button", name="Undo").click()
    dialog = page.get_by_role("dialog", name=re.compile(r"Undo change set #\d+\?"))
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Delete 1 tag.")
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    shot(page, "audit-undo-confirm")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    expect(create_row.get_by_role("button", name="Undo")).to_be_focused()
    create_row.get_by_role("button", name="Undo").click()
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert page.locator("tr.undone").count() == 0  # nothing was undone

    # The tag's creation cannot be undone: a newer change set updated it.
    create_row.get_by_role("button", name="Undo").click()
    dialog.get_by_role("button", name=re.compile(r"^Undo change set")).click()
    error = page.locator("tr", has_text="Create tag pii").first.locator(".row-error")
    error.wait_for()
    assert "cannot be undone" in error.inner_text()
    shot(page, "audit-undo-refused")

    # Undo the update: the label and colour come back, and the row is marked undone.
    page.locator("tr", has_text="Update tag pii").first.get_by_role("button",
                                                                     name="Undo").click()
    expect(dialog).to_contain_text("Change 1 tag back.")
    dialog.get_by_role("button", name=re.compile(r"^Undo change set")).click()
    page.locator("tr.undone", has_text="Update tag pii").wait_for()
    assert "was undone" in page.locator("#flashes").inner_text()
    assert page.locator("tr", has_text="Undo: Update tag pii").count() == 1
    db.session.rollback()  # end the test's read snapshot
    tag = live_tag(world.sid, "pii")
    assert tag is not None and tag.label == "pii" and tag.color == "#1971C2"
    shot(page, "audit-undone")


@pytest.mark.http_errors(403, 409, 422)  # unknown e-mail, file:// source, last manager
def test_scopes_and_members(page: Any, app: Any) -> None:
    world = _data()
    make_user("newcomer@example.com")
    _accept_dialogs(page)
    sign_in(page, "manager@example.com", PASSWORD)
    page.goto("/scopes")
    assert page.locator("table.scopes").get_by_text("Acme", exact=True).count() == 1
    shot(page, "scopes")

    page.get_by_role("link", name="Members").first.click()
    page.wait_for_url(re.compile(r"/scopes/acme/members$"))
    page.fill("#email", "newcomer@example.com")
    page.select_option("#role", "editor")
    page.click("#add-member-form button[type=submit]")
    page.locator("#members-body", has_text="newcomer@example.com").wait_for()
    assert "is editor of Acme" in page.locator("#flashes").inner_text()
    htmx_idle(page)

    manager_id = world.manager.user_id
    page.select_option(f"#role-{manager_id}", "viewer")
    error = page.locator(f"#member-{manager_id}-errors")
    error.wait_for()
    assert "last manager" in error.inner_text()
    shot(page, "members")

    page.get_by_role("link", name="External tag sources").click()
    page.wait_for_url(re.compile(r"/scopes/acme/sources$"))
    page.fill("#name", "cmdb")
    page.fill("#url", "file:///srv/tags.json")
    page.click("#add-source-form button[type=submit]")
    page.locator("#url-errors").wait_for()  # file:// is for site administrators
    page.fill("#url", "https://cmdb.example.com/tags.json")
    page.click("#add-source-form button[type=submit]")
    page.locator("#source-1, table.sources", has_text="cmdb.example.com").first.wait_for()
    shot(page, "sources")

    page.get_by_role("link", name="Members").click()
    page.wait_for_url(re.compile(r"/scopes/acme/members$"))
    page.fill("#email", "ghost@example.com")
    page.click("#add-member-form button[type=submit]")
    page.locator("#email-errors").wait_for()
    shot(page, "members-errors")
    db.session.rollback()  # end the test's read snapshot
    newcomer = make_user("newcomer@example.com")
    membership = db.session.get(Membership, (newcomer.id, world.sid))
    assert membership is not None and membership.role == "editor"


@pytest.mark.http_errors(422)  # the bad slug
def test_admin_creates_a_scope(page: Any, app: Any) -> None:
    make_world()
    make_user("admin@example.com", admin=True)
    sign_in(page, "admin@example.com", PASSWORD)
    page.goto("/scopes")
    page.fill("#name", "Gamma")
    page.fill("#slug", "Bad Slug")
    page.click("#create-scope-form button[type=submit]")
    page.locator("#slug-errors").wait_for()
    shot(page, "scopes-create-error")
    page.fill("#slug", "gamma")
    page.click("#create-scope-form button[type=submit]")
    page.locator("tr.fresh", has_text="Gamma").wait_for()
    shot(page, "scopes-admin")


def test_a_phone_width_screen(page: Any) -> None:
    """At 390 px no page is wider than the screen, the navigation folds behind a Menu
    button (Esc folds it again), and a limited field counts its characters as typed."""
    _data()
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, "manager@example.com", PASSWORD)
    for path in ("tags", "hierarchy", "groups", "resources", "bulk", "audit"):
        page.goto(f"/s/acme/{path}")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"/s/acme/{path} is {width} px wide"

    menu = page.get_by_role("button", name="Menu")
    audit_link = page.get_by_role("navigation", name="Scope").get_by_role("link", name="Audit")
    expect(audit_link).to_be_hidden()
    menu.click()
    expect(audit_link).to_be_visible()
    expect(menu).to_have_attribute("aria-expanded", "true")
    shot(page, "phone-menu-open")
    page.keyboard.press("Escape")
    expect(audit_link).to_be_hidden()

    page.goto("/s/acme/groups")
    identifier = page.get_by_label("Identifier")
    counter = page.locator(f"#{identifier.get_attribute('id')}-count")
    limit = identifier.get_attribute("maxlength")
    expect(counter).to_have_text(f"0 / {limit}")
    identifier.press_sequentially("team", delay=10)
    expect(counter).to_have_text(f"4 / {limit}")
