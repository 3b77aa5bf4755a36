"""Deprecation in the web admin (issue 13 §2): the tag page's controls for editors and the
state for viewers, deprecate / change the replacement / un-deprecate, "Replace
everywhere" with its preview (a panel for htmx, a page otherwise) and confirmation, the
badge in lists, and pickers leaving deprecated tags out."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.http.ui.conftest import UiWorld
from tests.unit.factories import SYSTEM, change_sets, links
from webapp.extensions import db
from webapp.models import Tag
from webapp.services import assignments, groups
from webapp.services.tags.creation import TagSpec, create_tags
from webapp.services.tags.deprecation import deprecate_tag, undeprecate_tag
from webapp.services.tags.lookup import find_tag


def html(response: Any) -> str:
    return response.get_data(True)


def tag(ui: UiWorld, path: str) -> Tag:
    found = find_tag(ui.world.sid, path, include_deleted=True)
    assert found is not None, path
    db.session.refresh(found)
    return found


@pytest.fixture
def colours(ui: UiWorld) -> UiWorld:
    """``colour.red`` on n1, n2; ``colour.crimson`` on n2; ``shade``."""
    sid = ui.world.sid
    create_tags(SYSTEM, sid, [TagSpec("colour.red"), TagSpec("colour.crimson"),
                              TagSpec("shade")])
    assignments.attach(SYSTEM, sid, ["colour.red"], {"node": ["n1", "n2"]})
    assignments.attach(SYSTEM, sid, ["colour.crimson"], {"node": ["n2"]})
    return ui


def page_of(ui: UiWorld, path: str, suffix: str = "") -> str:
    return ui.url(f"tags/{tag(ui, path).id}{suffix}")


# --- the tag page -----------------------------------------------------------------------


def test_editors_get_the_controls_and_viewers_the_state(colours: UiWorld) -> None:
    ui = colours
    editor_page = html(ui.get(ui.client("editor"), page_of(ui, "colour.red")))
    assert 'id="tag-deprecation"' in editor_page and ">Deprecate</button>" in editor_page
    assert 'list="replacement-options"' in editor_page
    viewer_page = html(ui.get(ui.client("viewer"), page_of(ui, "colour.red")))
    assert 'id="tag-deprecation"' not in viewer_page
    deprecate_tag(SYSTEM, ui.world.sid, "colour.red", "colour.crimson")
    viewer_page = html(ui.get(ui.client("viewer"), page_of(ui, "colour.red")))
    assert 'class="badge deprecated"' in viewer_page
    assert 'id="tag-deprecated-note"' in viewer_page
    crimson = tag(ui, "colour.crimson")
    assert re.search(rf'href="/s/{ui.slug}/tags/{crimson.id}" id="tag-replacement"',
                     viewer_page)
    assert "Un-deprecate" not in viewer_page and "replace-everywhere" not in viewer_page


def test_deprecate_with_htmx_answers_the_page_body(colours: UiWorld) -> None:
    ui = colours
    client = ui.client("editor")
    response = ui.post(client, page_of(ui, "colour.red", "/deprecate"),
                       {"replacement": "colour.crimson"}, htmx=True)
    assert response.status_code == 200
    body = html(response)
    assert '<div id="tag-detail"' in body and "<title>colour.red · Tags" in body
    assert "<html" not in body and 'id="flashes"' in body  # the flash comes out of band
    assert "Deprecated colour.red" in body and "Use colour.crimson instead." in body
    assert 'class="badge deprecated"' in body and "Save replacement" in body
    assert "Un-deprecate" in body and "Preview “Replace everywhere”" in body
    red = tag(ui, "colour.red")
    assert red.deprecated_at is not None
    assert red.replacement_id == tag(ui, "colour.crimson").id


def test_deprecate_without_htmx_redirects(colours: UiWorld) -> None:
    ui = colours
    client = ui.client("editor")
    response = ui.post(client, page_of(ui, "colour.red", "/deprecate"), {"replacement": ""})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(page_of(ui, "colour.red"))
    red = tag(ui, "colour.red")
    assert red.deprecated_at is not None and red.replacement_id is None


@pytest.mark.parametrize("htmx", [True, False])
def test_a_refused_replacement_shows_beside_the_field_with_422(colours: UiWorld,
                                                              htmx: bool) -> None:
    ui = colours
    client = ui.client("editor")
    response = ui.post(client, page_of(ui, "colour.red", "/deprecate"),
                       {"replacement": "colour.red"}, htmx=htmx)
    assert response.status_code == 422
    body = html(response)
    assert 'id="replacement-errors"' in body and "a tag cannot replace itself" in body
    if htmx:
        assert response.headers["HX-Retarget"] == "#tag-deprecation"
        assert body.lstrip().startswith('<section class="card" id="tag-deprecation"')
    else:
        assert "<html" in body and 'id="tag-detail"' in body
    assert tag(ui, "colour.red").deprecated_at is None


def test_a_replacement_is_typed_as_a_name_never_an_id(colours: UiWorld) -> None:
    ui = colours
    shade = tag(ui, "shade")
    response = ui.post(ui.client("editor"), page_of(ui, "colour.red", "/deprecate"),
                       {"replacement": str(shade.id)}, htmx=True)
    assert response.status_code == 422 and "no live tag named" in html(response)


def test_viewers_cannot_deprecate_or_replace(colours: UiWorld) -> None:
    ui = colours
    client = ui.client("viewer")
    for suffix in ("/deprecate", "/undeprecate", "/replace-everywhere"):
        assert ui.post(client, page_of(ui, "colour.red", suffix), {}).status_code == 403
    assert ui.get(client, page_of(ui, "colour.red", "/replace-everywhere")).status_code == 403


def test_undeprecate(colours: UiWorld) -> None:
    ui = colours
    deprecate_tag(SYSTEM, ui.world.sid, "colour.red", "colour.crimson")
    response = ui.post(ui.client("editor"), page_of(ui, "colour.red", "/undeprecate"), {},
                       htmx=True)
    assert response.status_code == 200
    assert "colour.red is no longer deprecated." in html(response)
    assert tag(ui, "colour.red").deprecated_at is None


# --- replace everywhere -----------------------------------------------------------------


def test_replace_everywhere_preview_panel_and_page(colours: UiWorld) -> None:
    ui = colours
    deprecate_tag(SYSTEM, ui.world.sid, "colour.red", "colour.crimson")
    client = ui.client("editor")
    url = page_of(ui, "colour.red", "/replace-everywhere")
    before = links(ui.world.sid)
    panel = ui.get(client, url, htmx=True)
    assert panel.status_code == 200
    body = html(panel)
    assert body.lstrip().startswith('<div id="replace-panel"') and "<html" not in body
    assert '<strong id="replace-move">1</strong>' in body
    assert '<strong id="replace-already">1</strong>' in body
    assert "replace-group" not in body  # the replacement's group is not exclusive
    assert "Replace everywhere (2 links)" in body
    page = html(ui.get(client, url))

    def tokenless(text: str) -> str:  # a CSRF token carries its time: it may differ
        return re.sub(r'(<input[^>]*name="csrf_token"[^>]*value=")[^"]*"', r"\1", text)

    assert "<html" in page and tokenless(body.strip()) in tokenless(page)
    assert links(ui.world.sid) == before  # nothing written


def test_replace_everywhere_preview_refusal(colours: UiWorld) -> None:
    ui = colours
    deprecate_tag(SYSTEM, ui.world.sid, "colour.red")
    response = ui.get(ui.client("editor"), page_of(ui, "colour.red", "/replace-everywhere"),
                      htmx=True)
    assert response.status_code == 409
    assert "names no replacement" in html(response) and "replace-confirm" not in html(response)


@pytest.mark.parametrize("htmx", [True, False])
def test_replace_everywhere_moves_the_links(colours: UiWorld, htmx: bool) -> None:
    ui = colours
    deprecate_tag(SYSTEM, ui.world.sid, "colour.red", "colour.crimson")
    response = ui.post(ui.client("editor"), page_of(ui, "colour.red", "/replace-everywhere"),
                       {}, htmx=htmx)
    assert response.status_code == (200 if htmx else 302)
    assert links(ui.world.sid) == {("colour.crimson", "node", "n1"),
                                   ("colour.crimson", "node", "n2")}
    done = change_sets()[-1]
    assert done.summary == "Replace colour.red with colour.crimson everywhere"
    if htmx:
        body = html(response)
        assert "Moved 1 link from colour.red to colour.crimson" in body
        assert "1 resource carried colour.crimson already" in body
        assert f"change set #{done.id}" in body


def test_replace_everywhere_counts_the_exclusive_group(ui: UiWorld) -> None:
    sid = ui.world.sid
    groups.create_group(ui.world.manager, sid, "priority", exclusive=True)
    create_tags(SYSTEM, sid, [TagSpec("priority::urgent"), TagSpec("priority::low"),
                              TagSpec("legacy")])
    assignments.attach(SYSTEM, sid, ["legacy"], {"node": ["a", "b"]})
    assignments.attach(SYSTEM, sid, ["priority::low"], {"node": ["a"]})
    deprecate_tag(SYSTEM, sid, "legacy", "priority::urgent")
    body = html(ui.get(ui.client("editor"), page_of(ui, "legacy", "/replace-everywhere"),
                       htmx=True))
    assert '<strong id="replace-group">1</strong>' in body


def test_the_preview_is_a_constant_number_of_statements(colours: UiWorld,
                                                        count_queries: Any) -> None:
    ui = colours
    client = ui.client("editor")
    url = page_of(ui, "colour.red", "/replace-everywhere")
    counts = []
    for more in (0, 40):
        undeprecate_tag(SYSTEM, ui.world.sid, "colour.red")
        assignments.attach(SYSTEM, ui.world.sid, ["colour.red"],
                           {"node": [f"m{n}" for n in range(more)] or ["n1"]})
        deprecate_tag(SYSTEM, ui.world.sid, "colour.red", "colour.crimson")
        ui.get(client, url, htmx=True)
        db.session.expire_all()
        with count_queries() as counter:
            assert ui.get(client, url, htmx=True).status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1]


# --- lists and pickers ------------------------------------------------------------------


def test_the_badge_shows_in_lists_and_the_tree(colours: UiWorld) -> None:
    ui = colours
    deprecate_tag(SYSTEM, ui.world.sid, "colour.red", "colour.crimson")
    client = ui.client("viewer")
    listed = html(ui.get(client, ui.url("tags?q=colour")))
    row = re.search(r'<tr id="tag-row-\d+" class="tag-row[^"]*">(?:(?!</tr>).)*colour\.red'
                    r'(?:(?!</tr>).)*</tr>', listed, re.S)
    assert row is not None and 'class="badge deprecated"' in row.group(0)
    assert listed.count('class="badge deprecated"') == 1
    parent = tag(ui, "colour")
    tree = html(ui.get(client, ui.url(f"hierarchy/{parent.id}/children"), htmx=True))
    assert tree.count('class="badge deprecated"') == 1
    # The resource list of a tag page marks the deprecated chip.
    card = html(ui.get(client, page_of(ui, "colour.crimson", "/resources"), htmx=True))
    assert 'class="tag-chip deprecated"' in card
    resources = html(ui.get(client, ui.url("resources")))
    assert 'class="tag-chip deprecated"' in resources


def test_pickers_leave_deprecated_tags_out(colours: UiWorld) -> None:
    ui = colours
    deprecate_tag(SYSTEM, ui.world.sid, "colour.red")
    client = ui.client("editor")
    options = html(ui.get(client, ui.url("tags/options?parent=colour"), htmx=True))
    assert '"colour.crimson"' in options and "colour.red" not in options
    shade = tag(ui, "shade")
    targets = html(ui.get(client, ui.url(f"hierarchy/{shade.id}/move/targets"
                                         f"?n{shade.id}-parent=colour"), htmx=True))
    assert "colour.crimson" in targets and "colour.red" not in targets
