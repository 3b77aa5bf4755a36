"""Hostile input to the API answers 4xx in the error envelope naming the field, never a
5xx, and writes nothing: control characters and NUL in stored text and client-chosen ids,
NUL and control characters in query strings and URLs, deeply nested JSON, page numbers past
64 bits, bodies over the size limit, and look-alike names (NFKC + casefold)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from tests.http.api.conftest import ApiWorld, error_of
from webapp.api.body_guard import MAX_JSON_DEPTH, nests_too_deep
from webapp.body_limit import DEFAULT_MAX_BODY_BYTES, max_body_bytes
from webapp.extensions import db
from webapp.models import AuditEvent, Resource, Tag, TagGroup
from webapp.services.paging import MAX_PAGE

SOURCE = "11111111-1111-1111-1111-111111111111"
# NUL, a leading unit separator (str.strip would remove it), a bell, DEL, a C1 control, a
# lone surrogate (sent as the JSON escape \ud800).
HOSTILE = ["\x00x", "\x1fleading", "in\x07side", "del\x7f", "c1\x85", "\ud800x"]


def counts() -> tuple[int, ...]:
    return tuple(db.session.scalar(select(func.count()).select_from(model)) or 0
                 for model in (Tag, TagGroup, Resource, AuditEvent))


def field_names(response: Any) -> list[str]:
    return [detail["field"] for detail in error_of(response)["details"]]


@pytest.fixture
def seeded(api: ApiWorld) -> dict[str, str]:
    """A group and a tag to point at; their public ids."""
    group = api.post("/api/v1/tag-groups", json={"identifier": "prio"}).get_json()["id"]
    tag = api.post("/api/v1/tags", json={"name": "base"}).get_json()["id"]
    return {"group": group, "tag": tag, "scope": api.world.scope.public_id}


# (method, path, body, field): a stored text of each route, given ``BAD``.
STORED_TEXTS: list[tuple[str, str, Callable[[dict[str, str], str], Any], str]] = [
    ("POST", "/api/v1/tags", lambda s, bad: {"name": bad}, "name"),
    ("POST", "/api/v1/tags", lambda s, bad: {"name": "ok", "label": bad}, "label"),
    ("POST", "/api/v1/tags", lambda s, bad: {"name": "ok", "description": bad},
     "description"),
    ("POST", "/api/v1/tags", lambda s, bad: {"name": "ok", "category": bad}, "category"),
    ("PATCH", "/api/v1/tags/{tag}", lambda s, bad: {"name": bad}, "name"),
    ("PUT", "/api/v1/tags/{tag}", lambda s, bad: {"description": bad}, "description"),
    ("POST", "/api/v1/tags/batch", lambda s, bad: [
        {"id": bad, "scopeId": s["scope"], "tagGroupId": s["group"], "identifier": "a",
         "label": "A"}], "[0].id"),
    ("POST", "/api/v1/tags/batch", lambda s, bad: [
        {"scopeId": s["scope"], "tagGroupId": s["group"], "identifier": bad,
         "label": "A"}], "[0].identifier"),
    ("POST", "/api/v1/tags/batch", lambda s, bad: [
        {"scopeId": s["scope"], "tagGroupId": s["group"], "identifier": "a",
         "label": bad}], "[0].label"),
    ("POST", "/api/v1/tag-groups", lambda s, bad: {"id": bad, "identifier": "g"}, "id"),
    ("POST", "/api/v1/tag-groups", lambda s, bad: {"identifier": bad}, "identifier"),
    ("POST", "/api/v1/tag-groups", lambda s, bad: {"identifier": "g", "label": bad},
     "label"),
    ("POST", "/api/v1/tag-groups", lambda s, bad: {"identifier": "g", "description": bad},
     "description"),
    ("PATCH", "/api/v1/tag-groups/{group}", lambda s, bad: {"identifier": bad},
     "identifier"),
    ("PATCH", "/api/v1/tag-groups/{group}", lambda s, bad: {"description": bad},
     "description"),
    ("POST", "/api/v1/columns/", lambda s, bad: [{"id": bad}], "[0].id"),
    ("POST", "/api/v1/nodes/", lambda s, bad: [{"id": "n1", "name": bad}], "[0].name"),
    ("POST", "/api/v1/nodes/", lambda s, bad: [{"id": "n1", "slug": bad}], "[0].slug"),
    ("POST", "/api/v1/nodes/", lambda s, bad: {"id": bad}, "id"),
    ("POST", "/api/v1/tags/attach", lambda s, bad: {"names": [bad], "sources": [SOURCE]},
     "names"),
    ("POST", "/api/v1/tag", lambda s, bad: {"tags": [{"name": bad}]}, "tags[0].name"),
    ("POST", "/api/v1/third-party/tags", lambda s, bad: {"name": bad}, "name"),
]


@pytest.mark.parametrize("bad", HOSTILE, ids=repr)
@pytest.mark.parametrize(("method", "path", "body", "field"), STORED_TEXTS,
                         ids=[f"{m} {p} {f}" for m, p, _, f in STORED_TEXTS])
def test_control_characters_in_stored_text_are_refused_before_anything_is_written(
        api: ApiWorld, seeded: dict[str, str], method: str, path: str,
        body: Callable[[dict[str, str], str], Any], field: str, bad: str) -> None:
    before = counts()
    response = api.call(method, path.format(**seeded), json=body(seeded, bad))
    assert response.status_code == 400, response.get_data(as_text=True)
    assert error_of(response)["code"] == "VALIDATION_FAILED"
    names = field_names(response)
    assert any(name == field or name.startswith(field) for name in names), names
    assert counts() == before


def test_descriptions_keep_line_breaks_and_tabs(api: ApiWorld) -> None:
    response = api.post("/api/v1/tags", json={"name": "multi", "description": "a\r\n\tb"})
    assert response.status_code == 201
    assert response.get_json()["description"] == "a\r\n\tb"


def test_white_space_around_a_name_is_trimmed_but_a_control_character_is_not(
        api: ApiWorld) -> None:
    assert api.post("/api/v1/tags", json={"name": " spaced \t"}).get_json()["name"] == "spaced"
    response = api.post("/api/v1/tags", json={"name": "\x1cspaced"})
    assert response.status_code == 400 and field_names(response) == ["name"]


def test_a_client_chosen_id_with_control_characters_is_refused_not_stripped(
        api: ApiWorld, seeded: dict[str, str]) -> None:
    """Seed 002: the id used to be stripped and stored, then looked up raw (500)."""
    before = counts()
    for bad in ("\x1f\x1ctag_mine", "tag_mine\x1f", "\x85tag_mine"):
        response = api.post("/api/v1/tags/batch", json=[{
            "id": bad, "scopeId": seeded["scope"], "tagGroupId": seeded["group"],
            "identifier": "mine", "label": "Mine"}])
        assert response.status_code == 400 and field_names(response) == ["[0].id"]
        response = api.post("/api/v1/columns/", json=[{"id": bad}])
        assert response.status_code == 400 and field_names(response) == ["[0].id"]
    assert counts() == before
    # White space around a resource id (tabs and line breaks too) is trimmed, as around a
    # name; the answer names the id as stored.
    response = api.post("/api/v1/columns/", json=[{"id": "\t c_9 \n"}])
    assert response.status_code == 201 and response.get_json()[0]["id"] == "c_9"


@pytest.mark.parametrize("bad", ["a\x00b", "\x07", "\x1fx"], ids=repr)
@pytest.mark.parametrize(("path", "parameter"), [
    ("/api/v1/tags", "search"), ("/api/v1/tags", "category"),
    ("/api/v1/tags", "parent_tag_id"), ("/api/v1/tag", "searchText"),
    ("/api/v1/tag", "source"), ("/api/v1/tag", "excludedSource"),
    ("/api/v1/tag", "excludedHierarchies"), ("/api/v1/sources/", "search"),
    ("/api/v1/sources/", "tag"), ("/api/v1/tags/{tag}/resources", "search"),
    ("/api/v1/tag-groups", "page"),
])
def test_control_characters_in_query_parameters_are_400(
        api: ApiWorld, seeded: dict[str, str], path: str, parameter: str, bad: str) -> None:
    response = api.get(path.format(**seeded), query_string={parameter: bad})
    assert response.status_code == 400, response.get_data(as_text=True)
    assert field_names(response) == [parameter]


def test_a_percent_encoded_nul_or_broken_utf8_in_the_url_is_not_a_5xx(
        api: ApiWorld, seeded: dict[str, str]) -> None:
    for path in ("/api/v1/tags/%00", "/api/v1/tag-groups/a%00b", "/api/v1/sources/%00",
                 "/api/v1/tag/a%00b", "/api/v1/tag/column/c%00_1/x"):
        for method in ("GET", "DELETE", "POST"):
            response = api.call(method, path, json=[{"name": "base"}])
            assert 400 <= response.status_code < 500, (method, path)
    response = api.get("/api/v1/tags/%00")
    assert response.status_code == 400 and field_names(response) == ["tag_id"]
    response = api.get("/api/v1/tags?search=%ED%A0%80%FF")
    assert response.status_code == 200  # undecodable bytes arrive as U+FFFD


@pytest.mark.parametrize("bad", ["a\x00b", "\ud800"], ids=repr)
def test_nul_or_a_lone_surrogate_in_any_json_string_is_400(
        api: ApiWorld, seeded: dict[str, str], bad: str) -> None:
    """Even where the string is only looked up: PostgreSQL refuses NUL in a parameter."""
    before = counts()
    cases = [
        ("/api/v1/tags/bulk-delete", {"tag_ids": [seeded["tag"], bad]}, "tag_ids[1]"),
        ("/api/v1/tags", {"name": "x", "parent_tag_id": bad}, "parent_tag_id"),
        ("/api/v1/tag/column/c_1", [{"name": bad}], "[0].name"),
        ("/api/v1/tags/detach", {"names": [bad], "sources": [SOURCE]}, "names[0]"),
        ("/api/v1/tag", {"tags": [{"name": "a.b"}], "rootTag": {"name": bad}},
         "rootTag.name"),
    ]
    for path, body, field in cases:
        response = api.post(path, json=body)
        assert response.status_code == 400, response.get_data(as_text=True)
        assert field_names(response) == [field]
    assert counts() == before


# --- nesting -------------------------------------------------------------------------------

BODY_ROUTES = [
    ("POST", "/api/v1/tags"), ("PATCH", "/api/v1/tags/{tag}"), ("PUT", "/api/v1/tags/{tag}"),
    ("POST", "/api/v1/tags/batch"), ("POST", "/api/v1/tags/bulk-delete"),
    ("POST", "/api/v1/tags/attach"), ("POST", "/api/v1/tags/detach"),
    ("POST", "/api/v1/tag"), ("POST", "/api/v1/tag/column/c_1"),
    ("POST", "/api/v1/third-party/tags"), ("POST", "/api/v1/tag-groups"),
    ("PATCH", "/api/v1/tag-groups/{group}"), ("POST", "/api/v1/sources/"),
]


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
def test_deeply_nested_json_is_400_on_every_json_route(
        api: ApiWorld, seeded: dict[str, str], method: str, path: str) -> None:
    before = counts()
    url = path.format(**seeded)
    for body in ("[" * 5000 + "]" * 5000, '{"a":' * 5000 + "1" + "}" * 5000,
                 "[" * 100_000, "[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1)):
        response = api.call(method, url, data=body,
                            headers={"Content-Type": "application/json"})
        assert response.status_code == 400, response.get_data(as_text=True)[:300]
        error = error_of(response)
        assert error["code"] == "MALFORMED_JSON" and field_names(response) == ["body"]
    # At the cap the body is parsed, and then refused for what it says, not its depth.
    at_cap = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    response = api.call(method, url, data=at_cap, headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and error_of(response)["code"] == "VALIDATION_FAILED"
    assert counts() == before


def test_brackets_inside_strings_do_not_count_as_nesting(api: ApiWorld) -> None:
    assert not nests_too_deep(json.dumps({"name": "[" * 1000, "x": ["{" * 50]}).encode())
    assert not nests_too_deep(json.dumps(['\\"[' * 100, '\\' * 7 + "[[" * 40]).encode())
    wide = json.dumps([[{"a": [n]} for n in range(5000)]]).encode()  # many, not deep
    assert not nests_too_deep(wide)
    assert nests_too_deep(b"[" * 33 + b"]" * 33) and not nests_too_deep(b"[" * 32 + b"]" * 32)
    assert nests_too_deep(b"[" * 40 + b"}" * 39)  # unpaired: refused as well
    response = api.post("/api/v1/tags", json={"name": "x", "description": "[{" * 500})
    assert response.status_code == 201


def test_a_nested_json_array_string_in_a_query_parameter_is_not_a_5xx(api: ApiWorld) -> None:
    for value in ("[" * 3000, "[" * 3000 + "]" * 3000):
        response = api.get("/api/v1/tag", query_string={"excludedHierarchies": value})
        assert response.status_code in (200, 400)


# --- paging -------------------------------------------------------------------------------

LIST_ROUTES = ["/api/v1/tags", "/api/v1/tag-groups", "/api/v1/sources/",
               "/api/v1/tags/{tag}/resources", "/api/v1/tags/{tag}/nodes",
               "/api/v1/tags/{tag}/files"]


@pytest.mark.parametrize("path", LIST_ROUTES)
def test_page_numbers_past_64_bits_are_400_and_past_the_end_an_empty_page(
        api: ApiWorld, seeded: dict[str, str], path: str) -> None:
    url = path.format(**seeded)
    for page in (2**63, 2**64 + 5, 10**30, MAX_PAGE + 1, "9" * 5000):
        response = api.get(url, query_string={"page": page})
        assert response.status_code == 400 and field_names(response) == ["page"]
    for per_page in (2**64, 201, 0, -1):
        response = api.get(url, query_string={"per_page": per_page})
        assert response.status_code == 400 and field_names(response) == ["per_page"]
    for page in (1000, MAX_PAGE):
        response = api.get(url, query_string={"page": page, "per_page": 200})
        assert response.status_code == 200
        body = response.get_json()
        assert body["results"] == [] and body["next"] is None


def test_the_limit_of_get_tag_is_bounded(api: ApiWorld) -> None:
    for limit in (2**64, 1001, 0):
        response = api.get("/api/v1/tag", query_string={"limit": limit})
        assert response.status_code == 400 and field_names(response) == ["limit"]


# --- size ---------------------------------------------------------------------------------


def test_the_body_limit_comes_from_the_environment() -> None:
    assert max_body_bytes({}) == DEFAULT_MAX_BODY_BYTES == 16 * 1024 * 1024
    assert max_body_bytes({"TAGWRIGHT_MAX_BODY_BYTES": "1000"}) == 1000
    assert max_body_bytes({"MAX_CONTENT_LENGTH": "2000"}) == 2000
    assert max_body_bytes({"TAGWRIGHT_MAX_BODY_BYTES": "1000",
                           "MAX_CONTENT_LENGTH": "2000"}) == 1000
    for wrong in ("0", "-5", "16M", "1e6"):
        with pytest.raises(RuntimeError, match="TAGWRIGHT_MAX_BODY_BYTES"):
            max_body_bytes({"TAGWRIGHT_MAX_BODY_BYTES": wrong})


def test_the_limit_is_enforced_by_default(app: Flask) -> None:
    assert app.config["MAX_CONTENT_LENGTH"] == DEFAULT_MAX_BODY_BYTES


def test_the_largest_legal_attach_fits_the_default_limit() -> None:
    """One name on 100,000 UUIDs, or 100 names (255 characters, each \\u-escaped) on 1000:
    both are legal (100,000 links) and both fit, with room to spare."""
    one_name = {"names": ["n" * 100], "sources": [SOURCE] * 100_000}
    many_names = {"names": ["\u00e9" * 255] * 100, "sources": [SOURCE] * 1000}
    for body in (one_name, many_names):
        assert len(json.dumps(body).encode()) < DEFAULT_MAX_BODY_BYTES // 3


@pytest.fixture
def small_limit(app: Flask) -> Any:
    saved = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = 10_000
    yield 10_000
    app.config["MAX_CONTENT_LENGTH"] = saved


def test_a_body_over_the_limit_is_413_before_it_is_read(
        api: ApiWorld, small_limit: int) -> None:
    before = counts()
    body = json.dumps({"names": ["x"], "sources": [SOURCE] * 1000})
    assert len(body) > small_limit
    response = api.post("/api/v1/tags/attach", data=body,
                        headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    error = error_of(response)
    assert error["code"] == "PAYLOAD_TOO_LARGE" and field_names(response) == ["body"]
    assert str(small_limit) in error["message"]
    # Refused on its declared length alone, even without a key.
    response = api.client.post("/api/v1/tags", data=body,
                               headers={"Content-Type": "application/json"})
    assert response.status_code == 413 and error_of(response)["code"] == "PAYLOAD_TOO_LARGE"
    # Just under the limit, the body is read as usual.
    fits = json.dumps({"names": ["x"], "sources": [SOURCE]})
    assert api.post("/api/v1/tags/attach", data=fits,
                    headers={"Content-Type": "application/json"}).status_code == 200
    assert counts()[0] == before[0] + 1


def test_a_chunked_body_over_the_limit_is_413(api: ApiWorld, small_limit: int) -> None:
    """No Content-Length (chunked transfer): reading stops at the limit with 413."""
    before = counts()
    body = json.dumps({"names": ["x"], "sources": [SOURCE] * 1000}).encode()
    response = api.client.post(
        "/api/v1/tags/attach", input_stream=io.BytesIO(body),
        headers={"Content-Type": "application/json", "x-api-key": api.manager,
                 "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True})
    assert response.status_code == 413
    assert error_of(response)["code"] == "PAYLOAD_TOO_LARGE"
    assert counts() == before
    small = json.dumps({"names": ["x"], "sources": [SOURCE]}).encode()
    response = api.client.post(
        "/api/v1/tags/attach", input_stream=io.BytesIO(small),
        headers={"Content-Type": "application/json", "x-api-key": api.manager,
                 "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True})
    assert response.status_code == 200  # a chunked body under the limit is read as usual


# --- look-alike names ---------------------------------------------------------------------

LOOK_ALIKES = ["Ｕｎｉｑｕｅｘ", "ᵁniquex", "UNIQUEX", "uniqueｘ"]


def test_look_alike_tag_names_clash_and_display_text_is_kept(api: ApiWorld) -> None:
    created = api.post("/api/v1/tags", json={"name": "UniqueX"})
    assert created.status_code == 201
    for name in LOOK_ALIKES:
        response = api.post("/api/v1/tags", json={"name": name})
        assert response.status_code == 409, name
        assert field_names(response) == ["name"]
    # Composed and decomposed accents are one name; the display text is kept as typed.
    first = api.post("/api/v1/tags", json={"name": "U\u0308ber"})
    assert first.status_code == 201 and first.get_json()["name"] == "U\u0308ber"
    response = api.post("/api/v1/tags", json={"name": "Über"})
    assert response.status_code == 409 and field_names(response) == ["name"]
    # A look-up by a look-alike finds the tag.
    attached = api.post("/api/v1/tags/attach", json={"names": ["Ｕｎｉｑｕｅｘ"],
                                                     "sources": [SOURCE]})
    assert attached.status_code == 200
    assert attached.get_json()[0]["id"] == created.get_json()["uuid"]
    assert db.session.scalar(select(func.count()).select_from(Tag)) == 2
    found = api.get("/api/v1/tags", query_string={"search": "ＵＮＩＱ"}).get_json()
    assert [row["name"] for row in found["results"]] == ["UniqueX"]


def test_look_alike_group_identifiers_and_batch_identifiers_clash(
        api: ApiWorld, seeded: dict[str, str]) -> None:
    for identifier in ("Ｐｒｉｏ", "PRIO", "ᴾrio"):
        response = api.post("/api/v1/tag-groups", json={"identifier": identifier})
        assert response.status_code == 409, identifier
        assert field_names(response) == ["identifier"]
    item = {"scopeId": seeded["scope"], "tagGroupId": seeded["group"], "label": "L"}
    assert api.post("/api/v1/tags/batch",
                    json=[{**item, "identifier": "Alpha"}]).status_code == 201
    response = api.post("/api/v1/tags/batch", json=[{**item, "identifier": "ＡＬＰＨＡ"}])
    assert response.status_code == 409
    response = api.post("/api/v1/tags", json={"name": "high", "category": "ｐｒｉｏ"})
    assert response.status_code == 201
    assert response.get_json()["category"] == "prio"  # the existing group, found by key


@pytest.mark.parametrize("name", ["a．b", "a‥b", "a：：b", "x⩴y", "：x", "a﹕"])
def test_a_look_alike_separator_is_refused_like_the_separator(api: ApiWorld, name: str
                                                               ) -> None:
    before = counts()
    response = api.post("/api/v1/tags", json={"name": name})
    assert response.status_code == 400 and field_names(response) == ["name"]
    response = api.post("/api/v1/tag-groups", json={"identifier": name})
    assert response.status_code == 400 and field_names(response) == ["identifier"]
    assert counts() == before


INVISIBLES = ["tag\ufe0f", "\u034ftag", "\u3164", "ta\u180bg", "tag\ufe00", "\u17b4tag",
              "\u2800", "t\u200bag"]


@pytest.mark.parametrize("name", INVISIBLES, ids=ascii)
def test_invisible_characters_are_refused_in_names_and_identifiers(
        api: ApiWorld, seeded: dict[str, str], name: str) -> None:
    """Each would make a name that looks like another (or like nothing), on every path that
    takes a name: native create, attach by name, group create, seed-004 batch."""
    before = counts()
    for path, body, field in (
            ("/api/v1/tags", {"name": name}, "name"),
            ("/api/v1/tags", {"name": "fine", "label": name}, "label"),
            ("/api/v1/tags/attach", {"names": [name], "sources": [SOURCE]}, "names[0]"),
            ("/api/v1/tag-groups", {"identifier": name}, "identifier"),
            ("/api/v1/tags/batch", [{"scopeId": seeded["scope"], "tagGroupId": seeded["group"],
                                     "identifier": name, "label": "L"}], "[0].identifier")):
        response = api.post(path, json=body)
        assert response.status_code == 400, (path, response.status_code)
        assert field_names(response) == [field], path
        assert "invisible" in error_of(response)["details"][0]["message"] \
            or "control" in error_of(response)["details"][0]["message"]
    assert counts() == before


def test_an_emoji_presentation_selector_is_part_of_a_name(api: ApiWorld) -> None:
    response = api.post("/api/v1/tags", json={"name": "love \u2764\ufe0f"})
    assert response.status_code == 201 and response.get_json()["name"] == "love \u2764\ufe0f"


def test_a_name_that_normalises_past_the_length_limits_is_refused(api: ApiWorld) -> None:
    """U+FDFA is one character and eighteen once normalised."""
    response = api.post("/api/v1/tags", json={"name": "\ufdfa" * 10})
    assert response.status_code == 400 and field_names(response) == ["name"]
    assert api.post("/api/v1/tags", json={"name": "\ufdfa" * 5}).status_code == 201
