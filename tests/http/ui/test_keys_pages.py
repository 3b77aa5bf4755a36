"""``/settings/keys``: create a key (token shown once), list, revoke; managers' view."""

from __future__ import annotations

import re

from tests.http.ui.conftest import UiWorld
from webapp.extensions import db
from webapp.models import ApiKey
from webapp.services.api_keys import create_api_key, verify_api_key

XSS = "<img src=x onerror=alert(1)>"
TOKEN = re.compile(r"tw_[a-z0-9]{10}_[A-Za-z0-9_-]{20,}")


def key_of(ui: UiWorld, role: str, name: str = "existing",
           permissions: tuple[str, ...] = ("tags.read",)) -> ApiKey:
    actor = getattr(ui.world, role)
    key, _ = create_api_key(actor, user_id=actor.user_id, scope_id=ui.world.sid, name=name,
                            permissions=list(permissions))
    return key


def test_full_page_and_fragment(ui: UiWorld) -> None:
    key_of(ui, "editor", "ci sync")
    client = ui.client("editor")
    page = ui.get(client, "/settings/keys")
    html = page.get_data(True)
    assert page.status_code == 200 and "<html" in html
    assert "ci sync" in html and 'id="create-key-form"' in html and "js/keys.js" in html
    assert '<option selected value="acme">Acme (editor)</option>' in html
    fragment = ui.get(client, "/settings/keys", htmx=True)
    body = fragment.get_data(True)
    assert fragment.status_code == 200 and "<html" not in body
    assert body.lstrip().startswith('<div id="keys-body"')


def test_create_shows_the_token_once(ui: UiWorld) -> None:
    client = ui.client("manager")
    response = ui.post(client, "/settings/keys", {
        "name": "deploy bot", "scope": "acme", "permissions": ["tags.read", "groups.write"],
    }, htmx=True)
    body = response.get_data(True)
    assert response.status_code == 200 and "<html" not in body
    match = TOKEN.search(body)
    assert match, body[:1000]
    assert "only time it is shown" in body and "data-copy" in body
    verified = verify_api_key(match.group(0))
    assert verified is not None
    key = db.session.get(ApiKey, verified.id)
    assert key is not None and key.name == "deploy bot"
    assert key.permissions == ["tags.read", "groups.write"]

    again = ui.get(client, "/settings/keys").get_data(True)
    assert match.group(0) not in again and f"tw_{key.prefix}_…" in again
    assert "deploy bot" in again


def test_plain_create_renders_the_page_with_the_token(ui: UiWorld) -> None:
    response = ui.post(ui.client("editor"), "/settings/keys", {
        "name": "plain", "scope": "acme", "permissions": ["tags.write"],
    })
    html = response.get_data(True)
    assert response.status_code == 200 and "<html" in html and TOKEN.search(html)
    assert "no-store" in response.headers["Cache-Control"]


def test_the_permissions_offered_follow_the_role(ui: UiWorld) -> None:
    html = ui.get(ui.client("viewer"), "/settings/keys").get_data(True)
    assert re.search(r'value="tags.read"\s+checked>', html)
    assert re.search(r'value="tags.write"\s+disabled>', html)
    assert re.search(r'value="groups.write"\s+disabled>', html)

    html = ui.get(ui.client("manager"), "/settings/keys").get_data(True)
    assert not re.search(r'value="groups.write"[^>]*disabled', html)


def test_a_viewer_may_create_a_read_key_but_nothing_more(ui: UiWorld) -> None:
    client = ui.client("viewer")
    response = ui.post(client, "/settings/keys", {
        "name": "reader", "scope": "acme", "permissions": ["tags.read"]}, htmx=True)
    assert response.status_code == 200 and TOKEN.search(response.get_data(True))

    response = ui.post(client, "/settings/keys", {
        "name": "writer", "scope": "acme", "permissions": ["tags.read", "tags.write"]},
        htmx=True)
    body = response.get_data(True)
    assert response.status_code == 422 and 'id="permissions-errors"' in body
    assert "does not allow tags.write" in body and not TOKEN.search(body)
    assert db.session.scalar(db.select(ApiKey).where(ApiKey.name == "writer")) is None


def test_form_errors_beside_their_fields(ui: UiWorld) -> None:
    client = ui.client("editor")
    cases = [
        ({"name": "", "scope": "acme", "permissions": ["tags.read"]}, "name"),
        ({"name": "x", "scope": "acme"}, "permissions"),
        ({"name": "x", "scope": "beta", "permissions": ["tags.read"]}, "scope"),
        ({"name": "x", "scope": "acme", "permissions": ["admin.all"]}, "permissions"),
        ({"name": "bad\x07name", "scope": "acme", "permissions": ["tags.read"]}, "name"),
    ]
    for data, field in cases:
        response = ui.post(client, "/settings/keys", data, htmx=True)
        body = response.get_data(True)
        assert response.status_code == 422, (data, body[:300])
        assert f'id="{field}-errors"' in body, (data, body)
        assert not TOKEN.search(body)
    assert db.session.scalar(db.select(db.func.count(ApiKey.id))) == 0


def test_permissions_fragment_for_the_chosen_scope(ui: UiWorld) -> None:
    client = ui.client("outsider")
    response = ui.get(client, "/settings/keys/permissions?scope=beta&permissions=tags.write",
                      htmx=True)
    body = response.get_data(True)
    assert response.status_code == 200 and "<html" not in body
    assert body.lstrip().startswith('<fieldset id="key-permissions"')
    assert re.search(r'value="tags.write"\s+checked>', body)
    assert re.search(r'value="groups.write"\s+disabled>', body)
    plain = ui.get(client, "/settings/keys/permissions?scope=beta")
    assert plain.status_code == 302 and plain.location.endswith("/settings/keys?scope=beta")


def test_revoke_own_key(ui: UiWorld) -> None:
    key = key_of(ui, "editor")
    client = ui.client("editor")
    response = ui.post(client, f"/settings/keys/{key.id}/revoke", htmx=True)
    body = response.get_data(True)
    assert response.status_code == 200 and "<html" not in body
    assert body.lstrip().startswith('<div id="keys-lists"')
    assert "revoked" in body and 'hx-swap-oob="true"' in body
    db.session.expire_all()
    assert db.session.get(ApiKey, key.id).revoked_at is not None

    other = key_of(ui, "editor", "second")
    plain = ui.post(client, f"/settings/keys/{other.id}/revoke")
    assert plain.status_code == 302 and plain.location.endswith("/settings/keys")


def test_managers_see_and_revoke_members_keys(ui: UiWorld) -> None:
    editor_key = key_of(ui, "editor", "editor's key")
    manager_key = key_of(ui, "manager", "manager's key")
    html = ui.get(ui.client("manager"), "/settings/keys").get_data(True)
    others = html.split("Keys of other members")[1]
    assert "editor&#39;s key" in others and "editor@example.com" in others

    editor_html = ui.get(ui.client("editor"), "/settings/keys").get_data(True)
    assert "manager&#39;s key" not in editor_html and "Keys of other members" not in editor_html
    refused = ui.post(ui.client("editor"), f"/settings/keys/{manager_key.id}/revoke",
                      htmx=True)
    assert refused.status_code == 404

    response = ui.post(ui.client("manager"), f"/settings/keys/{editor_key.id}/revoke",
                       htmx=True)
    assert response.status_code == 200
    db.session.expire_all()
    assert db.session.get(ApiKey, editor_key.id).revoked_at is not None
    assert db.session.get(ApiKey, manager_key.id).revoked_at is None


def test_viewers_may_not_revoke_others_keys(ui: UiWorld) -> None:
    key = key_of(ui, "editor")
    response = ui.post(ui.client("viewer"), f"/settings/keys/{key.id}/revoke", htmx=True)
    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(ApiKey, key.id).revoked_at is None


def test_writes_need_a_csrf_token(ui: UiWorld) -> None:
    key = key_of(ui, "editor")
    client = ui.client("editor")
    assert client.post(f"/settings/keys/{key.id}/revoke").status_code == 400
    assert client.post("/settings/keys", data={"name": "x", "scope": "acme",
                                               "permissions": "tags.read"}).status_code == 400


def test_hostile_key_names_are_escaped(ui: UiWorld) -> None:
    client = ui.client("editor")
    response = ui.post(client, "/settings/keys", {
        "name": XSS, "scope": "acme", "permissions": ["tags.read"]}, htmx=True)
    assert response.status_code == 200
    for html in (response.get_data(True), ui.get(client, "/settings/keys").get_data(True)):
        assert XSS not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_the_list_costs_a_constant_number_of_statements(ui: UiWorld, count_queries) -> None:  # type: ignore[no-untyped-def]
    client = ui.client("manager")

    def statements() -> int:
        ui.get(client, "/settings/keys")  # warm up: the test's own commits expired the session
        with count_queries() as counter:
            assert ui.get(client, "/settings/keys").status_code == 200
        return counter.count

    key_of(ui, "manager")
    few = statements()
    for n in range(10):
        key_of(ui, "editor", f"e{n}")
        key_of(ui, "viewer", f"v{n}")
    assert statements() == few
