"""Attach and detach many names × many resources: creation of missing tags, registration
of unknown resources, idempotence, all-or-nothing, exclusive groups, allowed types,
limits, permissions, audit, and a constant number of statements per call."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from tests.unit.factories import (
    SYSTEM,
    World,
    change_sets,
    count,
    events,
    external_ids,
    fields,
    key_actor,
    links,
    live_tag,
    snapshot_counts,
)
from webapp.extensions import db
from webapp.models import Assignment, AssignmentRemoval, Resource, Tag, TagGroup
from webapp.services import assignments, groups, resources, undo
from webapp.services.actor import Actor, Permission
from webapp.services.errors import LimitExceeded, PermissionDenied, ValidationFailed
from webapp.services.link_plan import MAX_LINKS, MAX_NAMES
from webapp.services.resources import ResourceInput
from webapp.services.tags.creation import Provenance, TagSpec, create_tag, create_tags
from webapp.services.tags.deletion import delete_tag

attach = assignments.attach
detach = assignments.detach


# --- attach -----------------------------------------------------------------------------


def test_attach_many_names_to_many_resources(world: World) -> None:
    outcome = attach(world.editor, world.sid, ["Address.email", "prio::high", "finance"],
                     {"table": ["t1", "t2"], "source": ["s1"]})
    assert [t.qualified_name for t in outcome.tags] == ["Address.email", "prio::high",
                                                        "finance"]
    assert (outcome.resources, outcome.changed, outcome.already_present, outcome.replaced) == (
        3, 9, 0, 0,
    )
    # Missing tags and their ancestors were created, and the group on the fly.
    assert sorted(db.session.scalars(select(Tag.path_key))) == [
        "address", "address.email", "finance", "prio::high",
    ]
    assert count(TagGroup, TagGroup.identifier == "prio") == 1
    # Unknown resources were registered.
    assert sorted(db.session.execute(select(Resource.type, Resource.external_id)).tuples()) == [
        ("source", "s1"), ("table", "t1"), ("table", "t2"),
    ]
    assert links(world.sid) == {
        (tag, rtype, rid)
        for tag in ("address.email", "prio::high", "finance")
        for rtype, rid in (("table", "t1"), ("table", "t2"), ("source", "s1"))
    }
    change_set = change_sets()[-1]
    rows = db.session.scalars(select(Assignment)).all()
    assert {(a.added_by_id, a.context, a.change_set_id) for a in rows} == {
        (world.editor.user_id, "api", change_set.id),
    }
    assert all(a.added_at.tzinfo is not None for a in rows)


def test_attach_is_idempotent(world: World) -> None:
    refs = {"table": ["t1", "t2"], "folder": ["f1"]}
    attach(world.editor, world.sid, ["a", "b"], refs)
    before = links(world.sid)
    again = attach(world.editor, world.sid, ["A", "b", " a "], refs)
    assert [t.path for t in again.tags] == ["a", "b"]  # names deduplicated by key
    assert (again.changed, again.already_present, again.resources) == (0, 6, 3)
    assert links(world.sid) == before
    assert count(Assignment) == 6 and count(Tag) == 2 and count(Resource) == 3

    partly = attach(world.editor, world.sid, ["a", "c"],
                    {"table": ["t1", "t1", "t3"], "folder": ["f1"]})
    assert (partly.resources, partly.changed, partly.already_present) == (3, 4, 2)
    assert count(Assignment) == 10


def test_external_ids_with_any_characters_round_trip(world: World) -> None:
    odd = ['quote"inside', "back\\slash", "üß/😀", "123", "1e5", "null", "[1]", " padded ",
           "x" * 255]
    outcome = attach(world.editor, world.sid, ["odd"], {"file": odd})
    assert outcome.changed == len(odd)
    stored = set(db.session.scalars(select(Resource.external_id)))
    assert stored == {i.strip() for i in odd}
    assert detach(world.editor, world.sid, ["odd"], {"file": odd}).changed == len(odd)


def test_attach_keeps_registered_resources_and_their_names(world: World) -> None:
    resources.register_resources(world.editor, world.sid,
                                 [ResourceInput("table", "t1", name="Orders")])
    attach(world.editor, world.sid, ["x"], {"table": ["t1"]})
    [resource] = db.session.scalars(select(Resource)).all()
    assert (resource.external_id, resource.name) == ("t1", "Orders")


def test_attach_records_context_and_provenance(world: World) -> None:
    attach(SYSTEM, world.sid, ["Discovered.Passport"], {"column": ["ds_1_passport"]},
           context=assignments.AssignmentContext.RULE,
           provenance=Provenance(source="scanner", system_created=True, protected=True))
    [link] = db.session.scalars(select(Assignment)).all()
    assert (link.context, link.added_by_id) == ("rule", None)
    tag = live_tag(world.sid, "discovered.passport")
    assert tag is not None and (tag.source, tag.protected) == ("scanner", True)


def test_attach_with_a_deleted_name_creates_a_new_tag(world: World) -> None:
    old = create_tag(world.editor, world.sid, TagSpec("temp"))
    delete_tag(world.editor, world.sid, old.id)
    outcome = attach(world.editor, world.sid, ["TEMP"], {"table": ["t1"]})
    assert outcome.tags[0].id != old.id and outcome.tags[0].path == "TEMP"


def test_create_missing_false_is_all_or_nothing(world: World) -> None:
    create_tags(world.editor, world.sid, [TagSpec("known"), TagSpec("gone")])
    delete_tag(world.editor, world.sid, "gone")
    before = snapshot_counts()
    for names_, field in ((["known", "unknown"], "names[1]"), (["known", "gone"], "names[1]"),
                          (["g::new"], "names[0]")):
        with pytest.raises(ValidationFailed) as caught:
            attach(world.editor, world.sid, names_, {"table": ["t1", "t2"]},
                   create_missing=False)
        assert fields(caught.value) == [field]
        assert "nothing was added" in caught.value.message
    assert snapshot_counts() == before
    outcome = attach(world.editor, world.sid, ["KNOWN"], {"table": ["t1"]},
                     create_missing=False)
    assert outcome.changed == 1 and count(Tag) == 2


# --- detach -----------------------------------------------------------------------------


def test_detach_removes_only_the_named_links(world: World) -> None:
    attach(world.editor, world.sid, ["a", "b", "g::c"], {"table": ["t1", "t2"],
                                                          "source": ["s1"]})
    outcome = detach(world.editor, world.sid, ["A", "g::C", "never.existed"],
                     {"table": ["t1", "unregistered"], "source": ["s1"]})
    assert [t.qualified_name for t in outcome.tags] == ["a", "g::c"]
    assert (outcome.changed, outcome.resources) == (4, 3)
    assert links(world.sid) == {
        ("a", "table", "t2"), ("b", "table", "t1"), ("b", "table", "t2"),
        ("b", "source", "s1"), ("g::c", "table", "t2"),
    }
    # Tags stay, unknown names are not created, unknown resources not registered.
    assert count(Tag) == 3 and count(Resource) == 3
    # What was removed is kept for undo, with its origin.
    removed = db.session.scalars(select(AssignmentRemoval)).all()
    assert len(removed) == 4
    assert {r.change_set_id for r in removed} == {change_sets()[-1].id}
    assert {r.origin_change_set_id for r in removed} == {change_sets()[-2].id}
    assert {r.added_by_id for r in removed} == {world.editor.user_id}


def test_detach_of_unknown_names_changes_nothing(world: World) -> None:
    attach(world.editor, world.sid, ["a"], {"table": ["t1"]})
    before = snapshot_counts()
    outcome = detach(world.editor, world.sid, ["x", "y.z"], {"table": ["t1"]})
    assert (outcome.tags, outcome.changed) == ([], 0)
    assert snapshot_counts() == before
    # A deleted tag is unknown to detach as well.
    delete_tag(world.editor, world.sid, "a")
    assert detach(world.editor, world.sid, ["a"], {"table": ["t1"]}).changed == 0
    assert count(Assignment) == 1


# --- exclusive groups and allowed types -------------------------------------------------


def test_an_exclusive_group_replaces_the_old_tag(world: World) -> None:
    groups.create_group(world.manager, world.sid, "priority", exclusive=True)
    attach(world.editor, world.sid, ["priority::low", "topic"], {"table": ["t1", "t2"]})
    attach(world.editor, world.sid, ["priority::medium"], {"table": ["t2"]})
    outcome = attach(world.editor, world.sid, ["priority::high"],
                     {"table": ["t1", "t2", "t3"]})
    assert (outcome.changed, outcome.replaced) == (3, 2)
    assert links(world.sid) == {
        ("priority::high", "table", "t1"), ("priority::high", "table", "t2"),
        ("priority::high", "table", "t3"), ("topic", "table", "t1"), ("topic", "table", "t2"),
    }
    removed = {(r.tag_id, r.change_set_id) for r in db.session.scalars(select(AssignmentRemoval))}
    low = live_tag(world.sid, "priority::low")
    medium = live_tag(world.sid, "priority::medium")
    assert low is not None and medium is not None
    assert {tag_id for tag_id, _ in removed} == {low.id, medium.id}
    # Each tag that lost links has an event, so its history shows this change set.
    replace_events = events("assignments", "replace")
    assert [(e.change_set_id, e.object_id, e.after) for e in replace_events] == [
        (change_sets()[-2].id, low.id, {"tag": "priority::low", "resources": 1}),  # by medium
        (change_sets()[-1].id, low.id, {"tag": "priority::low", "resources": 1}),
        (change_sets()[-1].id, medium.id, {"tag": "priority::medium", "resources": 1}),
    ]
    history = undo.list_change_sets(world.viewer, world.sid, undo.ChangeSetFilter(tag_id=low.id))
    assert change_sets()[-1].id in {s.id for s in history.items}
    # Attaching the tag a resource already carries replaces nothing.
    again = attach(world.editor, world.sid, ["priority::high"], {"table": ["t1"]})
    assert (again.changed, again.replaced, again.already_present) == (0, 0, 1)


def test_two_tags_of_one_exclusive_group_in_one_call_fail(world: World) -> None:
    groups.create_group(world.manager, world.sid, "priority", exclusive=True)
    attach(world.editor, world.sid, ["priority::low"], {"table": ["t1"]})
    before = snapshot_counts()
    with pytest.raises(ValidationFailed) as caught:
        attach(world.editor, world.sid, ["priority::high", "other", "PRIORITY::urgent"],
               {"table": ["t1", "t2"]})
    assert fields(caught.value) == ["names"]
    assert "exclusive" in caught.value.message
    assert snapshot_counts() == before  # no tags created, no resource registered
    assert links(world.sid) == {("priority::low", "table", "t1")}
    # A non-exclusive group takes several.
    groups.create_group(world.manager, world.sid, "topic")
    assert attach(world.editor, world.sid, ["topic::a", "topic::b"],
                  {"table": ["t1"]}).changed == 2


def test_allowed_types_are_enforced(world: World) -> None:
    groups.create_group(world.manager, world.sid, "pii", allowed_types=["column", "datasource"])
    before = snapshot_counts()
    for refs in ({"table": ["t1"]}, {"column": ["c1"], "table": ["t1"]}):
        with pytest.raises(ValidationFailed) as caught:
            attach(world.editor, world.sid, ["pii::email", "free"], refs)
        assert fields(caught.value) == ["names"]
        assert "table" in caught.value.message
    assert snapshot_counts() == before
    outcome = attach(world.editor, world.sid, ["pii::email", "free"],
                     {"column": ["c1"], "datasource": ["d1"]})
    assert outcome.changed == 4
    # Ungrouped tags go anywhere.
    assert attach(world.editor, world.sid, ["free"], {"table": ["t1"]}).changed == 1


# --- validation and limits --------------------------------------------------------------


@pytest.mark.parametrize(
    ("names_", "refs", "field"),
    [
        ([], {"table": ["t"]}, "names"),
        ("a", {"table": ["t"]}, "names"),  # a string is not a list of names
        (["ok", "a..b"], {"table": ["t"]}, "names[1]"),
        (["ok", "x" * 101], {"table": ["t"]}, "names[1]"),
        (["ok"], {}, "resources"),
        (["ok"], {"table": []}, "resources"),
        (["ok"], {"tables": ["t"]}, "resources"),
        (["ok"], {"table": ["t", " "]}, "tables[1]"),
        (["ok"], {"table": ["t" * 256]}, "tables[0]"),
        (["ok"], {"table": "t1"}, "tables"),  # not one resource per character
        (["ok"], {"table": {"t1"}}, "tables"),
        (["ok"], [("table", ["t1"])], "resources"),
    ],
)
def test_attach_and_detach_validate(world: World, names_: Any, refs: Any, field: str) -> None:
    before = snapshot_counts()
    for call in (attach, detach):
        with pytest.raises(ValidationFailed) as caught:
            call(world.editor, world.sid, names_, refs)
        assert fields(caught.value) == [field]
    assert snapshot_counts() == before


def test_limits(world: World) -> None:
    before = snapshot_counts()
    too_many_names = [f"n{i}" for i in range(MAX_NAMES + 1)]
    for call in (attach, detach):
        with pytest.raises(LimitExceeded) as caught:
            call(world.editor, world.sid, too_many_names, {"table": ["t"]})
        assert fields(caught.value) == ["names"]
    # 11 × 10,000 = 110,000 links > 100,000 (and the names alone are fine).
    many = {"table": external_ids(10_000)}
    for call in (attach, detach):
        with pytest.raises(LimitExceeded) as caught:
            call(world.editor, world.sid, [f"n{i}" for i in range(11)], many)
        assert fields(caught.value) == ["resources"]
    with pytest.raises(LimitExceeded):
        attach(world.editor, world.sid, ["one"], {"table": external_ids(MAX_LINKS + 1)})
    assert snapshot_counts() == before
    # Exactly 100 names is allowed.
    outcome = attach(world.editor, world.sid, [f"n{i}" for i in range(MAX_NAMES)],
                     {"table": ["t"]})
    assert outcome.changed == MAX_NAMES


def test_the_largest_allowed_attach(world: World) -> None:
    create_tags(SYSTEM, world.sid, [TagSpec(f"bulk{i}") for i in range(10)])
    ids = external_ids(10_000)
    outcome = attach(world.editor, world.sid, [f"bulk{i}" for i in range(10)], {"table": ids})
    assert (outcome.changed, outcome.resources) == (MAX_LINKS, 10_000)
    assert count(Assignment) == MAX_LINKS and count(Resource) == 10_000
    # And it is all gone again in one detach.
    assert detach(world.editor, world.sid, ["bulk0", "bulk9"], {"table": ids}).changed == 20_000
    assert count(Assignment) == 80_000


# --- statement count --------------------------------------------------------------------


def test_attach_costs_the_same_number_of_statements_whatever_the_resource_count(
    world: World, count_queries: Any
) -> None:
    groups.create_group(world.manager, world.sid, "level", exclusive=True)
    sid, editor_id = world.sid, world.editor.user_id

    def cost(prefix: str, resource_count: int, start: int) -> int:
        names_ = [f"{prefix}.tag{i}" for i in range(9)] + [f"level::{prefix}"]
        create_tags(SYSTEM, sid, [TagSpec(name) for name in names_])
        ids = external_ids(resource_count, start=start)
        # Half the resources are registered already and carry a rival exclusive tag.
        attach(SYSTEM, sid, [f"level::{prefix}-old"], {"table": ids[::2]})
        db.session.expire_all()
        actor = Actor(user_id=editor_id)
        with count_queries() as counter:
            outcome = attach(actor, sid, names_, {"table": ids})
        assert outcome.changed == 10 * resource_count
        assert outcome.replaced == len(ids[::2])
        return counter.count

    small = cost("small", 10, start=0)
    large = cost("large", 2_000, start=1_000_000)
    assert small == large
    assert small <= 20


def test_detach_costs_the_same_number_of_statements_whatever_the_resource_count(
    world: World, count_queries: Any
) -> None:
    sid, editor_id = world.sid, world.editor.user_id

    def cost(prefix: str, resource_count: int, start: int) -> int:
        names_ = [f"{prefix}{i}" for i in range(10)]
        ids = external_ids(resource_count, start=start)
        attach(SYSTEM, sid, names_, {"table": ids})
        db.session.expire_all()
        with count_queries() as counter:
            outcome = detach(Actor(user_id=editor_id), sid, names_, {"table": ids})
        assert outcome.changed == 10 * resource_count
        return counter.count

    assert cost("small", 10, 0) == cost("large", 2_000, 1_000_000)


# --- permissions, scopes, audit ---------------------------------------------------------


def test_only_writers_of_the_scope_attach_and_detach(world: World) -> None:
    attach(world.editor, world.sid, ["a"], {"table": ["t1"]})
    before = snapshot_counts()
    for actor in (world.viewer, world.outsider,
                  key_actor(world.editor, Permission.TAGS_READ, Permission.TAGS_CREATE)):
        for call in (attach, detach):
            with pytest.raises(PermissionDenied):
                call(actor, world.sid, ["a"], {"table": ["t1", "t2"]})
    assert snapshot_counts() == before
    writer_key = key_actor(world.editor, Permission.TAGS_WRITE)
    assert attach(writer_key, world.sid, ["a"], {"table": ["t2"]}).changed == 1
    assert change_sets()[-1].via == "api"


def test_scopes_are_isolated(world: World) -> None:
    attach(world.editor, world.sid, ["shared.name"], {"table": ["t1"]})
    other = world.other_scope.id
    outcome = attach(world.outsider, other, ["shared.name"], {"table": ["t1"]})
    assert outcome.changed == 1
    assert outcome.tags[0].scope_id == other
    assert count(Tag) == 4 and count(Resource) == 2
    # Detaching in one scope leaves the other alone.
    assert detach(world.outsider, other, ["shared.name"], {"table": ["t1"]}).changed == 1
    assert links(world.sid) == {("shared.name", "table", "t1")}
    assert links(other) == set()


def test_attach_and_detach_are_audited_in_one_change_set(world: World) -> None:
    attach(world.editor, world.sid, ["Address.email", "x"], {"column": ["c1", "c2"]})
    change_set = change_sets()[-1]
    assert (change_set.actor_id, change_set.via) == (world.editor.user_id, "web")
    by_type = [(e.object_type, e.action) for e in change_set.events]
    assert by_type.count(("tag", "create")) == 3
    assert ("resources", "register") in by_type
    attached = [e for e in change_set.events if e.object_type == "assignments"]
    assert [(e.action, e.after) for e in attached] == [
        ("attach", {"tag": "Address.email", "resources": 2}),
        ("attach", {"tag": "x", "resources": 2}),
    ]
    [registered] = [e for e in change_set.events if e.object_type == "resources"]
    assert registered.after == {"count": 2}

    detach(world.manager, world.sid, ["x"], {"column": ["c1"]})
    [event] = events("assignments", "detach")
    assert event.after == {"tag": "x", "resources": 1}
    assert db.session.get(type(change_set), event.change_set_id).actor_id == (
        world.manager.user_id
    )
