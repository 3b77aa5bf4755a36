"""Aliases: unique against every name, resolved by every look-up, carried by a merge and
given back by its undo, never a way to create a twin."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.unit.factories import SYSTEM, World, count, fields, links, live_tag
from webapp.models import Tag
from webapp.services import assignments, undo
from webapp.services.errors import Conflict, ValidationFailed
from webapp.services.external_sources import add_source, refresh_external_tags
from webapp.services.tags.aliases import aliases_of, set_aliases
from webapp.services.tags.creation import TagSpec, create_tag, create_tags
from webapp.services.tags.deletion import delete_tag, restore_tag
from webapp.services.tags.hierarchy import update_tag
from webapp.services.tags.lookup import Reading, find_tag
from webapp.services.tags.merge import merge_tags
from webapp.services.tags.paths import tag_resource, untag_resource


@pytest.fixture
def named(world: World) -> World:
    """``Customer.Email`` with the aliases ``Legacy.Mail`` and ``e-mail``; a tag ``other``."""
    create_tags(world.editor, world.sid, [TagSpec("Customer.Email"), TagSpec("other")])
    set_aliases(world.editor, world.sid, "Customer.Email", ["Legacy.Mail", "e-mail"])
    return world


def tag_id(world: World, path: str) -> int:
    tag = live_tag(world.sid, path)
    assert tag is not None, path
    return tag.id


def test_aliases_are_unique_against_every_name(named: World) -> None:
    email = tag_id(named, "Customer.Email")
    assert aliases_of([email])[email] == ["e-mail", "Legacy.Mail"]
    for target, clash, message in (
            ("Customer.Email", ["other"], "a tag named 'other' already exists"),
            ("other", ["E-MAIL"], "'e-mail' is already an alias of 'Customer.Email'")):
        with pytest.raises(Conflict) as caught:
            set_aliases(named.editor, named.sid, target, clash)
        assert caught.value.message == message and fields(caught.value) == ["aliases"]
    with pytest.raises(ValidationFailed):  # its own name
        set_aliases(named.editor, named.sid, "other", ["OTHER"])
    with pytest.raises(ValidationFailed) as bad:
        set_aliases(named.editor, named.sid, "other", ["ok", "a..b"])
    assert fields(bad.value) == ["aliases[1]"]
    # A new tag, a rename or a restore may not take an alias's name either.
    with pytest.raises(Conflict):
        create_tag(named.editor, named.sid, TagSpec("legacy.mail"))
    with pytest.raises(Conflict):  # an alias as an ancestor
        create_tag(named.editor, named.sid, TagSpec("e-mail.work"))
    with pytest.raises(Conflict):
        update_tag(named.editor, named.sid, "other", name="e-mail")
    delete_tag(named.editor, named.sid, "other")
    set_aliases(named.editor, named.sid, "Customer.Email", ["other"])
    with pytest.raises(Conflict):
        restore_tag(named.editor, named.sid, "other")


def test_every_look_up_resolves_an_alias(named: World) -> None:
    email = tag_id(named, "Customer.Email")
    for reading in Reading:
        found = find_tag(named.sid, " legacy.mail ", reading=reading)
        assert found is not None and found.id == email
    before = count(Tag)
    outcome = assignments.attach(named.editor, named.sid, ["e-mail"], {"table": ["t1"]})
    assert [tag.id for tag in outcome.tags] == [email]
    assert count(Tag) == before  # no twin
    rows = tag_resource(named.editor, named.sid, "datasource", "22", ["Legacy.Mail"])
    assert [row.name for row in rows] == ["Customer.Email"]
    removed = untag_resource(named.editor, named.sid, "datasource", "22", "e-mail")
    assert removed.name == "Customer.Email"
    with pytest.raises(Conflict):  # never a way to make a tag under an alias
        assignments.attach(named.editor, named.sid, ["Legacy.Mail.work"], {"table": ["t1"]})


def test_a_merge_makes_the_merged_names_aliases_and_its_undo_takes_them_back(named: World
                                                                           ) -> None:
    set_aliases(named.editor, named.sid, "other", ["autre"])
    assignments.attach(named.editor, named.sid, ["other"], {"table": ["t9"]})
    merge_tags(named.editor, named.sid, "other", "Customer.Email")
    email = tag_id(named, "Customer.Email")
    assert aliases_of([email])[email] == ["autre", "e-mail", "Legacy.Mail", "other"]
    assert find_tag(named.sid, "autre").id == email  # type: ignore[union-attr]
    assert ("customer.email", "table", "t9") in links(named.sid)
    assignments.attach(named.editor, named.sid, ["other"], {"table": ["t10"]})  # the alias
    assert live_tag(named.sid, "other") is None
    change_set = undo.list_change_sets(named.editor, named.sid, undo.ChangeSetFilter()
                                       ).items[1]  # the merge, before the last attach
    assert change_set.summary.startswith("Merge")
    undo.undo_change_set(named.editor, named.sid, change_set.id)
    other = tag_id(named, "other")
    assert aliases_of([email, other]) == {email: ["e-mail", "Legacy.Mail"],
                                          other: ["autre"]}


def test_a_refresh_keeps_the_tag_an_incoming_alias_means(named: World, tmp_path: Path
                                                         ) -> None:
    feed = tmp_path / "feed.json"
    feed.write_text(json.dumps(["Catalog.Phone"]))
    add_source(SYSTEM, named.sid, "catalog", feed.as_uri())
    refresh_external_tags(SYSTEM, named.sid)
    phone = tag_id(named, "Catalog.Phone")
    set_aliases(SYSTEM, named.sid, phone, ["Catalog.Tel"])
    feed.write_text(json.dumps(["Catalog.Tel"]))  # the source now sends the old name
    (outcome,) = refresh_external_tags(SYSTEM, named.sid)
    assert outcome.error is None and outcome.counts.created == 0
    assert live_tag(named.sid, "Catalog.Phone") is not None  # kept, not deleted
    assert live_tag(named.sid, "Catalog.Tel") is None  # no twin
    feed.write_text(json.dumps(["Catalog.Tel.Home"]))
    (failed,) = refresh_external_tags(SYSTEM, named.sid)
    assert failed.error is not None and "alias" in failed.error
