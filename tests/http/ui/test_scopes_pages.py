"""``/scopes`` (list with role and counts, create) and a scope's members page."""

from __future__ import annotations

import json
from pathlib import Path

from tests.http.ui.conftest import UiWorld
from tests.unit.factories import SYSTEM, make_scope, make_user
from webapp.extensions import db
from webapp.models import ExternalTagSource, Membership, Scope
from webapp.services.external_sources import add_source
from webapp.services.tags.creation import TagSpec, create_tag
from webapp.services.tags.lookup import find_tag

XSS = "<img src=x onerror=alert(1)>"


def role_of(ui: UiWorld, email: str) -> str | None:
    db.session.expire_all()
    user = make_user(email)
    membership = db.session.get(Membership, (user.id, ui.world.sid))
    return membership.role if membership else None


# --- the scope list ---------------------------------------------------------------------


def test_full_page_and_fragment_list_my_scopes_with_role_and_counts(ui: UiWorld) -> None:
    create_tag(ui.world.editor, ui.world.sid, TagSpec(name="a.b"))
    client = ui.client("editor")
    page = ui.get(client, "/scopes")
    html = page.get_data(True)
    assert page.status_code == 200 and "<html" in html
    assert "Acme" in html and "Beta" not in html.split('id="scopes-body"')[1]
    assert 'class="badge role-editor"' in html
    assert '<td class="num">2</td>' in html and '<td class="num">3</td>' in html
    assert "/scopes/acme/members" in html and "Only site administrators create scopes" in html
    assert "/scopes/acme/sources" not in html
    assert 'id="create-scope-form"' not in html

    fragment = ui.get(client, "/scopes", htmx=True)
    body = fragment.get_data(True)
    assert fragment.status_code == 200 and "<html" not in body
    assert body.lstrip().startswith('<div id="scopes-body"')


def test_admins_see_every_scope_and_create_one(ui: UiWorld) -> None:
    client = ui.client("admin")
    html = ui.get(client, "/scopes").get_data(True)
    assert "Beta" in html and 'id="create-scope-form"' in html
    assert "/scopes/beta/sources" in html

    response = ui.post(client, "/scopes", {"name": "Gamma Team", "public_id": "",
                                           "slug": ""}, htmx=True)
    body = response.get_data(True)
    assert response.status_code == 200 and "<html" not in body
    assert "Gamma Team" in body and 'class="fresh"' in body
    assert 'hx-swap-oob="true"' in body and "You are its manager" in body
    scope = db.session.scalar(db.select(Scope).where(Scope.name == "Gamma Team"))
    assert scope is not None and scope.public_id.startswith("scope_")

    response = ui.post(client, "/scopes", {"name": "Delta", "public_id": "scope_delta",
                                           "slug": ""})
    assert response.status_code == 302 and response.location.endswith("/scopes")
    assert "Scope Delta created" in client.get("/scopes").get_data(True)


def test_create_errors_are_shown_beside_their_field(ui: UiWorld) -> None:
    client = ui.client("admin")
    cases = [
        ({"name": ""}, "name", 422),
        ({"name": "X", "public_id": "acme2"}, "public_id", 422),
        ({"name": "X", "slug": "Not A Slug!"}, "slug", 422),
        ({"name": "X", "slug": "acme"}, "slug", 409),
        ({"name": "X", "public_id": "scope_acme", "slug": "fresh"}, "public_id", 409),
    ]
    for data, field, status in cases:
        response = ui.post(client, "/scopes", data, htmx=True)
        body = response.get_data(True)
        assert response.status_code == status, (data, body[:500])
        assert f'id="{field}-errors"' in body, data
        assert 'id="create-scope-form"' in body
    page = ui.post(client, "/scopes", {"name": ""})
    assert page.status_code == 422 and "<html" in page.get_data(True)


def test_only_admins_may_create_scopes(ui: UiWorld) -> None:
    for role in ("manager", "viewer"):
        response = ui.post(ui.client(role), "/scopes", {"name": "Mine"}, htmx=True)
        assert response.status_code == 403
        assert "administrator" in response.get_data(True)
    assert db.session.scalar(db.select(Scope).where(Scope.name == "Mine")) is None


def test_create_needs_a_csrf_token(ui: UiWorld) -> None:
    response = ui.client("admin").post("/scopes", data={"name": "NoToken"})
    assert response.status_code == 400


def test_hostile_scope_names_are_escaped(ui: UiWorld) -> None:
    scope = make_scope("scope_evil", name=XSS)
    make_user("viewer@example.com")
    from webapp.services.scopes import add_member

    add_member(SYSTEM, scope.id, "viewer@example.com", "viewer")
    html = ui.get(ui.client("viewer"), "/scopes").get_data(True)
    assert XSS not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_the_list_costs_a_constant_number_of_statements(ui: UiWorld, count_queries) -> None:  # type: ignore[no-untyped-def]
    client = ui.client("admin")

    def statements() -> int:
        ui.get(client, "/scopes")  # warm up: the test's own commits expired the session
        with count_queries() as counter:
            assert ui.get(client, "/scopes").status_code == 200
        return counter.count

    few = statements()
    for n in range(15):
        scope = make_scope(f"scope_s{n}")
        create_tag(SYSTEM, scope.id, TagSpec(name="t"))
    assert statements() == few


# --- members ----------------------------------------------------------------------------


def test_members_page_and_fragment(ui: UiWorld) -> None:
    client = ui.client("viewer")
    page = ui.get(client, "/scopes/acme/members")
    html = page.get_data(True)
    assert page.status_code == 200 and "<html" in html and "<h1>Acme</h1>" in html
    assert "/scopes/acme/sources" not in html  # a viewer does not manage sources
    for email in ("manager@example.com", "editor@example.com", "viewer@example.com"):
        assert email in html
    assert 'id="add-member-form"' not in html and 'name="role"' not in html
    assert "Leave" in html and ">Remove<" not in html  # a viewer may only leave
    assert 'aria-current="page"' in html and "/s/acme/tags" in html  # the scope's navigation

    fragment = ui.get(client, "/scopes/acme/members", htmx=True)
    body = fragment.get_data(True)
    assert fragment.status_code == 200 and "<html" not in body
    assert body.lstrip().startswith('<div id="members-body"')
    assert ui.get(ui.client("outsider"), "/scopes/acme/members").status_code == 404


def test_managers_add_a_member_by_email(ui: UiWorld) -> None:
    make_user("newcomer@example.com")
    client = ui.client("manager")
    html = ui.get(client, "/scopes/acme/members").get_data(True)
    assert 'id="add-member-form"' in html and "/scopes/acme/sources" in html

    response = ui.post(client, "/scopes/acme/members",
                       {"email": "Newcomer@Example.com", "role": "editor"}, htmx=True)
    body = response.get_data(True)
    assert response.status_code == 200 and "newcomer@example.com" in body
    assert "is editor of Acme" in body and 'hx-swap-oob="true"' in body
    assert role_of(ui, "newcomer@example.com") == "editor"

    plain = ui.post(client, "/scopes/acme/members", {"email": "newcomer@example.com",
                                                     "role": "viewer"})
    assert plain.status_code == 302 and plain.location.endswith("/scopes/acme/members")
    assert role_of(ui, "newcomer@example.com") == "viewer"


def test_add_member_errors_beside_the_field(ui: UiWorld) -> None:
    client = ui.client("manager")
    response = ui.post(client, "/scopes/acme/members",
                       {"email": "ghost@example.com", "role": "viewer"}, htmx=True)
    assert response.status_code == 422
    assert 'id="email-errors"' in response.get_data(True)
    assert "No account has this e-mail" in response.get_data(True)

    response = ui.post(client, "/scopes/acme/members", {"email": "", "role": "viewer"},
                       htmx=True)
    assert response.status_code == 422 and 'id="email-errors"' in response.get_data(True)

    response = ui.post(client, "/scopes/acme/members",
                       {"email": "x@example.com", "role": "owner"}, htmx=True)
    assert response.status_code == 422 and 'id="role-errors"' in response.get_data(True)

    # Demoting the last manager through the add form: beside the role.
    response = ui.post(client, "/scopes/acme/members",
                       {"email": "manager@example.com", "role": "viewer"}, htmx=True)
    assert response.status_code == 409
    assert 'id="role-errors"' in response.get_data(True)
    assert "last manager" in response.get_data(True)
    assert role_of(ui, "manager@example.com") == "manager"


def test_change_role_and_last_manager_protection(ui: UiWorld) -> None:
    client = ui.client("manager")
    editor_id = ui.world.editor.user_id
    manager_id = ui.world.manager.user_id
    html = ui.get(client, "/scopes/acme/members").get_data(True)
    assert f'/scopes/acme/members/{editor_id}/role' in html

    response = ui.post(client, f"/scopes/acme/members/{editor_id}/role", {"role": "manager"},
                       htmx=True)
    assert response.status_code == 200 and role_of(ui, "editor@example.com") == "manager"
    response = ui.post(client, f"/scopes/acme/members/{editor_id}/role", {"role": "editor"})
    assert response.status_code == 302 and role_of(ui, "editor@example.com") == "editor"

    refused = ui.post(client, f"/scopes/acme/members/{manager_id}/role", {"role": "viewer"},
                      htmx=True)
    body = refused.get_data(True)
    assert refused.status_code == 409
    assert f'id="member-{manager_id}-errors"' in body and "last manager" in body
    assert role_of(ui, "manager@example.com") == "manager"

    bad = ui.post(client, f"/scopes/acme/members/{editor_id}/role", {"role": "boss"},
                  htmx=True)
    assert bad.status_code == 422 and f'id="member-{editor_id}-errors"' in bad.get_data(True)


def test_remove_member_and_last_manager_protection(ui: UiWorld) -> None:
    client = ui.client("manager")
    editor_id, manager_id = ui.world.editor.user_id, ui.world.manager.user_id
    response = ui.post(client, f"/scopes/acme/members/{editor_id}/remove", htmx=True)
    body = response.get_data(True)
    assert response.status_code == 200 and "editor@example.com was removed" in body
    assert role_of(ui, "editor@example.com") is None

    refused = ui.post(client, f"/scopes/acme/members/{manager_id}/remove", htmx=True)
    assert refused.status_code == 409
    assert f'id="member-{manager_id}-errors"' in refused.get_data(True)
    assert role_of(ui, "manager@example.com") == "manager"


def test_viewers_cannot_change_members_but_may_leave(ui: UiWorld) -> None:
    client = ui.client("viewer")
    editor_id, viewer_id = ui.world.editor.user_id, ui.world.viewer.user_id
    assert ui.post(client, "/scopes/acme/members", {"email": "editor@example.com",
                                                    "role": "manager"}).status_code == 403
    assert ui.post(client, f"/scopes/acme/members/{editor_id}/role",
                   {"role": "manager"}, htmx=True).status_code == 403
    assert ui.post(client, f"/scopes/acme/members/{editor_id}/remove",
                   htmx=True).status_code == 403
    assert role_of(ui, "editor@example.com") == "editor"

    left = ui.post(client, f"/scopes/acme/members/{viewer_id}/remove", htmx=True)
    assert left.status_code == 200 and left.headers["HX-Redirect"] == "/scopes"
    assert role_of(ui, "viewer@example.com") is None


def test_hostile_member_names_are_escaped(ui: UiWorld) -> None:
    create_tag(ui.world.editor, ui.world.sid, TagSpec(name=XSS))
    response = ui.post(ui.client("manager"), "/scopes/acme/members",
                       {"email": XSS, "role": "viewer"}, htmx=True)
    body = response.get_data(True)
    assert response.status_code == 422 and XSS not in body


def test_members_page_costs_a_constant_number_of_statements(ui: UiWorld, count_queries) -> None:  # type: ignore[no-untyped-def]
    client = ui.client("manager")

    def statements() -> int:
        ui.get(client, "/scopes/acme/members")  # warm up after the test's commits
        with count_queries() as counter:
            assert ui.get(client, "/scopes/acme/members").status_code == 200
        return counter.count

    few = statements()
    from webapp.services.scopes import add_member

    for n in range(12):
        make_user(f"m{n}@example.com")
        add_member(SYSTEM, ui.world.sid, f"m{n}@example.com", "viewer")
    assert statements() == few


# --- external tag sources ---------------------------------------------------------------


def test_sources_page_and_fragment_for_managers_only(ui: UiWorld) -> None:
    add_source(ui.world.manager, ui.world.sid, "cmdb", "https://cmdb.example.com/tags.json")
    client = ui.client("manager")
    page = ui.get(client, "/scopes/acme/sources")
    html = page.get_data(True)
    assert page.status_code == 200 and "<html" in html and 'id="add-source-form"' in html
    assert "cmdb" in html and "https://cmdb.example.com/tags.json" in html
    assert "Refresh all sources now" in html and "never" in html
    fragment = ui.get(client, "/scopes/acme/sources", htmx=True)
    assert fragment.status_code == 200 and "<html" not in fragment.get_data(True)
    assert fragment.get_data(True).lstrip().startswith('<div id="sources-body"')
    for role in ("editor", "viewer"):
        assert ui.get(ui.client(role), "/scopes/acme/sources").status_code == 403
        assert ui.post(ui.client(role), "/scopes/acme/sources",
                       {"name": "x", "url": "https://x.example", "timeout_seconds": "5"},
                       htmx=True).status_code == 403
        assert ui.post(ui.client(role), "/scopes/acme/sources/refresh",
                       htmx=True).status_code == 403
        assert ui.post(ui.client(role), "/scopes/acme/sources/remove", {"name": "cmdb"},
                       htmx=True).status_code == 403
    assert ui.get(ui.client("outsider"), "/scopes/acme/sources").status_code == 404


def test_add_and_remove_a_source(ui: UiWorld) -> None:
    client = ui.client("manager")
    response = ui.post(client, "/scopes/acme/sources", {
        "name": "cmdb", "url": "https://cmdb.example.com/tags.json", "timeout_seconds": "5"},
        htmx=True)
    body = response.get_data(True)
    assert response.status_code == 200 and "Source cmdb added" in body
    source = db.session.scalar(db.select(ExternalTagSource))
    assert source is not None and source.timeout_seconds == 5.0

    response = ui.post(client, "/scopes/acme/sources/remove", {"name": "cmdb"}, htmx=True)
    assert response.status_code == 200 and "Source cmdb removed" in response.get_data(True)
    assert db.session.scalar(db.select(ExternalTagSource)) is None
    plain = ui.post(client, "/scopes/acme/sources/remove", {"name": "cmdb"})
    assert plain.status_code == 404


def test_source_errors_beside_their_field(ui: UiWorld) -> None:
    add_source(ui.world.manager, ui.world.sid, "cmdb", "https://cmdb.example.com/tags.json")
    client = ui.client("manager")
    cases = [
        ({"name": "", "url": "https://a.example", "timeout_seconds": "5"}, "name", 422),
        ({"name": "a", "url": "ftp://a.example", "timeout_seconds": "5"}, "url", 422),
        ({"name": "a", "url": "https://a.example", "timeout_seconds": "600"},
         "timeout_seconds", 422),
        ({"name": "a", "url": "https://a.example", "timeout_seconds": "soon"},
         "timeout_seconds", 422),
        ({"name": "CMDB", "url": "https://a.example", "timeout_seconds": "5"}, "name", 409),
        ({"name": "curated", "url": "https://a.example", "timeout_seconds": "5"}, "name", 422),
        ({"name": "disk", "url": "file:///etc/passwd", "timeout_seconds": "5"}, "url", 403),
    ]
    for data, field, status in cases:
        response = ui.post(client, "/scopes/acme/sources", data, htmx=True)
        body = response.get_data(True)
        assert response.status_code == status, (data, body[:400])
        assert f'id="{field}-errors"' in body, data
    assert db.session.scalar(db.select(db.func.count(ExternalTagSource.id))) == 1


def test_refresh_pulls_the_sources(ui: UiWorld, tmp_path: Path) -> None:
    feed = tmp_path / "tags.json"
    feed.write_text(json.dumps(["Catalog.PII.Email", "Catalog.PII.Phone"]))
    admin = ui.client("admin")
    response = ui.post(admin, "/scopes/acme/sources", {
        "name": "catalog", "url": feed.as_uri(), "timeout_seconds": "5"}, htmx=True)
    assert response.status_code == 200
    response = ui.post(admin, "/scopes/acme/sources/refresh", htmx=True)
    body = response.get_data(True)
    assert response.status_code == 200 and "catalog: 4 created" in body
    assert find_tag(ui.world.sid, "Catalog.PII.Phone") is not None

    feed.write_text("not json")
    body = ui.post(admin, "/scopes/acme/sources/refresh", htmx=True).get_data(True)
    assert "the refresh failed" in body and "Last refresh failed" in body


def test_hostile_source_names_are_escaped(ui: UiWorld) -> None:
    add_source(ui.world.manager, ui.world.sid, XSS, "https://cmdb.example.com/tags.json")
    html = ui.get(ui.client("manager"), "/scopes/acme/sources").get_data(True)
    assert XSS not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
