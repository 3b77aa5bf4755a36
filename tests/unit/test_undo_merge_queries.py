"""Undo of change sets, merging tags, and the tag list/search read side."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from tests.unit.factories import live_tag
from webapp.extensions import db
from webapp.models import Assignment, ChangeSet, Scope, Tag
from webapp.services import assignments, groups, undo
from webapp.services.actor import Actor
from webapp.services.errors import Conflict, PermissionDenied, ValidationFailed
from webapp.services.paging import PageRequest
from webapp.services.scopes import add_member, create_scope
from webapp.services.tags import merge
from webapp.services.tags import queries as tag_queries
from webapp.services.tags.creation import Provenance, TagSpec, create_tag, create_tags
from webapp.services.tags.deletion import delete_tag
from webapp.services.tags.hierarchy import update_tag
from webapp.services.tags.lookup import find_tag, get_tag
from webapp.services.users import create_user

SYSTEM = Actor.system()


@pytest.fixture
def scope(app) -> Scope:
    return create_scope(SYSTEM, "scope_acme", name="Acme")


@pytest.fixture
def editor(scope: Scope) -> Actor:
    user = create_user(SYSTEM, "editor@example.com", "password-123")
    add_member(SYSTEM, scope.id, user.email, "editor")
    return Actor(user_id=user.id)


def ids(count: int) -> list[str]:
    return [str(uuid.UUID(int=n + 1)) for n in range(count)]


def links_of(name: str) -> int:
    tag = db.session.scalar(select(Tag).where(Tag.path == name, Tag.deleted_at.is_(None)))
    if tag is None:
        return 0
    return db.session.scalar(
        select(func.count()).select_from(Assignment).where(Assignment.tag_id == tag.id)
    ) or 0


def latest_change_set() -> ChangeSet:
    return db.session.scalars(select(ChangeSet).order_by(ChangeSet.id.desc())).first()


# --- undo -------------------------------------------------------------------------------


def test_undo_attach_removes_links_and_created_tags(scope: Scope, editor: Actor) -> None:
    assignments.attach(editor, scope.id, ["marketing"], {"source": ids(50)})
    done = latest_change_set()
    assert links_of("marketing") == 50

    undo.undo_change_set(editor, scope.id, done.id)

    assert links_of("marketing") == 0
    assert find_tag(scope.id, "marketing") is None  # the tag it created is gone too
    assert db.session.get(ChangeSet, done.id).reverted_by_id is not None


def test_undo_detach_puts_links_back(scope: Scope, editor: Actor) -> None:
    assignments.attach(editor, scope.id, ["ads"], {"source": ids(20)})
    assignments.detach(editor, scope.id, ["ads"], {"source": ids(20)[:15]})
    detached = latest_change_set()
    assert links_of("ads") == 5

    undo.undo_change_set(editor, scope.id, detached.id)

    assert links_of("ads") == 20


def test_undo_exclusive_replacement_restores_the_old_tag(scope: Scope, editor: Actor) -> None:
    groups.create_group(SYSTEM, scope.id, "priority", exclusive=True)
    assignments.attach(editor, scope.id, ["priority::low"], {"table": ["t1", "t2"]})
    outcome = assignments.attach(editor, scope.id, ["priority::high"], {"table": ["t1"]})
    assert outcome.replaced == 1

    undo.undo_change_set(editor, scope.id, latest_change_set().id)

    assert links_of("low") == 2
    assert links_of("high") == 0


def test_undo_refused_when_a_newer_change_touched_the_same_links(scope: Scope, editor: Actor
                                                                 ) -> None:
    assignments.attach(editor, scope.id, ["weekly"], {"source": ids(3)})
    first = latest_change_set()
    assignments.detach(editor, scope.id, ["weekly"], {"source": ids(1)})

    with pytest.raises(Conflict, match="removed later"):
        undo.undo_change_set(editor, scope.id, first.id)
    assert links_of("weekly") == 2  # nothing changed

    undo.undo_change_set(editor, scope.id, latest_change_set().id)  # undo the detach
    undo.undo_change_set(editor, scope.id, first.id)  # now the attach can go
    assert links_of("weekly") == 0


def test_undo_rename_rewrites_the_subtree_back(scope: Scope, editor: Actor) -> None:
    create_tag(editor, scope.id, TagSpec("Address.home.street"))
    update_tag(editor, scope.id, "Address", name="Location")
    assert find_tag(scope.id, "Location.home.street") is not None

    undo.undo_change_set(editor, scope.id, latest_change_set().id)

    assert find_tag(scope.id, "Address.home.street") is not None
    assert find_tag(scope.id, "Location") is None


def test_undo_refused_when_tag_changed_later_and_undo_not_undoable(scope: Scope, editor: Actor
                                                                   ) -> None:
    tag = create_tag(editor, scope.id, TagSpec("Work"))
    update_tag(editor, scope.id, tag.id, color="#112233")
    renamed = latest_change_set()
    update_tag(editor, scope.id, tag.id, color="#445566")

    with pytest.raises(Conflict, match="tag 'Work' was changed later by change set #"):
        undo.undo_change_set(editor, scope.id, renamed.id)

    last = undo.undo_change_set(editor, scope.id, latest_change_set().id)
    assert get_tag(editor, scope.id, tag.id).color == "#112233"
    with pytest.raises(Conflict, match="cannot be undone"):
        undo.undo_change_set(editor, scope.id, last.id)


def test_undo_delete_hierarchy_restores_every_tag(scope: Scope, editor: Actor) -> None:
    create_tags(editor, scope.id, [TagSpec("A.b.c"), TagSpec("A.d")])
    delete_tag(editor, scope.id, "A", hierarchy=True)
    assert find_tag(scope.id, "A.b.c") is None

    undo.undo_change_set(editor, scope.id, latest_change_set().id)

    assert {t.path for t in db.session.scalars(select(Tag).where(Tag.deleted_at.is_(None)))} \
        == {"A", "A.b", "A.b.c", "A.d"}


def test_viewer_cannot_undo(scope: Scope, editor: Actor) -> None:
    viewer_user = create_user(SYSTEM, "viewer@example.com", "password-123")
    add_member(SYSTEM, scope.id, viewer_user.email, "viewer")
    assignments.attach(editor, scope.id, ["x"], {"source": ids(1)})
    with pytest.raises(PermissionDenied):
        undo.undo_change_set(Actor(user_id=viewer_user.id), scope.id, latest_change_set().id)


def test_change_sets_list_newest_first_and_filter_by_tag(scope: Scope, editor: Actor) -> None:
    one = create_tag(editor, scope.id, TagSpec("one"))
    create_tag(editor, scope.id, TagSpec("two"))
    update_tag(editor, scope.id, one.id, label="One")

    page = undo.list_change_sets(editor, scope.id, undo.ChangeSetFilter(object_type="tag"))
    assert page.items[0].summary.startswith("Update tag")
    assert page.total == 3
    assert undo.list_change_sets(editor, scope.id).total == 5  # + scope and membership
    about_one = undo.list_change_sets(editor, scope.id, undo.ChangeSetFilter(tag_id=one.id))
    assert about_one.total == 2


# --- merge ------------------------------------------------------------------------------


def test_merge_moves_links_and_children_and_deletes_source(scope: Scope, editor: Actor) -> None:
    assignments.attach(editor, scope.id, ["mktg"], {"source": ids(10)})
    assignments.attach(editor, scope.id, ["marketing"], {"source": ids(15)[5:]})
    create_tag(editor, scope.id, TagSpec("mktg.emails"))

    kept = merge.merge_tags(editor, scope.id, "mktg", "marketing")

    assert kept.path == "marketing"
    assert links_of("marketing") == 15  # 10 + 10 - 5 shared
    assert live_tag(scope.id, "mktg") is None  # gone; its name is an alias of the kept tag
    assert find_tag(scope.id, "mktg") == kept
    assert find_tag(scope.id, "marketing.emails") is not None


def test_merge_refuses_self_and_descendant_and_is_undoable(scope: Scope, editor: Actor) -> None:
    create_tag(editor, scope.id, TagSpec("a.b"))
    with pytest.raises(ValidationFailed):
        merge.merge_tags(editor, scope.id, "a", "a")
    with pytest.raises(ValidationFailed):
        merge.merge_tags(editor, scope.id, "a", "a.b")

    assignments.attach(editor, scope.id, ["left"], {"file": ["f1", "f2"]})
    assignments.attach(editor, scope.id, ["right"], {"file": ["f3"]})
    merge.merge_tags(editor, scope.id, "left", "right")
    undo.undo_change_set(editor, scope.id, latest_change_set().id)
    assert links_of("left") == 2
    assert links_of("right") == 1


# --- listing and search -----------------------------------------------------------------


def test_list_tags_filters_sorts_pages_and_counts_usage(scope: Scope, editor: Actor) -> None:
    create_tags(editor, scope.id, [
        TagSpec("Discovered.Country.Canada"), TagSpec("Discovered.Country.France"),
        TagSpec("Address.email"), TagSpec("priority::high"),
    ])
    assignments.attach(editor, scope.id, ["Address.email"], {"column": ["6_email", "7_email"]})

    found = tag_queries.list_tags(editor, scope.id, tag_queries.TagFilter(search="COUNTRY"))
    assert [row.tag.path for row in found.items] == [
        "Discovered.Country", "Discovered.Country.Canada", "Discovered.Country.France"]
    children = tag_queries.list_tags(editor, scope.id,
                                     tag_queries.TagFilter(parent="Discovered.Country"))
    assert children.total == 2
    grouped = tag_queries.list_tags(editor, scope.id, tag_queries.TagFilter(group="priority"))
    assert [row.tag.qualified_name for row in grouped.items] == ["priority::high"]
    by_usage = tag_queries.list_tags(editor, scope.id, sort="usage", descending=True,
                                     paging=PageRequest(1, 2))
    assert by_usage.items[0].tag.path == "Address.email"
    assert by_usage.items[0].usage == 2
    assert by_usage.total == 7 and by_usage.pages == 4
    assert tag_queries.list_tags(editor, scope.id,
                                 tag_queries.TagFilter(search="100%")).total == 0


def test_list_tags_is_a_fixed_number_of_queries(scope: Scope, editor: Actor, count_queries
                                                ) -> None:
    create_tags(editor, scope.id, [TagSpec(f"t{n}") for n in range(60)])
    assignments.attach(editor, scope.id, [f"t{n}" for n in range(60)], {"source": ids(3)})
    tag_queries.list_tags(editor, scope.id)  # the actor's role is looked up once, then cached
    counts = []
    for per_page in (5, 50):
        db.session.expire_all()
        with count_queries() as counter:
            page = tag_queries.list_tags(editor, scope.id, paging=PageRequest(1, per_page))
            assert all(row.usage == 3 for row in page.items)
        counts.append(counter.count)
    assert counts[0] == counts[1]


def test_deleted_and_system_filters(scope: Scope, editor: Actor) -> None:
    create_tag(SYSTEM, scope.id, TagSpec("Discovered.Passport"),
                    Provenance(system_created=True, protected=True))
    create_tag(editor, scope.id, TagSpec("gone"))
    delete_tag(editor, scope.id, "gone")
    delete_tag(SYSTEM, scope.id, "Discovered", hierarchy=True)

    def paths(**kwargs: object) -> set[str]:
        return {t.path for t in tag_queries.search_tags(
            editor, scope.id, tag_queries.TagFilter(**kwargs))}

    assert paths() == set()
    assert paths(include_deleted=True) == {"gone", "Discovered", "Discovered.Passport"}
    assert paths(include_deleted_system=True) == {"Discovered", "Discovered.Passport"}


def test_subtree_summary_counts_what_a_delete_takes(scope: Scope, editor: Actor) -> None:
    create_tags(editor, scope.id, [TagSpec("A.b.c"), TagSpec("A.d")])
    assignments.attach(editor, scope.id, ["A.b", "A.d"], {"node": ["n1", "n2"]})
    summary = tag_queries.subtree_summary(editor, scope.id, "A")
    assert (summary.tags, summary.assignments) == (4, 4)


def test_rename_or_move_over_protected_descendants_is_refused(scope: Scope, editor: Actor
                                                             ) -> None:
    create_tag(editor, scope.id, TagSpec("Data"))
    create_tag(SYSTEM, scope.id, TagSpec("Data.Passport"),
                    Provenance(system_created=True, protected=True))
    create_tag(editor, scope.id, TagSpec("Other"))

    with pytest.raises(PermissionDenied, match=r"Data\.Passport"):
        update_tag(editor, scope.id, "Data", name="Info")
    with pytest.raises(PermissionDenied):
        update_tag(editor, scope.id, "Data", parent="Other")
    assert find_tag(scope.id, "Data.Passport") is not None
    update_tag(editor, scope.id, "Data", color="#00AA00")  # not a path change: allowed
    update_tag(SYSTEM, scope.id, "Data", name="Info")  # the system actor may
    assert find_tag(scope.id, "Info.Passport") is not None


def test_undo_of_a_group_creation_ungroups_its_tags_like_delete_group(scope: Scope,
                                                                      editor: Actor) -> None:
    assignments.attach(editor, scope.id, ["team::revops"], {"project": ["2"]})
    created = latest_change_set()

    with pytest.raises(PermissionDenied, match=r"groups\.write"):
        undo.undo_change_set(editor, scope.id, created.id)
    undo.undo_change_set(SYSTEM, scope.id, created.id)

    assert groups.find_group(scope.id, "team") is None
    orphan = db.session.scalar(select(Tag).where(Tag.name == "revops"))
    assert orphan.deleted_at is not None
    assert (orphan.group_id, orphan.path_key) == (None, "revops")


def test_list_tags_pages_ties_in_id_order_without_gaps_or_repeats(scope: Scope, editor: Actor
                                                                   ) -> None:
    # 12 tags named "leaf" under 4 parents: sorting by name ties; ids break the ties, so
    # the pages partition the list, in the same order as one big page.
    create_tags(editor, scope.id, [TagSpec(f"p{p}.leaf") for p in range(4)]
                     + [TagSpec(f"q{p}.leaf") for p in range(8)])
    for descending in (False, True):
        whole = tag_queries.list_tags(editor, scope.id, sort="name", descending=descending,
                                      paging=PageRequest(1, 50))
        paged = [row.tag.id
                 for n in range(1, 6)
                 for row in tag_queries.list_tags(editor, scope.id, sort="name",
                                                  descending=descending,
                                                  paging=PageRequest(n, 5)).items]
        assert paged == [row.tag.id for row in whole.items] and whole.total == 24
        leaves = [row.tag.id for row in whole.items if row.tag.name == "leaf"]
        assert leaves == sorted(leaves)


def test_a_search_counts_up_to_the_cap_and_pages_on_past_it(
        scope: Scope, editor: Actor, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tag_queries, "COUNT_CAP", 5)
    create_tags(editor, scope.id, [TagSpec(f"leaf{n:02d}") for n in range(11)])
    found = tag_queries.TagFilter(search="leaf")
    pages = [tag_queries.list_tags(editor, scope.id, found, paging=PageRequest(n, 4))
             for n in (1, 2, 3, 4)]
    assert all(p.total == 5 and p.total_is_lower_bound for p in pages[:2])
    assert [p.has_next for p in pages[:3]] == [True, True, False]
    assert [p.pages for p in pages[:3]] == [2, 3, 3]
    assert (pages[2].total, pages[2].total_is_lower_bound) == (11, False)  # the last page
    assert [row.tag.path for p in pages for row in p.items] == [f"leaf{n:02d}"
                                                                 for n in range(11)]
    assert pages[3].items == [] and pages[3].pages == 2  # past the end: as far as counted
    exact = tag_queries.list_tags(editor, scope.id, tag_queries.TagFilter(search="leaf1"))
    assert (exact.total, exact.total_is_lower_bound, exact.has_next) == (1, False, False)
    everything = tag_queries.list_tags(editor, scope.id, paging=PageRequest(1, 4))
    assert (everything.total, everything.total_is_lower_bound) == (11, False)
    assert everything.has_next and everything.pages == 3
