"""The auto-tagging rules page: the list (full page and htmx fragment, a constant number
of statements), create and edit for managers with a live preview that is the bulk
preview, errors beside the fields (422), enable/disable, delete (confirmed), and "Apply
now" whose change set is undone from the bulk result page."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.http.ui.conftest import UiWorld
from tests.unit.factories import SYSTEM, links
from webapp.extensions import db
from webapp.models import ChangeSet, TagRule
from webapp.services import resources, rules
from webapp.services.groups import create_group
from webapp.services.resources import ResourceInput
from webapp.services.tags.creation import TagSpec, create_tag

ADS_WHEN = "type:source AND name:*-ads"
XSS = "<img src=x onerror=alert(1)>"


def html_of(response: Any) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def sources(ui: UiWorld) -> None:
    """Twenty sources, four of them ending in -ads, and a table ending in -ads."""
    resources.register_resources(SYSTEM, ui.world.sid, [
        ResourceInput("source", f"s{i:03d}", f"Source {i}",
                      f"s-{i}" + ("-ads" if i % 5 == 0 else ""))
        for i in range(20)
    ] + [ResourceInput("table", "t1", "T", "t-ads")])


def ads_rule(ui: UiWorld, name: str = "Ads sources", **extra: Any) -> TagRule:
    return rules.create_rule(ui.world.manager, ui.world.sid, name=name, when=ADS_WHEN,
                             attach=["ads"], **extra)


def saved(ui: UiWorld, name: str) -> TagRule | None:
    db.session.expire_all()
    return db.session.scalar(db.select(TagRule).where(TagRule.scope_id == ui.world.sid,
                                                      TagRule.name == name))


def ads_links(ui: UiWorld) -> set[tuple[str, str, str]]:
    db.session.rollback()
    return {link for link in links(ui.world.sid) if link[0] == "ads"}


def form(**values: object) -> dict[str, object]:
    data: dict[str, object] = {"name": "", "when": "", "attach": "", "enabled": "y"}
    data.update(values)
    return data


# --- the list ---------------------------------------------------------------------------


def test_the_list_shows_each_rule(ui: UiWorld) -> None:
    ads_rule(ui)
    rules.create_rule(ui.world.manager, ui.world.sid, name="Tables", when="type:table",
                      attach=["kind::table", "warehouse"], enabled=False)
    response = ui.get(ui.client("viewer"), ui.url("rules"))
    assert response.status_code == 200 and "Vary" in response.headers
    assert "HX-Request" in response.headers["Vary"]
    html = html_of(response)
    assert "<html" in html and "Auto-tagging rules" in html
    assert '<code class="mono">type:source AND name:*-ads</code>' in html
    assert ('<span class="tag-chip">kind::table</span><span class="tag-chip">warehouse</span>'
            in html)
    assert '<span class="badge ok">enabled</span>' in html
    assert '<span class="badge">disabled</span>' in html
    assert "manager@example.com" in html and " UTC</time>" in html
    assert 'href="/s/acme/rules" aria-current="page">Rules</a>' in html


def test_the_htmx_fragment_is_the_list(ui: UiWorld) -> None:
    ads_rule(ui)
    html = html_of(ui.get(ui.client("viewer"), ui.url("rules"), htmx=True))
    assert "<html" not in html and html.lstrip().startswith('<div id="rule-list"')
    assert "Ads sources" in html


def test_an_empty_scope_explains_rules(ui: UiWorld) -> None:
    html = html_of(ui.get(ui.client("manager"), ui.url("rules")))
    assert "No rules in" in html and "every resource registration" in html
    assert "CSV import" in html and "do not chain" in html
    assert 'href="/s/acme/rules/new"' in html and "Create a rule" in html
    viewer = html_of(ui.get(ui.client("viewer"), ui.url("rules")))
    assert "No rules in" in viewer and "Create a rule" not in viewer


def test_the_list_costs_a_constant_number_of_statements(ui: UiWorld, count_queries: Any
                                                        ) -> None:
    client = ui.client("manager")

    def measure(start: int, stop: int) -> int:
        for n in range(start, stop):
            rules.create_rule(ui.world.manager, ui.world.sid, name=f"r{n}",
                              when=f"name:x{n}*", attach=[f"t{n}"], enabled=bool(n % 2))
        ui.get(client, ui.url("rules"))
        with count_queries() as counter:
            assert ui.get(client, ui.url("rules")).status_code == 200
        return counter.count

    assert measure(0, 2) == measure(2, 25)


def test_outsiders_get_404(ui: UiWorld) -> None:
    assert ui.get(ui.client("outsider"), ui.url("rules")).status_code == 404


# --- who may do what --------------------------------------------------------------------


def test_viewers_read_only_and_editors_cannot_edit(ui: UiWorld, sources: None) -> None:
    rule = ads_rule(ui)
    for role in ("viewer", "editor"):
        client = ui.client(role)
        html = html_of(ui.get(client, ui.url("rules")))
        assert "Ads sources" in html and "Only managers" in html
        assert "New rule" not in html and ">Edit<" not in html and ">Delete<" not in html
        assert 'role="switch"' not in html
        for path in ("rules/new", f"rules/{rule.id}/edit", f"rules/{rule.id}/delete"):
            assert ui.get(client, ui.url(path), htmx=True).status_code == 403, (role, path)
        for path, data in (("rules", form(name="x", when="type:table", attach="t")),
                           (f"rules/{rule.id}/edit", form(name="renamed", when=ADS_WHEN,
                                                          attach="ads")),
                           (f"rules/{rule.id}/enabled", {"enabled": "0"}),
                           (f"rules/{rule.id}/delete", {})):
            for htmx in (True, False):
                response = ui.post(client, ui.url(path), data, htmx=htmx)
                assert response.status_code == 403, (role, path, htmx)
                assert "Not allowed" in html_of(response)
    current = saved(ui, "Ads sources")
    assert current is not None and current.enabled and saved(ui, "x") is None
    # an editor may tag: previewing and applying a rule are tagging
    editor = ui.client("editor")
    assert ">Apply now<" in html_of(ui.get(editor, ui.url("rules")))
    assert ui.get(editor, ui.url(f"rules/{rule.id}/apply")).status_code == 200
    viewer = ui.client("viewer")
    assert ">Apply now<" not in html_of(ui.get(viewer, ui.url("rules")))
    assert ui.get(viewer, ui.url(f"rules/{rule.id}/apply")).status_code == 403
    assert ui.post(viewer, ui.url(f"rules/{rule.id}/apply"), {}).status_code == 403
    assert ui.post(viewer, ui.url("rules/preview"), form(when=ADS_WHEN, attach="ads"),
                   htmx=True).status_code == 403
    assert ads_links(ui) == set()


def test_a_manager_sees_the_controls(ui: UiWorld) -> None:
    rule = ads_rule(ui)
    html = html_of(ui.get(ui.client("manager"), ui.url("rules")))
    assert "New rule" in html and ">Edit<" in html and 'role="switch"' in html
    assert f'data-dialog="delete-rule-{rule.id}"' in html
    assert f'<dialog id="delete-rule-{rule.id}" class="confirm-dialog"' in html
    assert "<script" not in html.split("</head>", 1)[1]  # no inline script
    assert "hx-on" not in html


# --- create and edit --------------------------------------------------------------------


def test_the_new_rule_page_and_fragment(ui: UiWorld) -> None:
    client = ui.client("manager")
    page = html_of(ui.get(client, ui.url("rules/new")))
    assert "<html" in page and 'id="rule-form"' in page and 'id="rule-preview"' in page
    assert 'hx-trigger="input changed delay:400ms"' in page
    assert 'hx-post="/s/acme/rules/preview"' in page
    fragment = html_of(ui.get(client, ui.url("rules/new"), htmx=True))
    assert "<html" not in fragment and fragment.lstrip().startswith('<div id="rule-editor"')


@pytest.mark.parametrize("htmx", [False, True], ids=["form", "htmx"])
def test_a_manager_creates_a_rule(ui: UiWorld, sources: None, htmx: bool) -> None:
    client = ui.client("manager")
    response = ui.post(client, ui.url("rules"), form(name="Ads sources", when=ADS_WHEN,
                                                     attach="ads\nchannel::paid"), htmx=htmx)
    if htmx:
        assert response.status_code == 200 and response.headers["HX-Redirect"] == "/s/acme/rules"
    else:
        assert response.status_code == 302 and response.location.endswith("/s/acme/rules")
    rule = saved(ui, "Ads sources")
    assert rule is not None and rule.when == ADS_WHEN and rule.enabled
    assert rule.attach == ["ads", "channel::paid"]
    html = html_of(ui.get(client, ui.url("rules")))
    assert "Created rule Ads sources." in html
    assert ads_links(ui) == set()  # saving back-fills nothing


def test_a_disabled_rule_is_created_disabled(ui: UiWorld) -> None:
    data = form(name="Off", when="type:table", attach="t")
    del data["enabled"]
    assert ui.post(ui.client("manager"), ui.url("rules"), data).status_code == 302
    rule = saved(ui, "Off")
    assert rule is not None and not rule.enabled


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "fragment"])
def test_errors_are_shown_beside_the_fields_with_422(ui: UiWorld, htmx: bool) -> None:
    client = ui.client("manager")
    response = ui.post(client, ui.url("rules"), form(name="", when="type:table AND (",
                                                     attach="ok\nbad..name"), htmx=htmx)
    assert response.status_code == 422
    html = html_of(response)
    assert ("<html" in html) is not htmx
    assert re.search(r'id="name-errors"><li>must not be empty', html)
    assert re.search(r'id="when-errors" role="alert"><li>at 17: expected a term', html)
    assert re.search(r'id="attach-errors" role="alert"><li>“bad..name” is not a valid', html)
    assert 'aria-invalid="true"' in html
    assert "bad..name" in html and "type:table AND (" in html  # what was typed is kept
    response = ui.post(client, ui.url("rules"), form(name="x", when="tag:nope",
                                                     attach="t"), htmx=htmx)
    assert response.status_code == 422
    assert re.search(r'id="when-errors" role="alert"><li>[^<]*nope', html_of(response))
    assert saved(ui, "x") is None


def test_too_many_tags_are_refused_beside_the_field_and_the_form_kept(ui: UiWorld) -> None:
    many = ",".join(f"t{n}" for n in range(150))
    client = ui.client("manager")
    for path in ("rules", "rules/preview"):
        response = ui.post(client, ui.url(path), form(name="big", when="type:table",
                                                      attach=many), htmx=True)
        html = html_of(response)
        assert re.search(r'id="attach-errors" role="alert"><li>at most 100 tag names', html)
        if path == "rules":
            assert response.status_code == 413 and "t149" in html and 'value="big"' in html
    assert saved(ui, "big") is None


def test_a_taken_name_is_a_409_beside_the_name(ui: UiWorld) -> None:
    ads_rule(ui)
    response = ui.post(ui.client("manager"), ui.url("rules"),
                       form(name="ADS SOURCES", when="type:table", attach="t"), htmx=True)
    assert response.status_code == 409
    assert re.search(r'id="name-errors"><li>already exists', html_of(response))


def test_edit_is_prefilled_previews_and_saves(ui: UiWorld, sources: None) -> None:
    rule = ads_rule(ui)
    client = ui.client("manager")
    html = html_of(ui.get(client, ui.url(f"rules/{rule.id}/edit")))
    assert "<html" in html and 'value="Ads sources"' in html
    assert ">type:source AND name:*-ads</textarea>" in html and ">ads</textarea>" in html
    assert 'id="stat-change">4<' in html  # the saved rule's preview on opening
    fragment = html_of(ui.get(client, ui.url(f"rules/{rule.id}/edit"), htmx=True))
    assert "<html" not in fragment and 'id="rule-editor"' in fragment
    response = ui.post(client, ui.url(f"rules/{rule.id}/edit"),
                       form(name="Ads", when="name:*-ads", attach="ads, paid"), htmx=True)
    assert response.status_code == 200 and response.headers["HX-Redirect"] == "/s/acme/rules"
    changed = saved(ui, "Ads")
    assert changed is not None and changed.when == "name:*-ads"
    assert changed.attach == ["ads", "paid"] and changed.enabled
    refused = ui.post(client, ui.url(f"rules/{rule.id}/edit"),
                      form(name="Ads", when="name:(", attach="ads"))
    assert refused.status_code == 422 and 'id="when-errors"' in html_of(refused)
    assert saved(ui, "Ads").when == "name:*-ads"  # type: ignore[union-attr]


def test_unknown_rules_are_404(ui: UiWorld) -> None:
    theirs = rules.create_rule(SYSTEM, ui.world.other_scope.id, name="theirs",
                               when="type:table", attach=["t"])
    client = ui.client("manager")
    for path in (f"rules/{theirs.id}/edit", f"rules/{theirs.id}/apply",
                 f"rules/{theirs.id}/delete", "rules/99999999999/edit"):
        assert ui.get(client, ui.url(path), htmx=True).status_code == 404, path
    assert ui.post(client, ui.url(f"rules/{theirs.id}/delete"), {}).status_code == 404


# --- the live preview -------------------------------------------------------------------


def test_the_live_preview_shows_the_services_numbers(ui: UiWorld, sources: None) -> None:
    create_group(SYSTEM, ui.world.sid, "channel", exclusive=True)
    create_tag(SYSTEM, ui.world.sid, TagSpec(name="channel::organic"))
    from webapp.services.assignments import attach
    attach(SYSTEM, ui.world.sid, ["channel::organic"], {"source": ["s000", "s005"]})
    attach(SYSTEM, ui.world.sid, ["ads"], {"source": ["s010"]})
    before = ads_links(ui)
    client = ui.client("manager")
    response = ui.post(client, ui.url("rules/preview"),
                       form(when=ADS_WHEN, attach="ads\nchannel::paid\nnew::tag"), htmx=True)
    assert response.status_code == 200
    html = html_of(response)
    expected = rules.preview_rule(ui.world.manager, ui.world.sid, ADS_WHEN,
                                  ["ads", "channel::paid", "new::tag"])
    assert expected.resources == 4
    assert f'data-count="{expected.resources}"' in html
    assert f'id="stat-change">{expected.change}<' in html
    assert f'id="stat-unchanged">{expected.unchanged}<' in html
    assert f'id="stat-replaced">{expected.replaced}<' in html and expected.replaced == 2
    assert f'id="stat-refused">{expected.refused}<' in html
    assert f'id="stat-created">{len(expected.created)}<' in html
    assert "new — will be created" in html and "Replaced in exclusive groups" in html
    assert html.count("<tr>") >= len(expected.sample)  # the sample rows
    # the fields' feedback, out of band, empty
    assert ('<div id="when-feedback" class="field-feedback" data-expr-feedback '
            'aria-live="polite" hx-swap-oob="true"></div>') in html
    assert 'id="attach-feedback"' in html
    assert ads_links(ui) == before  # nothing written


def test_a_preview_of_nothing_matching_is_zero(ui: UiWorld, sources: None) -> None:
    html = html_of(ui.post(ui.client("manager"), ui.url("rules/preview"),
                           form(when="name:nothing*", attach="ads"), htmx=True))
    assert 'data-count="0"' in html and 'id="stat-change">0<' in html


def test_preview_errors_go_beside_the_fields(ui: UiWorld) -> None:
    response = ui.post(ui.client("manager"), ui.url("rules/preview"),
                       form(when="type:table AND (", attach="fine\nbad..name"), htmx=True)
    assert response.status_code == 422
    html = html_of(response)
    assert "Cannot preview this rule" in html and "Fix what is marked beside the fields" in html
    assert "attach[1]" not in html
    assert re.search(r'<div id="when-feedback"[^>]*hx-swap-oob="true"><ul class="errors" '
                     r'id="when-errors" role="alert"><li>', html)
    assert re.search(r'id="attach-errors" role="alert"><li>“bad..name” is not', html)


def test_an_incomplete_form_previews_nothing(ui: UiWorld) -> None:
    response = ui.post(ui.client("manager"), ui.url("rules/preview"),
                       form(when="type:table"), htmx=True)
    assert response.status_code == 200 and 'id="preview-empty"' in html_of(response)


def test_the_preview_without_javascript_is_the_form_page(ui: UiWorld, sources: None) -> None:
    rule = ads_rule(ui)
    client = ui.client("manager")
    response = ui.post(client, ui.url(f"rules/preview?rule={rule.id}"),
                       form(name="Ads sources", when="name:*-ads", attach="ads"))
    html = html_of(response)
    assert response.status_code == 200 and "<html" in html
    assert f'action="/s/acme/rules/{rule.id}/edit"' in html and 'id="stat-change">5<' in html


# --- enable, disable, delete ------------------------------------------------------------


def test_enable_and_disable(ui: UiWorld) -> None:
    rule = ads_rule(ui)
    client = ui.client("manager")
    response = ui.post(client, ui.url(f"rules/{rule.id}/enabled"), {"enabled": "0"}, htmx=True)
    assert response.status_code == 200
    html = html_of(response)
    assert html.lstrip().startswith(f'<tr id="rule-{rule.id}"') and 'aria-checked="false"' in html
    assert "Disabled rule Ads sources." in html and 'hx-swap-oob' in html
    assert not saved(ui, "Ads sources").enabled  # type: ignore[union-attr]
    response = ui.post(client, ui.url(f"rules/{rule.id}/enabled"), {"enabled": "1"})
    assert response.status_code == 302 and response.location.endswith("/s/acme/rules")
    assert saved(ui, "Ads sources").enabled  # type: ignore[union-attr]


@pytest.mark.parametrize("htmx", [False, True], ids=["form", "htmx"])
def test_delete_is_confirmed(ui: UiWorld, htmx: bool) -> None:
    rule = ads_rule(ui)
    client = ui.client("manager")
    page = html_of(ui.get(client, ui.url(f"rules/{rule.id}/delete")))
    assert "<html" in page and "Delete rule “Ads sources”?" in page and "Cancel</a>" in page
    fragment = html_of(ui.get(client, ui.url(f"rules/{rule.id}/delete"), htmx=True))
    assert "<html" not in fragment and 'class="rule-delete undo-confirm"' in fragment
    assert saved(ui, "Ads sources") is not None
    response = ui.post(client, ui.url(f"rules/{rule.id}/delete"), {}, htmx=htmx)
    assert response.status_code == (200 if htmx else 302)
    assert saved(ui, "Ads sources") is None


# --- apply now --------------------------------------------------------------------------


def test_apply_confirms_with_the_preview_then_undo_removes_the_links(
    ui: UiWorld, sources: None,
) -> None:
    rule = ads_rule(ui)
    client = ui.client("manager")
    expected = rules.preview_rule(ui.world.manager, ui.world.sid, ADS_WHEN, ["ads"])
    confirm = ui.get(client, ui.url(f"rules/{rule.id}/apply"))
    html = html_of(confirm)
    assert confirm.status_code == 200 and "<html" in html
    assert f'id="stat-change">{expected.change}<' in html and 'id="apply-button"' in html
    assert ads_links(ui) == set()  # a GET writes nothing
    fragment = html_of(ui.get(client, ui.url(f"rules/{rule.id}/apply"), htmx=True))
    assert "<html" not in fragment and 'id="rule-apply"' in fragment

    response = ui.post(client, ui.url(f"rules/{rule.id}/apply"), {})
    assert response.status_code == 302
    match = re.search(r"/s/acme/rules/changes/(\d+)$", response.location)
    assert match, response.location
    change_set_id = int(match.group(1))
    assert len(ads_links(ui)) == 4
    assert db.session.get(ChangeSet, change_set_id) is not None

    result = ui.get(client, response.location)
    html = html_of(result)
    assert result.status_code == 200 and "<html" in html and "Rule back-fill" in html
    assert 'id="result-changed">4<' in html and "Undo this change" in html
    assert f'action="/s/acme/bulk/changes/{change_set_id}/undo"' in html
    fragment = html_of(ui.get(client, response.location, htmx=True))
    assert "<html" not in fragment and 'id="bulk-result"' in fragment

    undone = ui.post(client, ui.url(f"bulk/changes/{change_set_id}/undo"), {}, htmx=True)
    assert undone.status_code == 200 and "Undone" in html_of(undone)
    assert ads_links(ui) == set()


def test_applying_again_changes_nothing(ui: UiWorld, sources: None) -> None:
    rule = ads_rule(ui)
    client = ui.client("manager")
    assert ui.post(client, ui.url(f"rules/{rule.id}/apply"), {}).status_code == 302
    html = html_of(ui.get(client, ui.url(f"rules/{rule.id}/apply")))
    assert "Nothing to change" in html and 'id="apply-button"' not in html
    response = ui.post(client, ui.url(f"rules/{rule.id}/apply"), {}, htmx=True)
    assert response.status_code == 200
    assert "/s/acme/rules" in response.headers["HX-Redirect"]
    assert "No link changed" in html_of(ui.get(client, response.headers["HX-Redirect"]))


def test_applying_a_rule_that_matches_nothing_writes_nothing(ui: UiWorld) -> None:
    rule = ads_rule(ui)
    client = ui.client("manager")
    before = db.session.scalar(db.select(db.func.count()).select_from(ChangeSet))
    response = ui.post(client, ui.url(f"rules/{rule.id}/apply"), {})
    assert response.status_code == 302 and response.location.endswith("/s/acme/rules")
    assert "Nothing changed" in html_of(ui.get(client, ui.url("rules")))
    assert db.session.scalar(db.select(db.func.count()).select_from(ChangeSet)) == before


def test_a_rule_whose_tag_was_deleted_cannot_be_applied(ui: UiWorld, sources: None) -> None:
    create_tag(SYSTEM, ui.world.sid, TagSpec(name="gone"))
    rule = rules.create_rule(ui.world.manager, ui.world.sid, name="Gone",
                             when="tag:gone OR name:*-ads", attach=["ads"])
    from webapp.services.tags.deletion import delete_tag
    from webapp.services.tags.lookup import find_tag
    tag = find_tag(ui.world.sid, "gone")
    assert tag is not None
    delete_tag(SYSTEM, ui.world.sid, tag.id)
    client = ui.client("manager")
    html = html_of(ui.get(client, ui.url(f"rules/{rule.id}/apply")))
    assert "Cannot apply this rule" in html and "Nothing to change" in html
    response = ui.post(client, ui.url(f"rules/{rule.id}/apply"), {})
    assert response.status_code == 422 and "Cannot apply this rule" in html_of(response)
    assert ads_links(ui) == set()


# --- escaping ---------------------------------------------------------------------------


def test_rule_texts_are_rendered_inert(ui: UiWorld, sources: None) -> None:
    rule = rules.create_rule(ui.world.manager, ui.world.sid, name=XSS, when="type:table",
                             attach=["t"])
    client = ui.client("manager")
    pages = [ui.get(client, ui.url("rules")),
             ui.get(client, ui.url(f"rules/{rule.id}/edit"), htmx=True),
             ui.get(client, ui.url(f"rules/{rule.id}/apply")),
             ui.get(client, ui.url(f"rules/{rule.id}/delete")),
             ui.post(client, ui.url("rules"), form(name=XSS, when="type:table", attach="t"),
                     htmx=True)]
    for response in pages:
        html = html_of(response)
        assert XSS not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
