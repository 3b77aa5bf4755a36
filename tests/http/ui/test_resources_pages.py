"""The resources pages: list with tags, type tabs, search, tag filter and paging as full
page and htmx fragment; register one resource; CSV import refused line by line, all or
nothing; roles; escaping; a constant number of statements per page."""

from __future__ import annotations

import io
from typing import Any

import pytest

from tests.http.ui.conftest import UiWorld
from tests.unit.factories import SYSTEM, count
from webapp.models import Resource
from webapp.services import assignments, resource_import, resources
from webapp.services.resources import ResourceInput

XSS = "<img src=x onerror=alert(1)>"


@pytest.fixture
def seeded(ui: UiWorld) -> UiWorld:
    resources.register_resources(SYSTEM, ui.world.sid, [
        *(ResourceInput("table", f"t{n:03d}", f"orders {n}", f"orders-{n}") for n in range(60)),
        ResourceInput("source", "s1", "Facebook Ads", "facebook-ads"),
        ResourceInput("source", "s2", XSS, "evil"),
    ])
    assignments.attach(SYSTEM, ui.world.sid, [XSS, "priority::high"], {"source": ["s1"]})
    return ui


def html(response: Any) -> str:
    return response.get_data(as_text=True)


# --- the list ---------------------------------------------------------------------------


def test_full_page_lists_resources_with_tags_tabs_and_forms(seeded: UiWorld) -> None:
    response = seeded.get(seeded.client("editor"), seeded.url("resources"))
    assert response.status_code == 200
    page = html(response)
    assert "<html" in page and 'id="resource-list"' in page
    assert "All <span class=\"count\">62</span>" in page
    assert ">source <span class=\"count\">2</span>" in page
    assert ">table <span class=\"count\">60</span>" in page
    assert page.count('<tr>') >= 50 and "1–50 of 62" in page
    assert 'id="register-form"' in page and 'id="import-form"' in page
    assert "priority::</span>high" in page  # chips of the tags on s1


def test_fragment_for_htmx_with_the_url_kept(seeded: UiWorld) -> None:
    client = seeded.client("viewer")
    response = seeded.get(client, seeded.url("resources?type=table&q=orders 1"), htmx=True)
    assert response.status_code == 200
    fragment = html(response)
    assert "<html" not in fragment
    assert 'id="resource-list"' in fragment
    assert response.headers["HX-Push-Url"] == "/s/acme/resources/table?q=orders+1"
    assert "orders 1<" in fragment and "orders 2<" not in fragment  # "orders 1", "orders 10"…
    # The search form's hidden type follows, out of band.
    assert 'id="search-type" value="table" hx-swap-oob="true"' in fragment
    assert "Vary" in response.headers and "HX-Request" in response.headers["Vary"]


def test_type_in_the_path_search_and_paging(seeded: UiWorld) -> None:
    client = seeded.client("viewer")
    page = html(seeded.get(client, seeded.url("resources/table?page=2")))
    assert "51–60 of 60" in page and ">t059<" in page and ">t000<" not in page
    past = html(seeded.get(client, seeded.url("resources/table?page=99")))
    assert "51–60 of 60" in past  # past the end: the last page
    for odd in ("99999999999999999999999", "-3", "two"):
        response = seeded.get(client, seeded.url(f"resources/table?page={odd}"))
        assert response.status_code == 200, odd
    found = html(seeded.get(client, seeded.url("resources/source?q=FACEBOOK")))
    assert ">s1<" in found and ">s2<" not in found
    assert seeded.get(client, seeded.url("resources/tables")).status_code == 404
    none = html(seeded.get(client, seeded.url("resources?q=zzz")))
    assert "No resources match “zzz”" in none


def test_tag_filter_shows_the_resources_carrying_a_tag(seeded: UiWorld) -> None:
    tag_id = assignments.attach(SYSTEM, seeded.world.sid, ["finance"],
                                {"table": ["t001", "t002"]}).tags[0].id
    page = html(seeded.get(seeded.client("viewer"), seeded.url(f"resources?tag={tag_id}")))
    assert "<strong>2</strong> resources" in page and "carrying" in page
    assert ">t001<" in page and ">t003<" not in page
    assert f'href="/s/acme/resources?tag={tag_id}"' in page  # the chips link here


def test_empty_scope_says_what_to_do(ui: UiWorld) -> None:
    page = html(ui.get(ui.client("editor"), ui.url("resources")))
    assert "No resources yet" in page and "import a CSV" in page


def test_names_and_tags_are_escaped(seeded: UiWorld) -> None:
    page = html(seeded.get(seeded.client("viewer"), seeded.url("resources/source")))
    assert XSS not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_list_costs_the_same_whatever_the_page_size(seeded: UiWorld, count_queries: Any) -> None:
    client = seeded.client("viewer")
    ids = [f"t{n:03d}" for n in range(60)]
    assignments.attach(SYSTEM, seeded.world.sid, ["a", "b", "c"], {"table": ids})
    seeded.get(client, seeded.url("resources"))

    def cost(url: str) -> int:
        with count_queries() as counter:
            assert seeded.get(client, seeded.url(url)).status_code == 200
        return counter.count

    assert cost("resources/table?q=orders 5") == cost("resources/table")  # 11 rows vs 50
    assert cost("resources/source") == cost("resources/table?page=2")


# --- register ---------------------------------------------------------------------------


def test_register_one_with_htmx_answers_the_form_and_the_list(seeded: UiWorld) -> None:
    client = seeded.client("editor")
    response = seeded.post(client, seeded.url("resources/register"), {
        "resource_type": "folder", "external_id": "f1", "name": "Shared", "slug": "shared",
        "q": "", "type": "", "tag": "",
    }, htmx=True)
    assert response.status_code == 200
    body = html(response)
    assert "<html" not in body and "Registered folder “f1”." in body
    assert 'id="resource-list" class="dim-while-loading" hx-swap-oob="true"' in body
    assert ">folder <span class=\"count\">1</span>" in body
    again = seeded.post(client, seeded.url("resources/register"), {
        "resource_type": "folder", "external_id": "f1", "name": "Renamed"}, htmx=True)
    assert "was registered already" in html(again)
    assert count(Resource, Resource.external_id == "f1") == 1


def test_register_plain_post_redirects_with_a_flash(seeded: UiWorld) -> None:
    client = seeded.client("editor")
    response = seeded.post(client, seeded.url("resources/register"), {
        "resource_type": "node", "external_id": "node_1"})
    assert response.status_code == 302 and response.location.endswith("/s/acme/resources/node")
    assert "Registered node “node_1”." in html(client.get(response.location))


def test_register_errors_are_beside_their_fields(seeded: UiWorld) -> None:
    client = seeded.client("editor")
    response = seeded.post(client, seeded.url("resources/register"), {
        "resource_type": "tabel", "external_id": "x"}, htmx=True)
    assert response.status_code == 422
    assert 'id="resource_type-errors"' in html(response) and "unknown resource type" in html(
        response)
    response = seeded.post(client, seeded.url("resources/register"), {
        "resource_type": "table", "external_id": "  "}, htmx=True)
    assert response.status_code == 422 and 'id="external_id-errors"' in html(response)
    full = seeded.post(client, seeded.url("resources/register"), {
        "resource_type": "", "external_id": "x"})
    assert full.status_code == 422
    assert "<html" in html(full) and 'id="resource_type-errors"' in html(full)


def test_viewers_read_but_cannot_register_or_import(seeded: UiWorld) -> None:
    client = seeded.client("viewer")
    page = html(seeded.get(client, seeded.url("resources")))
    assert 'id="register-form"' not in page and 'id="import-form"' not in page
    assert "Read only" in page
    response = seeded.post(client, seeded.url("resources/register"), {
        "resource_type": "table", "external_id": "new"}, htmx=True)
    assert response.status_code == 403 and "tags.write" in html(response)
    response = seeded.post(client, seeded.url("resources/import"),
                           {"csv_text": "type,id\ntable,new"}, htmx=True)
    assert response.status_code == 403
    assert count(Resource, Resource.external_id == "new") == 0


def test_outsiders_get_404(seeded: UiWorld) -> None:
    assert seeded.get(seeded.client("outsider"), seeded.url("resources")).status_code == 404


def test_posts_need_the_csrf_token(seeded: UiWorld) -> None:
    client = seeded.client("editor")
    for path, data in (("resources/register", {"resource_type": "table", "external_id": "z"}),
                       ("resources/import", {"csv_text": "type,id\ntable,z"})):
        response = client.post(seeded.url(path), data=data)
        assert response.status_code == 400
    assert count(Resource, Resource.external_id == "z") == 0


# --- import -----------------------------------------------------------------------------


def test_import_reports_every_bad_line_and_imports_nothing(seeded: UiWorld) -> None:
    client = seeded.client("editor")
    before = count(Resource)
    text = ("type,id,name,slug\n"
            "table,new-1,New,new\n"
            "tabel,new-2,,\n"
            "\n"
            "folder,,No id,\n"
            "folder,new-4,a,b,c,d\n")
    response = seeded.post(client, seeded.url("resources/import"), {"csv_text": text},
                           htmx=True)
    assert response.status_code == 422
    body = html(response)
    assert "<html" not in body and 'id="csv_text-errors"' in body
    assert "Line 3: type: unknown resource type &#39;tabel&#39;" in body
    assert "Line 5: id: must be a non-empty string" in body
    assert "Line 6: 6 fields, but the header names 4" in body
    assert "Nothing was imported: 3 lines have errors" in body
    assert "new-1" in body  # the pasted text is kept for fixing
    assert count(Resource) == before


def test_import_a_file_counts_new_and_existing(seeded: UiWorld) -> None:
    client = seeded.client("editor")
    data = "\ufefftype,ID,Name\nfolder,f1,Shared\ntable,t001,Orders one\nfolder,f1,Again\n"
    response = seeded.post(client, seeded.url("resources/import"), {
        "csv_file": (io.BytesIO(data.encode()), "resources.csv"), "csv_text": "",
    }, htmx=True, content_type="multipart/form-data")
    assert response.status_code == 200
    body = html(response)
    assert ("Imported 3 line(s): 1 new, 1 already registered (1 repeated line(s) merged)."
            in body)
    assert 'hx-swap-oob="true"' in body and ">folder <span class=\"count\">1</span>" in body


def test_import_plain_post_redirects_with_a_flash(seeded: UiWorld) -> None:
    client = seeded.client("editor")
    response = seeded.post(client, seeded.url("resources/import"),
                           {"csv_text": "type,id\nvolume,v1"})
    assert response.status_code == 302
    assert "Imported 1 line(s): 1 new, 0 already registered." in html(
        client.get(response.location))


def test_import_problems_with_the_input_itself(seeded: UiWorld, monkeypatch: Any) -> None:
    client = seeded.client("editor")
    url = seeded.url("resources/import")
    cases = [
        ({"csv_text": ""}, "csv_text", "choose a CSV file or paste CSV text"),
        ({"csv_text": "id,name\nx,y"}, "csv_text", "Line 1: the first line must be the header"),
        ({"csv_text": "type,id\n"}, "csv_text", "there are no data lines"),
        ({"csv_text": "type,id\ntable,x",
          "csv_file": (io.BytesIO(b"type,id\ntable,y"), "a.csv")},
         "csv_text", "not both"),
        ({"csv_file": (io.BytesIO(b"type,id\ntable,\xff\xfe"), "a.csv")},
         "csv_file", "not UTF-8"),
    ]
    for data, field, message in cases:
        response = seeded.post(client, url, data, htmx=True, content_type="multipart/form-data")
        assert response.status_code == 422, data
        body = html(response)
        assert f'id="{field}-errors"' in body and message in body, (data, body)
    monkeypatch.setattr(resource_import, "MAX_IMPORT_LINES", 2)
    response = seeded.post(client, url, {"csv_text": "type,id\ntable,a\ntable,b\ntable,c"},
                           htmx=True)
    assert response.status_code == 413 and "at most 2 lines per import" in html(response)
    full = seeded.post(client, url, {"csv_text": "type,id\ntabel,a"})
    assert full.status_code == 422 and "<html" in html(full) and 'id="csv_text-errors"' in html(
        full)
