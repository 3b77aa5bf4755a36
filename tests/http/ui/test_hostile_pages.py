"""Hostile input to the web admin's pages answers a 4xx page or a form error beside the
field, never a 5xx, and writes nothing: NUL and control characters in forms, searches and
URLs, page numbers past 64 bits, bodies over the size limit, and look-alike names."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from flask import Flask
from sqlalchemy import func, select

from tests.http.ui.conftest import UiWorld
from tests.unit.factories import SYSTEM
from webapp.extensions import db
from webapp.models import AuditEvent, Resource, Tag, TagGroup
from webapp.services.groups import create_group
from webapp.services.tags.creation import TagSpec, create_tags


def counts() -> tuple[int, ...]:
    return tuple(db.session.scalar(select(func.count()).select_from(model)) or 0
                 for model in (Tag, TagGroup, Resource, AuditEvent))


def html(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(True)


@pytest.fixture
def seeded(ui: UiWorld) -> UiWorld:
    create_tags(SYSTEM, ui.world.sid, [TagSpec(f"tag-{n:02d}") for n in range(60)])
    create_group(SYSTEM, ui.world.sid, "team")
    return ui


BIG_PAGES = [str(2**63), str(2**64 + 5), str(10**30), "9" * 5000, "-1", "x", "٣"]


@pytest.mark.parametrize("page", BIG_PAGES)
def test_huge_page_numbers_on_pages_are_never_a_5xx(seeded: UiWorld, page: str) -> None:
    client = seeded.client("editor")
    response = seeded.get(client, seeded.url(f"tags?page={page}"))
    assert response.status_code == 200
    tag = db.session.scalar(select(Tag).where(Tag.path == "tag-00"))
    assert tag is not None
    for path in (f"tags?page={page}&q=tag", f"tags/{tag.public_id}?rpage={page}&hpage={page}",
                 f"hierarchy/roots?page={page}&skip={page}", f"audit?page={page}",
                 f"bulk?page={page}", f"resources?page={page}", f"groups?page={page}"):
        response = seeded.get(client, seeded.url(path))
        assert response.status_code < 500, (path, response.status_code)
        assert response.status_code in (200, 400, 404), path


def test_a_page_past_the_last_shows_the_last(seeded: UiWorld) -> None:
    client = seeded.client("editor")
    last = html(seeded.get(client, seeded.url("tags?page=1000")))
    huge = html(seeded.get(client, seeded.url(f"tags?page={2**70}")))
    assert "tag-59" in last and "tag-59" in huge


@pytest.mark.parametrize("term", ["a%00b", "%00"])
def test_a_nul_in_a_search_is_a_400_page_naming_the_field(seeded: UiWorld, term: str) -> None:
    client = seeded.client("editor")
    for path, field in ((f"tags?q={term}", "q"), (f"tags/options?q={term}", "q"),
                        (f"resources?q={term}", "q"), (f"hierarchy/find?open={term}", "open"),
                        (f"bulk/tag-options?q={term}", "q"), (f"audit?actor={term}", "actor")):
        response = seeded.get(client, seeded.url(path))
        assert response.status_code == 400, (path, response.status_code)
        assert f"“{field}” holds a NUL character" in html(response), path


def test_a_control_character_in_the_tag_search_is_a_clear_400(seeded: UiWorld) -> None:
    client = seeded.client("editor")
    response = seeded.get(client, seeded.url("tags?q=tag%07"))
    assert response.status_code == 400
    assert "must not contain control characters" in html(response)


def test_a_nul_in_the_url_is_a_400_page(seeded: UiWorld) -> None:
    client = seeded.client("editor")
    for path in ("tags/a%00b", "hierarchy/a%00b/children", "groups/a%00b/edit"):
        response = seeded.get(client, seeded.url(path))
        assert response.status_code == 400 and "holds a NUL character" in html(response)


@pytest.mark.parametrize("bad", ["\x00x", "\x1fleading", "in\x07side", "c1\x85"], ids=repr)
def test_control_characters_in_forms_are_refused_before_anything_is_written(
        seeded: UiWorld, bad: str) -> None:
    client = seeded.client("manager")
    before = counts()
    nul = "\x00" in bad
    cases = [
        ("tags", {"name": bad}, "name"),
        ("tags", {"name": "fine", "description": bad}, "description"),
        ("tags", {"name": "fine", "label": bad}, "label"),
        ("groups", {"identifier": bad, "label": "", "description": "", "color": ""},
         "identifier"),
        ("groups", {"identifier": "fine", "label": bad, "description": "", "color": ""},
         "label"),
        ("groups", {"identifier": "fine", "label": "", "description": bad, "color": ""},
         "description"),
        ("resources/register", {"resource_type": "node", "external_id": bad}, "external_id"),
        ("resources/register", {"resource_type": "node", "external_id": "n1", "name": bad},
         "name"),
    ]
    for path, data, field in cases:
        response = seeded.post(client, seeded.url(path), data, htmx=True)
        body = html(response)
        if nul:
            assert response.status_code == 400, (path, field)
            assert f"“{field}” holds a NUL character" in body
        else:
            assert 400 <= response.status_code < 500, (path, field, response.status_code)
            assert "must not contain control characters" in body, (path, field)
    assert counts() == before


def test_look_alike_names_clash_beside_the_field(seeded: UiWorld) -> None:
    client = seeded.client("manager")
    before = counts()
    response = seeded.post(client, seeded.url("tags"), {"name": "ｔａｇ-００"}, htmx=True)
    assert response.status_code == 409 and 'id="name-errors"' in html(response)
    response = seeded.post(client, seeded.url("groups"), {
        "identifier": "ＴＥＡＭ", "label": "", "description": "", "color": ""}, htmx=True)
    assert response.status_code == 409 and 'id="identifier-errors"' in html(response)
    response = seeded.post(client, seeded.url("tags"), {"name": "a．b"}, htmx=True)
    assert response.status_code == 422 and 'id="name-errors"' in html(response)
    response = seeded.post(client, seeded.url("tags"), {"name": "tag-00\ufe0f"}, htmx=True)
    assert response.status_code == 422 and 'id="name-errors"' in html(response)
    assert "invisible characters (U+FE0F)" in html(response)
    response = seeded.post(client, seeded.url("groups"), {
        "identifier": "team\u3164", "label": "", "description": "", "color": ""}, htmx=True)
    assert 400 <= response.status_code < 500 and 'id="identifier-errors"' in html(response)
    assert counts() == before


@pytest.fixture
def small_limit(app: Flask) -> Iterator[int]:
    saved = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = 10_000
    yield 10_000
    app.config["MAX_CONTENT_LENGTH"] = saved


def test_a_form_over_the_body_limit_is_a_413_page(seeded: UiWorld, small_limit: int) -> None:
    client = seeded.client("manager")
    before = counts()
    response = seeded.post(client, seeded.url("tags"),
                           {"name": "big", "description": "d" * (small_limit + 1)})
    assert response.status_code == 413
    assert "<html" in html(response) and "Too large" in html(response)
    assert counts() == before


def _chunked_form(seeded: UiWorld, client: Any, fields: dict[str, str]) -> Any:
    """A form posted without Content-Length (chunked transfer), as a proxy may send it."""
    body = urlencode({**fields, "csrf_token": seeded.token(client)}).encode()
    return client.post(seeded.url("tags"), input_stream=io.BytesIO(body),
                       headers={"Content-Type": "application/x-www-form-urlencoded",
                                "Transfer-Encoding": "chunked"},
                       environ_overrides={"wsgi.input_terminated": True})


def test_a_chunked_form_over_the_body_limit_is_a_413_and_saves_nothing(
        seeded: UiWorld, small_limit: int) -> None:
    """Werkzeug stops reading a chunked body at the limit without an error; the cut-short
    form must not be saved as if it were whole."""
    client = seeded.client("manager")
    before = counts()
    response = _chunked_form(seeded, client, {"name": "cut-short",
                                              "description": "d" * (small_limit * 2)})
    assert response.status_code == 413
    assert "Too large" in html(response)
    assert counts() == before
    response = _chunked_form(seeded, client, {"name": "whole", "description": "fits"})
    assert response.status_code in (200, 302, 303)
    assert db.session.scalar(select(Tag).where(Tag.path == "whole")) is not None


def test_a_wrong_method_on_a_page_is_a_405_page_naming_the_allowed_ones(
        seeded: UiWorld) -> None:
    client = seeded.client("manager")
    for htmx in (False, True):
        response = seeded.post(client, seeded.url("audit"), {}, htmx=htmx, method="PUT")
        assert response.status_code == 405
        assert set(response.headers["Allow"].split(", ")) >= {"GET", "HEAD"}
        assert "Method not allowed" in html(response)
    assert seeded.post(client, "/login", {}, method="DELETE").headers["Allow"]
