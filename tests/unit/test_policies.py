"""Tag policies (issue 12 §2): managers' CRUD (audited, undoable), the compliance report
(set-based), the preview before a save, and enforcement on every path that adds or removes
links — attach, detach, bulk apply, merge, undo — refused whole (nothing written), while
report mode never refuses and a new resource is never refused for what it lacks."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.factories import SYSTEM, World, count, events, external_ids, key_actor
from webapp.extensions import db
from webapp.models import Assignment, Resource, Tag, TagPolicy
from webapp.services import assignments, groups, resources, undo
from webapp.services.actor import Permission
from webapp.services.errors import (
    Conflict,
    PermissionDenied,
    PolicyViolation,
    ValidationFailed,
)
from webapp.services.link_plan import LinkAction
from webapp.services.link_preview import apply_links, preview_links
from webapp.services.policies.compliance import (
    compliance_report,
    list_violations,
    preview_policy,
    stream_violations,
    violations_csv,
)
from webapp.services.policies.crud import (
    PolicyInput,
    create_policy,
    delete_policy,
    list_policies,
    patch_policy,
    update_policy,
)
from webapp.services.resource_selection import ResourceCriteria
from webapp.services.resources import ResourceInput
from webapp.services.tags import bulk_edit
from webapp.services.tags.bulk import move_tags
from webapp.services.tags.deletion import bulk_delete_tags, delete_tag, restore_tag
from webapp.services.tags.hierarchy import update_tag
from webapp.services.tags.merge import merge_tags
from webapp.services.tags.queries import TagFilter

attach, detach = assignments.attach, assignments.detach


@pytest.fixture
def tagged(world: World) -> World:
    """sensitivity (exclusive): t1 high, t2 low, t3 none; legacy.old on t3; one source."""
    groups.create_group(world.manager, world.sid, "sensitivity", exclusive=True)
    attach(SYSTEM, world.sid, ["sensitivity::high"], {"table": ["t1"]})
    attach(SYSTEM, world.sid, ["sensitivity::low"], {"table": ["t2"]})
    attach(SYSTEM, world.sid, ["legacy.old", "team"], {"table": ["t3"]})
    attach(SYSTEM, world.sid, ["team"], {"source": ["s1"]})
    return world


def tables_policy(mode: str = "enforce", **extra: Any) -> PolicyInput:
    values: dict[str, Any] = {"name": "Tables", "resource_types": ["table"],
                              "require_groups": ["sensitivity"], "forbid_tags": ["legacy"],
                              "mode": mode, **extra}
    return PolicyInput(**values)


def link_count() -> int:
    return count(Assignment)


# --- CRUD -------------------------------------------------------------------------------


def test_managers_create_policies_by_group_and_tag_names_audited(tagged: World) -> None:
    view = create_policy(tagged.manager, tagged.sid, tables_policy())
    assert (view.name, view.require_groups, view.forbid_tags, view.mode) == (
        "Tables", ["sensitivity"], ["legacy"], "enforce")
    assert [e.action for e in events("tag_policy")] == ["create"]
    assert [p.name for p in list_policies(tagged.viewer, tagged.sid)] == ["Tables"]
    with pytest.raises(PermissionDenied):
        create_policy(tagged.editor, tagged.sid, tables_policy(name="Other"))
    with pytest.raises(PermissionDenied):
        create_policy(key_actor(tagged.manager, Permission.TAGS_WRITE), tagged.sid,
                      tables_policy(name="Other"))
    create_policy(key_actor(tagged.manager, Permission.GROUPS_WRITE), tagged.sid,
                  tables_policy(name="By key"))
    with pytest.raises(Conflict):
        create_policy(tagged.manager, tagged.sid, tables_policy(name="tables"))


def test_bad_policies_name_every_field(tagged: World) -> None:
    with pytest.raises(ValidationFailed) as caught:
        create_policy(tagged.manager, tagged.sid, PolicyInput(
            name="", resource_types=["nope"], where="tag:missing", require_groups=["ghost"],
            forbid_tags=["nothing.here"], mode="strict"))
    fields = {d.field for d in caught.value.details}
    assert fields == {"name", "resource_types", "where", "mode", "require_groups[0]",
                      "forbid_tags[0]"}
    with pytest.raises(ValidationFailed) as caught:
        create_policy(tagged.manager, tagged.sid, PolicyInput(name="Empty"))
    assert caught.value.details[0].field == "require_groups"
    assert count(TagPolicy) == 0


def test_policy_changes_undo(tagged: World) -> None:
    view = create_policy(tagged.manager, tagged.sid, tables_policy("report"))
    update_policy(tagged.manager, tagged.sid, view.id, tables_policy("enforce", name="T2"))
    changed = db.session.get(TagPolicy, view.id)
    assert changed is not None and (changed.name, changed.mode) == ("T2", "enforce")
    last = max(e.change_set_id for e in events("tag_policy"))
    undo.undo_change_set(tagged.manager, tagged.sid, last)
    db.session.expire_all()
    back = db.session.get(TagPolicy, view.id)
    assert back is not None and (back.name, back.mode) == ("Tables", "report")
    delete_policy(tagged.manager, tagged.sid, view.id)
    assert count(TagPolicy) == 0
    last = max(e.change_set_id for e in events("tag_policy", "delete"))
    with pytest.raises(PermissionDenied):
        undo.undo_change_set(tagged.editor, tagged.sid, last)
    undo.undo_change_set(tagged.manager, tagged.sid, last)
    assert [p.name for p in list_policies(tagged.viewer, tagged.sid)] == ["Tables"]


# --- compliance -------------------------------------------------------------------------


def test_compliance_counts_covered_compliant_and_reasons(tagged: World) -> None:
    view = create_policy(tagged.manager, tagged.sid, tables_policy("report"))
    # t4 carries two tags of the exclusive group (stored before it was exclusive).
    attach(SYSTEM, tagged.sid, ["sensitivity::high"], {"table": ["t4"]})
    db.session.add(Assignment(tag_id=_tag_id(tagged.sid, "low"), resource_id=_resource_id(
        tagged.sid, "t4"), context="api"))
    db.session.commit()
    (report,) = compliance_report(tagged.viewer, tagged.sid)
    assert (report.covered, report.compliant, report.non_compliant) == (4, 2, 2)
    reasons = {(r.kind, r.subject): r.resources for r in report.reasons}
    assert reasons == {("missing", "sensitivity"): 1, ("several", "sensitivity"): 1,
                       ("forbidden", "legacy"): 1}
    page = list_violations(tagged.viewer, tagged.sid, view.id)
    assert page.total == 2
    assert [(v.external_id, v.reasons) for v in page.items] == [
        ("t3", ["no tag of group sensitivity", "carries forbidden tag legacy"]),
        ("t4", ["more than one tag of exclusive group sensitivity"]),
    ]
    _, rows = stream_violations(tagged.viewer, tagged.sid, view.id)
    assert [v.external_id for v in rows] == ["t3", "t4"]


def test_where_narrows_coverage(tagged: World) -> None:
    create_policy(tagged.manager, tagged.sid, PolicyInput(
        name="Team", where="tag:team", require_groups=["sensitivity"]))
    (report,) = compliance_report(tagged.viewer, tagged.sid)
    assert (report.covered, report.non_compliant) == (2, 2)  # t3 and s1


def test_preview_counts_what_a_policy_would_flag_and_writes_nothing(tagged: World) -> None:
    preview = preview_policy(tagged.manager, tagged.sid, tables_policy())
    assert count(TagPolicy) == 0
    assert (preview.compliance.covered, preview.compliance.non_compliant) == (3, 1)
    assert [v.external_id for v in preview.sample] == ["t3"]
    view = create_policy(tagged.manager, tagged.sid, PolicyInput(
        name="Tables", resource_types=["table"], forbid_tags=["legacy"]))
    tighter = preview_policy(tagged.manager, tagged.sid, PolicyInput(
        name="Tables", resource_types=[], require_groups=["sensitivity"],
        forbid_tags=["legacy"]), view.id)
    assert tighter.compliance.non_compliant == 2 and tighter.newly_flagged == 1  # s1


def test_a_query_per_policy_whatever_the_resource_count(tagged: World,
                                                        count_queries: Any) -> None:
    create_policy(tagged.manager, tagged.sid, tables_policy("report"))

    def cost() -> int:
        db.session.expire_all()
        with count_queries() as counter:
            compliance_report(tagged.viewer, tagged.sid)
        return counter.count

    cost()  # the actor's role, read once
    small = cost()
    attach(SYSTEM, tagged.sid, ["team"], {"table": external_ids(500)})
    assert cost() == small


# --- enforcement ------------------------------------------------------------------------


def test_enforced_attach_of_a_forbidden_tag_is_refused_whole(tagged: World) -> None:
    create_policy(tagged.manager, tagged.sid, tables_policy())
    tags, links = count(Tag), link_count()
    with pytest.raises(PolicyViolation) as caught:
        attach(tagged.editor, tagged.sid, ["legacy.new", "team"],
               {"table": ["t1", "t2", "new"], "source": ["s1"]})
    error = caught.value
    assert error.code == "POLICY_VIOLATION" and error.policy == "Tables"
    assert error.resources == ["table:t1", "table:t2", "table:new"] and error.count == 3
    assert (count(Tag), link_count()) == (tags, links)
    assert count(Resource, Resource.external_id == "new") == 0
    # Not covered: a source may carry it.
    attach(tagged.editor, tagged.sid, ["legacy.new"], {"source": ["s1"]})


def test_enforced_detach_of_the_last_required_tag_is_refused(tagged: World) -> None:
    create_policy(tagged.manager, tagged.sid, tables_policy())
    links = link_count()
    with pytest.raises(PolicyViolation) as caught:
        detach(tagged.editor, tagged.sid, ["sensitivity::high"], {"table": ["t1"]})
    assert "sensitivity" in caught.value.message and caught.value.resources == ["table:t1"]
    assert link_count() == links
    # Anything else may change; a resource already missing the group is not refused.
    detach(tagged.editor, tagged.sid, ["team"], {"table": ["t3"]})
    # Replacing inside the exclusive group keeps a tag of the group.
    attach(tagged.editor, tagged.sid, ["sensitivity::low"], {"table": ["t1"]})


def test_a_new_resource_is_never_refused_for_missing_tags(tagged: World) -> None:
    create_policy(tagged.manager, tagged.sid, tables_policy())
    assert attach(tagged.editor, tagged.sid, ["team"], {"table": ["brand-new"]}).changed == 1


def test_report_mode_never_refuses(tagged: World) -> None:
    create_policy(tagged.manager, tagged.sid, tables_policy("report"))
    attach(tagged.editor, tagged.sid, ["legacy.new"], {"table": ["t1"]})
    detach(tagged.editor, tagged.sid, ["sensitivity::low"], {"table": ["t2"]})
    merge_tags(tagged.editor, tagged.sid, "team", "legacy.old")


def test_bulk_apply_is_refused(tagged: World) -> None:
    create_policy(tagged.manager, tagged.sid, tables_policy())
    links = link_count()
    with pytest.raises(PolicyViolation):
        apply_links(tagged.editor, tagged.sid, LinkAction.ATTACH, ["legacy"],
                    ResourceCriteria(rtype="table"))
    with pytest.raises(PolicyViolation):
        apply_links(tagged.editor, tagged.sid, LinkAction.DETACH, ["sensitivity::low"],
                    ResourceCriteria(rtype="table"))
    assert link_count() == links


def test_the_bulk_preview_shows_what_the_apply_would_refuse(tagged: World) -> None:
    tables = ResourceCriteria(rtype="table")
    assert preview_links(tagged.editor, tagged.sid, LinkAction.ATTACH, ["legacy"],
                         tables).policy_refusal is None  # no policy yet
    create_policy(tagged.manager, tagged.sid, tables_policy())
    links = link_count()
    refusal = preview_links(tagged.editor, tagged.sid, LinkAction.ATTACH, ["legacy"],
                            tables).policy_refusal
    assert refusal is not None and refusal.policy == "Tables"
    assert refusal.resources == ["table:t1", "table:t2", "table:t3"] and refusal.count == 3
    new_child = preview_links(tagged.editor, tagged.sid, LinkAction.ATTACH,
                              ["team", "legacy.brand-new"], tables).policy_refusal
    assert new_child is not None and new_child.count == 3  # a tag it would create
    refusal = preview_links(tagged.editor, tagged.sid, LinkAction.DETACH,
                            ["sensitivity::low"], tables).policy_refusal
    assert refusal is not None and "required group sensitivity" in refusal.message
    # What the policy allows previews clean: sources are not covered; team is not forbidden.
    for action, name, criteria in ((LinkAction.ATTACH, "legacy", ResourceCriteria(
            rtype="source")), (LinkAction.ATTACH, "team", tables),
            (LinkAction.DETACH, "team", tables)):
        assert preview_links(tagged.editor, tagged.sid, action, [name],
                             criteria).policy_refusal is None
    assert link_count() == links


def test_deleting_the_last_required_tag_or_restoring_a_forbidden_one_is_refused(
        tagged: World) -> None:
    create_policy(tagged.manager, tagged.sid, tables_policy())
    with pytest.raises(PolicyViolation) as caught:  # t1's only sensitivity tag
        delete_tag(tagged.manager, tagged.sid, "sensitivity::high")
    assert caught.value.resources == ["table:t1"]
    outcome = None
    with pytest.raises(PolicyViolation):
        outcome = bulk_delete_tags(tagged.manager, tagged.sid, ["team", "sensitivity::low"])
    assert outcome is None and count(Tag, Tag.deleted_at.is_not(None)) == 0
    bulk_delete_tags(tagged.manager, tagged.sid, ["team"])  # not required: fine
    # legacy.old left t3 before the policy was enforced; bringing it back is refused.
    patch_policy(tagged.manager, tagged.sid, _policy_id(tagged), {"mode": "report"})
    delete_tag(tagged.manager, tagged.sid, "legacy.old")
    patch_policy(tagged.manager, tagged.sid, _policy_id(tagged), {"mode": "enforce"})
    with pytest.raises(PolicyViolation) as caught:
        restore_tag(tagged.manager, tagged.sid, "legacy.old")
    assert caught.value.resources == ["table:t3"]


def test_merge_into_a_forbidden_tag_or_out_of_a_required_group_is_refused(
        tagged: World) -> None:
    create_policy(tagged.manager, tagged.sid, tables_policy())
    attach(SYSTEM, tagged.sid, ["team"], {"table": ["t1"]})
    tags, links = count(Tag, Tag.deleted_at.is_(None)), link_count()
    with pytest.raises(PolicyViolation) as caught:
        merge_tags(tagged.editor, tagged.sid, "team", "legacy.old")
    assert caught.value.resources == ["table:t1"]  # t3 has it already, s1 is not covered
    with pytest.raises(PolicyViolation):
        merge_tags(tagged.editor, tagged.sid, "sensitivity::high", "team")
    assert (count(Tag, Tag.deleted_at.is_(None)), link_count()) == (tags, links)
    # Within the group: every resource keeps a tag of it.
    merge_tags(tagged.editor, tagged.sid, "sensitivity::high", "sensitivity::low")


def test_undo_that_would_break_an_enforced_policy_is_refused(tagged: World) -> None:
    view = create_policy(tagged.manager, tagged.sid, tables_policy("report"))
    detach(tagged.editor, tagged.sid, ["legacy.old"], {"table": ["t3"]})
    removal = max(cs for cs in {e.change_set_id for e in events("assignments", "detach")})
    attach(tagged.editor, tagged.sid, ["sensitivity::high"], {"table": ["t3"]})
    adding = max(cs for cs in {e.change_set_id for e in events("assignments", "attach")})
    update_policy(tagged.manager, tagged.sid, view.id, tables_policy("enforce"))
    links = link_count()
    for change_set in (removal, adding):  # the confirmation says so first
        refusal = undo.preview_undo(tagged.editor, tagged.sid, change_set).policy_refusal
        assert refusal is not None and refusal.resources == ["table:t3"]
    with pytest.raises(PolicyViolation):
        undo.undo_change_set(tagged.editor, tagged.sid, removal)  # gives legacy back
    with pytest.raises(PolicyViolation):
        undo.undo_change_set(tagged.editor, tagged.sid, adding)  # takes the last one
    assert link_count() == links


def test_enforcement_costs_the_same_statements_whatever_the_resource_count(
        tagged: World, count_queries: Any) -> None:
    create_policy(tagged.manager, tagged.sid, tables_policy(where="NOT tag:team"))

    def cost(prefix: str, resource_count: int, start: int) -> int:
        ids = external_ids(resource_count, start=start)
        attach(SYSTEM, tagged.sid, ["sensitivity::low"], {"table": ids})
        db.session.expire_all()
        with count_queries() as counter:
            attach(tagged.editor, tagged.sid, [f"{prefix}"], {"table": ids})
            detach(tagged.editor, tagged.sid, [f"{prefix}"], {"table": ids})
        return counter.count

    cost("warm", 5, 500_000)  # the actor's role, read once
    assert cost("small", 10, 0) == cost("large", 1_000, 1_000_000)


def _policy_id(world: World) -> int:
    return db.session.scalars(db.select(TagPolicy.id).where(
        TagPolicy.scope_id == world.sid)).one()


def _tag_id(scope_id: int, name: str) -> int:
    return db.session.scalars(
        db.select(Tag.id).where(Tag.scope_id == scope_id, Tag.name == name)).one()


def _resource_id(scope_id: int, external_id: str) -> int:
    return db.session.scalars(db.select(Resource.id).where(
        Resource.scope_id == scope_id, Resource.external_id == external_id)).one()


def test_moving_tags_under_a_forbidden_tag_or_out_of_a_required_group_is_refused(
        tagged: World) -> None:
    create_policy(tagged.manager, tagged.sid, tables_policy())
    assignments.attach(SYSTEM, tagged.sid, ["archive.box"], {"table": ["t1"]})
    groups.create_group(tagged.manager, tagged.sid, "other")
    before = {t.id: (t.path, t.group_id) for t in db.session.scalars(db.select(Tag))}
    # Under legacy: t1 would carry a tag of the forbidden subtree.
    with pytest.raises(PolicyViolation) as caught:
        update_tag(tagged.editor, tagged.sid, "archive", parent="legacy")
    assert caught.value.resources == ["table:t1"]
    with pytest.raises(PolicyViolation):  # the bulk move, the same
        move_tags(tagged.editor, tagged.sid, ["archive"], "legacy")
    # Out of sensitivity: t1's only tag of the required group.
    with pytest.raises(PolicyViolation) as caught:
        update_tag(tagged.manager, tagged.sid, "sensitivity::high", group="other")
    assert "required group sensitivity" in caught.value.message
    db.session.expire_all()
    assert {t.id: (t.path, t.group_id) for t in db.session.scalars(db.select(Tag))} == before
    # A tag no covered resource carries moves freely; so does a rename in place.
    assignments.attach(SYSTEM, tagged.sid, ["loose"], {"source": ["s1"]})
    update_tag(tagged.editor, tagged.sid, "loose", parent="legacy")
    update_tag(tagged.editor, tagged.sid, "archive", name="attic")


def test_the_bulk_edit_preview_names_the_policy_its_moves_would_break(tagged: World) -> None:
    create_policy(tagged.manager, tagged.sid, tables_policy())
    assignments.attach(SYSTEM, tagged.sid, ["archive", "loose"], {"table": ["t2"]})
    assignments.attach(SYSTEM, tagged.sid, ["free"], {"source": ["s1"]})
    tags_of = {path: _tag_id(tagged.sid, path) for path in ("archive", "free")}
    under_legacy = bulk_edit.Changes(parent="legacy")
    refusal = bulk_edit.preview_bulk_edit(
        tagged.editor, tagged.sid, bulk_edit.Selection([tags_of["archive"]]),
        under_legacy).policy_refusal
    assert refusal is not None and refusal.resources == ["table:t2"]
    assert bulk_edit.preview_bulk_edit(
        tagged.editor, tagged.sid, bulk_edit.Selection([tags_of["free"]]),
        under_legacy).policy_refusal is None
    ungrouped = bulk_edit.preview_bulk_edit(
        tagged.manager, tagged.sid, bulk_edit.Selection(filters=TagFilter(
            group="sensitivity")), bulk_edit.Changes(group=""))
    assert ungrouped.policy_refusal is not None
    assert ungrouped.policy_refusal.resources == ["table:t1", "table:t2"]
    with pytest.raises(PolicyViolation):  # and the apply refuses what the preview says
        bulk_edit.apply_bulk_edit(tagged.editor, tagged.sid,
                                  bulk_edit.Selection([tags_of["archive"]]), under_legacy)


def test_the_violations_csv_quotes_cells_a_spreadsheet_would_run(tagged: World) -> None:
    resources.register_resources(SYSTEM, tagged.sid, [
        ResourceInput("table", "@evil", '=HYPERLINK("http://x","y")', None)])
    view = create_policy(tagged.manager, tagged.sid, tables_policy("report"))
    _, chunks = violations_csv(tagged.viewer, tagged.sid, view.id)
    lines = b"".join(chunks).decode().splitlines()
    assert lines[0] == "type,id,name,reasons"
    evil = "table,'@evil,\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",no tag of group sensitivity"
    assert evil in lines
    assert any(line.startswith("table,t3,,") for line in lines)
