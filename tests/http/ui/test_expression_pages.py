"""The tag expression field of the resources page and of the bulk page's selection: full
page and htmx fragment, the matched count beside the field (out of band as you type), errors
beside the field with 422, the expression kept by links, tabs, preview and apply, and a
constant number of statements."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, unquote_plus

import pytest

from tests.http.ui.conftest import UiWorld
from tests.unit.factories import SYSTEM, links
from webapp.services import assignments, groups, resources
from webapp.services.resources import ResourceInput

UNSENSITIVE = "type:table -group:sensitivity"


@pytest.fixture
def seeded(ui: UiWorld) -> UiWorld:
    """Tables t00..t29 ("orders n"), t00..t09 carrying sensitivity::pii; sources s0..s4,
    s0 and s1 carrying paid."""
    sid = ui.world.sid
    groups.create_group(SYSTEM, sid, "sensitivity")
    resources.register_resources(SYSTEM, sid, [
        *(ResourceInput("table", f"t{n:02d}", f"orders {n}") for n in range(30)),
        *(ResourceInput("source", f"s{n}", f"source {n}", f"source-{n}-ads") for n in range(5)),
    ])
    assignments.attach(SYSTEM, sid, ["sensitivity::pii"],
                       {"table": [f"t{n:02d}" for n in range(10)]})
    assignments.attach(SYSTEM, sid, ["paid"], {"source": ["s0", "s1"]})
    return ui


def html(response: Any) -> str:
    return response.get_data(as_text=True)


def expr_count(body: str) -> int:
    found = re.search(r'id="expr-count" data-count="(\d+)"', body)
    assert found, body[:3000]
    return int(found.group(1))


def expr_errors(body: str) -> list[str]:
    found = re.search(r'<ul class="errors" id="expr-errors" role="alert">(.*?)</ul>', body,
                      re.S)
    assert found, body[:3000]
    return re.findall(r"<li>(.*?)</li>", found.group(1))


def resources_url(ui: UiWorld, expr: str, path: str = "resources", **more: str) -> str:
    query = "&".join([f"expr={quote(expr)}", *(f"{k}={quote(v)}" for k, v in more.items())])
    return ui.url(f"{path}?{query}")


# --- the resources page -------------------------------------------------------------------


def test_resources_page_with_an_expression(seeded: UiWorld) -> None:
    response = seeded.get(seeded.client("viewer"), resources_url(seeded, UNSENSITIVE))
    assert response.status_code == 200
    page = html(response)
    assert "<html" in page and 'name="expr"' in page
    assert f'value="{UNSENSITIVE}"' in page and 'aria-invalid' not in page
    assert expr_count(page) == 20
    assert ">t10<" in page and ">t00<" not in page and ">s0<" not in page
    assert "matching the tag expression" in page
    assert '<details class="expr-help" id="expr-help">' in page and "<code>untagged</code>" in page
    # The type tabs keep the expression.
    assert f"/s/acme/resources/table?expr={UNSENSITIVE}" in unquote_plus(page)


def test_htmx_answers_the_list_and_the_count_beside_the_field(seeded: UiWorld) -> None:
    response = seeded.get(seeded.client("viewer"), resources_url(seeded, "tag:paid OR untagged"),
                          htmx=True)
    assert response.status_code == 200
    fragment = html(response)
    assert "<html" not in fragment and fragment.lstrip().startswith('<div id="resource-list"')
    assert 'id="expr-feedback" class="expr-feedback" data-expr-feedback aria-live="polite" ' \
           'hx-swap-oob="true"' in fragment
    assert expr_count(fragment) == 2 + 20 + 3  # paid; tables t10..t29, sources s2..s4
    assert unquote_plus(response.headers["HX-Push-Url"]) == (
        "/s/acme/resources?expr=tag:paid OR untagged")


def test_expression_with_search_type_and_tag(seeded: UiWorld) -> None:
    client = seeded.client("viewer")
    page = html(seeded.get(client, resources_url(seeded, "name:*-ads", "resources/source",
                                                 q="source 1")))
    assert expr_count(page) == 1 and ">s1<" in page
    bulk_link = re.search(r'href="(/s/acme/bulk\?[^"]+)"', page)
    assert bulk_link is None  # viewers cannot tag
    editor_page = html(seeded.get(seeded.client("editor"),
                                  resources_url(seeded, "tag:paid", "resources/source")))
    link = re.search(r'href="(/s/acme/bulk\?[^"]+)"', editor_page)
    assert link and unquote_plus(link.group(1)) == "/s/acme/bulk?type=source&amp;expr=tag:paid"


@pytest.mark.parametrize("htmx", [False, True])
def test_a_malformed_expression_is_422_with_the_error_beside_the_field(seeded: UiWorld,
                                                                       htmx: bool) -> None:
    response = seeded.get(seeded.client("viewer"), resources_url(seeded, "type:table AND tag:"),
                          htmx=htmx)
    assert response.status_code == 422
    body = html(response)
    assert expr_errors(body) == ['at 20: expected a value after &#34;tag:&#34;']
    assert "The tag expression has an error" in body and ">t00<" not in body
    assert ('<html' in body) is not htmx
    if not htmx:
        assert 'aria-invalid="true"' in body and 'value="type:table AND tag:"' in body
    else:
        assert 'hx-swap-oob="true"' in body


def test_unknown_names_are_named(seeded: UiWorld) -> None:
    response = seeded.get(seeded.client("viewer"),
                          resources_url(seeded, "tag:unpaid OR group:secret"), htmx=True)
    assert response.status_code == 422
    assert expr_errors(html(response)) == [
        "at 5: unknown tag &#34;unpaid&#34; (no live tag of this scope has that path)",
        "at 21: unknown group &#34;secret&#34;"]


def test_an_expression_is_escaped(seeded: UiWorld) -> None:
    xss = 'name:"<script>alert(1)</script>"'
    page = html(seeded.get(seeded.client("viewer"), resources_url(seeded, xss)))
    assert "<script>alert(1)" not in page
    bad = html(seeded.get(seeded.client("viewer"), resources_url(seeded, "<b>x</b>")))
    assert "<b>x</b>" not in bad and "&lt;b&gt;x&lt;/b&gt;" in bad


def test_the_list_costs_the_same_whatever_the_page_size(seeded: UiWorld,
                                                       count_queries: Any) -> None:
    client = seeded.client("viewer")
    seeded.get(client, seeded.url("resources"))

    def cost(expr: str) -> int:
        with count_queries() as counter:
            assert seeded.get(client, resources_url(seeded, expr)).status_code == 200
        return counter.count

    assert cost("tag:paid") == cost("type:table OR group:sensitivity")  # 2 rows vs 30


# --- the bulk page ------------------------------------------------------------------------


def test_bulk_page_selects_by_expression(seeded: UiWorld) -> None:
    response = seeded.get(seeded.client("editor"),
                          resources_url(seeded, UNSENSITIVE, "bulk", tags="reviewed"))
    assert response.status_code == 200
    page = html(response)
    assert 'id="expr" name="expr"' in page and f'value="{UNSENSITIVE}"' in page
    assert expr_count(page) == 20
    assert re.search(r'id="match-count" data-count="20"', page)
    assert page.count('id="expr-feedback"') == 1  # not twice on the full page


def test_bulk_selection_fragment_updates_the_count_out_of_band(seeded: UiWorld) -> None:
    client = seeded.client("editor")
    response = seeded.post(client, seeded.url("bulk/selection"),
                           {"expr": "tag:paid OR group:sensitivity", "type": "source"},
                           htmx=True)
    assert response.status_code == 200
    body = html(response)
    assert body.lstrip().startswith('<div id="selection"')
    assert expr_count(body) == 2 and 'hx-swap-oob="true"' in body
    assert unquote_plus(response.headers["HX-Replace-Url"]) == (
        "/s/acme/bulk?type=source&expr=tag:paid OR group:sensitivity")


@pytest.mark.parametrize("htmx", [False, True])
def test_bulk_expression_errors_are_422_beside_the_field(seeded: UiWorld, htmx: bool) -> None:
    client = seeded.client("editor")
    if htmx:
        response = seeded.post(client, seeded.url("bulk/selection"),
                               {"expr": "(tag:paid"}, htmx=True)
    else:
        response = seeded.get(client, resources_url(seeded, "(tag:paid", "bulk"))
    assert response.status_code == 422
    body = html(response)
    assert expr_errors(body) == [
        "at 10: expected &#34;)&#34; to close the &#34;(&#34; at 1 but found the end of "
        "the expression"]
    assert "Tag expression: at 10" not in body  # beside the field, not in the summary
    assert "The tag expression has an error" in body


def test_preview_and_apply_use_the_expression(seeded: UiWorld) -> None:
    client = seeded.client("editor")
    state = {"expr": UNSENSITIVE, "tags": "reviewed", "action": "attach"}
    preview = seeded.post(client, seeded.url("bulk/preview"), state, htmx=True)
    assert preview.status_code == 200
    body = html(preview)
    assert 'id="stat-change">20<' in body
    assert f"matching the tag expression “{UNSENSITIVE}”" in body
    assert f'name="expr" value="{UNSENSITIVE}"' in body  # the apply form carries it
    applied = seeded.post(client, seeded.url("bulk/apply"), state, htmx=True)
    assert applied.status_code == 200, html(applied)[:500]
    reviewed = {rid for key, _, rid in links(seeded.world.sid) if key == "reviewed"}
    assert reviewed == {f"t{n:02d}" for n in range(10, 30)}


def test_preview_with_a_bad_expression_is_refused(seeded: UiWorld) -> None:
    response = seeded.post(seeded.client("editor"), seeded.url("bulk/preview"),
                           {"expr": "tag:nope", "tags": "reviewed"}, htmx=True)
    assert response.status_code == 422
    body = html(response)
    assert "unknown tag &#34;nope&#34;" in body and 'id="selection-errors"' in body
    assert not any(key == "reviewed" for key, _, _ in links(seeded.world.sid))


def test_bulk_selection_costs_the_same_whatever_matches(seeded: UiWorld,
                                                       count_queries: Any) -> None:
    client = seeded.client("editor")
    seeded.get(client, seeded.url("bulk"))

    def cost(expr: str) -> int:
        with count_queries() as counter:
            assert seeded.post(client, seeded.url("bulk/selection"), {"expr": expr},
                               htmx=True).status_code == 200
        return counter.count

    assert cost("tag:paid") == cost("type:table OR group:sensitivity")
