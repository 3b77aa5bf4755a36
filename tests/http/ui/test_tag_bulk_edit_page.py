"""The bulk edit of tag attributes in the web admin (issue 13 §4): opened from the list's
bar (ticked ids in the POST body, the list's filters from its address) or by GET, the
choice "the N ticked / all M matching", the form's errors beside their field (422), the
preview (fragment for htmx, page otherwise) with counts, refusals and the sample, apply
as one change set with its result page and an Undo through the audit's undo, the cap,
permissions, and a constant number of statements per preview and apply."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.http.ui.conftest import UiWorld
from tests.unit.factories import SYSTEM, change_sets
from webapp.extensions import db
from webapp.models import Tag
from webapp.services import groups
from webapp.services.assignments import attach
from webapp.services.policies.crud import PolicyInput, create_policy
from webapp.services.tags import bulk_edit
from webapp.services.tags.creation import Provenance, TagSpec, create_tag, create_tags
from webapp.services.tags.lookup import find_tag

XSS = "<img src=x onerror=alert(1)>"


def html(response: Any) -> str:
    return response.get_data(as_text=True)


def tag(ui: UiWorld, path: str) -> Tag:
    found = find_tag(ui.world.sid, path)
    assert found is not None, path
    db.session.refresh(found)
    return found


def colours(ui: UiWorld) -> dict[str, str | None]:
    db.session.expire_all()
    return {t.path: t.color for t in db.session.scalars(
        select(Tag).where(Tag.scope_id == ui.world.sid, Tag.deleted_at.is_(None)))}


@pytest.fixture
def seeded(ui: UiWorld) -> UiWorld:
    """``fruit.apple``, ``fruit.pear``, ``veg.leek``, ``veg.kale``, a protected ``locked``
    and a group ``food``."""
    create_tags(SYSTEM, ui.world.sid, [TagSpec(p) for p in (
        "fruit.apple", "fruit.pear", "veg.leek", "veg.kale")])
    create_tag(SYSTEM, ui.world.sid, TagSpec("locked"), Provenance(protected=True))
    groups.create_group(ui.world.manager, ui.world.sid, "food")
    return ui


def ids_of(ui: UiWorld, *paths: str) -> str:
    return ",".join(str(tag(ui, p).id) for p in paths)


def form(ui: UiWorld, ids: str = "", *, use: str = "ticked", step: str = "preview",
         filters: dict[str, str] | None = None, **fields: str) -> dict[str, str]:
    data = {"ids": ids, "use": use, "step": step,
            **{f"f_{k}": v for k, v in (filters or {}).items()}}
    data.setdefault("f_q", "")
    data.update(fields)
    return data


# --- opening the page ---------------------------------------------------------------------


def test_the_list_bar_offers_edit_attributes_to_editors_only(seeded: UiWorld) -> None:
    ui = seeded
    page = html(ui.get(ui.client("editor"), ui.url("tags")))
    assert 'id="bulk-edit-open"' in page and f'formaction="/s/{ui.slug}/tags/bulk-edit"' in page
    assert "Edit attributes…" in page
    assert 'id="bulk-edit-open"' not in html(ui.get(ui.client("viewer"), ui.url("tags")))


def test_the_bar_posts_ticked_ids_and_the_lists_filters(seeded: UiWorld) -> None:
    ui = seeded
    ids = [str(tag(ui, p).id) for p in ("fruit.apple", "fruit.pear")]
    response = ui.post(ui.client("editor"), ui.url("tags/bulk-edit"), {
        "ids": ids, "step": "open", "bulk-next": f"/s/{ui.slug}/tags?q=veg&sort=usage"})
    assert response.status_code == 200
    page = html(response)
    assert "<html" in page and 'id="bulk-edit-form"' in page
    assert re.search(r'data-count="ticked">2<', page)
    # "veg" matches veg, veg.leek, veg.kale
    assert re.search(r'data-count="matching">3<', page)
    assert "search “veg”" in page
    assert f'name="ids" value="{",".join(ids)}"' in page
    assert 'name="f_q" value="veg"' in page
    assert re.search(r'value="ticked" id="use-ticked" checked', page)


def test_get_takes_the_selection_in_the_query_string(seeded: UiWorld) -> None:
    ui = seeded
    page = html(ui.get(ui.client("editor"), ui.url("tags/bulk-edit?q=fruit")))
    assert re.search(r'data-count="ticked">0<', page)
    assert re.search(r'value="ticked" id="use-ticked" disabled', page)  # nothing ticked
    assert re.search(r'value="matching" id="use-matching" checked', page)
    assert re.search(r'data-count="matching">3<', page)
    ids = ids_of(ui, "veg.leek")
    page = html(ui.get(ui.client("editor"), ui.url(f"tags/bulk-edit?ids={ids}")))
    assert re.search(r'data-count="ticked">1<', page)
    assert re.search(r'data-count="matching">7<', page)  # no filter: every live tag
    assert "(no filter: every live tag of the scope)" in page


def test_a_foreign_next_address_is_not_followed(seeded: UiWorld) -> None:
    ui = seeded
    response = ui.post(ui.client("editor"), ui.url("tags/bulk-edit"), {
        "step": "open", "bulk-next": "https://evil.example/s/acme/tags?q=veg"})
    assert response.status_code == 200
    assert re.search(r'data-count="matching">7<', html(response))  # filters ignored


@pytest.mark.parametrize("role", ["viewer", "outsider"])
def test_only_tag_writers_may_open_preview_or_apply(seeded: UiWorld, role: str) -> None:
    ui = seeded
    client = ui.client(role)
    assert ui.get(client, ui.url("tags/bulk-edit")).status_code in (403, 404)
    before = colours(ui)
    response = ui.post(client, ui.url("tags/bulk-edit"), form(
        ui, ids_of(ui, "veg"), step="apply", set_color="y", color="#ff0000"))
    assert response.status_code in (403, 404)
    assert colours(ui) == before


# --- form errors --------------------------------------------------------------------------


def test_nothing_ticked_to_change_is_a_form_error(seeded: UiWorld) -> None:
    ui = seeded
    response = ui.post(ui.client("editor"), ui.url("tags/bulk-edit"), form(ui, ids_of(ui, "veg")))
    assert response.status_code == 422
    assert "Tick “change” beside at least one attribute." in html(response)


def test_errors_go_beside_their_field(seeded: UiWorld) -> None:
    ui = seeded
    client = ui.client("editor")
    response = ui.post(client, ui.url("tags/bulk-edit"), form(
        ui, ids_of(ui, "veg"), set_parent="y", parent="nowhere.at.all"))
    assert response.status_code == 422
    page = html(response)
    assert re.search(r'<ul class="errors" id="parent-errors"><li>[^<]*nowhere', page)
    assert "<html" in page
    # htmx: the form again, retargeted over the form, errors beside the field
    response = ui.post(client, ui.url("tags/bulk-edit"), form(
        ui, ids_of(ui, "veg"), set_description="y", description_mode="set", description=""),
        htmx=True)
    assert response.status_code == 422
    assert response.headers["HX-Retarget"] == "#bulk-edit-form"
    page = html(response)
    assert "<html" not in page and page.lstrip().startswith("<form id=\"bulk-edit-form\"")
    assert 'id="description-errors"' in page
    # the service's refusals too: a deprecated replacement, both group and parent
    response = ui.post(client, ui.url("tags/bulk-edit"), form(
        ui, ids_of(ui, "veg"), set_group="y", group="food", set_parent="y",
        parent_mode="top"))
    assert response.status_code == 422
    assert re.search(r'id="group-errors"><li>set either a group or a parent', html(response))


def test_ticked_with_nothing_ticked_is_refused_beside_the_choice(seeded: UiWorld) -> None:
    ui = seeded
    response = ui.post(ui.client("editor"), ui.url("tags/bulk-edit"), form(
        ui, "", set_color="y", color="#ff0000"))
    assert response.status_code == 422
    assert re.search(r'id="use-errors"><li>select at least one tag', html(response))


def test_a_tag_gone_since_it_was_ticked_is_named(seeded: UiWorld) -> None:
    ui = seeded
    response = ui.post(ui.client("editor"), ui.url("tags/bulk-edit"), form(
        ui, "999999", set_color="y", color="#ff0000"))
    assert response.status_code == 404
    assert re.search(r"id=\"use-errors\"><li>no live tag", html(response))


def test_more_than_the_cap_is_refused_with_a_clear_message(seeded: UiWorld, monkeypatch: Any
                                                           ) -> None:
    ui = seeded
    monkeypatch.setattr(bulk_edit, "MAX_EDIT", 3)
    client = ui.client("editor")
    # ticked: more ids than the cap
    response = ui.post(client, ui.url("tags/bulk-edit"), form(
        ui, ids_of(ui, "veg", "veg.leek", "veg.kale", "fruit"), set_color="y", color="#ff0000"))
    assert response.status_code == 413
    assert re.search(r'id="use-errors"><li>at most 3 tags', html(response))
    # matching: more match than the cap
    before = colours(ui)
    response = ui.post(client, ui.url("tags/bulk-edit"), form(
        ui, use="matching", step="apply", set_color="y", color="#ff0000"), htmx=True)
    assert response.status_code == 413
    assert re.search(r'id="use-errors"><li>at most 3 tags', html(response))
    assert colours(ui) == before


def test_the_page_warns_when_more_than_the_cap_match(seeded: UiWorld, monkeypatch: Any) -> None:
    ui = seeded
    from webapp.ui import tag_bulk_edit
    monkeypatch.setattr(tag_bulk_edit, "MAX_EDIT", 3)
    page = html(ui.get(ui.client("editor"), ui.url("tags/bulk-edit")))
    assert 'id="be-cap"' in page and "a bulk edit takes at most 3" in page


# --- preview ------------------------------------------------------------------------------


def test_preview_for_htmx_is_the_fragment_under_the_form(seeded: UiWorld) -> None:
    ui = seeded
    before = colours(ui)
    response = ui.post(ui.client("editor"), ui.url("tags/bulk-edit"), form(
        ui, ids_of(ui, "veg.leek", "veg.kale", "locked"), set_color="y", color="#ff0000"),
        htmx=True)
    assert response.status_code == 200
    assert response.headers.get("Vary") and "HX-Request" in response.headers["Vary"]
    page = html(response)
    assert page.lstrip().startswith('<div id="bulk-edit-preview"') and "<html" not in page
    assert re.search(r'id="be-changed">2<', page) and re.search(r'id="be-refused">1<', page)
    assert re.search(r'data-refused="locked"><td class="be-name">locked</td><td>protected', page)
    assert 'data-sample="veg.kale"' in page and "#FF0000" in page
    assert 'id="be-apply"' in page and "Apply to 2 tags" in page
    assert colours(ui) == before  # a preview writes nothing


def test_preview_without_js_is_the_whole_page(seeded: UiWorld) -> None:
    ui = seeded
    response = ui.post(ui.client("editor"), ui.url("tags/bulk-edit"), form(
        ui, ids_of(ui, "veg.leek"), set_description="y", description="Green <b>"))
    assert response.status_code == 200
    page = html(response)
    assert "<html" in page and 'id="bulk-edit-form"' in page and 'id="be-sample"' in page
    assert "Green &lt;b&gt;" in page
    assert re.search(r'name="step" value="apply"', page)


def test_all_matching_uses_the_filters(seeded: UiWorld) -> None:
    ui = seeded
    response = ui.post(ui.client("editor"), ui.url("tags/bulk-edit"), form(
        ui, ids_of(ui, "veg.leek"), use="matching", filters={"q": "fruit"},
        set_color="y", color="#00ff00"), htmx=True)
    page = html(response)
    assert re.search(r'id="be-changed">3<', page)  # fruit, fruit.apple, fruit.pear
    assert 'data-sample="fruit.pear"' in page and 'data-sample="veg.leek"' not in page


def test_refusals_of_a_group_change_are_listed_with_reasons(seeded: UiWorld) -> None:
    ui = seeded
    response = ui.post(ui.client("editor"), ui.url("tags/bulk-edit"), form(
        ui, ids_of(ui, "veg", "veg.leek", "locked"), set_group="y", group="food"), htmx=True)
    page = html(response)
    assert re.search(r'id="be-changed">1<', page) and re.search(r'id="be-refused">2<', page)
    assert re.search(r"a child takes its parent(&#39;|')s group", page)


def test_names_are_escaped(seeded: UiWorld) -> None:
    ui = seeded
    response = ui.post(ui.client("editor"), ui.url("tags/bulk-edit"), form(
        ui, ids_of(ui, "veg"), set_description="y", description=XSS), htmx=True)
    assert XSS not in html(response) and "&lt;img" in html(response)


# --- apply and undo -----------------------------------------------------------------------


def test_apply_then_undo_round_trip_through_the_pages(seeded: UiWorld) -> None:
    ui = seeded
    client = ui.client("editor")
    before, sets = colours(ui), len(change_sets())
    response = ui.post(client, ui.url("tags/bulk-edit"), form(
        ui, ids_of(ui, "veg.leek", "veg.kale", "locked"), step="apply",
        set_color="y", color="#ff0000"))
    assert response.status_code == 302
    assert len(change_sets()) == sets + 1
    cs = change_sets()[-1]
    assert response.headers["Location"].endswith(f"/s/{ui.slug}/tags/bulk-edit/changes/{cs.id}")
    after = colours(ui)
    assert after["veg.leek"] == after["veg.kale"] == "#FF0000" and after["locked"] is None
    page = html(client.get(response.headers["Location"]))
    assert "Edited 2 tags; 1 tag refused." in page  # the flash
    assert 'id="undo-button"' in page and f'action="/s/{ui.slug}/audit/{cs.id}/undo"' in page
    assert 'name="next" value="detail"' in page
    # the undo's confirmation page, then the undo itself (the audit's)
    confirm = client.get(ui.url(f"audit/{cs.id}/undo?next=detail"))
    assert confirm.status_code == 200 and "Undo change set" in html(confirm)
    undone = ui.post(client, ui.url(f"audit/{cs.id}/undo"), {"next": "detail"})
    assert undone.status_code == 302
    assert colours(ui) == before
    page = html(client.get(ui.url(f"tags/bulk-edit/changes/{cs.id}")))
    assert "Undone" in page and 'id="undo-button"' not in page


def test_apply_with_htmx_answers_the_result_and_pushes_its_url(seeded: UiWorld) -> None:
    ui = seeded
    client = ui.client("editor")
    response = ui.post(client, ui.url("tags/bulk-edit"), form(
        ui, ids_of(ui, "fruit"), step="apply", set_parent="y", parent="veg",
        set_description="y", description="moved"), htmx=True)
    assert response.status_code == 200
    cs = change_sets()[-1]
    assert response.headers["HX-Push-Url"] == f"/s/{ui.slug}/tags/bulk-edit/changes/{cs.id}"
    page = html(response)
    assert page.lstrip().startswith('<div id="bulk-edit"') and "<html" not in page
    assert re.search(r'id="be-changed">1<', page) and 'id="undo-button"' in page
    assert find_tag(ui.world.sid, "veg.fruit.apple") is not None
    # the result's URL as a fragment and as a page
    fragment = html(ui.get(client, ui.url(f"tags/bulk-edit/changes/{cs.id}"), htmx=True))
    assert fragment.lstrip().startswith('<div id="bulk-edit"')
    assert "<html" in html(client.get(ui.url(f"tags/bulk-edit/changes/{cs.id}")))


def test_apply_that_changes_nothing_makes_no_change_set(seeded: UiWorld) -> None:
    ui = seeded
    sets = len(change_sets())
    response = ui.post(ui.client("editor"), ui.url("tags/bulk-edit"), form(
        ui, ids_of(ui, "veg"), step="apply", set_color="y", no_color="y"), htmx=True)
    assert response.status_code == 200
    assert response.headers["HX-Retarget"] == "#bulk-edit-preview"
    assert 'id="be-nothing"' in html(response) and len(change_sets()) == sets


def test_deprecate_with_replacement_then_undeprecate(seeded: UiWorld) -> None:
    ui = seeded
    client = ui.client("editor")
    response = ui.post(client, ui.url("tags/bulk-edit"), form(
        ui, ids_of(ui, "veg.leek", "veg.kale"), step="apply", set_deprecation="y",
        deprecation="deprecate", replacement="fruit.apple"))
    assert response.status_code == 302
    assert tag(ui, "veg.leek").deprecated_at is not None
    assert tag(ui, "veg.kale").replacement_id == tag(ui, "fruit.apple").id
    response = ui.post(client, ui.url("tags/bulk-edit"), form(
        ui, ids_of(ui, "veg.leek"), step="apply", set_deprecation="y",
        deprecation="undeprecate", replacement="ignored"))
    assert response.status_code == 302
    assert tag(ui, "veg.leek").deprecated_at is None


def test_the_result_of_another_scope_is_not_found(seeded: UiWorld) -> None:
    ui = seeded
    assert ui.get(ui.client("editor"), ui.url("tags/bulk-edit/changes/987654")).status_code == 404


# --- cost -----------------------------------------------------------------------------------


@pytest.mark.parametrize("step", ["preview", "apply"])
def test_preview_and_apply_cost_the_same_statements_for_10_and_200_tags(
        ui: UiWorld, count_queries: Any, step: str) -> None:
    client = ui.client("editor")
    ui.get(client, ui.url("tags"))  # sign-in and first-request work done

    def cost(prefix: str, size: int) -> int:
        made = create_tags(SYSTEM, ui.world.sid, [TagSpec(f"{prefix}{n:04d}")
                                                  for n in range(size)])
        create_tag(SYSTEM, ui.world.sid, TagSpec(f"{prefix}-dest"))
        data = form(ui, ",".join(str(t.id) for t in made), step=step, set_color="y",
                    color="#123456", set_description="y", description="bulk",
                    set_parent="y", parent=f"{prefix}-dest")
        db.session.expire_all()
        with count_queries() as counter:
            response = ui.post(client, ui.url("tags/bulk-edit"), data, htmx=True)
        assert response.status_code == 200, html(response)[:500]
        return counter.count

    small, large = cost("s", 10), cost("l", 200)
    assert small == large
    if step == "apply":
        assert db.session.scalar(select(func.count()).select_from(Tag).where(
            Tag.path.like("l-dest.%"))) == 200


def test_an_apply_of_a_form_changed_since_its_preview_previews_again(seeded: UiWorld) -> None:
    ui = seeded
    client = ui.client("editor")
    ids = ids_of(ui, "veg.leek", "veg.kale")
    preview = html(ui.post(client, ui.url("tags/bulk-edit"), form(
        ui, ids, set_color="y", color="#ff0000"), htmx=True))
    found = re.search(r'name="previewed" value="([0-9a-f]+)"', preview)
    assert found
    before, sets = colours(ui), len(change_sets())
    # the colour changed after the preview: the new preview, nothing written
    response = ui.post(client, ui.url("tags/bulk-edit"), form(
        ui, ids, step="apply", set_color="y", color="#00ff00", previewed=found.group(1)),
        htmx=True)
    assert response.status_code == 200
    assert response.headers["HX-Retarget"] == "#bulk-edit-preview"
    page = html(response)
    assert "The form changed since the preview" in page and "#00FF00" in page
    assert colours(ui) == before and len(change_sets()) == sets
    # the same form as previewed: applied
    response = ui.post(client, ui.url("tags/bulk-edit"), form(
        ui, ids, step="apply", set_color="y", color="#ff0000", previewed=found.group(1)))
    assert response.status_code == 302
    assert colours(ui)["veg.leek"] == "#FF0000" and len(change_sets()) == sets + 1


def test_a_move_an_enforced_policy_refuses_is_named_and_offers_no_apply(
        seeded: UiWorld) -> None:
    ui = seeded
    attach(SYSTEM, ui.world.sid, ["veg.leek"], {"table": ["t1"]})
    create_policy(ui.world.manager, ui.world.sid, PolicyInput(
        name="No fruit on tables", resource_types=["table"], forbid_tags=["fruit"],
        mode="enforce"))
    page = html(ui.post(ui.client("editor"), ui.url("tags/bulk-edit"), form(
        ui, ids_of(ui, "veg"), set_parent="y", parent="fruit"), htmx=True))
    assert 'id="be-policy-refusal"' in page and "No fruit on tables" in page
    assert "table:t1" in page and 'id="be-apply"' not in page
    allowed = html(ui.post(ui.client("editor"), ui.url("tags/bulk-edit"), form(
        ui, ids_of(ui, "veg.kale"), set_parent="y", parent="fruit"), htmx=True))
    assert 'id="be-policy-refusal"' not in allowed and 'id="be-apply"' in allowed
