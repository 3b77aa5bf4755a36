"""The taxonomy page: downloads for every member, the import (preview, then apply) for
editors and managers; htmx answers the part that changed, a plain post the whole page;
refused files answer 422 with each problem's line."""

from __future__ import annotations

import base64
import io
import re

import pytest

from tests.http.ui.conftest import UiWorld
from tests.unit.factories import SYSTEM, snapshot_counts
from tests.unit.test_taxonomy import seed_taxonomy
from webapp.services.tags.creation import TagSpec, create_tag

CSV = ("kind,name,label,color\n"
       "group,topic,Topic,#123456\n"
       "tag,topic::Finance.Tax,Taxes,\n"
       "tag,Address.email,E-mail,#112233\n")


@pytest.fixture
def seeded(ui: UiWorld) -> UiWorld:
    seed_taxonomy(ui.world)
    return ui


def _upload(text: str, name: str = "taxonomy.csv", **extra: str) -> dict[str, object]:
    return {"file": (io.BytesIO(text.encode()), name), "mode": "merge", "format": "", **extra}


@pytest.mark.parametrize("role", ["viewer", "editor", "manager"])
def test_every_member_sees_the_downloads(seeded: UiWorld, role: str) -> None:
    client = seeded.client(role)
    html = client.get(seeded.url("taxonomy")).get_data(True)
    assert "Download CSV" in html and "Download YAML" in html
    assert ('id="import-form"' in html) is (role != "viewer")
    response = client.get(seeded.url("taxonomy/export?format=yaml"))
    assert response.status_code == 200 and response.mimetype == "application/yaml"
    assert response.headers["Content-Disposition"] == 'attachment; filename="acme-taxonomy.yaml"'
    assert "path: Address.email" in response.get_data(True)


def test_the_nav_links_the_page(seeded: UiWorld) -> None:
    html = seeded.client("viewer").get(seeded.url("tags")).get_data(True)
    assert f'href="{seeded.url("taxonomy")}"' in html


def test_a_preview_shows_the_diff_and_writes_nothing(seeded: UiWorld) -> None:
    client = seeded.client("manager")
    before = snapshot_counts()
    response = seeded.post(client, seeded.url("taxonomy/preview"), _upload(CSV), htmx=True)
    assert response.status_code == 200
    html = response.get_data(True)
    assert snapshot_counts() == before
    assert html.lstrip().startswith('<section id="taxonomy-import"')  # the card alone
    assert "2 tags to create, 1 to update; 1 group to create" in html
    assert "Preview of taxonomy.csv" in html
    assert "topic::Finance.Tax" in html and "Taxes" in html
    assert "#112233" in html and "Apply these changes" in html
    full = seeded.post(client, seeded.url("taxonomy/preview"), _upload(CSV))
    assert "<html" in full.get_data(True) and "Apply these changes" in full.get_data(True)


def test_applying_the_preview_imports_in_one_change_set(seeded: UiWorld) -> None:
    client = seeded.client("manager")
    preview = seeded.post(client, seeded.url("taxonomy/preview"), _upload(CSV), htmx=True)
    fields = dict(re.findall(r'name="(content|format|mode|previewed)"[^>]*value="([^"]*)"',
                             preview.get_data(True)))
    assert base64.b64decode(fields["content"]).decode() == CSV
    response = seeded.post(client, seeded.url("taxonomy/apply"), fields, htmx=True)
    assert response.status_code == 200
    html = response.get_data(True)
    assert html.lstrip().startswith('<div id="taxonomy-result"')
    assert "Imported:</strong> 2 tags created, 1 updated; 1 group created." in html
    assert "Change set #" in html and 'hx-swap-oob="true"' in html
    export = client.get(seeded.url("taxonomy/export?format=csv")).get_data(True)
    assert "tag,topic::Finance.Tax,Taxes," in export
    again = seeded.post(client, seeded.url("taxonomy/apply"), fields, htmx=True)
    assert again.status_code == 409 and "preview the import again" in again.get_data(True)


def test_a_stale_preview_is_refused(seeded: UiWorld) -> None:
    client = seeded.client("manager")
    preview = seeded.post(client, seeded.url("taxonomy/preview"), _upload(CSV))
    fields = dict(re.findall(r'name="(content|format|mode|previewed)"[^>]*value="([^"]*)"',
                             preview.get_data(True)))
    create_tag(SYSTEM, seeded.world.sid, TagSpec(name="Meanwhile"))
    before = snapshot_counts()
    response = seeded.post(client, seeded.url("taxonomy/apply"), fields)
    assert response.status_code == 409 and "changed since the preview" in response.get_data(True)
    assert snapshot_counts() == before


def test_a_file_with_bad_rows_answers_422_naming_the_lines(seeded: UiWorld) -> None:
    client = seeded.client("editor")
    bad = "kind,name,color\ntag,a,#12\ntag,b.,\n"
    response = seeded.post(client, seeded.url("taxonomy/preview"), _upload(bad), htmx=True)
    assert response.status_code == 422
    html = response.get_data(True)
    assert "Line 2: color" in html and "Line 3: name" in html
    assert "Apply these changes" not in html


def test_rows_the_scope_refuses_are_listed_without_an_apply(seeded: UiWorld) -> None:
    client = seeded.client("manager")
    text = "kind,name,label\ntag,Discovered.Country.Canada,Kanada\n"
    response = seeded.post(client, seeded.url("taxonomy/preview"), _upload(text), htmx=True)
    assert response.status_code == 200
    html = response.get_data(True)
    assert "1 row cannot be imported" in html and "the tag is protected" in html
    assert "Apply these changes" not in html


def test_form_problems_stay_beside_their_fields(seeded: UiWorld) -> None:
    client = seeded.client("manager")
    response = seeded.post(client, seeded.url("taxonomy/preview"), {"mode": "merge"},
                           htmx=True)
    assert response.status_code == 422
    assert "choose a file or paste its text" in response.get_data(True)
    pasted = seeded.post(client, seeded.url("taxonomy/preview"),
                         {"text": '{"tags": [{"path": "Pasted"}]}', "mode": "mirror"},
                         htmx=True)
    html = pasted.get_data(True)
    assert pasted.status_code == 200 and "(JSON, mirror)" in html
    assert "Mirror mode deletes" in html


def test_viewers_and_editors_without_the_rights_are_refused(seeded: UiWorld) -> None:
    viewer = seeded.client("viewer")
    before = snapshot_counts()
    response = seeded.post(viewer, seeded.url("taxonomy/preview"), _upload(CSV), htmx=True)
    assert response.status_code == 403
    editor = seeded.client("editor")
    response = seeded.post(editor, seeded.url("taxonomy/preview"), _upload(CSV), htmx=True)
    assert response.status_code == 403 and "groups.write" in response.get_data(True)
    assert snapshot_counts() == before
