"""Auto-tagging rules: CRUD (managers, validated, audited, undoable), the preview that
is the bulk preview, the back-fill in one undoable change set, and the rules that run on
every registration path in the same transaction, without chaining, set-based."""

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
    fields,
    key_actor,
    links,
)
from webapp.extensions import db
from webapp.models import Assignment, AssignmentContext, Resource, TagRule
from webapp.services import assignments, groups, resource_import, resources, rules, undo
from webapp.services.actor import Actor, Permission
from webapp.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from webapp.services.link_plan import LinkAction
from webapp.services.link_preview import preview_links
from webapp.services.policies.crud import PolicyInput, create_policy
from webapp.services.resource_import import ImportLine
from webapp.services.resource_selection import build_criteria
from webapp.services.resources import ResourceInput
from webapp.services.tags.creation import TagSpec, create_tag

ADS_WHEN = "type:source AND name:*-ads"


@pytest.fixture(autouse=True)
def sources(world: World) -> None:
    """Twenty sources, four of which end in -ads, and a table ending in -ads."""
    resources.register_resources(SYSTEM, world.sid, [
        ResourceInput("source", f"s{i:03d}", f"Source {i}", f"s-{i}" + ("-ads" if i % 5 == 0
                                                                       else ""))
        for i in range(20)
    ] + [ResourceInput("table", "t1", "T", "t-ads")])


def ads_rule(world: World, **extra: Any) -> TagRule:
    return rules.create_rule(world.manager, world.sid, name="Ads sources", when=ADS_WHEN,
                             attach=["ads"], **extra)


def rule_links(scope_id: int) -> set[tuple[str, str, str]]:
    return {link for link in links(scope_id) if link[0] == "ads"}


# --- CRUD -------------------------------------------------------------------------------


def test_a_manager_saves_a_rule_and_it_is_audited(world: World) -> None:
    rule = ads_rule(world)
    assert (rule.name, rule.when, rule.attach, rule.enabled) == (
        "Ads sources", ADS_WHEN, ["ads"], True)
    assert rule.created_by_id == world.manager.user_id
    [event] = events("tag_rule", "create")
    assert event.after == {"name": "Ads sources", "when": ADS_WHEN, "attach": ["ads"],
                           "enabled": True}
    assert rules.list_rules(world.viewer, world.sid) == [rule]
    assert rule_links(world.sid) == set()  # saving does not back-fill


def test_editors_may_not_edit_rules_keys_need_groups_write(world: World) -> None:
    with pytest.raises(PermissionDenied):
        rules.create_rule(world.editor, world.sid, name="x", when="untagged", attach=["a"])
    with pytest.raises(PermissionDenied):
        rules.create_rule(key_actor(world.manager, Permission.TAGS_WRITE), world.sid,
                          name="x", when="untagged", attach=["a"])
    rule = rules.create_rule(key_actor(world.manager, Permission.GROUPS_WRITE,
                                       Permission.TAGS_WRITE),
                             world.sid, name="x", when="untagged", attach=["a"])
    with pytest.raises(PermissionDenied):
        rules.update_rule(world.editor, world.sid, rule.id, enabled=False)
    with pytest.raises(PermissionDenied):
        rules.delete_rule(world.editor, world.sid, rule.id)
    with pytest.raises(NotFound):
        rules.get_rule(world.outsider, world.other_scope.id, rule.id)


def test_a_rule_id_past_32_bits_is_not_found_on_every_database(world: World) -> None:
    for handle in (2**31, 2**63, 0, -1):
        with pytest.raises(NotFound):
            rules.get_rule(world.manager, world.sid, handle)
        with pytest.raises(NotFound):
            rules.delete_rule(world.manager, world.sid, handle)


def test_a_rule_is_validated_with_domain_field_names(world: World) -> None:
    with pytest.raises(ValidationFailed) as error:
        rules.create_rule(world.manager, world.sid, name=" ", when="tag:(", attach=["a..b"])
    assert fields(error.value) == ["name"]
    with pytest.raises(ValidationFailed) as error:
        rules.create_rule(world.manager, world.sid, name="r", when="tag:(", attach=["a..b"])
    assert set(fields(error.value)) == {"when", "attach[0]"}
    with pytest.raises(ValidationFailed) as error:  # an unknown tag is an error
        rules.create_rule(world.manager, world.sid, name="r", when="tag:Nowhere",
                          attach=["a"])
    assert fields(error.value) == ["when"]
    with pytest.raises(ValidationFailed) as error:
        rules.create_rule(world.manager, world.sid, name="r", when="untagged", attach=[])
    assert fields(error.value) == ["attach"]
    groups.create_group(world.manager, world.sid, "level", exclusive=True)
    with pytest.raises(ValidationFailed) as error:
        rules.create_rule(world.manager, world.sid, name="r", when="untagged",
                          attach=["level::a", "level::b"])
    assert fields(error.value) == ["attach"]
    ads_rule(world)
    with pytest.raises(Conflict) as error:
        rules.create_rule(world.manager, world.sid, name="ADS SOURCES", when="untagged",
                          attach=["a"])
    assert fields(error.value) == ["name"]
    assert count(TagRule) == 1


def test_update_delete_and_undo_each(world: World) -> None:
    rule = ads_rule(world)
    rules.update_rule(world.manager, world.sid, rule.id, enabled=False, attach=["ads", "x"])
    assert (rule.enabled, rule.attach) == (False, ["ads", "x"])
    undo.undo_change_set(world.manager, world.sid, change_sets()[-1].id)
    db.session.expire_all()
    rule = db.session.get(TagRule, rule.id)
    assert rule is not None and (rule.enabled, rule.attach) == (True, ["ads"])
    rule_id = rule.id
    rules.delete_rule(world.manager, world.sid, rule_id)
    assert count(TagRule) == 0
    undo.undo_change_set(world.manager, world.sid, change_sets()[-1].id)
    revived = db.session.get(TagRule, rule_id)
    assert revived is not None and revived.name == "Ads sources"
    create = next(cs for cs in change_sets() if cs.summary == "Create rule Ads sources")
    rules.update_rule(world.manager, world.sid, rule_id, name="Renamed")
    with pytest.raises(Conflict):  # renamed since
        undo.undo_change_set(world.manager, world.sid, create.id)
    with pytest.raises(PermissionDenied):  # undoing a rule edit needs groups.write
        undo.undo_change_set(world.editor, world.sid, change_sets()[-1].id)
    undo.undo_change_set(world.manager, world.sid, change_sets()[-1].id)
    undo.undo_change_set(world.manager, world.sid, create.id)
    assert count(TagRule) == 0


# --- preview and back-fill --------------------------------------------------------------


def test_the_preview_is_the_bulk_preview_of_the_matching_resources(world: World) -> None:
    preview = rules.preview_rule(world.editor, world.sid, ADS_WHEN, ["ads"])
    same = preview_links(world.editor, world.sid, LinkAction.ATTACH, ["ads"],
                         build_criteria(expression=ADS_WHEN, scope_id=world.sid))
    assert (preview.resources, preview.change, preview.created) == (4, 4, ["ads"])
    assert (same.resources, same.change, [r.resource.id for r in same.sample]) == (
        preview.resources, preview.change, [r.resource.id for r in preview.sample])
    nothing = rules.preview_rule(world.editor, world.sid, "name:nothing*", ["ads"])
    assert (nothing.resources, nothing.change, [p.name for p in nothing.plans]) == (
        0, 0, ["ads"])
    with pytest.raises(ValidationFailed) as error:
        rules.preview_rule(world.editor, world.sid, "tag:", ["ads"])
    assert fields(error.value) == ["when"]


def test_apply_back_fills_in_one_undoable_change_set_naming_the_rule(world: World) -> None:
    rule = ads_rule(world)
    before = rules.preview_rule(world.editor, world.sid, rule.when, rule.attach)
    result = rules.apply_rule(world.editor, world.sid, rule.id)
    assert (result.resources, result.changed, result.unchanged) == (4, before.change, 0)
    assert len(rule_links(world.sid)) == 4
    contexts = set(db.session.scalars(select(Assignment.context)))
    assert contexts == {AssignmentContext.RULE.value}
    [attach] = events("assignments", "attach")
    assert attach.after is not None and attach.after["rule"] == "Ads sources"
    assert attach.change_set_id == result.change_set_id
    again = rules.apply_rule(world.editor, world.sid, rule.id)
    assert (again.changed, again.unchanged) == (0, 4)
    undo.undo_change_set(world.editor, world.sid, result.change_set_id)
    assert rule_links(world.sid) == set()


# --- on registration --------------------------------------------------------------------


def test_enabled_rules_run_on_every_registration_path(world: World) -> None:
    ads_rule(world)
    rules.create_rule(world.manager, world.sid, name="Off", when="type:source",
                      attach=["never"], enabled=False)
    # API register (the register service)
    resources.register_resources(world.editor, world.sid, [
        ResourceInput("source", "n1", "New", "n1-ads"),
        ResourceInput("source", "n2", "New", "n2"),
        ResourceInput("source", "s000", "Existing", "s-0-ads"),  # registered: untouched
    ])
    # the UI's register form
    assert resource_import.register_resource(world.editor, world.sid,
                                              ResourceInput("source", "n3", None, "x-ads"))
    # CSV import
    resource_import.import_resources(world.editor, world.sid, [
        ImportLine(2, "source", "n4", "n4", "n4-ads"), ImportLine(3, "table", "n5", "", "t-ads"),
    ])
    # attach of unknown ids registers them (no name or slug: only the types can match)
    rules.create_rule(world.manager, world.sid, name="Tables", when="type:table",
                      attach=["tabular"])
    assignments.attach(world.editor, world.sid, ["manual"], {"table": ["n6"], "source": ["s001"]})
    assert rule_links(world.sid) == {("ads", "source", f"n{i}") for i in (1, 3, 4)}
    assert {link for link in links(world.sid) if link[0] == "tabular"} == {
        ("tabular", "table", "n6")}
    assert count(Assignment, Assignment.context == "rule") == 4
    named = {e.after["rule"] for e in events("assignments", "attach")
             if e.after and "rule" in e.after}
    assert named == {"Ads sources", "Tables"}


def test_rules_do_not_chain(world: World) -> None:
    create_tag(world.manager, world.sid, TagSpec("ads"))
    ads_rule(world)
    rules.create_rule(world.manager, world.sid, name="Second", when="tag:ads",
                      attach=["second"])
    resources.register_resources(world.editor, world.sid,
                                 [ResourceInput("source", "c1", "C", "c1-ads")])
    assert {link[0] for link in links(world.sid)} == {"ads"}


def test_a_rule_an_enforced_policy_refuses_is_skipped_and_the_resource_registered(
        world: World) -> None:
    assignments.attach(SYSTEM, world.sid, ["ads"], {"table": ["t1"]})
    create_policy(world.manager, world.sid, PolicyInput(
        name="No ads on sources", resource_types=["source"], forbid_tags=["ads"],
        mode="enforce"))
    ads_rule(world)
    resources.register_resources(world.editor, world.sid,
                                 [ResourceInput("source", "p1", "P", "p1-ads")])
    assert ("source", "p1") in {(r.type, r.external_id) for r in db.session.scalars(
        db.select(Resource))}
    assert rule_links(world.sid) == {("ads", "table", "t1")}
    [skip] = events("assignments", "skip")
    assert skip.after is not None
    assert (skip.after["policy"], skip.after["rule"], skip.after["resources"]) == (
        "No ads on sources", "Ads sources", 1)


def test_a_refused_registration_writes_no_rule_links(world: World) -> None:
    ads_rule(world)
    with pytest.raises(ValidationFailed):
        resource_import.import_resources(world.editor, world.sid, [
            ImportLine(2, "source", "z1", "", "z-ads"), ImportLine(3, "nope", "z2", "", ""),
        ])
    assert rule_links(world.sid) == set()


def test_registration_with_twenty_rules_costs_the_same_for_ten_or_ten_thousand(
    world: World, count_queries: Any,
) -> None:
    for index in range(20):
        rules.create_rule(world.manager, world.sid, name=f"rule {index}",
                          when=f"type:source AND name:*-{index}", attach=[f"auto{index}"])
    editor_id = world.editor.user_id

    def cost(prefix: str, number: int) -> int:
        items = [ResourceInput("source", f"{prefix}{i}", None, f"{prefix}{i}-{i % 20}")
                 for i in range(number)]
        db.session.expire_all()
        with count_queries() as counter:
            resources.register_resources(Actor(user_id=editor_id), world.sid, items)
        assert count(Assignment, Assignment.context == "rule") >= number
        return counter.count

    cost("warm", 20)  # creates the rules' tags
    small = cost("a", 20)
    large = cost("b", 10_000)
    assert small == large
