"""Searching tags by their aliases (issue 13 §1): the list's search and the pickers'
(``search_tags``, ``assignable_only`` included) find a tag by any alias whose key holds the
term, set-based, and :func:`matched_aliases` says which alias matched, in one statement."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.factories import World, live_tag
from webapp.services.tags.aliases import set_aliases
from webapp.services.tags.creation import TagSpec, create_tags
from webapp.services.tags.deprecation import deprecate_tag
from webapp.services.tags.queries import (
    TagFilter,
    list_tags,
    matched_aliases,
    search_tags,
)


@pytest.fixture
def named(world: World) -> World:
    """``Customer.Email`` (aliases ``Legacy.Mail``, ``e-mail``), ``Customer.Phone`` (alias
    ``legacy.tel``), ``other``, and ``long.legacy-name`` (legacy in its own path)."""
    create_tags(world.editor, world.sid, [TagSpec("Customer.Email"), TagSpec("Customer.Phone"),
                                          TagSpec("other"), TagSpec("long.legacy-name")])
    set_aliases(world.editor, world.sid, "Customer.Email", ["Legacy.Mail", "e-mail"])
    set_aliases(world.editor, world.sid, "Customer.Phone", ["legacy.tel"])
    return world


def paths(tags: Any) -> list[str]:
    return [tag.path for tag in tags]


@pytest.mark.parametrize("term", ["LEGACY", "leg", "le", "legacy.", "Legacy.Mail"])
def test_a_search_finds_tags_by_an_alias_as_by_a_path(named: World, term: str) -> None:
    found = paths(search_tags(named.editor, named.sid, TagFilter(search=term)))
    wanted = {"le": ["Customer.Email", "Customer.Phone", "long.legacy-name"],
              "Legacy.Mail": ["Customer.Email"]}
    expected = wanted.get(term, ["Customer.Email", "Customer.Phone", "long.legacy-name"])
    if term == "legacy.":
        expected = ["Customer.Email", "Customer.Phone"]
    assert found == expected
    page = list_tags(named.editor, named.sid, TagFilter(search=term))
    assert paths(row.tag for row in page.items) == expected and page.total == len(expected)


def test_the_page_knows_which_alias_matched_in_one_statement(named: World,
                                                             count_queries: Any) -> None:
    tags = search_tags(named.editor, named.sid, TagFilter(search="legacy"))
    with count_queries() as counter:
        matched = matched_aliases("legacy", tags)
    assert counter.count == 1
    email, phone = live_tag(named.sid, "Customer.Email"), live_tag(named.sid, "Customer.Phone")
    assert email is not None and phone is not None
    # long.legacy-name matches by its own path: no alias to explain it.
    assert matched == {email.id: "Legacy.Mail", phone.id: "legacy.tel"}
    with count_queries() as counter:
        assert matched_aliases("customer", tags) == {}
        assert matched_aliases("", tags) == matched_aliases(None, tags) == {}
    assert counter.count == 1  # "customer": only the two tags it does not name are asked


def test_pickers_keep_their_rules_with_aliases(named: World) -> None:
    deprecate_tag(named.editor, named.sid, "Customer.Phone", None)
    picked = search_tags(named.editor, named.sid,
                         TagFilter(search="legacy", exclude_deprecated=True),
                         assignable_only=True)
    assert paths(picked) == ["Customer.Email", "long.legacy-name"]
    other_scope = search_tags(named.editor, named.sid, TagFilter(search="nothing-like-it"))
    assert other_scope == []


def test_a_search_by_alias_costs_the_same_whatever_the_number_of_matches(
        world: World, count_queries: Any) -> None:
    def statements(count: int) -> int:
        create_tags(world.editor, world.sid, [TagSpec(f"g{count}.t{i}") for i in range(count)])
        for i in range(count):
            set_aliases(world.editor, world.sid, f"g{count}.t{i}", [f"old{count}x.n{i}"])
        with count_queries() as counter:
            page = list_tags(world.editor, world.sid, TagFilter(search=f"old{count}x"))
            matched = matched_aliases(f"old{count}x", [row.tag for row in page.items])
        assert page.total == count and len(matched) == count
        return counter.count

    assert statements(3) == statements(30)
