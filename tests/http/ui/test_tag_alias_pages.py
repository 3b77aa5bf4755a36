"""Aliases in the web admin (issue 13 §1): the tag page lists them and editors edit them
(one per line; a refusal beside the field with 422, htmx fragment or full page), the
history and the audit log say what changed, and the tag list's search and the bulk page's
picker find a tag by an alias, saying which."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.http.ui.conftest import UiWorld
from tests.unit.factories import SYSTEM
from webapp.extensions import db
from webapp.models import Tag
from webapp.services.tags.aliases import aliases_of, set_aliases
from webapp.services.tags.creation import TagSpec, create_tags
from webapp.services.tags.lookup import find_tag


def html(response: Any) -> str:
    return response.get_data(True)


def tag(ui: UiWorld, path: str) -> Tag:
    found = find_tag(ui.world.sid, path, include_deleted=True)
    assert found is not None, path
    db.session.refresh(found)
    return found


@pytest.fixture
def mail(ui: UiWorld) -> UiWorld:
    """``Customer.Email`` (alias ``Legacy.Mail``) and ``other``."""
    create_tags(SYSTEM, ui.world.sid, [TagSpec("Customer.Email"), TagSpec("other")])
    set_aliases(SYSTEM, ui.world.sid, "Customer.Email", ["Legacy.Mail"])
    return ui


def page_of(ui: UiWorld, path: str, suffix: str = "") -> str:
    return ui.url(f"tags/{tag(ui, path).id}{suffix}")


def test_the_page_lists_the_aliases_and_only_editors_edit_them(mail: UiWorld) -> None:
    ui = mail
    viewer = html(ui.get(ui.client("viewer"), page_of(ui, "Customer.Email")))
    assert 'id="tag-alias-list"' in viewer and "<code>Legacy.Mail</code>" in viewer
    assert 'id="tag-aliases"' not in viewer
    other = html(ui.get(ui.client("viewer"), page_of(ui, "other")))
    assert '<dd id="tag-alias-list"><span class="muted">none</span>' in other
    editor = html(ui.get(ui.client("editor"), page_of(ui, "Customer.Email")))
    assert 'id="tag-aliases"' in editor and "Save aliases" in editor
    assert re.search(r'id="aliases"[^>]*>\s*Legacy\.Mail</textarea>', editor)
    assert "hx-on" not in editor
    assert ui.post(ui.client("viewer"), page_of(ui, "Customer.Email", "/aliases"),
                   {"aliases": "x"}).status_code == 403


def test_saving_with_htmx_answers_the_page_body_and_the_history_says_so(mail: UiWorld
                                                                        ) -> None:
    ui = mail
    response = ui.post(ui.client("editor"), page_of(ui, "Customer.Email", "/aliases"),
                       {"aliases": "Legacy.Mail\n\n  e-mail  \nlegacy.mail\n"}, htmx=True)
    assert response.status_code == 200
    body = html(response)
    assert '<div id="tag-detail"' in body and "<html" not in body
    assert "Saved the aliases of Customer.Email: e-mail, Legacy.Mail." in body
    assert "<code>e-mail</code>" in body
    assert "alias <q>e-mail</q> added" in body  # the history card
    email = tag(ui, "Customer.Email")
    assert aliases_of([email.id])[email.id] == ["e-mail", "Legacy.Mail"]
    # Without htmx: a redirect; an empty list removes them all.
    plain = ui.post(ui.client("editor"), page_of(ui, "Customer.Email", "/aliases"),
                    {"aliases": ""})
    assert plain.status_code == 302
    assert aliases_of([email.id])[email.id] == []
    page = html(ui.get(ui.client("viewer"), page_of(ui, "Customer.Email")))
    assert "alias <q>Legacy.Mail</q> removed" in page


@pytest.mark.parametrize("htmx", [True, False])
def test_a_taken_alias_is_refused_beside_the_field_with_409(mail: UiWorld, htmx: bool
                                                            ) -> None:
    """A clash is a Conflict (409, as form_status answers it); an invalid name a 422."""
    ui = mail
    response = ui.post(ui.client("editor"), page_of(ui, "other", "/aliases"),
                       {"aliases": "fine\nLEGACY.MAIL"}, htmx=htmx)
    assert response.status_code == 409
    body = html(response)
    assert 'id="aliases-errors"' in body
    assert ("'Legacy.Mail' is already an alias of 'Customer.Email'"
            in body.replace("&#39;", "'"))
    assert 'aria-invalid="true"' in body
    if htmx:
        assert response.headers["HX-Retarget"] == "#tag-aliases"
        assert body.lstrip().startswith('<section class="card" id="tag-aliases"')
    else:
        assert "<html" in body and 'id="tag-detail"' in body
    other = tag(ui, "other")
    assert aliases_of([other.id])[other.id] == []


def test_a_bad_alias_names_its_line(mail: UiWorld) -> None:
    ui = mail
    response = ui.post(ui.client("editor"), page_of(ui, "other", "/aliases"),
                       {"aliases": "fine\n\na..b"}, htmx=True)
    assert response.status_code == 422
    assert "Line 3 (“a..b”):" in html(response)
    own = ui.post(ui.client("editor"), page_of(ui, "other", "/aliases"),
                  {"aliases": "OTHER"}, htmx=True)
    assert own.status_code == 422 and "own name" in html(own)


def test_the_audit_log_describes_alias_events(mail: UiWorld) -> None:
    ui = mail
    client = ui.client("manager")
    index = html(ui.get(client, ui.url("audit?object_type=tag_alias")))
    assert "Set tag aliases" in index
    from tests.unit.factories import change_sets
    latest = change_sets()[-1]
    detail = html(ui.get(client, ui.url(f"audit/{latest.id}")))
    assert ">Alias</span>" in detail and "Customer.Email" in detail
    assert "Legacy.Mail" in detail


def test_the_list_search_finds_a_tag_by_an_alias_saying_which(mail: UiWorld) -> None:
    ui = mail
    client = ui.client("viewer")
    for htmx in (False, True):
        body = html(ui.get(client, ui.url("tags?q=legacy"), htmx=htmx))
        assert "Customer.Email" in body or "Email" in body
        assert "via alias <q>Legacy.Mail</q>" in body
        assert 'id="tag-row-' + str(tag(ui, "other").id) + '"' not in body
    by_name = html(ui.get(client, ui.url("tags?q=email")))
    assert "via alias" not in by_name


def test_the_bulk_picker_finds_a_tag_by_an_alias(mail: UiWorld) -> None:
    ui = mail
    client = ui.client("editor")
    body = html(ui.get(client, ui.url("bulk/tag-options?tag_query=legacy.m"), htmx=True))
    assert "via alias <q>Legacy.Mail</q>" in body
    assert '"add": "Customer.Email"' in body
    exact = html(ui.get(client, ui.url("bulk/tag-options?tag_query=Legacy.Mail"), htmx=True))
    assert "will be created" not in exact  # an alias never makes a new tag
    assert "via alias <q>Legacy.Mail</q>" in exact
