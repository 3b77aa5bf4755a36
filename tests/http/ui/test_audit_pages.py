"""The audit pages: change sets with filters in the URL, expand into events, undo."""

from __future__ import annotations

import re

from tests.http.ui.conftest import UiWorld
from tests.unit.factories import external_ids, live_tag
from webapp.models import ChangeSet
from webapp.services import assignments, groups, undo
from webapp.services.paging import PageRequest
from webapp.services.scopes import add_member
from webapp.services.tags.creation import TagSpec, create_tag
from webapp.services.tags.hierarchy import update_tag
from webapp.services.undo import ChangeSetFilter

XSS = "<img src=x onerror=alert(1)>"


def latest(ui: UiWorld) -> ChangeSet:
    page = undo.list_change_sets(ui.world.manager, ui.world.sid, ChangeSetFilter(),
                                 PageRequest(1, 1))
    return page.items[0]


def test_full_page_and_fragment(ui: UiWorld) -> None:
    create_tag(ui.world.editor, ui.world.sid, TagSpec(name="blue"))
    client = ui.client("viewer")
    page = ui.get(client, ui.url("audit"))
    assert page.status_code == 200
    html = page.get_data(True)
    assert "<html" in html and 'id="audit-results"' in html and 'name="object_type"' in html
    assert "editor@example.com" in html and "Create tag" in html
    fragment = ui.get(client, ui.url("audit"), htmx=True)
    body = fragment.get_data(True)
    assert fragment.status_code == 200 and "<html" not in body
    assert body.lstrip().startswith('<div id="audit-results"') and "Create tag" in body
    assert 'name="object_type"' not in body  # the filters stay on the page


def test_rows_show_actor_time_via_summary_and_link_counts(ui: UiWorld) -> None:
    assignments.attach(ui.world.editor, ui.world.sid, ["red", "green"],
                       {"source": external_ids(3)})
    html = ui.get(ui.client("viewer"), ui.url("audit")).get_data(True)
    assert "editor@example.com" in html and "via-web" in html
    assert "+6 links" in html and "2 tags" in html
    assert "<time datetime=" in html


def test_outsiders_get_404(ui: UiWorld) -> None:
    assert ui.get(ui.client("outsider"), ui.url("audit")).status_code == 404


def test_filters_are_kept_in_the_url(ui: UiWorld) -> None:
    create_tag(ui.world.editor, ui.world.sid, TagSpec(name="by-editor"))
    groups.create_group(ui.world.manager, ui.world.sid, "by-manager")
    client = ui.client("viewer")

    html = ui.get(client, ui.url("audit?actor=editor@example.com"), htmx=True).get_data(True)
    assert "by-editor" in html and "by-manager" not in html
    assert "Clear filters" in html

    html = ui.get(client, ui.url("audit?object_type=tag_group")).get_data(True)
    assert "by-manager" in html and "by-editor" not in html
    assert '<option selected value="tag_group">' in html

    page = ui.get(client, ui.url("audit?actor=nobody@example.com"))
    html = page.get_data(True)
    assert 'id="actor-errors"' in html and "by-editor" in html  # ignored, shown beside


def test_hide_undone_and_paging_keep_filters(ui: UiWorld) -> None:
    for n in range(55):
        create_tag(ui.world.editor, ui.world.sid, TagSpec(name=f"t{n}"))
    undone = latest(ui)
    undo.undo_change_set(ui.world.editor, ui.world.sid, undone.id)
    client = ui.client("editor")

    html = ui.get(client, ui.url("audit?object_type=tag")).get_data(True)
    assert "Undone" in html and f'id="change-set-{undone.id}"' in html
    assert "page=2" in html and "object_type=tag" in html

    html = ui.get(client, ui.url("audit?hide_undone=1&object_type=tag")).get_data(True)
    assert f'id="change-set-{undone.id}"' not in html
    assert re.search(r'href="[^"]*page=2[^"]*"', html)
    pager = re.search(r'href="([^"]*page=2[^"]*)"', html)
    assert pager and "hide_undone=1" in pager.group(1) and "object_type=tag" in pager.group(1)

    second = ui.get(client, ui.url("audit?page=2"), htmx=True).get_data(True)
    assert "Page 2 of 2" in second
    assert ui.get(client, ui.url("audit?page=oops")).status_code == 200


def test_expand_shows_events_with_a_diff(ui: UiWorld) -> None:
    create_tag(ui.world.editor, ui.world.sid, TagSpec(name="sky", color="#0000ff"))
    update_tag(ui.world.editor, ui.world.sid, "sky", label="Sky blue", color="#00aaff")
    change_set = latest(ui)
    client = ui.client("viewer")
    url = ui.url(f"audit/{change_set.id}")

    fragment = ui.get(client, url, htmx=True)
    body = fragment.get_data(True)
    assert fragment.status_code == 200 and "<html" not in body
    assert "sky" in body and "update" in body
    assert re.search(r"<del>.*#0000ff</del>.*<ins>.*#00aaff</ins>", body, re.S | re.I)
    assert "Sky blue" in body and 'style="background: #00AAFF"' in body
    assert "parent" not in body  # unchanged fields are left out

    page = ui.get(client, url)
    html = page.get_data(True)
    assert page.status_code == 200 and "<html" in html and f"Change set #{change_set.id}" in html
    assert ui.get(client, ui.url("audit/999999")).status_code == 404


def test_expand_counts_links_and_names_deleted_groups(ui: UiWorld) -> None:
    assignments.attach(ui.world.editor, ui.world.sid, ["red"], {"source": external_ids(4)})
    attach = latest(ui)
    group = groups.create_group(ui.world.manager, ui.world.sid, "ephemeral")
    groups.delete_group(ui.world.manager, ui.world.sid, group.id)
    deleted = latest(ui)
    client = ui.client("viewer")
    body = ui.get(client, ui.url(f"audit/{attach.id}"), htmx=True).get_data(True)
    assert "red" in body and "attach" in body and "resources" in body
    html = ui.get(client, ui.url(f"audit/{attach.id}")).get_data(True)
    assert "+4 links" in html
    body = ui.get(client, ui.url(f"audit/{deleted.id}"), htmx=True).get_data(True)
    assert "ephemeral" in body and "delete" in body


def test_undo_by_htmx_rerenders_the_list_marked_undone(ui: UiWorld) -> None:
    create_tag(ui.world.editor, ui.world.sid, TagSpec(name="mistake"))
    change_set = latest(ui)
    client = ui.client("editor")
    html = ui.get(client, ui.url("audit?object_type=tag")).get_data(True)
    assert f'action="/s/acme/audit/{change_set.id}/undo?page=1&amp;object_type=tag"' in html

    response = ui.post(client, ui.url(f"audit/{change_set.id}/undo?object_type=tag"),
                       htmx=True)
    body = response.get_data(True)
    assert response.status_code == 200 and "<html" not in body
    assert body.lstrip().startswith('<div id="audit-results"')
    assert "Undone" in body and "Undo: Create tag mistake" in body
    assert 'hx-swap-oob="true"' in body and "was undone" in body
    assert live_tag(ui.world.sid, "mistake") is None


def test_plain_undo_redirects_keeping_filters(ui: UiWorld) -> None:
    create_tag(ui.world.editor, ui.world.sid, TagSpec(name="mistake"))
    change_set = latest(ui)
    response = ui.post(ui.client("editor"),
                       ui.url(f"audit/{change_set.id}/undo?object_type=tag&page=1"))
    assert response.status_code == 302
    assert response.location.endswith("/s/acme/audit?object_type=tag&page=1")
    assert live_tag(ui.world.sid, "mistake") is None


def test_refused_undo_shows_the_reason_beside_its_row(ui: UiWorld) -> None:
    create_tag(ui.world.editor, ui.world.sid, TagSpec(name="first"))
    created = latest(ui)
    update_tag(ui.world.editor, ui.world.sid, "first", label="Changed later")
    client = ui.client("editor")

    response = ui.post(client, ui.url(f"audit/{created.id}/undo"), htmx=True)
    body = response.get_data(True)
    assert response.status_code == 409
    assert f'id="undo-{created.id}-errors"' in body and "cannot be undone" in body
    assert "tag &#39;first&#39; was changed later by change set #" in body
    assert body.lstrip().startswith('<div id="audit-results"')
    assert '<div id="flashes" hx-swap-oob="true">' in body  # an earlier message goes

    page = ui.post(client, ui.url(f"audit/{created.id}/undo"))
    assert page.status_code == 409 and "<html" in page.get_data(True)
    assert f'id="undo-{created.id}-errors"' in page.get_data(True)


def test_undo_from_the_change_set_page(ui: UiWorld) -> None:
    create_tag(ui.world.editor, ui.world.sid, TagSpec(name="first"))
    created = latest(ui)
    update_tag(ui.world.editor, ui.world.sid, "first", label="Later")
    updated = latest(ui)
    client = ui.client("editor")
    html = ui.get(client, ui.url(f"audit/{updated.id}")).get_data(True)
    assert 'name="next" value="detail"' in html

    refused = ui.post(client, ui.url(f"audit/{created.id}/undo"), {"next": "detail"})
    assert refused.status_code == 409
    assert f'id="undo-{created.id}-errors"' in refused.get_data(True)
    assert f"Change set #{created.id}" in refused.get_data(True)

    done = ui.post(client, ui.url(f"audit/{updated.id}/undo"), {"next": "detail"})
    assert done.status_code == 302 and done.location.endswith(f"/audit/{updated.id}")
    assert "was undone" in client.get(done.location).get_data(True)


def test_viewers_see_no_undo_and_get_403(ui: UiWorld) -> None:
    create_tag(ui.world.editor, ui.world.sid, TagSpec(name="keep"))
    change_set = latest(ui)
    client = ui.client("viewer")
    html = ui.get(client, ui.url("audit")).get_data(True)
    assert "/undo" not in html
    response = ui.post(client, ui.url(f"audit/{change_set.id}/undo"), htmx=True)
    assert response.status_code == 403
    assert f'id="undo-{change_set.id}-errors"' in response.get_data(True)
    assert live_tag(ui.world.sid, "keep") is not None


def test_group_changes_need_groups_write_to_undo(ui: UiWorld) -> None:
    groups.create_group(ui.world.manager, ui.world.sid, "priority")
    change_set = latest(ui)
    editor = ui.client("editor")
    assert f"audit/{change_set.id}/undo" not in ui.get(editor, ui.url("audit")).get_data(True)
    assert ui.post(editor, ui.url(f"audit/{change_set.id}/undo"), htmx=True).status_code == 403
    manager = ui.client("manager")
    assert f"audit/{change_set.id}/undo" in ui.get(manager, ui.url("audit")).get_data(True)
    assert ui.post(manager, ui.url(f"audit/{change_set.id}/undo"), htmx=True).status_code == 200


def test_membership_changes_are_marked_not_undoable(ui: UiWorld) -> None:
    add_member(ui.world.manager, ui.world.sid, "outsider@example.com", "viewer")
    change_set = latest(ui)
    client = ui.client("manager")
    html = ui.get(client, ui.url("audit")).get_data(True)
    row = html[html.index(f'id="change-set-{change_set.id}"'):]
    row = row[:row.index("</tr>")]
    assert "not undoable" in row and "/undo" not in row
    response = ui.post(client, ui.url(f"audit/{change_set.id}/undo"), htmx=True)
    assert response.status_code == 409


def test_undo_needs_a_csrf_token(ui: UiWorld) -> None:
    create_tag(ui.world.editor, ui.world.sid, TagSpec(name="keep"))
    change_set = latest(ui)
    response = ui.client("editor").post(ui.url(f"audit/{change_set.id}/undo"))
    assert response.status_code == 400
    assert live_tag(ui.world.sid, "keep") is not None


def test_hostile_names_are_escaped(ui: UiWorld) -> None:
    create_tag(ui.world.editor, ui.world.sid, TagSpec(name=XSS, color="#ff0000"))
    change_set = latest(ui)
    client = ui.client("viewer")
    for html in (ui.get(client, ui.url("audit")).get_data(True),
                 ui.get(client, ui.url(f"audit/{change_set.id}"), htmx=True).get_data(True),
                 ui.get(client, ui.url(f"audit/{change_set.id}")).get_data(True)):
        assert XSS not in html
        assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_the_list_costs_a_constant_number_of_statements(ui: UiWorld, count_queries) -> None:  # type: ignore[no-untyped-def]
    client = ui.client("viewer")

    def statements() -> int:
        ui.get(client, ui.url("audit"))  # warm up: the test's own commits expired the session
        with count_queries() as counter:
            assert ui.get(client, ui.url("audit")).status_code == 200
        return counter.count

    assignments.attach(ui.world.editor, ui.world.sid, ["a"], {"source": external_ids(2)})
    few = statements()
    for n in range(20):
        assignments.attach(ui.world.editor, ui.world.sid, [f"t{n}"], {"source": external_ids(2)})
        groups.create_group(ui.world.manager, ui.world.sid, f"g{n}")
    assert statements() == few
