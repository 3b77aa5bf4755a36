"""Undo asks first: the Undo buttons of the audit list, a change set's page and a bulk
result open a dialog saying exactly what the undo will do; without JavaScript they lead
to the same confirmation as a page (GET), whose form posts the undo."""

from __future__ import annotations

import re

from tests.http.ui.conftest import UiWorld
from tests.unit.factories import change_sets, external_ids, live_tag
from webapp.models import ChangeSet
from webapp.services import assignments


def attached(ui: UiWorld) -> ChangeSet:
    """Two new tags on three resources: six links, two tags created."""
    assignments.attach(ui.world.editor, ui.world.sid, ["red", "blue"],
                       {"node": external_ids(3)})
    return change_sets()[-1]


EFFECT = "Remove 6 links, delete 2 tags."


def dialog_of(body: str, change_set_id: int) -> str:
    found = re.search(rf'<dialog id="undo-dialog-{change_set_id}"[^>]*>(.*?)</dialog>', body,
                      re.S)
    assert found, body[:2000]
    return found.group(1)


def test_the_audit_list_undo_opens_a_dialog_with_the_exact_effect(ui: UiWorld) -> None:
    made = attached(ui)
    body = ui.get(ui.client("editor"), ui.url("audit?object_type=assignments")).get_data(True)
    dialog = dialog_of(body, made.id)
    assert EFFECT in dialog and f"Undo change set #{made.id}?" in dialog
    assert "An undo cannot itself be undone" in dialog
    undo_url = f"/s/acme/audit/{made.id}/undo?page=1&amp;object_type=assignments"
    assert f'action="{undo_url}" class="undo-confirm" hx-post="{undo_url}"' in dialog
    assert 'hx-target="#audit-results"' in dialog and "data-dialog-close" in dialog
    # The button opens it; without JavaScript it is a GET to the confirmation page.
    opener = re.search(r'<form method="get" action="([^"]+)" class="undo-open">(.*?)</form>',
                       body, re.S)
    assert opener and opener.group(1) == f"/s/acme/audit/{made.id}/undo"
    assert 'name="object_type" value="assignments"' in opener.group(2)
    assert f'data-dialog="undo-dialog-{made.id}"' in opener.group(2)
    assert "hx-confirm" not in body and "<script>" not in body


def test_the_confirmation_page_without_javascript(ui: UiWorld) -> None:
    made = attached(ui)
    client = ui.client("editor")
    page = ui.get(client, ui.url(f"audit/{made.id}/undo?object_type=assignments&page=1"))
    body = page.get_data(True)
    before = len(change_sets())
    assert page.status_code == 200 and "<html" in body and EFFECT in body
    undo_url = f"/s/acme/audit/{made.id}/undo?object_type=assignments&amp;page=1"
    assert f'<form method="post" action="{undo_url}"' in body and "hx-post" not in body
    assert 'href="/s/acme/audit?object_type=assignments&amp;page=1">Cancel</a>' in body
    assert len(change_sets()) == before and live_tag(ui.world.sid, "red") is not None  # read only

    done = ui.post(client, ui.url(f"audit/{made.id}/undo?object_type=assignments&page=1"))
    assert done.status_code == 302 and live_tag(ui.world.sid, "red") is None
    again = ui.get(client, ui.url(f"audit/{made.id}/undo"))
    assert again.status_code == 409 and "already undone" in again.get_data(True)
    assert "data-undo-confirm" not in again.get_data(True)  # nothing to confirm
    assert ui.get(ui.client("viewer"), ui.url(f"audit/{made.id}/undo")).status_code == 403


def test_the_change_set_page_confirms_too(ui: UiWorld) -> None:
    made = attached(ui)
    client = ui.client("editor")
    body = ui.get(client, ui.url(f"audit/{made.id}")).get_data(True)
    dialog = dialog_of(body, made.id)
    assert EFFECT in dialog and 'name="next" value="detail"' in dialog
    page = ui.get(client, ui.url(f"audit/{made.id}/undo?next=detail")).get_data(True)
    assert EFFECT in page and 'name="next" value="detail"' in page
    assert f'href="/s/acme/audit/{made.id}">Cancel</a>' in page


def test_the_bulk_result_undo_confirms_with_the_effect(ui: UiWorld) -> None:
    made = attached(ui)
    client = ui.client("editor")
    body = ui.get(client, ui.url(f"bulk/changes/{made.id}")).get_data(True)
    dialog = dialog_of(body, made.id)
    assert EFFECT in dialog and 'hx-target="#bulk-page"' in dialog
    assert f'action="/s/acme/bulk/changes/{made.id}/undo"' in dialog
    assert 'id="undo-button" data-dialog=' in body
    page = ui.get(client, ui.url(f"bulk/changes/{made.id}/undo"))
    assert page.status_code == 200 and EFFECT in page.get_data(True)
    assert f'href="/s/acme/bulk/changes/{made.id}">Cancel</a>' in page.get_data(True)

    undone = ui.post(client, ui.url(f"bulk/changes/{made.id}/undo"), htmx=True)
    assert undone.status_code == 200 and "undo-dialog" not in undone.get_data(True)
    refused = ui.get(client, ui.url(f"bulk/changes/{made.id}/undo"))
    assert refused.status_code == 409 and "already undone" in refused.get_data(True)
