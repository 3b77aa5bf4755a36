"""Preview of bulk attach/detach (exact, writes nothing, constant statements), the apply
that does what the preview said, and the outcome read back before and after an undo."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.factories import (
    SYSTEM,
    World,
    change_sets,
    events,
    fields,
    links,
    snapshot_counts,
)
from webapp.extensions import db
from webapp.services import assignments, groups, resources, undo
from webapp.services.actor import Actor
from webapp.services.errors import LimitExceeded, PermissionDenied, ValidationFailed
from webapp.services.link_plan import LinkAction
from webapp.services.link_preview import (
    apply_links,
    change_set_outcome,
    describe_names,
    preview_links,
)
from webapp.services.resource_selection import PatternField, PatternMode, ResourceCriteria
from webapp.services.resources import ResourceInput
from webapp.services.tags.queries import usage_counts

ATTACH, DETACH = LinkAction.ATTACH, LinkAction.DETACH
ADS = ResourceCriteria(pattern="-ads", mode=PatternMode.ENDS)


@pytest.fixture(autouse=True)
def fifty_sources(world: World) -> None:
    """Fifty sources, ten of which end in -ads (every test of the module starts here)."""
    seed(world, 50, ads_every=5)


def seed(world: World, count: int, *, ads_every: int, rtype: str = "source",
         prefix: str = "r") -> None:
    resources.register_resources(SYSTEM, world.sid, [
        ResourceInput(rtype, f"{prefix}{i:05d}",
                      f"{prefix} {i}" + (" Ads" if i % ads_every == 0 else ""),
                      f"{prefix}-{i}" + ("-ads" if i % ads_every == 0 else ""))
        for i in range(count)
    ])


def ads_ids(count: int = 50, every: int = 5, prefix: str = "r") -> list[str]:
    return [f"{prefix}{i:05d}" for i in range(count) if i % every == 0]


# --- attach -----------------------------------------------------------------------------


def test_attach_preview_counts_new_and_present_links_and_writes_nothing(world: World) -> None:
    assignments.attach(SYSTEM, world.sid, ["marketing"], {"source": ads_ids()[:4]})
    before = snapshot_counts()
    preview = preview_links(world.editor, world.sid, ATTACH, ["marketing", "Paid.social"], ADS)
    assert snapshot_counts() == before
    assert preview.resources == 10 and preview.by_type == {"source": 10}
    marketing, social = preview.plans
    assert (marketing.name, marketing.is_new, marketing.change, marketing.unchanged) == (
        "marketing", False, 6, 4)
    assert (social.name, social.is_new, social.change, social.unchanged) == (
        "Paid.social", True, 10, 0)
    assert preview.created == ["Paid", "Paid.social"]  # the missing ancestor too
    assert (preview.change, preview.unchanged, preview.refused, preview.replaced) == (
        16, 4, 0, 0)
    assert preview.has_effect
    # The sample: the first selected resources, with what happens to each.
    first = preview.sample[0]
    assert first.resource.external_id == "r00000" and first.cells == ("present", "add")
    assert [row.cells for row in preview.sample][4] == ("add", "add")
    assert len(preview.sample) == 10


def test_the_apply_does_what_the_preview_said(world: World) -> None:
    assignments.attach(SYSTEM, world.sid, ["marketing"], {"source": ads_ids()[:4]})
    preview = preview_links(world.editor, world.sid, ATTACH, ["marketing", "Paid.social"], ADS)
    applied = apply_links(world.editor, world.sid, ATTACH, ["marketing", "Paid.social"], ADS)
    assert (applied.resources, applied.changed, applied.unchanged) == (
        preview.resources, preview.change, preview.unchanged)
    assert applied.change_set_id == change_sets()[-1].id
    assert {(tag, rid) for tag, _, rid in links(world.sid)} == {
        (tag, rid) for tag in ("marketing", "paid.social") for rid in ads_ids()
    }
    rows = db.session.scalars(db.select(assignments.Assignment).where(
        assignments.Assignment.change_set_id == applied.change_set_id)).all()
    assert {(a.context, a.added_by_id) for a in rows} == {("manual", world.editor.user_id)}
    # Nothing left to do: a second preview says so.
    again = preview_links(world.editor, world.sid, ATTACH, ["marketing", "paid.social"], ADS)
    assert (again.change, again.unchanged, again.created) == (0, 20, [])
    assert not again.has_effect


def test_exclusive_group_replacement_is_previewed_per_rival_tag(world: World) -> None:
    groups.create_group(world.manager, world.sid, "priority", exclusive=True)
    assignments.attach(SYSTEM, world.sid, ["priority::low"], {"source": ads_ids()[:3]})
    assignments.attach(SYSTEM, world.sid, ["priority::medium"], {"source": ads_ids()[3:5]})
    assignments.attach(SYSTEM, world.sid, ["priority::high"], {"source": ads_ids()[5:6]})
    assignments.attach(SYSTEM, world.sid, ["priority::low"], {"source": ["r00001"]})  # not ads

    preview = preview_links(world.editor, world.sid, ATTACH, ["priority::high"], ADS)
    (plan,) = preview.plans
    assert (plan.change, plan.unchanged) == (9, 1)
    assert [(r.tag.qualified_name, r.winner, r.links) for r in preview.replacements] == [
        ("priority::low", "priority::high", 3), ("priority::medium", "priority::high", 2),
    ]
    assert preview.replaced == 5
    assert [t.path for t in preview.sample[0].losing] == ["low"]
    assert preview.sample[0].cells == ("add",)

    applied = apply_links(world.editor, world.sid, ATTACH, ["priority::high"], ADS)
    assert (applied.changed, applied.replaced) == (9, 5)
    assert ("priority::low", "source", "r00001") in links(world.sid)  # outside the selection
    outcome = change_set_outcome(world.editor, world.sid, applied.change_set_id)
    assert [(t.path, n) for t, n in outcome.replaced] == [("low", 3), ("medium", 2)]


def test_a_new_tag_of_an_exclusive_group_replaces_every_tag_of_the_group(world: World) -> None:
    groups.create_group(world.manager, world.sid, "priority", exclusive=True)
    assignments.attach(SYSTEM, world.sid, ["priority::low"], {"source": ads_ids()[:3]})
    preview = preview_links(world.editor, world.sid, ATTACH, ["priority::urgent"], ADS)
    assert preview.created == ["priority::urgent"] and preview.groups_created == []
    assert [(r.tag.path, r.links) for r in preview.replacements] == [("low", 3)]
    assert apply_links(world.editor, world.sid, ATTACH, ["priority::urgent"], ADS).replaced == 3


def test_new_groups_are_listed(world: World) -> None:
    preview = preview_links(world.editor, world.sid, ATTACH, ["campaign::spring"], ADS)
    assert preview.groups_created == ["campaign"] and preview.created == ["campaign::spring"]


def test_allowed_types_refuse_some_resources_which_the_apply_skips(world: World) -> None:
    groups.create_group(world.manager, world.sid, "pii", allowed_types=["table", "column"])
    seed(world, 20, ads_every=4, rtype="table", prefix="t")  # 5 ads tables
    preview = preview_links(world.editor, world.sid, ATTACH, ["pii::email", "paid"], ADS)
    assert preview.by_type == {"source": 10, "table": 5}
    pii, paid = preview.plans
    assert (pii.change, pii.refused, pii.refused_types) == (5, 10, ("source",))
    assert (paid.change, paid.refused) == (15, 0)
    assert preview.refused == 10
    assert preview.sample[0].resource.type == "source"
    assert preview.sample[0].cells == ("refused", "add")

    applied = apply_links(world.editor, world.sid, ATTACH, ["pii::email", "paid"], ADS)
    assert (applied.changed, applied.refused) == (20, 10)
    got = links(world.sid)
    assert {(rtype, rid) for tag, rtype, rid in got if tag == "pii::email"} == {
        ("table", rid) for rid in ads_ids(20, 4, "t")
    }
    (skip,) = events("assignments", "skip")
    assert skip.after == {"tag": "pii::email", "resources": 10,
                          "allowed_types": ["column", "table"]}
    outcome = change_set_outcome(world.editor, world.sid, applied.change_set_id)
    by_tag = {t.tag.qualified_name: t for t in outcome.tags}
    assert (by_tag["pii::email"].changed, by_tag["pii::email"].refused) == (5, 10)
    assert outcome.resources == 15 and outcome.refused == 10


def test_a_tag_no_selected_resource_may_carry_is_neither_created_nor_applied(
    world: World,
) -> None:
    groups.create_group(world.manager, world.sid, "pii", allowed_types=["column"])
    preview = preview_links(world.editor, world.sid, ATTACH, ["pii::email"], ADS)
    assert (preview.change, preview.refused, preview.created) == (0, 10, [])
    assert not preview.has_effect
    with pytest.raises(ValidationFailed) as caught:
        apply_links(world.editor, world.sid, ATTACH, ["pii::email"], ADS)
    assert fields(caught.value) == ["names"]


def test_two_tags_of_one_exclusive_group_are_refused(world: World) -> None:
    groups.create_group(world.manager, world.sid, "priority", exclusive=True)
    with pytest.raises(ValidationFailed) as caught:
        preview_links(world.editor, world.sid, ATTACH, ["priority::high", "priority::low"], ADS)
    assert fields(caught.value) == ["names"] and "exclusive" in caught.value.message


def test_bad_input_is_refused_by_field(world: World) -> None:
    for names_, field in (([], "names"), (["a..b"], "names[0]"), (["x"], "selection")):
        criteria = ResourceCriteria(pattern="nothing-matches") if field == "selection" else ADS
        with pytest.raises(ValidationFailed) as caught:
            preview_links(world.editor, world.sid, ATTACH, names_, criteria)
        assert fields(caught.value) == [field]
    with pytest.raises(LimitExceeded):
        preview_links(world.editor, world.sid, ATTACH, [f"t{i}" for i in range(101)], ADS)


def test_the_link_limit_applies_to_tags_times_resources(
    world: World, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from webapp.services import link_plan

    monkeypatch.setattr(link_plan, "MAX_LINKS", 19)
    with pytest.raises(LimitExceeded) as caught:
        preview_links(world.editor, world.sid, ATTACH, ["a", "b"], ADS)
    assert fields(caught.value) == ["resources"]
    with pytest.raises(LimitExceeded):
        apply_links(world.editor, world.sid, ATTACH, ["a", "b"], ADS)


# --- detach -----------------------------------------------------------------------------


def test_detach_preview_and_apply(world: World) -> None:
    assignments.attach(SYSTEM, world.sid, ["marketing"], {"source": ads_ids()[:4]})
    assignments.attach(SYSTEM, world.sid, ["marketing"], {"source": ["r00001"]})
    before = snapshot_counts()
    preview = preview_links(world.editor, world.sid, DETACH, ["marketing", "nope"], ADS)
    assert snapshot_counts() == before
    (plan,) = preview.plans
    assert (plan.name, plan.change, plan.unchanged) == ("marketing", 4, 6)
    assert preview.unknown == ["nope"] and preview.created == []
    assert preview.sample[0].cells == ("remove",) and preview.sample[9].cells == ("absent",)
    applied = apply_links(world.editor, world.sid, DETACH, ["marketing", "nope"], ADS)
    assert (applied.changed, applied.unchanged) == (4, 6)
    assert links(world.sid) == {("marketing", "source", "r00001")}
    outcome = change_set_outcome(world.editor, world.sid, applied.change_set_id)
    assert [(t.action, t.changed, t.unchanged, t.usage) for t in outcome.tags] == [
        ("detach", 4, 6, 1)]


def test_detach_of_unknown_names_only_writes_nothing(world: World) -> None:
    preview = preview_links(world.editor, world.sid, DETACH, ["nope"], ADS)
    assert preview.plans == [] and not preview.has_effect
    before = snapshot_counts()
    applied = apply_links(world.editor, world.sid, DETACH, ["nope"], ADS)
    assert applied.change_set_id is None and snapshot_counts() == before


# --- outcome and undo -------------------------------------------------------------------


def test_outcome_survives_the_undo_and_usage_returns(world: World) -> None:
    assignments.attach(SYSTEM, world.sid, ["marketing"], {"source": ads_ids()[:4]})
    marketing = assignments.attach(SYSTEM, world.sid, ["marketing"], {"source": ["r00001"]})
    usage_before = usage_counts([marketing.tags[0].id])
    applied = apply_links(world.editor, world.sid, ATTACH, ["marketing", "fresh"], ADS)
    outcome = change_set_outcome(world.editor, world.sid, applied.change_set_id)
    assert not outcome.undone and outcome.action == "attach"
    rows = [(t.tag.path, t.resources, t.changed, t.unchanged, t.usage, t.created)
            for t in outcome.tags]
    assert rows == [("marketing", 10, 6, 4, 11, False), ("fresh", 10, 10, 0, 10, True)]
    assert [t.path for t in outcome.created] == ["fresh"]
    assert (outcome.changed, outcome.unchanged, outcome.resources) == (16, 4, 10)

    undo.undo_change_set(world.editor, world.sid, applied.change_set_id)
    db.session.expire_all()
    after = change_set_outcome(world.editor, world.sid, applied.change_set_id)
    assert after.undone
    assert [(t.tag.path, t.changed, t.usage) for t in after.tags] == [
        ("marketing", 6, usage_before[marketing.tags[0].id]), ("fresh", 10, 0)]
    assert after.created[0].deleted_at is not None


def test_apply_reads_the_selection_again(world: World) -> None:
    preview = preview_links(world.editor, world.sid, ATTACH, ["paid"], ADS)
    assert preview.change == 10
    seed(world, 3, ads_every=1, prefix="late")  # three more -ads resources meanwhile
    applied = apply_links(world.editor, world.sid, ATTACH, ["paid"], ADS)
    assert (applied.resources, applied.changed) == (13, 13)


# --- describe names ---------------------------------------------------------------------


def test_describe_names(world: World) -> None:
    groups.create_group(world.manager, world.sid, "priority", exclusive=True)
    assignments.attach(SYSTEM, world.sid, ["Marketing"], {"source": ["r00000"]})
    got = describe_names(world.viewer, world.sid,
                         ["marketing", " priority :: high ", "team::red", "a..b", "MARKETING"])
    assert [(s.text, s.tag is not None, s.is_new, s.group_is_new, s.error is not None)
            for s in got] == [
        ("Marketing", True, False, False, False),
        ("priority::high", False, True, False, False),
        ("team::red", False, True, True, False),
        ("a..b", False, False, False, True),
    ]
    assert got[1].group is not None and got[1].group.exclusive


# --- permissions and cost ---------------------------------------------------------------


def test_only_writers_preview_and_apply(world: World) -> None:
    before = snapshot_counts()
    for actor in (world.viewer, world.outsider):
        with pytest.raises(PermissionDenied):
            preview_links(actor, world.sid, ATTACH, ["x"], ADS)
        with pytest.raises(PermissionDenied):
            apply_links(actor, world.sid, ATTACH, ["x"], ADS)
    assert snapshot_counts() == before


def test_preview_costs_the_same_whatever_the_number_of_tags_and_resources(
    world: World, count_queries: Any,
) -> None:
    groups.create_group(world.manager, world.sid, "level", exclusive=True)
    groups.create_group(world.manager, world.sid, "pii", allowed_types=["table"])
    sid, editor_id = world.sid, world.editor.user_id

    def cost(prefix: str, count: int, tags: int) -> int:
        seed(world, count, ads_every=2, prefix=prefix)
        criteria = ResourceCriteria(pattern=f"{prefix}-", mode=PatternMode.STARTS,
                                    on=PatternField.SLUG)
        wanted = [f"{prefix}{i}" for i in range(tags)] + [f"level::{prefix}",
                                                          f"pii::{prefix}"]
        assignments.attach(SYSTEM, world.sid, [*wanted[:tags // 2], f"level::{prefix}-old"],
                           {"source": [f"{prefix}{i:05d}" for i in range(0, count, 3)]})
        db.session.expire_all()
        actor = Actor(user_id=editor_id)
        with count_queries() as counter:
            preview = preview_links(actor, sid, ATTACH, wanted, criteria)
        assert preview.resources == count and preview.replaced > 0 and preview.refused > 0
        return counter.count

    small = cost("small", 10, 2)
    large = cost("large", 2_000, 40)
    assert small == large
    assert small <= 9  # BEGIN, role, tags, groups, counts, present, rivals, sample, its links


def test_ten_thousand_resources_apply_in_as_many_statements_as_ten(
    world: World, count_queries: Any,
) -> None:
    def applied(prefix: str, count: int) -> tuple[int, int, int]:
        seed(world, count, ads_every=1, prefix=prefix)
        criteria = ResourceCriteria(pattern=f"{prefix}-", mode=PatternMode.STARTS)
        names = [f"{prefix}-a", f"{prefix}-b"]
        preview = preview_links(world.editor, world.sid, ATTACH, names, criteria)
        db.session.expire_all()
        with count_queries() as counter:
            result = apply_links(world.editor, world.sid, ATTACH, names, criteria)
        return preview.change, result.changed, counter.count

    few_previewed, few_applied, few_statements = applied("few", 10)
    big_previewed, big_applied, big_statements = applied("big", 10_000)
    assert (few_previewed, few_applied) == (20, 20)
    assert (big_previewed, big_applied) == (20_000, 20_000)
    assert big_statements == few_statements
