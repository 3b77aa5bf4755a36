"""The groups page: list with tag counts; create, edit, delete for managers only."""

from __future__ import annotations

import re

from tests.http.ui.conftest import UiWorld
from tests.unit.factories import SYSTEM, external_ids
from webapp.extensions import db
from webapp.models import TagGroup
from webapp.services.assignments import attach
from webapp.services.groups import create_group, find_group
from webapp.services.tags.creation import TagSpec, create_tag, create_tags

XSS = "<img src=x onerror=alert(1)>"


def html_of(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def group(ui: UiWorld, identifier: str) -> TagGroup:
    db.session.expire_all()
    found = find_group(ui.world.sid, identifier)
    assert found is not None, identifier
    return found


def form_data(**values: object) -> dict[str, object]:
    data: dict[str, object] = {"identifier": "", "label": "", "description": "", "color": ""}
    data.update(values)
    return data


def test_the_list_shows_groups_with_tag_counts_and_rules(ui: UiWorld) -> None:
    create_group(SYSTEM, ui.world.sid, "priority", label="Priority", color="#D32F2F",
                 exclusive=True, description="How urgent")
    create_group(SYSTEM, ui.world.sid, "sensitivity", allowed_types=["table", "column"])
    create_tags(SYSTEM, ui.world.sid, [TagSpec(name=f"priority::{n}")
                                       for n in ("high", "low", "mid")])
    response = ui.get(ui.client("viewer"), ui.url("groups"))
    assert response.status_code == 200
    html = html_of(response)
    assert "<html" in html
    assert "priority::</code>" in html and "How urgent" in html and "exclusive</span>" in html
    assert "background: #D32F2F" in html
    priority_row = html[html.index("priority::</code>"):html.index("sensitivity::</code>")]
    assert re.search(r'class="num"><a [^>]*>3</a>', priority_row)
    assert ">table</span>" in html and ">column</span>" in html and "any resource type" in html


def test_the_htmx_fragment_is_the_list(ui: UiWorld) -> None:
    create_group(SYSTEM, ui.world.sid, "team")
    html = html_of(ui.get(ui.client("viewer"), ui.url("groups"), htmx=True))
    assert "<html" not in html and 'id="group-list"' in html and "team::</code>" in html


def test_the_list_costs_a_constant_number_of_statements(ui: UiWorld, count_queries
                                                        ) -> None:  # type: ignore[no-untyped-def]
    client = ui.client("manager")

    def measure(start: int, stop: int) -> int:
        for n in range(start, stop):
            create_group(SYSTEM, ui.world.sid, f"g{n}")
            create_tag(SYSTEM, ui.world.sid, TagSpec(name=f"g{n}::t"))
        ui.get(client, ui.url("groups"))
        with count_queries() as counter:
            ui.get(client, ui.url("groups"))
        return counter.count

    assert measure(0, 2) == measure(2, 25)


def test_an_empty_scope_explains_groups(ui: UiWorld) -> None:
    html = html_of(ui.get(ui.client("manager"), ui.url("groups")))
    assert "No groups in" in html and "Create group" in html


def test_viewers_and_editors_read_only(ui: UiWorld) -> None:
    create_group(SYSTEM, ui.world.sid, "team")
    team = group(ui, "team")
    for role in ("viewer", "editor"):
        client = ui.client(role)
        html = html_of(ui.get(client, ui.url("groups")))
        assert "team::</code>" in html
        assert "Create group" not in html and ">Edit<" not in html and ">Delete<" not in html
        assert "Only managers" in html
        for path in ("groups/new", f"groups/{team.id}/edit", f"groups/{team.id}/delete"):
            assert ui.get(client, ui.url(path), htmx=True).status_code == 403
        for path, data in (("groups", form_data(identifier="x")),
                           (f"groups/{team.id}/edit", form_data(identifier="renamed")),
                           (f"groups/{team.id}/delete", {}),
                           ("groups", form_data())):
            response = ui.post(client, ui.url(path), data, htmx=True)
            assert response.status_code == 403, (role, path)
            assert "Not allowed" in html_of(response)
        assert ui.post(client, ui.url("groups"), form_data(identifier="x")).status_code == 403
    assert group(ui, "team").identifier == "team"
    assert find_group(ui.world.sid, "x") is None


def test_outsiders_get_404(ui: UiWorld) -> None:
    assert ui.get(ui.client("outsider"), ui.url("groups")).status_code == 404


def test_create_a_group_with_htmx(ui: UiWorld) -> None:
    client = ui.client("manager")
    response = ui.post(client, ui.url("groups"), {
        **form_data(identifier="priority", label="Priority", description="Urgency",
                    color="#1e88e5", exclusive="y"),
        "allowed_types": ["table", "column"],
    }, htmx=True)
    assert response.status_code == 200
    html = html_of(response)
    assert 'id="group-form"' in html and 'value="priority"' not in html  # a fresh form
    assert '<div id="group-list" class="group-list" hx-swap-oob="true">' in html
    assert "priority::</code>" in html and "Created group priority." in html
    created = group(ui, "priority")
    assert created.exclusive and created.color == "#1E88E5" and created.label == "Priority"
    assert sorted(created.allowed_types) == ["column", "table"]


def test_a_blank_label_becomes_the_identifier_and_a_plain_post_redirects(ui: UiWorld) -> None:
    response = ui.post(ui.client("manager"), ui.url("groups"), form_data(identifier="team"))
    assert response.status_code == 302 and response.location.endswith("/s/acme/groups")
    assert group(ui, "team").label == "team"
    assert group(ui, "team").color is None and not group(ui, "team").exclusive


def test_create_errors_are_shown_beside_the_fields(ui: UiWorld) -> None:
    client = ui.client("manager")
    create_group(SYSTEM, ui.world.sid, "team")
    response = ui.post(client, ui.url("groups"), form_data(), htmx=True)
    assert response.status_code == 422 and 'id="identifier-errors"' in html_of(response)
    response = ui.post(client, ui.url("groups"), form_data(identifier="TEAM"), htmx=True)
    assert response.status_code == 409
    assert re.search(r'id="identifier-errors"><li>already exists', html_of(response))
    response = ui.post(client, ui.url("groups"), form_data(identifier="a.b"), htmx=True)
    assert response.status_code == 422 and 'id="identifier-errors"' in html_of(response)
    response = ui.post(client, ui.url("groups"), form_data(identifier="ok", color="red"),
                       htmx=True)
    assert response.status_code == 422 and 'id="color-errors"' in html_of(response)
    assert 'value="red"' in html_of(response)  # what was typed is kept
    response = ui.post(client, ui.url("groups"), {**form_data(identifier="ok"),
                                                  "allowed_types": ["spaceship"]}, htmx=True)
    assert response.status_code == 422 and 'id="allowed_types-errors"' in html_of(response)
    response = ui.post(client, ui.url("groups"), form_data(), htmx=False)
    assert response.status_code == 422 and "<html" in html_of(response)
    assert 'id="identifier-errors"' in html_of(response)


def test_edit_form_is_prefilled_and_saves(ui: UiWorld) -> None:
    client = ui.client("manager")
    create_group(SYSTEM, ui.world.sid, "prio", color="#00AA00", allowed_types=["node"])
    create_tag(SYSTEM, ui.world.sid, TagSpec(name="prio::high"))
    prio = group(ui, "prio")
    html = html_of(ui.get(client, ui.url(f"groups/{prio.id}/edit"), htmx=True))
    assert "<html" not in html and 'value="prio"' in html and 'value="#00AA00"' in html
    assert re.search(r'<input checked id="allowed_types-\d+" name="allowed_types" '
                     r'type="checkbox" value="node">', html)
    response = ui.post(client, ui.url(f"groups/{prio.id}/edit"), {
        **form_data(identifier="priority", label="Priority", color=""), "exclusive": "y",
    }, htmx=True)
    assert response.status_code == 200
    assert "Saved group priority (was prio)." in html_of(response)
    saved = group(ui, "priority")
    assert saved.exclusive and saved.color is None and saved.allowed_types == []
    assert db.session.scalar(db.select(db.func.count()).where(
        db.text("path_key = 'priority::high'")).select_from(db.table("tags"))) == 1


def test_edit_conflicts_are_shown_beside_the_field_they_concern(ui: UiWorld) -> None:
    client = ui.client("manager")
    create_group(SYSTEM, ui.world.sid, "team")
    create_group(SYSTEM, ui.world.sid, "env")
    attach(SYSTEM, ui.world.sid, ["env::prod", "env::dev"], {"source": external_ids(2)})
    env = group(ui, "env")
    url = ui.url(f"groups/{env.id}/edit")
    response = ui.post(client, url, form_data(identifier="env", exclusive="y"), htmx=True)
    assert response.status_code == 409 and 'id="exclusive-errors"' in html_of(response)
    response = ui.post(client, url, {**form_data(identifier="env"), "allowed_types": ["node"]},
                       htmx=True)
    assert response.status_code == 409 and 'id="allowed_types-errors"' in html_of(response)
    response = ui.post(client, url, form_data(identifier="team"), htmx=True)
    assert response.status_code == 409 and 'id="identifier-errors"' in html_of(response)
    assert not group(ui, "env").exclusive


def test_edit_has_a_page_of_its_own_without_javascript(ui: UiWorld) -> None:
    create_group(SYSTEM, ui.world.sid, "team")
    team = group(ui, "team")
    client = ui.client("manager")
    html = html_of(ui.get(client, ui.url(f"groups/{team.id}/edit")))
    assert "<html" in html and 'method="post"' in html and "hx-post" not in html
    response = ui.post(client, ui.url(f"groups/{team.id}/edit"), form_data(identifier="crew"))
    assert response.status_code == 302 and group(ui, "crew")


def test_delete_confirmation_counts_the_tags(ui: UiWorld) -> None:
    client = ui.client("manager")
    create_group(SYSTEM, ui.world.sid, "busy")
    create_group(SYSTEM, ui.world.sid, "idle")
    create_tags(SYSTEM, ui.world.sid, [TagSpec(name="busy::a"), TagSpec(name="busy::b")])
    busy, idle = group(ui, "busy"), group(ui, "idle")
    html = html_of(ui.get(client, ui.url(f"groups/{busy.id}/delete"), htmx=True))
    assert '<strong data-count="tags">2 tags</strong>' in html and "<button" not in html
    response = ui.post(client, ui.url(f"groups/{busy.id}/delete"), {}, htmx=True)
    assert response.status_code == 409 and "still has 2 tag(s)" in html_of(response)
    html = html_of(ui.get(client, ui.url(f"groups/{idle.id}/delete"), htmx=True))
    assert '<strong data-count="tags">No tags</strong>' in html and "Delete group</button>" in html
    response = ui.post(client, ui.url(f"groups/{idle.id}/delete"), {}, htmx=True)
    assert response.status_code == 200 and "Deleted group idle." in html_of(response)
    assert find_group(ui.world.sid, "idle") is None
    assert 'id="group-list" class="group-list" hx-swap-oob="true"' in html_of(response)


def test_plain_delete_redirects(ui: UiWorld) -> None:
    create_group(SYSTEM, ui.world.sid, "idle")
    idle = group(ui, "idle")
    client = ui.client("manager")
    assert "<html" in html_of(ui.get(client, ui.url(f"groups/{idle.id}/delete")))
    response = ui.post(client, ui.url(f"groups/{idle.id}/delete"), {})
    assert response.status_code == 302 and find_group(ui.world.sid, "idle") is None


def test_unknown_groups_are_404(ui: UiWorld) -> None:
    create_group(SYSTEM, ui.world.other_scope.id, "theirs")
    theirs = find_group(ui.world.other_scope.id, "theirs")
    assert theirs is not None
    client = ui.client("manager")
    assert ui.get(client, ui.url(f"groups/{theirs.id}/edit"), htmx=True).status_code == 404
    assert ui.post(client, ui.url(f"groups/{theirs.id}/delete"), {},
                   htmx=True).status_code == 404


def test_csrf_is_required(ui: UiWorld) -> None:
    response = ui.client("manager").post(ui.url("groups"), data=form_data(identifier="x"))
    assert response.status_code == 400 and find_group(ui.world.sid, "x") is None


def test_group_texts_are_rendered_inert(ui: UiWorld) -> None:
    create_group(SYSTEM, ui.world.sid, "xss", label=XSS, description=XSS)
    xss = group(ui, "xss")
    client = ui.client("manager")
    pages = [ui.get(client, ui.url("groups")),
             ui.get(client, ui.url(f"groups/{xss.id}/edit"), htmx=True),
             ui.get(client, ui.url(f"groups/{xss.id}/edit")),
             ui.post(client, ui.url("groups"), form_data(identifier="x", label=XSS), htmx=True)]
    for response in pages:
        html = html_of(response)
        assert response.status_code == 200 and XSS not in html
        assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_the_assign_role_is_edited_with_the_impact_shown_first(ui: UiWorld) -> None:
    client = ui.client("manager")
    create_group(SYSTEM, ui.world.sid, "audit")
    audit = group(ui, "audit")
    form = html_of(ui.get(client, ui.url(f"groups/{audit.id}/edit"), htmx=True))
    assert 'name="assign_role"' in form and "Managers only" in form
    assert f'hx-get="/s/acme/groups/{audit.id}/assign-impact"' in form
    impact = html_of(ui.get(client, ui.url(f"groups/{audit.id}/assign-impact?assign_role=manager"),
                            htmx=True))
    assert "<strong>1</strong> editor and" in impact and "<strong>0</strong> API keys" in impact
    bad = ui.get(client, ui.url(f"groups/{audit.id}/assign-impact?assign_role=owner"), htmx=True)
    assert bad.status_code == 422 and "must be one of editor, manager" in html_of(bad)
    plain = ui.get(client, ui.url(f"groups/{audit.id}/assign-impact?assign_role=manager"))
    assert plain.status_code == 302 and plain.location.endswith(f"/groups/{audit.id}/edit")
    assert ui.get(ui.client("editor"), ui.url(f"groups/{audit.id}/assign-impact"),
                  htmx=True).status_code == 403
    saved = ui.post(client, ui.url(f"groups/{audit.id}/edit"),
                    {**form_data(identifier="audit"), "assign_role": "manager"}, htmx=True)
    assert saved.status_code == 200 and group(ui, "audit").assign_role == "manager"
    refused = ui.post(client, ui.url(f"groups/{audit.id}/edit"),
                      {**form_data(identifier="audit"), "assign_role": "owner"}, htmx=True)
    assert refused.status_code == 422 and "must be one of editor, manager" in html_of(refused)
