"""Services behind the tag pages: sources, one row, detail, tagged resources, bulk move and
merge (one change set each, all or nothing)."""

from __future__ import annotations

import pytest

from tests.unit.factories import SYSTEM, World, change_sets, tag_state
from webapp.services import assignments
from webapp.services.errors import (
    Conflict,
    LimitExceeded,
    PermissionDenied,
    ValidationFailed,
)
from webapp.services.paging import PageRequest
from webapp.services.tags import bulk as tag_bulk
from webapp.services.tags import queries as tag_queries
from webapp.services.tags.creation import Provenance, TagSpec, create_tag, create_tags
from webapp.services.tags.deletion import delete_tag
from webapp.services.tags.hierarchy import update_tag
from webapp.services.tags.lookup import Reading, find_tag, live_tag


def test_sources_row_and_detail(world: World) -> None:
    sid = world.scope.id
    create_tags(world.editor, sid, [TagSpec("A.b.c")])
    create_tag(SYSTEM, sid, TagSpec("ext"), Provenance(source="dbt"))
    assignments.attach(world.editor, sid, ["A.b.c"], {"node": ["n1", "n2"]})
    assert tag_queries.tag_sources(world.viewer, sid) == ["curated", "dbt"]

    leaf = find_tag(sid, "A.b.c")
    assert leaf is not None
    row = tag_queries.get_tag_row(world.viewer, sid, leaf.id)
    assert (row.tag.id, row.usage) == (leaf.id, 2)

    detail = tag_queries.tag_detail(world.viewer, sid, leaf.id)
    assert [t.path for t in detail.ancestors] == ["A", "A.b"]
    assert detail.creator is not None and detail.creator.email == "editor@example.com"
    assert detail.usage == 2
    assert tag_queries.tag_detail(world.viewer, sid, "ext").creator is None


def test_detail_and_resources_of_a_deleted_tag(world: World) -> None:
    sid = world.scope.id
    tag = create_tag(world.editor, sid, TagSpec("gone"))
    assignments.attach(world.editor, sid, ["gone", "kept"], {"node": ["n1", "n2", "n3"]})
    delete_tag(world.editor, sid, tag.id)
    detail = tag_queries.tag_detail(world.viewer, sid, tag.id)
    assert detail.tag.deleted_at is not None and detail.usage == 3
    page = tag_queries.tagged_resources(world.viewer, sid, tag.id, PageRequest(1, 2))
    assert page.total == 3 and page.pages == 2
    assert [row.resource.external_id for row in page.items] == ["n1", "n2"]
    assert [t.path for t in page.items[0].tags] == ["kept"]  # live tags only


def test_tagged_resources_is_a_fixed_number_of_queries(world: World, count_queries) -> None:  # type: ignore[no-untyped-def]
    sid = world.scope.id
    tag = create_tag(world.editor, sid, TagSpec("t"))
    assignments.attach(world.editor, sid, ["t", "u"], {"node": [f"n{i}" for i in range(30)]})
    tag_queries.tagged_resources(world.viewer, sid, tag.id)
    counts = []
    for per_page in (3, 30):
        with count_queries() as counter:
            tag_queries.tagged_resources(world.viewer, sid, tag.id, PageRequest(1, per_page))
        counts.append(counter.count)
    assert counts[0] == counts[1]


def test_move_tags_is_one_change_set_and_all_or_nothing(world: World) -> None:
    sid = world.scope.id
    made = create_tags(world.editor, sid, [
        TagSpec("a"), TagSpec("b"), TagSpec("dest.b"), TagSpec("c")])
    a, b, _, c = made
    before = len(change_sets())
    moved = tag_bulk.move_tags(world.editor, sid, [a.id, c.id], "dest")
    assert [t.path for t in moved] == ["dest.a", "dest.c"]
    assert len(change_sets()) == before + 1
    assert change_sets()[-1].summary == "Move 2 tag(s) to dest"

    state = tag_state(sid)
    with pytest.raises(Conflict) as caught:
        tag_bulk.move_tags(world.editor, sid, [b.id], "dest")  # dest.b exists
    assert caught.value.details[0].field == "parent"
    assert caught.value.message.startswith("b: ")
    assert tag_state(sid) == state

    back = tag_bulk.move_tags(world.editor, sid, [a.id], None)
    assert back[0].path == "a"
    with pytest.raises(ValidationFailed) as caught:
        tag_bulk.move_tags(world.editor, sid, [a.id], "nowhere")
    assert caught.value.details[0].field == "parent"
    with pytest.raises(ValidationFailed):
        tag_bulk.move_tags(world.editor, sid, [], "dest")
    with pytest.raises(LimitExceeded):
        tag_bulk.move_tags(world.editor, sid, list(range(1, 1002)), "dest")
    with pytest.raises(PermissionDenied):
        tag_bulk.move_tags(world.viewer, sid, [a.id], "dest")


def test_merge_into_merges_each_source_and_skips_the_target(world: World) -> None:
    sid = world.scope.id
    a, b, keep = create_tags(world.editor, sid, [
        TagSpec("a"), TagSpec("b"), TagSpec("keep")])
    assignments.attach(world.editor, sid, ["a"], {"node": ["n1"]})
    assignments.attach(world.editor, sid, ["b"], {"node": ["n2"]})
    before = len(change_sets())
    merged = tag_bulk.merge_into(world.editor, sid, [a.id, b.id, keep.id], "keep")
    assert merged.kept.id == keep.id and merged.count == 2
    assert len(change_sets()) == before + 1
    # One count, the tags merged away, in the change set's title as on the pages.
    assert change_sets()[-1].summary == merged.summary == "Merge 2 tags into keep"
    assert tag_queries.get_tag_row(world.viewer, sid, keep.id).usage == 2
    assert [p for p, *_ in tag_state(sid)] == ["keep"]

    with pytest.raises(ValidationFailed) as caught:
        tag_bulk.merge_into(world.editor, sid, [keep.id], "missing")
    assert caught.value.details[0].field == "target"
    with pytest.raises(ValidationFailed) as caught:  # the target alone: nothing to merge
        tag_bulk.merge_into(world.editor, sid, [keep.id], "keep")
    assert caught.value.details[0].field == "target"
    assert len(change_sets()) == before + 1
    with pytest.raises(PermissionDenied):
        tag_bulk.merge_into(world.viewer, sid, [keep.id], "keep")


def test_merge_summaries_count_in_words() -> None:
    assert tag_bulk.merge_summary(1, "x") == "Merge 1 tag into x"
    assert tag_bulk.merge_summary(3, "x") == "Merge 3 tags into x"
    assert tag_bulk.merge_summary(1200, "g::x") == "Merge 1,200 tags into g::x"


def test_tag_events_are_what_each_change_set_did_to_the_tag(world: World) -> None:
    sid = world.scope.id
    made = create_tag(world.editor, sid, TagSpec("a"))
    update_tag(world.editor, sid, made.id, name="b")
    create_tag(world.editor, sid, TagSpec("other"))
    ids = [change_set.id for change_set in change_sets()][-3:]
    found = tag_queries.tag_events(world.viewer, sid, made.id, ids)
    assert [[e.action for e in found[i]] for i in ids] == [["create"], ["update"], []]
    assert found[ids[1]][0].before["name"] == "a" and found[ids[1]][0].after["name"] == "b"
    assert tag_queries.tag_events(world.viewer, sid, made.id, []) == {}


def test_pickers_read_paths_never_ids(world: World) -> None:
    sid = world.scope.id
    first = create_tag(world.editor, sid, TagSpec("first"))
    named = create_tag(world.editor, sid, TagSpec(str(first.id)))
    mover = create_tag(world.editor, sid, TagSpec("mover"))
    as_parent = live_tag(sid, str(first.id), "parent", reading=Reading.NAME,
                         missing=ValidationFailed)
    assert as_parent.id == named.id
    moved = tag_bulk.move_tags(world.editor, sid, [mover.id], str(first.id))
    assert moved[0].parent_id == named.id
    with pytest.raises(ValidationFailed) as caught:
        live_tag(sid, "a..b", "target", reading=Reading.NAME, missing=ValidationFailed)
    assert caught.value.details[0].field == "target"


def test_sources_are_each_distinct_source_of_the_scope_in_one_statement(
        world: World, count_queries) -> None:  # type: ignore[no-untyped-def]
    sid = world.scope.id
    assert tag_queries.tag_sources(world.viewer, sid) == []
    for n, source in enumerate(["dbt", "airflow", "dbt", "zeta", "airflow", "b"]):
        create_tag(SYSTEM, sid, TagSpec(f"s{n}"), Provenance(source=source))
    create_tag(world.editor, sid, TagSpec("gone"))
    delete_tag(world.editor, sid, "gone")  # a deleted tag's source is still listed
    create_tag(SYSTEM, world.other_scope.id, TagSpec("x"),
                    Provenance(source="elsewhere"))  # another scope's: left out
    tag_queries.tag_sources(world.viewer, sid)  # the actor's role is looked up once, then cached
    with count_queries() as counter:
        found = tag_queries.tag_sources(world.viewer, sid)
    assert found == ["airflow", "b", "curated", "dbt", "zeta"]
    assert counter.count == 1


def test_page_window_is_bounded_whatever_the_number_of_pages() -> None:
    from webapp.services.paging import Page

    def window(page: int, pages: int) -> list[int | None]:
        return Page([], pages * 10, page, 10).window(2)

    assert window(1, 1) == [1]
    assert window(1, 4) == [1, 2, 3, 4]
    assert window(4, 7) == [1, 2, 3, 4, 5, 6, 7]
    assert window(1, 2000) == [1, 2, 3, None, 2000]
    assert window(500, 2000) == [1, None, 498, 499, 500, 501, 502, None, 2000]
    assert window(2000, 2000) == [1, None, 1998, 1999, 2000]
    assert window(5, 9) == [1, None, 3, 4, 5, 6, 7, None, 9]
