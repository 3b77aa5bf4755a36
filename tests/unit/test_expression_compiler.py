"""Tag expressions against a real database (SQLite and PostgreSQL): what each term
matches, operators, unknown names as errors with their positions, one statement to
resolve the names, and one SELECT to run."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from tests.unit.factories import SYSTEM, World
from webapp.extensions import db
from webapp.models import Resource
from webapp.services import assignments, groups, resources
from webapp.services.expressions.compiler import (
    compile_expression,
    glob_pattern,
    resolve,
)
from webapp.services.expressions.syntax import ExpressionError, parse
from webapp.services.resources import ResourceInput
from webapp.services.tags.creation import Provenance
from webapp.services.tags.deletion import delete_tag


@pytest.fixture
def tagged(world: World) -> None:
    """Six resources of ``world.scope`` with their tags, and a twin in the other scope.

    t1 table "orders": Address.email, sensitivity::pii
    t2 table "Ads_Spend" / ads-spend: Address.home.city, priority::high
    t3 table "100%_real": nothing
    s1 source "Facebook Ads" / facebook-ads: marketing, Discovered.Person Name (from feed)
    s2 source "Postgres" / pg: Address, and old (deleted since)
    f1 folder, no name: nothing
    """
    sid = world.sid
    groups.create_group(SYSTEM, sid, "sensitivity", public_id="tag_group_sensitivity")
    groups.create_group(SYSTEM, sid, "priority")
    groups.create_group(SYSTEM, sid, "empty")
    resources.register_resources(SYSTEM, sid, [
        ResourceInput("table", "t1", "orders", "orders"),
        ResourceInput("table", "t2", "Ads_Spend", "ads-spend"),
        ResourceInput("table", "t3", "100%_real", None),
        ResourceInput("source", "s1", "Facebook Ads", "facebook-ads"),
        ResourceInput("source", "s2", "Postgres", "pg"),
        ResourceInput("folder", "f1", None, None),
    ])
    assignments.attach(SYSTEM, sid, ["Address.email", "sensitivity::pii"], {"table": ["t1"]})
    assignments.attach(SYSTEM, sid, ["Address.home.city", "priority::high"],
                       {"table": ["t2"]})
    assignments.attach(SYSTEM, sid, ["marketing"], {"source": ["s1"]})
    assignments.attach(SYSTEM, sid, ["Discovered.Person Name"], {"source": ["s1"]},
                       provenance=Provenance(source="feed", protected=True))
    assignments.attach(SYSTEM, sid, ["Address", "old"], {"source": ["s2"]})
    assignments.attach(SYSTEM, sid, ["gone"], {"folder": ["f1"]})
    delete_tag(SYSTEM, sid, "old")
    delete_tag(SYSTEM, sid, "gone")
    other = world.other_scope.id
    assignments.attach(SYSTEM, other, ["Address.email", "marketing"], {"table": ["t1"]})


pytestmark = pytest.mark.usefixtures("tagged")


def found(world: World, text: str) -> list[str]:
    ids = compile_expression(world.sid, text)
    rows = db.session.scalars(
        select(Resource.external_id).where(Resource.id.in_(ids)).order_by(Resource.external_id)
    )
    return list(rows)


def problems(world: World, text: str) -> list[str]:
    with pytest.raises(ExpressionError) as caught:
        compile_expression(world.sid, text)
    assert {d.field for d in caught.value.details} == {"q"}
    return [d.message for d in caught.value.details]


# --- terms ------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("tag:Address.email", ["t1"]),
    ("tag:address.EMAIL", ["t1"]),
    ("tag:Address", ["s2"]),
    ("tag:Address.*", ["s2", "t1", "t2"]),
    ('tag:"Address".*', ["s2", "t1", "t2"]),
    ("tag:Address.home.*", ["t2"]),
    ("tag:sensitivity::pii", ["t1"]),
    ("tag: sensitivity::pii", None),  # a value must follow the colon (see errors)
    ('tag:"Discovered.Person Name"', ["s1"]),
    ("tag:Discovered.*", ["s1"]),
    ("group:sensitivity", ["t1"]),
    ("group:SENSITIVITY", ["t1"]),
    ("group:tag_group_sensitivity", ["t1"]),
    ("group:empty", []),
    ("type:table", ["t1", "t2", "t3"]),
    ("type:SOURCE", ["s1", "s2"]),
    ("type:file", []),
    ("name:orders", ["t1"]),
    ("name:ORD*", ["t1"]),
    ("name:*ads", ["s1"]),  # "Facebook Ads" (and its slug); "Ads_Spend" ends otherwise
    ("name:*-ads", ["s1"]),
    ("name:ads*", ["t2"]),
    ("name:p?", ["s2"]),  # the slug "pg"
    ("name:100%*", ["t3"]),
    ("name:*\\_*", []),  # a backslash is a character like any other
    ("name:*_*", ["t2", "t3"]),  # "_" is literal, not LIKE's one character
    ("name:*%*", ["t3"]),
    ("name:*", ["s1", "s2", "t1", "t2", "t3"]),  # f1 has neither name nor slug
    ("source:feed", ["s1"]),
    ("source:curated", ["s1", "s2", "t1", "t2"]),
    ("untagged", ["f1", "t3"]),
])
def test_terms(world: World, text: str, expected: list[str] | None) -> None:
    if expected is None:
        with pytest.raises(ExpressionError):
            found(world, text)
        return
    assert found(world, text) == expected


def test_name_matches_the_whole_name_or_slug() -> None:
    assert glob_pattern("*-ADS") == "%-ads"
    assert glob_pattern("a?b%c_d\\e") == "a_b\\%c\\_d\\\\e"


def test_deleted_tags_count_for_nothing(world: World) -> None:
    # s2 still holds the link to the deleted "old", f1 to "gone": hidden, as everywhere.
    assert found(world, "untagged") == ["f1", "t3"]
    assert problems(world, "tag:old") == [
        'at 5: unknown tag "old" (no live tag of this scope has that path)']


# --- operators --------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("type:table AND NOT group:sensitivity", ["t2", "t3"]),
    ("type:table -group:sensitivity", ["t2", "t3"]),
    ("tag:Address.* type:table", ["t1", "t2"]),
    ("tag:Address.* OR untagged", ["f1", "s2", "t1", "t2", "t3"]),
    ("group:priority OR group:sensitivity", ["t1", "t2"]),
    ("NOT untagged", ["s1", "s2", "t1", "t2"]),
    ("-name:*", ["f1"]),  # no name and no slug: NOT is two-valued, never NULL
    ("NOT name:orders", ["f1", "s1", "s2", "t2", "t3"]),
    ("type:source OR type:table AND untagged", ["s1", "s2", "t3"]),
    ("(type:source OR type:table) AND untagged", ["t3"]),
    ("NOT (type:source OR type:table)", ["f1"]),
    ("--untagged", ["f1", "t3"]),
    ("tag:marketing source:feed", ["s1"]),
    ("tag:marketing -source:feed", []),
])
def test_operators(world: World, text: str, expected: list[str]) -> None:
    assert found(world, text) == expected


def test_another_scopes_resources_never_match(world: World) -> None:
    assert found(world, "tag:marketing OR tag:Address.email") == ["s1", "t1"]
    theirs = compile_expression(world.other_scope.id, "tag:Address.email")
    rows = db.session.scalars(select(Resource.scope_id).where(Resource.id.in_(theirs)))
    assert list(rows) == [world.other_scope.id]


# --- unknown names ----------------------------------------------------------------------


def test_unknown_names_are_errors_with_their_positions(world: World) -> None:
    # Types are checked before anything is read, so they come alone.
    assert problems(world, "tag:x type:tabel") == [
        'at 12: unknown resource type "tabel"; known: source, transformation, destination, '
        "visualization, layer, folder, table, volume, datasource, column, project, node, file"]
    assert problems(world, "tag:Adress.email OR group:secret source:nowhere") == [
        'at 5: unknown tag "Adress.email" (no live tag of this scope has that path)',
        'at 27: unknown group "secret"',
        'at 41: unknown source "nowhere" (no tag of this scope comes from it)',
    ]


def test_another_scopes_names_are_unknown(world: World) -> None:
    groups.create_group(SYSTEM, world.other_scope.id, "theirs")
    assert problems(world, "group:theirs") == ['at 7: unknown group "theirs"']


def test_a_value_that_is_no_tag_path_says_why(world: World) -> None:
    [message] = problems(world, "tag:a..b")
    assert message.startswith('at 5: "a..b" is not a tag path: ')


def test_a_configured_source_without_tags_is_known(world: World) -> None:
    from webapp.services.external_sources import add_source

    add_source(SYSTEM, world.sid, name="crm", url="file:///nowhere.json")
    assert found(world, "source:crm") == []


# --- statements -------------------------------------------------------------------------


def test_names_resolve_in_one_statement(world: World, count_queries: Any) -> None:
    text = ("tag:Address.* tag:marketing group:sensitivity group:tag_group_sensitivity "
            "source:feed type:table name:x* untagged")
    expression, sid = parse(text), world.sid
    with count_queries() as counter:
        matcher = resolve(sid, expression)
        matcher.select_ids()
    assert counter.count == 1
    with count_queries() as counter:
        resolve(sid, parse("type:table name:x* untagged"))
    assert counter.count == 0  # nothing to look up


def test_one_select_whatever_the_terms(world: World, count_queries: Any) -> None:
    text = " OR ".join(f"(tag:Address.* group:priority -name:{n}*)" for n in range(30))
    statement = compile_expression(world.sid, text)
    db.session.expire_all()
    with count_queries() as counter:
        rows = db.session.scalars(statement).all()
    assert counter.count == 1 and len(rows) == 1
