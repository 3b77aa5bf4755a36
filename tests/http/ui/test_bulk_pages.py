"""The bulk tagging page: the selection (full page and fragments, ticked rows, counts), the
tag picker, the preview with its errors beside their cause, apply, the result and undo;
roles, CSRF, escaping, and a constant number of statements per selection page."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from tests.http.ui.conftest import UiWorld
from tests.unit.factories import SYSTEM, count, links, snapshot_counts
from webapp.extensions import db
from webapp.models import Assignment, Resource, Tag
from webapp.services import assignments, groups, resources
from webapp.services.policies.crud import PolicyInput, create_policy
from webapp.services.resources import ResourceInput

XSS = "<img src=x onerror=alert(1)>"
ADS = {"pattern": "-ads", "mode": "ends", "on": "name_or_slug"}


@pytest.fixture
def seeded(ui: UiWorld) -> UiWorld:
    """40 sources, 10 of them ``…-ads``; 20 tables, 5 of them ``…-ads``."""
    items = [ResourceInput("source", f"s{n:02d}", f"source {n}" + ("-ads" if n % 4 == 0 else ""))
             for n in range(40)]
    items += [ResourceInput("table", f"t{n:02d}", f"table {n}" + ("-ads" if n % 4 == 0 else ""))
              for n in range(20)]
    resources.register_resources(SYSTEM, ui.world.sid, items)
    assignments.attach(SYSTEM, ui.world.sid, ["marketing"], {"source": ["s00", "s01"]})
    return ui


def html(response: Any) -> str:
    return response.get_data(as_text=True)


def resource_id(external_id: str) -> int:
    return db.session.scalar(db.select(Resource.id).where(Resource.external_id == external_id))


def match_count(body: str) -> int:
    found = re.search(r'id="match-count" data-count="(\d+)"', body)
    assert found, body[:2000]
    return int(found.group(1))


# --- the selection ----------------------------------------------------------------------


def test_full_page_with_the_state_from_the_url(seeded: UiWorld) -> None:
    response = seeded.get(seeded.client("editor"),
                          seeded.url("bulk?pattern=-ads&mode=ends&tags=marketing&tags=fresh"))
    assert response.status_code == 200
    page = html(response)
    assert "<html" in page and 'id="bulk-form"' in page
    assert match_count(page) == 15
    assert 'value="-ads"' in page and '<option value="ends" selected>' in page
    assert '<option value="source">source (10)</option>' in page
    assert 'name="tags" value="marketing"' in page and 'name="tags" value="fresh"' in page
    assert "new — will be created" in page  # fresh
    assert 'id="preview-button"' in page and 'src="/static/js/bulk.js"' in page


def test_htmx_get_answers_the_selection_fragment(seeded: UiWorld) -> None:
    response = seeded.get(seeded.client("viewer"), seeded.url("bulk?type=table&pattern=-ads"
                                                              "&mode=ends"), htmx=True)
    body = html(response)
    assert response.status_code == 200 and "<html" not in body
    assert body.lstrip().startswith('<div id="selection"') and match_count(body) == 5


def test_selection_refresh_keeps_ticks_across_pages(seeded: UiWorld) -> None:
    client = seeded.client("editor")
    ticked = [resource_id("s00"), resource_id("s01")]
    response = seeded.post(client, seeded.url("bulk/selection"),
                           {**ADS, "ticked": [str(i) for i in ticked], "page": "1"}, htmx=True)
    body = html(response)
    assert response.status_code == 200 and "<html" not in body
    assert response.headers["HX-Replace-Url"] == (
        "/s/acme/bulk?pattern=-ads&mode=ends&on=name_or_slug")
    assert match_count(body) == 15
    # s00 is on the page (a ticked box); s01 does not match (a hidden input keeps it).
    box = f'value="{ticked[0]}" id="tick-{ticked[0]}" aria-label="Tick source 0-ads" checked'
    assert box in body
    assert f'<input type="hidden" name="ticked" value="{ticked[1]}">' in body
    assert 'id="ticked-count">2<' in body


def test_ticking_a_row_switches_to_the_ticked_rows(seeded: UiWorld) -> None:
    client = seeded.client("editor")
    one = str(resource_id("s04"))
    response = seeded.post(client, seeded.url("bulk/selection"),
                           {**ADS, "ticked": [one], "part": "summary", "auto": "1"}, htmx=True)
    body = html(response)
    assert body.lstrip().startswith('<div id="selection-summary"')
    assert 'name="use" value="ticked" checked' in body and 'id="ticked-count">1<' in body
    cleared = seeded.post(client, seeded.url("bulk/selection"),
                          {**ADS, "ticked": [one], "use": "ticked", "clear_ticks": "1"},
                          htmx=True)
    assert 'name="use" value="matching" checked' in html(cleared)
    assert 'id="ticked-count">0<' in html(cleared)


def test_filter_errors_are_shown_beside_the_filters(seeded: UiWorld) -> None:
    response = seeded.post(seeded.client("editor"), seeded.url("bulk/selection"),
                           {"pattern": "x" * 300, "type": "tabel"}, htmx=True)
    body = html(response)
    assert 'id="pattern-errors"' in body and "at most 255 characters" in body
    assert 'id="type-errors"' in body and "unknown resource type" in body


def test_selection_costs_the_same_whatever_the_page(seeded: UiWorld, count_queries: Any) -> None:
    client = seeded.client("editor")
    assignments.attach(SYSTEM, seeded.world.sid, ["a", "b", "c"],
                       {"source": [f"s{n:02d}" for n in range(40)]})
    seeded.get(client, seeded.url("bulk"))

    def cost(data: dict[str, Any]) -> int:
        with count_queries() as counter:
            assert seeded.post(client, seeded.url("bulk/selection"), data,
                               htmx=True).status_code == 200
        return counter.count

    few = cost({**ADS, "type": "table", "ticked": [str(resource_id("t00"))]})
    many = cost({"type": "source", "ticked": [str(resource_id(f"s{n:02d}")) for n in range(30)]})
    assert few == many


def test_odd_page_numbers_show_a_page(seeded: UiWorld) -> None:
    client = seeded.client("editor")
    for odd in ("99999999999999999999999", "-3", "two", "0"):
        response = seeded.get(client, seeded.url(f"bulk?page={odd}"))
        assert response.status_code == 200 and match_count(html(response)) == 60, odd


def test_plain_post_of_the_selection_redirects_to_the_page(seeded: UiWorld) -> None:
    response = seeded.post(seeded.client("editor"), seeded.url("bulk/selection"), ADS)
    assert response.status_code == 302
    assert response.location.endswith("/s/acme/bulk?pattern=-ads&mode=ends&on=name_or_slug")


# --- the tag picker ---------------------------------------------------------------------


def test_tag_options_offer_existing_tags_and_a_new_one(seeded: UiWorld) -> None:
    client = seeded.client("editor")
    body = html(seeded.get(client, seeded.url("bulk/tag-options?tag_query=market"), htmx=True))
    assert "<html" not in body and 'data-query="market"' in body
    assert '"add": "marketing"' in body and "2 resources" in body
    assert "+ <span class=\"option-name\">market</span>" in body  # "market" itself is new
    exact = html(seeded.get(client, seeded.url("bulk/tag-options?tag_query=Marketing")))
    assert "new — will be created" not in exact
    bad = html(seeded.get(client, seeded.url("bulk/tag-options?tag_query=a..b")))
    assert "cannot be a tag name" in bad
    assert html(seeded.get(client, seeded.url("bulk/tag-options?tag_query="))).strip() == ""


def test_detaching_offers_existing_tags_only(seeded: UiWorld) -> None:
    client = seeded.client("editor")
    body = html(seeded.get(client, seeded.url("bulk/tag-options?tag_query=mark&action=detach")))
    assert '"add": "marketing"' in body and "new — will be created" not in body
    none = html(seeded.get(client, seeded.url("bulk/tag-options?tag_query=zz&action=detach")))
    assert "only existing tags can be detached" in none
    chosen = html(seeded.post(client, seeded.url("bulk/tags"),
                              {"tags": ["marketing", "zz"], "action": "detach"}, htmx=True))
    assert "no such tag — skipped" in chosen and "new — will be created" not in chosen
    preview = html(seeded.post(client, seeded.url("bulk/preview"), {
        "pattern": "source", "on": "name", "mode": "starts", "tags": ["marketing", "zz"],
        "action": "detach"}, htmx=True))
    assert 'id="stat-change">2<' in preview and 'id="stat-unchanged">38<' in preview
    assert 'id="stat-unknown">1<' in preview


def test_a_deprecated_tag_is_offered_to_detach_not_to_attach(seeded: UiWorld) -> None:
    old = db.session.scalar(select(Tag).where(Tag.scope_id == seeded.world.sid,
                                              Tag.path == "marketing"))
    assert old is not None
    old.deprecated_at = old.created_at
    db.session.commit()
    client = seeded.client("editor")
    attach = html(seeded.get(client, seeded.url("bulk/tag-options?tag_query=market")))
    assert '"add": "marketing"' not in attach
    detach = html(seeded.get(client, seeded.url(
        "bulk/tag-options?tag_query=market&action=detach")))
    assert '"add": "marketing"' in detach


def test_chosen_tags_add_and_remove(seeded: UiWorld) -> None:
    client = seeded.client("editor")
    response = seeded.post(client, seeded.url("bulk/tags"),
                           {**ADS, "tags": ["marketing"], "add": "prio::urgent"}, htmx=True)
    body = html(response)
    assert body.lstrip().startswith('<div id="chosen-tags"')
    assert 'name="tags" value="marketing"' in body and 'name="tags" value="prio::urgent"' in body
    assert "new group" in body
    assert response.headers["HX-Replace-Url"].startswith(
        "/s/acme/bulk?pattern=-ads&tags=marketing&tags=prio::urgent")
    removed = html(seeded.post(client, seeded.url("bulk/tags"),
                               {"tags": ["marketing", "prio::urgent"], "remove": "MARKETING"},
                               htmx=True))
    assert 'value="marketing"' not in removed and 'value="prio::urgent"' in removed


# --- preview ----------------------------------------------------------------------------


def test_preview_shows_the_exact_change_and_writes_nothing(seeded: UiWorld) -> None:
    client = seeded.client("editor")
    before = snapshot_counts()
    response = seeded.post(client, seeded.url("bulk/preview"),
                           {**ADS, "tags": ["marketing", "fresh"], "action": "attach"},
                           htmx=True)
    assert response.status_code == 200 and snapshot_counts() == before
    body = html(response)
    assert "<html" not in body and body.lstrip().startswith('<section id="bulk-preview"')
    assert 'id="stat-change">29<' in body  # 15 + 15, less marketing's s00
    assert 'id="stat-unchanged">1<' in body and 'id="stat-created">1<' in body
    assert "name or slug ends with “-ads”" in body
    assert 'id="apply-button"' in body and 'name="csrf_token"' in body
    assert '<input type="hidden" name="pattern" value="-ads">' in body


def test_preview_of_exclusive_replacement_and_refused_types(seeded: UiWorld) -> None:
    sid = seeded.world.sid
    groups.create_group(seeded.world.manager, sid, "level", exclusive=True)
    groups.create_group(seeded.world.manager, sid, "pii", allowed_types=["table"])
    assignments.attach(SYSTEM, sid, ["level::low"], {"source": ["s00", "s04"]})
    body = html(seeded.post(seeded.client("editor"), seeded.url("bulk/preview"),
                            {**ADS, "tags": ["level::high", "pii::email"]}, htmx=True))
    assert 'id="stat-replaced">2<' in body and "loses <strong>2</strong> links" in body
    assert 'id="stat-refused">10<' in body and "10 source resources" in body
    assert "(allowed: table)" in body


def test_preview_skips_a_deprecated_tag_and_names_its_replacement(seeded: UiWorld) -> None:
    sid = seeded.world.sid
    assignments.attach(SYSTEM, sid, ["campaigns"], {"table": ["t00"]})
    old, new = (db.session.scalar(select(Tag).where(Tag.scope_id == sid, Tag.path == path))
                for path in ("marketing", "campaigns"))
    assert old is not None and new is not None
    old.deprecated_at, old.replacement_id = old.created_at, new.id
    db.session.commit()
    body = html(seeded.post(seeded.client("editor"), seeded.url("bulk/preview"),
                            {**ADS, "tags": ["marketing", "pii"]}, htmx=True))
    assert 'id="stat-refused">15<' in body
    assert "15 skipped" in body and "is deprecated; use &#39;campaigns&#39; instead" in body


def test_preview_names_the_enforced_policy_that_would_refuse_it(seeded: UiWorld) -> None:
    sid = seeded.world.sid
    assignments.attach(SYSTEM, sid, ["legacy"], {"table": ["t01"]})
    create_policy(seeded.world.manager, sid, PolicyInput(
        name="No legacy on sources", resource_types=["source"], forbid_tags=["legacy"],
        mode="enforce"))
    client = seeded.client("editor")
    body = html(seeded.post(client, seeded.url("bulk/preview"),
                            {**ADS, "tags": ["legacy"]}, htmx=True))
    assert 'id="policy-refusal"' in body and "No legacy on sources" in body
    assert "on 10 resources: source 0-ads (source:s00)" in body
    assert 'id="apply-button"' not in body and "Refused by policy" in body
    allowed = html(seeded.post(client, seeded.url("bulk/preview"),
                               {**ADS, "type": "table", "tags": ["legacy"]}, htmx=True))
    assert 'id="policy-refusal"' not in allowed and 'id="apply-button"' in allowed


def test_preview_errors_are_beside_their_cause(seeded: UiWorld) -> None:
    client = seeded.client("editor")
    none = seeded.post(client, seeded.url("bulk/preview"), {**ADS, "tags": []}, htmx=True)
    assert none.status_code == 422
    assert none.headers["HX-Retarget"] == "#bulk-preview"
    body = html(none)
    assert "Cannot preview this change" in body and "give at least one tag name" in body
    assert '<div id="chosen-tags" class="chosen-tags has-error" hx-swap-oob="true">' in body
    assert 'id="tags-errors"' in body
    bad = html(seeded.post(client, seeded.url("bulk/preview"), {**ADS, "tags": ["a..b"]},
                           htmx=True))
    assert "“a..b” is not a valid tag name" in bad and 'id="tags-errors"' in bad
    empty = seeded.post(client, seeded.url("bulk/preview"),
                        {"pattern": "nothing", "tags": ["x"]}, htmx=True)
    assert empty.status_code == 422
    assert 'id="selection-summary" class="selection-summary" hx-swap-oob="true"' in html(empty)
    assert 'id="selection-errors"' in html(empty) and "no resources are selected" in html(empty)
    groups.create_group(seeded.world.manager, seeded.world.sid, "level", exclusive=True)
    both = html(seeded.post(client, seeded.url("bulk/preview"),
                            {**ADS, "tags": ["level::a", "level::b"]}, htmx=True))
    assert "exclusive group" in both and 'id="tags-errors"' in both


def test_preview_without_htmx_is_a_full_page(seeded: UiWorld) -> None:
    client = seeded.client("editor")
    response = seeded.post(client, seeded.url("bulk/preview"), {**ADS, "tags": ["x"]})
    assert response.status_code == 200 and "<html" in html(response)
    assert 'id="apply-button"' in html(response)
    refused = seeded.post(client, seeded.url("bulk/preview"), {**ADS, "tags": []})
    assert refused.status_code == 302
    assert "give at least one tag name" in html(client.get(refused.location))


def test_ticked_rows_are_the_selection_when_chosen(seeded: UiWorld) -> None:
    ticked = [str(resource_id("s03")), str(resource_id("t07"))]
    body = html(seeded.post(seeded.client("editor"), seeded.url("bulk/preview"), {
        **ADS, "use": "ticked", "ticked": ticked, "tags": ["picked"]}, htmx=True))
    assert 'id="stat-change">2<' in body and "The 2 ticked rows" in body
    assert all(f'name="ticked" value="{i}"' in body for i in ticked)


# --- apply, result, undo ----------------------------------------------------------------


def test_apply_result_and_undo_with_htmx(seeded: UiWorld) -> None:
    client = seeded.client("editor")
    sid = seeded.world.sid
    response = seeded.post(client, seeded.url("bulk/apply"),
                           {**ADS, "tags": ["marketing", "fresh"]}, htmx=True)
    assert response.status_code == 200
    target = response.headers["HX-Push-Url"]
    assert re.fullmatch(r"/s/acme/bulk/changes/\d+", target)
    body = html(response)
    assert body.lstrip().startswith('<div id="bulk-page"') and "<html" not in body
    assert 'id="result-changed">29<' in body and 'id="undo-button"' in body
    assert re.search(r'data-tag="marketing">.*?class="num usage">16<', body, re.S)
    assert count(Assignment) == 2 + 29
    assert assignments.Assignment.query.filter_by(context="manual").count() == 29

    page = seeded.get(client, target)
    assert page.status_code == 200 and "<html" in html(page) and "Done" in html(page)

    undone = seeded.post(client, target + "/undo", htmx=True)
    assert undone.status_code == 200
    body = html(undone)
    assert "Undone" in body and 'id="undo-button"' not in body
    assert re.search(r'data-tag="marketing">.*?class="num usage">2<', body, re.S)
    assert links(sid) == {("marketing", "source", "s00"), ("marketing", "source", "s01")}

    again = seeded.post(client, target + "/undo", htmx=True)
    assert again.status_code == 409
    assert 'id="undo-errors"' in html(again) and "already undone" in html(again)


def test_apply_without_htmx_redirects_to_the_result(seeded: UiWorld) -> None:
    client = seeded.client("editor")
    response = seeded.post(client, seeded.url("bulk/apply"), {**ADS, "tags": ["fresh"]})
    assert response.status_code == 302 and "/s/acme/bulk/changes/" in response.location
    page = html(client.get(response.location))
    assert "You can undo the change below." in page and 'id="result-changed">15<' in page
    undo = seeded.post(client, response.location + "/undo")
    assert undo.status_code == 302
    assert "Undone: the links are back as they were." in html(client.get(undo.location))


def test_apply_errors_go_to_the_preview_area(seeded: UiWorld) -> None:
    response = seeded.post(seeded.client("editor"), seeded.url("bulk/apply"),
                           {"pattern": "nothing", "tags": ["x"]}, htmx=True)
    assert response.status_code == 422
    assert response.headers["HX-Retarget"] == "#bulk-preview"
    assert "Cannot apply this change" in html(response)
    nothing = seeded.post(seeded.client("editor"), seeded.url("bulk/apply"),
                          {**ADS, "tags": ["unknown"], "action": "detach"}, htmx=True)
    assert nothing.status_code == 422 and "Nothing changed" in html(nothing)


def test_viewers_see_the_selection_but_cannot_change_anything(seeded: UiWorld) -> None:
    client = seeded.client("viewer")
    page = html(seeded.get(client, seeded.url("bulk")))
    assert "Read only" in page and 'id="preview-button"' not in page
    assert 'name="ticked"' not in page and 'name="use"' not in page
    before = snapshot_counts()
    for path in ("bulk/preview", "bulk/apply"):
        response = seeded.post(client, seeded.url(path), {**ADS, "tags": ["x"]}, htmx=True)
        assert response.status_code == 403, path
    assert snapshot_counts() == before
    editor = seeded.client("editor")
    applied = seeded.post(editor, seeded.url("bulk/apply"), {**ADS, "tags": ["x"]}, htmx=True)
    target = applied.headers["HX-Push-Url"]
    result = html(seeded.get(client, target))
    assert 'id="undo-button"' not in result
    assert seeded.post(client, target + "/undo", htmx=True).status_code == 403


def test_other_scopes_and_unknown_change_sets_are_404(seeded: UiWorld) -> None:
    assert seeded.get(seeded.client("outsider"), seeded.url("bulk")).status_code == 404
    assert seeded.get(seeded.client("editor"), seeded.url("bulk/changes/999")).status_code == 404


def test_posts_need_the_csrf_token(seeded: UiWorld) -> None:
    client = seeded.client("editor")
    seeded.get(client, seeded.url("bulk"))
    for path in ("bulk/selection", "bulk/tags", "bulk/preview", "bulk/apply",
                 "bulk/changes/1/undo"):
        assert client.post(seeded.url(path), data={**ADS, "tags": "x"}).status_code == 400, path


def test_tag_names_are_escaped_everywhere(seeded: UiWorld) -> None:
    client = seeded.client("editor")
    assignments.attach(SYSTEM, seeded.world.sid, [XSS], {"source": ["s04"]})
    bodies = [
        html(seeded.get(client, seeded.url("bulk?pattern=-ads&mode=ends"))),
        html(seeded.get(client, seeded.url("bulk/tag-options?tag_query=img"))),
        html(seeded.post(client, seeded.url("bulk/tags"), {"tags": [XSS]}, htmx=True)),
        html(seeded.post(client, seeded.url("bulk/preview"), {**ADS, "tags": [XSS]}, htmx=True)),
    ]
    applied = seeded.post(client, seeded.url("bulk/apply"), {**ADS, "tags": [XSS]}, htmx=True)
    bodies.append(html(applied))
    for body in bodies:
        assert XSS not in body
        assert "&lt;img src=x onerror=alert(1)&gt;" in body or "\\u003cimg" in body


def test_the_undo_confirmation_names_the_policy_that_would_refuse_it(seeded: UiWorld) -> None:
    client = seeded.client("manager")
    response = seeded.post(client, seeded.url("bulk/apply"), {**ADS, "tags": ["channel::ads"]})
    assert response.status_code == 302
    result = response.location
    create_policy(seeded.world.manager, seeded.world.sid, PolicyInput(
        name="Ad sources need a channel", where="name:*-ads", require_groups=["channel"],
        mode="enforce"))
    page = html(seeded.get(client, result))
    dialog = page[page.index("<dialog"):page.index("</dialog>")]
    assert "Refused by policy Ad sources need a channel" in dialog
    assert re.search(r"data-undo-confirm disabled", dialog)
