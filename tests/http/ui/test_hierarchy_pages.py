"""The hierarchy editor: lazy tree, counts, add / rename / move / delete, roles, escaping."""

from __future__ import annotations

import re

import pytest

from tests.http.ui.conftest import UiWorld
from tests.unit.factories import SYSTEM, external_ids, live_tag
from webapp.models import Tag
from webapp.services.assignments import attach
from webapp.services.groups import create_group
from webapp.services.tags.creation import Provenance, TagSpec, create_tag, create_tags

XSS = "<img src=x onerror=alert(1)>"


def tag(ui: UiWorld, name: str, **kwargs: object) -> Tag:
    return create_tag(SYSTEM, ui.world.sid, TagSpec(name=name, **kwargs))  # type: ignore[arg-type]


def path_tag(ui: UiWorld, key: str) -> Tag:
    found = live_tag(ui.world.sid, key)
    assert found is not None, key
    return found


def html_of(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


@pytest.fixture
def tree(ui: UiWorld) -> UiWorld:
    """Region.Europe.France, Region.Europe.Spain, Region.Asia, Topic; 3 links on Europe."""
    for name in ("Region.Europe.France", "Region.Europe.Spain", "Region.Asia", "Topic"):
        tag(ui, name)
    attach(SYSTEM, ui.world.sid, ["Region.Europe"], {"source": external_ids(3)})
    return ui


# --- reading ----------------------------------------------------------------------------


def test_full_page_shows_the_roots_with_counts_and_nothing_deeper(tree: UiWorld) -> None:
    response = tree.get(tree.client("viewer"), tree.url("hierarchy"))
    assert response.status_code == 200
    html = html_of(response)
    assert "<html" in html and 'id="tree"' in html
    assert ">Region</a>" in html and ">Topic</a>" in html
    assert "Europe" not in html  # children load lazily
    region = path_tag(tree, "region")
    assert f'data-children-url="/s/acme/hierarchy/{region.id}/children"' in html
    assert "4 tags below</span>" in html  # Region: Europe, France, Spain, Asia


def test_children_fragment_is_one_branch_with_usage_counts(tree: UiWorld) -> None:
    region = path_tag(tree, "region")
    response = tree.get(tree.client("viewer"), tree.url(f"hierarchy/{region.id}/children"),
                        htmx=True)
    assert response.status_code == 200
    html = html_of(response)
    assert "<html" not in html
    assert ">Europe</a>" in html and ">Asia</a>" in html
    assert "France" not in html  # grandchildren are another branch
    europe = re.search(r'<li class="node" id="node-(\d+)"[^>]*>\s*<div class="row"[^>]*>'
                       r'(?:(?!</div>).)*>Europe<', html, re.S)
    assert europe is not None
    assert "3 resources" in html and "2 tags below</span>" in html


def test_children_page_without_javascript_has_breadcrumbs(tree: UiWorld) -> None:
    europe = path_tag(tree, "region.europe")
    response = tree.get(tree.client("viewer"), tree.url(f"hierarchy/{europe.id}/children"))
    html = html_of(response)
    assert response.status_code == 200 and "<html" in html
    assert 'class="crumbs"' in html and ">Region</a>" in html
    assert ">France</a>" in html and ">Spain</a>" in html


def test_long_branches_come_200_at_a_time(ui: UiWorld) -> None:
    create_tags(SYSTEM, ui.world.sid, [TagSpec(name=f"Big.c{n:03d}") for n in range(205)])
    big = path_tag(ui, "big")
    client = ui.client("viewer")
    html = html_of(ui.get(client, ui.url(f"hierarchy/{big.id}/children"), htmx=True))
    assert html.count('class="node"') == 200
    assert "Show 5 more" in html and "c199" in html and "c200" not in html
    more = re.search(r'hx-get="([^"]+page=2[^"]*)"', html)
    assert more is not None
    html = html_of(ui.get(client, more.group(1).replace("&amp;", "&"), htmx=True))
    assert html.count('class="node"') == 5 and "c200" in html and "c204" in html
    assert "Show" not in html


def test_an_opened_tag_beyond_the_first_page_is_shown_and_skipped_later(ui: UiWorld) -> None:
    create_tags(SYSTEM, ui.world.sid, [TagSpec(name=f"Big.c{n:03d}") for n in range(203)])
    last = path_tag(ui, "big.c202")
    client = ui.client("viewer")
    html = html_of(ui.get(client, ui.url(f"hierarchy?open={last.id}")))
    assert f'id="node-{last.id}"' in html and 'class="node focused"' in html
    more = re.search(r'hx-get="([^"]+page=2[^"]*)"', html)
    assert more is not None and f"skip={last.id}" in more.group(1)
    html = html_of(ui.get(client, more.group(1).replace("&amp;", "&"), htmx=True))
    assert "c200" in html and "c201" in html and "c202" not in html


def test_odd_paging_arguments_are_ignored(tree: UiWorld) -> None:
    region = path_tag(tree, "region")
    client = tree.client("viewer")
    for args in ("page=x&skip=y", "page=-3", f"page={2**40}&skip={2**70}", "skip=0"):
        response = tree.get(client, tree.url(f"hierarchy/{region.id}/children?{args}"),
                            htmx=True)
        assert response.status_code == 200, args
    response = tree.get(client, tree.url(f"hierarchy/roots?group={2**70}"), htmx=True)
    assert response.status_code == 200 and ">Region</a>" in html_of(response)


def test_a_move_refused_by_a_group_rule_is_shown_beside_the_parent(ui: UiWorld) -> None:
    create_group(SYSTEM, ui.world.sid, "size", exclusive=True)
    tag(ui, "size::small")
    attach(SYSTEM, ui.world.sid, ["size::small", "Big"], {"source": external_ids(1)})
    big, small = path_tag(ui, "big"), path_tag(ui, "size::small")
    response = ui.post(ui.client("editor"), ui.url(f"hierarchy/{big.id}/move"),
                       {f"n{big.id}-target": str(small.id)}, htmx=True)
    assert response.status_code == 409
    assert f'id="n{big.id}-parent-errors"' in html_of(response)


def test_open_expands_the_path_to_a_tag(tree: UiWorld) -> None:
    france = path_tag(tree, "region.europe.france")
    html = html_of(tree.get(tree.client("viewer"), tree.url(f"hierarchy?open={france.id}")))
    assert ">Europe</a>" in html and ">France</a>" in html and ">Spain</a>" in html
    assert f'<li class="node focused" id="node-{france.id}"' in html


def test_an_opened_leaf_is_not_shown_expanded(tree: UiWorld) -> None:
    france = path_tag(tree, "region.europe.france")
    html = html_of(tree.get(tree.client("viewer"), tree.url(f"hierarchy?open={france.id}")))
    assert f'<ul class="children" id="children-{france.id}" hidden>' in html
    assert "No tags here yet" not in html


def test_open_with_an_unknown_tag_warns_and_shows_the_tree(tree: UiWorld) -> None:
    response = tree.get(tree.client("viewer"), tree.url("hierarchy?open=nope.nothing"))
    assert response.status_code == 200
    assert "No live tag" in html_of(response) and ">Region</a>" in html_of(response)


def test_htmx_request_for_the_page_gets_the_tree_fragment(tree: UiWorld) -> None:
    html = html_of(tree.get(tree.client("viewer"), tree.url("hierarchy"), htmx=True))
    assert "<html" not in html and 'id="tree"' in html and ">Region</a>" in html


def test_groups_are_sections_whose_roots_load_on_demand(ui: UiWorld) -> None:
    create_group(SYSTEM, ui.world.sid, "priority", label="Priority", exclusive=True)
    tag(ui, "priority::high")
    tag(ui, "plain")
    client = ui.client("viewer")
    html = html_of(ui.get(client, ui.url("hierarchy")))
    assert "priority::</span>" in html and "exclusive" in html and "Ungrouped" in html
    assert ">plain</a>" in html and ">high</a>" not in html
    group_id = re.search(r'/hierarchy/roots\?group=(\d+)', html)
    assert group_id is not None
    html = html_of(ui.get(client, ui.url(f"hierarchy/roots?group={group_id.group(1)}"),
                          htmx=True))
    assert ">high</a>" in html and "plain" not in html


def test_a_scope_without_tags_says_so(ui: UiWorld) -> None:
    html = html_of(ui.get(ui.client("editor"), ui.url("hierarchy")))
    assert "No tags</span> in this scope yet" in html and "Add root tag" in html


def test_the_page_and_a_branch_cost_a_constant_number_of_statements(
    ui: UiWorld, count_queries
) -> None:  # type: ignore[no-untyped-def]
    client = ui.client("viewer")
    parent = tag(ui, "P")

    def measure(start: int, stop: int) -> tuple[int, int]:
        numbers = range(start, stop)
        create_tags(SYSTEM, ui.world.sid, [TagSpec(name=f"r{n}.c") for n in numbers]
                    + [TagSpec(name=f"P.c{n}.x") for n in numbers])
        attach(SYSTEM, ui.world.sid, [f"r{n}" for n in numbers], {"source": ["1"]})
        ui.get(client, ui.url("hierarchy"))  # the session state settles
        with count_queries() as page:
            ui.get(client, ui.url("hierarchy"))
        with count_queries() as branch:
            ui.get(client, ui.url(f"hierarchy/{parent.id}/children"), htmx=True)
        return page.count, branch.count

    assert measure(0, 3) == measure(3, 40)


# --- add --------------------------------------------------------------------------------


def test_add_a_root_tag_answers_a_fresh_form_and_the_new_tree(ui: UiWorld) -> None:
    client = ui.client("editor")
    response = ui.post(client, ui.url("hierarchy"), {"root-name": "Alpha", "root-group": ""},
                       htmx=True)
    assert response.status_code == 200
    html = html_of(response)
    assert 'id="root-form"' in html and 'value="Alpha"' not in html
    assert '<div id="tree" class="tree card" hx-swap-oob="true">' in html
    assert ">Alpha</a>" in html and "Added Alpha." in html
    assert path_tag(ui, "alpha").depth == 0


def test_add_a_root_tag_in_a_group(ui: UiWorld) -> None:
    create_group(SYSTEM, ui.world.sid, "priority")
    response = ui.post(ui.client("editor"), ui.url("hierarchy"),
                       {"root-name": "high", "root-group": "priority"}, htmx=True)
    assert response.status_code == 200 and ">high</a>" in html_of(response)
    assert path_tag(ui, "priority::high").group is not None


def test_add_root_errors_are_shown_beside_the_name(ui: UiWorld) -> None:
    client = ui.client("editor")
    response = ui.post(client, ui.url("hierarchy"), {"root-name": ""}, htmx=True)
    assert response.status_code == 422
    assert 'id="root-name-errors"' in html_of(response) and "<html" not in html_of(response)
    tag(ui, "Alpha")
    response = ui.post(client, ui.url("hierarchy"), {"root-name": "alpha"}, htmx=True)
    assert response.status_code == 409
    assert re.search(r'id="root-name-errors"><li>already exists', html_of(response))
    response = ui.post(client, ui.url("hierarchy"), {"root-name": "a::b::c"})
    assert response.status_code == 422 and "<html" in html_of(response)
    assert 'id="root-name-errors"' in html_of(response)


def test_add_child_form_and_htmx_answer(tree: UiWorld) -> None:
    client = tree.client("editor")
    europe = path_tag(tree, "region.europe")
    response = tree.get(client, tree.url(f"hierarchy/{europe.id}/add"), htmx=True)
    assert response.status_code == 200 and f'name="n{europe.id}-name"' in html_of(response)
    response = tree.post(client, tree.url(f"hierarchy/{europe.id}/add"),
                         {f"n{europe.id}-name": "Italy.Rome"}, htmx=True)
    assert response.status_code == 200
    assert response.headers["HX-Retarget"] == f"#node-{europe.id}"
    html = html_of(response)
    rome = path_tag(tree, "region.europe.italy.rome")
    assert f'<li class="node focused" id="node-{rome.id}"' in html  # opened down to it
    region = path_tag(tree, "region")
    assert re.search(f'<div class="row" id="row-{region.id}"[^>]* hx-swap-oob="true">', html)
    assert "6 tags below</span>" in html  # Region's new count, out of band
    assert 'id="section-count-none" hx-swap-oob="true">8 tags' in html
    assert "Added Region.Europe.Italy.Rome." in html


def test_add_child_errors_are_shown_beside_the_field(tree: UiWorld) -> None:
    client = tree.client("editor")
    europe = path_tag(tree, "region.europe")
    url = tree.url(f"hierarchy/{europe.id}/add")
    response = tree.post(client, url, {f"n{europe.id}-name": "  "}, htmx=True)
    assert response.status_code == 422 and f'id="n{europe.id}-name-errors"' in html_of(response)
    response = tree.post(client, url, {f"n{europe.id}-name": "FRANCE"}, htmx=True)
    assert response.status_code == 409 and f'id="n{europe.id}-name-errors"' in html_of(response)
    response = tree.post(client, url, {f"n{europe.id}-name": "a::b"}, htmx=True)
    assert response.status_code == 422 and f'id="n{europe.id}-name-errors"' in html_of(response)


def test_plain_add_child_redirects_to_the_tree_opened_at_the_new_tag(tree: UiWorld) -> None:
    client = tree.client("editor")
    asia = path_tag(tree, "region.asia")
    response = tree.post(client, tree.url(f"hierarchy/{asia.id}/add"),
                         {f"n{asia.id}-name": "Japan"})
    japan = path_tag(tree, "region.asia.japan")
    assert response.status_code == 302
    assert response.location.endswith(f"/hierarchy?open={japan.id}#node-{japan.id}")
    page = html_of(client.get(response.location))
    assert "Added Region.Asia.Japan." in page and f'id="node-{japan.id}"' in page


def test_the_add_form_has_a_page_of_its_own_without_javascript(tree: UiWorld) -> None:
    asia = path_tag(tree, "region.asia")
    html = html_of(tree.get(tree.client("editor"), tree.url(f"hierarchy/{asia.id}/add")))
    assert "<html" in html and 'method="post"' in html and "hx-post" not in html


# --- rename -----------------------------------------------------------------------------


def test_rename_answers_the_new_row(tree: UiWorld) -> None:
    client = tree.client("editor")
    europe = path_tag(tree, "region.europe")
    form = html_of(tree.get(client, tree.url(f"hierarchy/{europe.id}/rename"), htmx=True))
    assert 'value="Europe"' in form
    response = tree.post(client, tree.url(f"hierarchy/{europe.id}/rename"),
                         {f"n{europe.id}-name": "EU"}, htmx=True)
    assert response.status_code == 200
    assert response.headers["HX-Retarget"] == f"#row-{europe.id}"
    html = html_of(response)
    assert ">EU</a>" in html and f'id="panel-{europe.id}" hx-swap-oob="true"' in html
    assert "Renamed Region.Europe to Region.EU." in html
    assert path_tag(tree, "region.eu.france")


def test_rename_errors_are_shown_beside_the_name(tree: UiWorld) -> None:
    client = tree.client("editor")
    europe = path_tag(tree, "region.europe")
    url = tree.url(f"hierarchy/{europe.id}/rename")
    response = tree.post(client, url, {f"n{europe.id}-name": "asia"}, htmx=True)
    assert response.status_code == 409
    assert f'id="n{europe.id}-name-errors"' in html_of(response)
    response = tree.post(client, url, {f"n{europe.id}-name": "a.b"}, htmx=True)
    assert response.status_code == 422 and "must not contain" in html_of(response)


# --- move -------------------------------------------------------------------------------


def test_move_picker_suggests_paths_but_not_the_branch_itself(tree: UiWorld) -> None:
    client = tree.client("editor")
    europe = path_tag(tree, "region.europe")
    html = html_of(tree.get(client, tree.url(f"hierarchy/{europe.id}/move"), htmx=True))
    assert "Make it a root" in html and f'hx-get="/s/acme/hierarchy/{europe.id}/move/targets"' \
        in html
    html = html_of(tree.get(client, tree.url(
        f"hierarchy/{europe.id}/move/targets?n{europe.id}-parent=o"), htmx=True))
    assert ">Topic</button>" in html
    assert "France" not in html and "Spain" not in html  # its own descendants: a cycle
    assert ">Region</button>" not in html  # its current parent


def test_move_under_a_picked_tag_answers_the_tree_opened_there(tree: UiWorld) -> None:
    client = tree.client("editor")
    europe, topic = path_tag(tree, "region.europe"), path_tag(tree, "topic")
    response = tree.post(client, tree.url(f"hierarchy/{europe.id}/move"),
                         {f"n{europe.id}-target": str(topic.id)}, htmx=True)
    assert response.status_code == 200
    assert response.headers["HX-Retarget"] == "#tree"
    assert response.headers["HX-Reswap"] == f"outerHTML show:#node-{europe.id}:top"
    assert response.headers["HX-Push-Url"] == f"/s/acme/hierarchy?open={europe.id}"
    html = html_of(response)
    assert "Moved Region.Europe to Topic.Europe." in html
    assert f'<li class="node focused" id="node-{europe.id}"' in html
    assert path_tag(tree, "topic.europe.france")


def test_move_by_typed_path_and_make_root(tree: UiWorld) -> None:
    client = tree.client("editor")
    asia = path_tag(tree, "region.asia")
    url = tree.url(f"hierarchy/{asia.id}/move")
    response = tree.post(client, url, {f"n{asia.id}-parent": "region.europe"}, htmx=True)
    assert response.status_code == 200 and path_tag(tree, "region.europe.asia")
    response = tree.post(client, url, {f"n{asia.id}-make_root": "y"})
    assert response.status_code == 302 and path_tag(tree, "asia").depth == 0


def test_move_errors_are_shown_beside_the_parent(tree: UiWorld) -> None:
    client = tree.client("editor")
    region, france = path_tag(tree, "region"), path_tag(tree, "region.europe.france")
    url = tree.url(f"hierarchy/{region.id}/move")
    response = tree.post(client, url, {f"n{region.id}-target": str(france.id)}, htmx=True)
    assert response.status_code == 422
    html = html_of(response)
    assert f'id="n{region.id}-parent-errors"' in html and "cycle" in html
    response = tree.post(client, url, {f"n{region.id}-parent": "no.such.thing"}, htmx=True)
    assert response.status_code == 422 and "no tag has the path" in html_of(response)
    response = tree.post(client, url, {f"n{region.id}-parent": ""}, htmx=True)
    assert response.status_code == 422 and f'id="n{region.id}-parent-errors"' in \
        html_of(response)


def test_a_typed_number_is_a_path_not_an_id(tree: UiWorld) -> None:
    numbered = tag(tree, "2024")
    topic = path_tag(tree, "topic")
    response = tree.post(tree.client("editor"), tree.url(f"hierarchy/{topic.id}/move"),
                         {f"n{topic.id}-parent": str(numbered.id)}, htmx=True)
    assert response.status_code == 422  # no tag is named like that id
    response = tree.post(tree.client("editor"), tree.url(f"hierarchy/{topic.id}/move"),
                         {f"n{topic.id}-parent": "2024"}, htmx=True)
    assert response.status_code == 200 and path_tag(tree, "2024.topic")


# --- delete -----------------------------------------------------------------------------


def test_delete_confirmation_counts_tags_and_assignments(tree: UiWorld) -> None:
    client = tree.client("editor")
    region = path_tag(tree, "region")
    response = tree.get(client, tree.url(f"hierarchy/{region.id}/delete"), htmx=True)
    assert response.status_code == 200
    html = html_of(response)
    assert '<strong data-count="tags">5 tags</strong>' in html
    assert '<strong data-count="assignments">3 assignments</strong>' in html
    assert "Delete 5 tags</button>" in html
    # and which tags, by path
    listed = re.search(r'<ul class="delete-paths"[^>]*>(.*?)</ul>', html, re.S)
    assert listed and re.findall(r'<span class="path">([^<]+)</span>', listed.group(1)) == [
        "Region", "Region.Asia", "Region.Europe", "Region.Europe.France",
        "Region.Europe.Spain"]
    assert "more</li>" not in listed.group(1)
    one = html_of(tree.get(client, tree.url(f"hierarchy/{path_tag(tree, 'topic').id}/delete"),
                           htmx=True))
    assert "delete-paths" not in one  # the heading names the one tag


def test_delete_confirmation_lists_the_first_50_tags_then_how_many_more(ui: UiWorld) -> None:
    create_tags(SYSTEM, ui.world.sid, [TagSpec(name=f"Big.t{n:02}") for n in range(60)])
    big = path_tag(ui, "big")
    html = html_of(ui.get(ui.client("editor"), ui.url(f"hierarchy/{big.id}/delete"),
                          htmx=True))
    listed = re.search(r'<ul class="delete-paths"[^>]*>(.*?)</ul>', html, re.S)
    assert listed is not None
    paths = re.findall(r'<span class="path">([^<]+)</span>', listed.group(1))
    assert paths == ["Big"] + [f"Big.t{n:02}" for n in range(49)]
    assert '<li class="muted">and 11 more</li>' in listed.group(1)
    assert '<strong data-count="tags">61 tags</strong>' in html


def test_delete_removes_the_branch_and_updates_the_ancestors(tree: UiWorld) -> None:
    client = tree.client("editor")
    europe, region = path_tag(tree, "region.europe"), path_tag(tree, "region")
    response = tree.post(client, tree.url(f"hierarchy/{europe.id}/delete"), {}, htmx=True)
    assert response.status_code == 200
    assert response.headers["HX-Retarget"] == f"#node-{europe.id}"
    html = html_of(response)
    assert re.search(f'id="row-{region.id}"[^>]* hx-swap-oob="true"', html)
    assert "1 tag below</span>" in html
    assert "Deleted Region.Europe: 3 tags and 3 assignments." in html
    assert live_tag(tree.world.sid, "region.europe.france") is None


def test_a_branch_with_protected_tags_cannot_be_deleted(ui: UiWorld) -> None:
    create_tags(SYSTEM, ui.world.sid, [TagSpec(name="Found")])
    create_tag(SYSTEM, ui.world.sid, TagSpec(name="Found.Lock"),
               Provenance(source="scanner", system_created=True, protected=True))
    client = ui.client("editor")
    found, lock = path_tag(ui, "found"), path_tag(ui, "found.lock")
    html = html_of(ui.get(client, ui.url(f"hierarchy/{found.id}/delete"), htmx=True))
    assert "1 protected tag" in html and "<button" not in html
    response = ui.post(client, ui.url(f"hierarchy/{found.id}/delete"), {}, htmx=True)
    assert response.status_code == 403 and "<html" not in html_of(response)
    assert live_tag(ui.world.sid, "found") is not None
    # the protected tag itself: locked in the tree, refused by the service
    html = html_of(ui.get(client, ui.url(f"hierarchy/{found.id}/children"), htmx=True))
    assert "protected</span>" in html and "system</span>" in html
    assert f"/hierarchy/{lock.id}/rename" not in html and f"/hierarchy/{lock.id}/delete" not in html
    response = ui.post(client, ui.url(f"hierarchy/{lock.id}/rename"),
                       {f"n{lock.id}-name": "Open"}, htmx=True)
    assert response.status_code == 403


# --- roles, CSRF, escaping ----------------------------------------------------------------


def test_viewers_see_no_controls_and_are_refused(tree: UiWorld) -> None:
    viewer = tree.client("viewer")
    region = path_tag(tree, "region")
    html = html_of(tree.get(viewer, tree.url("hierarchy")))
    assert "Add root tag" not in html and "+ Child" not in html and ">Delete<" not in html
    assert "draggable" not in html
    for action in ("add", "rename", "move", "delete", "move/targets"):
        assert tree.get(viewer, tree.url(f"hierarchy/{region.id}/{action}"),
                        htmx=True).status_code == 403
    for action, data in (("add", {f"n{region.id}-name": "x"}),
                         ("rename", {f"n{region.id}-name": "x"}),
                         ("move", {f"n{region.id}-make_root": "y"}), ("delete", {})):
        response = tree.post(viewer, tree.url(f"hierarchy/{region.id}/{action}"), data,
                             htmx=True)
        assert response.status_code == 403, action
        assert "Not allowed" in html_of(response)
    response = tree.post(viewer, tree.url("hierarchy"), {"root-name": ""}, htmx=True)
    assert response.status_code == 403  # refused before the form is even checked
    assert live_tag(tree.world.sid, "region") is not None


def test_editors_see_the_controls(tree: UiWorld) -> None:
    region = path_tag(tree, "region")
    html = html_of(tree.get(tree.client("editor"), tree.url("hierarchy")))
    for action in ("add", "rename", "move", "delete"):
        assert f'hx-get="/s/acme/hierarchy/{region.id}/{action}"' in html
    assert f'data-move-url="/s/acme/hierarchy/{region.id}/move"' in html  # drag and drop


def test_outsiders_get_404(tree: UiWorld) -> None:
    region = path_tag(tree, "region")
    outsider = tree.client("outsider")
    assert tree.get(outsider, tree.url("hierarchy")).status_code == 404
    assert tree.get(outsider, tree.url(f"hierarchy/{region.id}/children")).status_code == 404


def test_tags_of_another_scope_are_not_found(tree: UiWorld) -> None:
    other = create_tag(SYSTEM, tree.world.other_scope.id, TagSpec(name="Elsewhere"))
    response = tree.get(tree.client("editor"), tree.url(f"hierarchy/{other.id}/children"),
                        htmx=True)
    assert response.status_code == 404


def test_posts_without_a_csrf_token_are_refused(tree: UiWorld) -> None:
    region = path_tag(tree, "region")
    client = tree.client("editor")
    response = client.post(tree.url(f"hierarchy/{region.id}/delete"))
    assert response.status_code == 400
    assert live_tag(tree.world.sid, "region") is not None


def test_tag_names_are_rendered_inert(ui: UiWorld) -> None:
    parent = tag(ui, f"{XSS}")
    tag(ui, f"{XSS}.{XSS}")
    client = ui.client("editor")
    pages = [
        ui.get(client, ui.url("hierarchy")),
        ui.get(client, ui.url(f"hierarchy/{parent.id}/children"), htmx=True),
        ui.get(client, ui.url(f"hierarchy/{parent.id}/children")),
        ui.get(client, ui.url(f"hierarchy/{parent.id}/delete"), htmx=True),
        ui.get(client, ui.url(f"hierarchy/{parent.id}/rename"), htmx=True),
        ui.get(client, ui.url(f"hierarchy?open={parent.id}")),
        ui.get(client, ui.url("hierarchy/find?open=img"), htmx=True),
        ui.post(client, ui.url(f"hierarchy/{parent.id}/add"),
                {f"n{parent.id}-name": "child"}, htmx=True),
    ]
    child = path_tag(ui, f"{XSS}.child".casefold())
    pages.append(ui.get(client, ui.url(f"hierarchy/{child.id}/move/targets?n{child.id}-parent=img"),
                        htmx=True))
    for response in pages:
        html = html_of(response)
        assert response.status_code == 200
        assert XSS not in html
        assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_the_find_box_opens_the_tree_at_a_tag_and_scrolls_to_it(tree: UiWorld) -> None:
    spain = path_tag(tree, "region.europe.spain")
    response = tree.get(tree.client("viewer"), tree.url("hierarchy?open=Region.Europe.Spain"),
                        htmx=True)
    assert response.headers["HX-Reswap"] == f"outerHTML show:#node-{spain.id}:top"
    assert f'<li class="node focused" id="node-{spain.id}"' in html_of(response)


def test_changes_made_on_a_branch_page_navigate_to_the_tree(tree: UiWorld) -> None:
    """The branch page has no tree around its nodes: the answer is a full navigation."""
    europe, region = path_tag(tree, "region.europe"), path_tag(tree, "region")
    response = tree.post(tree.client("editor"), tree.url(f"hierarchy/{europe.id}/add"),
                         {f"n{europe.id}-name": "Italy"}, htmx=True,
                         headers={"HX-Current-URL": f"http://localhost/s/acme/hierarchy/"
                                                    f"{region.id}/children"})
    italy = path_tag(tree, "region.europe.italy")
    assert response.status_code == 200 and response.get_data() == b""
    assert response.headers["HX-Redirect"] == f"/s/acme/hierarchy?open={italy.id}#node-{italy.id}"


def test_find_suggests_tags_that_open_the_tree(tree: UiWorld) -> None:
    france = path_tag(tree, "region.europe.france")
    html = html_of(tree.get(tree.client("viewer"), tree.url("hierarchy/find?open=fran"),
                            htmx=True))
    assert f'hx-get="/s/acme/hierarchy?open={france.id}"' in html
    assert "Region.Europe.France" in html
    html = html_of(tree.get(tree.client("viewer"), tree.url("hierarchy/find?open=zzz"),
                            htmx=True))
    assert "No tag path contains" in html
