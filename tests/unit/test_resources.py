"""Resources: bulk register/upsert, listing by type/search/tag with their tags, paging,
and a constant number of statements per page."""

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
    snapshot_counts,
)
from webapp.extensions import db
from webapp.models import RESOURCE_TYPES, Resource
from webapp.services import assignments, resources
from webapp.services.actor import Actor
from webapp.services.errors import NotFound, PermissionDenied, ValidationFailed
from webapp.services.paging import PageRequest
from webapp.services.resources import ResourceInput
from webapp.services.tags.deletion import delete_tag
from webapp.services.tags.lookup import get_tag


def rows() -> list[tuple[str, str, str | None, str | None]]:
    db.session.expire_all()
    return sorted(
        (r.type, r.external_id, r.name, r.slug) for r in db.session.scalars(select(Resource))
    )


# --- register ---------------------------------------------------------------------------


def test_register_inserts_then_refreshes_names_without_duplicates(world: World) -> None:
    given = resources.register_resources(world.editor, world.sid, [
        ResourceInput("Table", " t1 ", name=" Orders ", slug="orders"),
        ResourceInput("source", "s1"),
        ResourceInput("table", "t2", name="Customers"),
    ])
    assert given == 3
    assert rows() == [
        ("source", "s1", None, None),
        ("table", "t1", "Orders", "orders"),
        ("table", "t2", "Customers", None),
    ]
    first_ids = {(r.type, r.external_id): r.id for r in db.session.scalars(select(Resource))}

    resources.register_resources(world.editor, world.sid, [
        ResourceInput("table", "t1", name="Orders v2"),  # slug not given: kept
        ResourceInput("source", "s1", slug="src-one"),
        ResourceInput("table", "t3"),
        ResourceInput("table", "t3", name="last one wins"),  # duplicate within the call
    ])
    assert rows() == [
        ("source", "s1", None, "src-one"),
        ("table", "t1", "Orders v2", "orders"),
        ("table", "t2", "Customers", None),
        ("table", "t3", "last one wins", None),
    ]
    again = {(r.type, r.external_id): r.id for r in db.session.scalars(select(Resource))}
    assert {k: again[k] for k in first_ids} == first_ids  # updated in place
    assert count(Resource) == 4


def test_register_records_one_summary_event_per_type(world: World) -> None:
    resources.register_resources(world.editor, world.sid, [
        ResourceInput("column", f"ds_{n}") for n in range(5)
    ] + [ResourceInput("project", "p1")])
    registered = events("resources", "register")
    assert [(e.object_id, e.after) for e in registered] == [
        (world.sid, {"type": "column", "count": 5}),
        (world.sid, {"type": "project", "count": 1}),
    ]
    assert change_sets()[-1].actor_id == world.editor.user_id


def test_every_documented_type_registers(world: World) -> None:
    resources.register_resources(world.editor, world.sid, [
        ResourceInput(rtype, "x") for rtype in RESOURCE_TYPES
    ])
    assert sorted(t for t, *_ in rows()) == sorted(RESOURCE_TYPES)
    assert len(RESOURCE_TYPES) == 13


@pytest.mark.parametrize(
    ("item", "field"),
    [
        (ResourceInput("tables", "x"), "[1].type"),  # plural is a path, not a type
        (ResourceInput("spreadsheet", "x"), "[1].type"),
        (ResourceInput("table", "  "), "[1].id"),
        (ResourceInput("table", "x" * 256), "[1].id"),
    ],
)
def test_register_validates_and_writes_nothing(world: World, item: ResourceInput, field: str
                                               ) -> None:
    before = snapshot_counts()
    with pytest.raises(ValidationFailed) as caught:
        resources.register_resources(world.editor, world.sid, [ResourceInput("table", "ok"),
                                                               item])
    assert fields(caught.value) == [field]
    assert snapshot_counts() == before


def test_integer_external_ids_become_strings(world: World) -> None:
    resources.register_resources(world.editor, world.sid, [ResourceInput("node", 42)])  # type: ignore[arg-type]
    assert rows() == [("node", "42", None, None)]


def test_register_needs_write_permission_in_the_scope(world: World) -> None:
    for actor in (world.viewer, world.outsider):
        with pytest.raises(PermissionDenied):
            resources.register_resources(actor, world.sid, [ResourceInput("table", "t")])
    assert count(Resource) == 0
    resources.register_resources(world.outsider, world.other_scope.id,
                                 [ResourceInput("table", "t")])
    resources.register_resources(world.editor, world.sid, [ResourceInput("table", "t")])
    assert count(Resource) == 2  # the same reference in two scopes is two resources


# --- list -------------------------------------------------------------------------------


def _catalogue(world: World) -> None:
    resources.register_resources(world.editor, world.sid, [
        ResourceInput("table", "orders", name="Orders", slug="sales-orders"),
        ResourceInput("table", "customers", name="Customers"),
        ResourceInput("table", "100%_sure", name="Percent"),
        ResourceInput("column", "orders_email", name="email"),
        ResourceInput("source", "crm", name="CRM export"),
    ])
    assignments.attach(world.editor, world.sid, ["PII.email", "prio::high"],
                       {"column": ["orders_email"], "table": ["customers"]})
    assignments.attach(world.editor, world.sid, ["finance", "old"], {"table": ["orders"]})
    delete_tag(world.editor, world.sid, "old")
    resources.register_resources(world.outsider, world.other_scope.id,
                                 [ResourceInput("table", "orders", name="Not yours")])


def listed(actor: Actor, world: World, **kwargs: Any) -> list[tuple[str, str, list[str]]]:
    page = resources.list_resources(actor, world.sid, **kwargs)
    return [(r.resource.type, r.resource.external_id, [t.qualified_name for t in r.tags])
            for r in page.items]


def test_list_all_with_their_live_tags(world: World) -> None:
    _catalogue(world)
    assert listed(world.viewer, world) == [
        ("column", "orders_email", ["PII.email", "prio::high"]),
        ("source", "crm", []),
        ("table", "100%_sure", []),
        ("table", "customers", ["PII.email", "prio::high"]),
        ("table", "orders", ["finance"]),  # the deleted tag is not shown
    ]


def test_list_by_type_search_and_tag(world: World) -> None:
    _catalogue(world)
    assert [e for _, e, _ in listed(world.viewer, world, rtype="TABLE")] == [
        "100%_sure", "customers", "orders",
    ]
    # Search looks at the id, the name and the slug, case-insensitively.
    assert [e for _, e, _ in listed(world.viewer, world, search="ORDER")] == [
        "orders_email", "orders",
    ]
    assert [e for _, e, _ in listed(world.viewer, world, search="sales")] == ["orders"]
    assert [e for _, e, _ in listed(world.viewer, world, search="crm EXP")] == ["crm"]
    # LIKE wildcards are literal.
    assert [e for _, e, _ in listed(world.viewer, world, search="%")] == ["100%_sure"]
    assert [e for _, e, _ in listed(world.viewer, world, search="%_S")] == ["100%_sure"]
    assert listed(world.viewer, world, search="s_r") == []
    # By tag, with any handle.
    email = get_tag(world.viewer, world.sid, "pii.email")
    for handle in ("PII.email", email.id, email.public_id, str(email.uuid)):
        assert [e for _, e, _ in listed(world.viewer, world, tag=handle)] == [
            "orders_email", "customers",
        ]
    assert listed(world.viewer, world, tag="prio::high", rtype="column") == [
        ("column", "orders_email", ["PII.email", "prio::high"]),
    ]
    assert listed(world.viewer, world, tag="no.such.tag") == []
    assert listed(world.viewer, world, tag="old") == []  # deleted tags filter nothing in
    with pytest.raises(ValidationFailed) as caught:
        resources.list_resources(world.viewer, world.sid, rtype="spreadsheet")
    assert fields(caught.value) == ["type"]


def test_paging(world: World) -> None:
    resources.register_resources(world.editor, world.sid, [
        ResourceInput("file", f"f{n:02d}") for n in range(23)
    ])
    page = resources.list_resources(world.viewer, world.sid, paging=PageRequest(2, 10))
    assert [r.resource.external_id for r in page.items] == [f"f{n:02d}" for n in range(10, 20)]
    assert (page.total, page.pages, page.has_next, page.has_previous) == (23, 3, True, True)
    last = resources.list_resources(world.viewer, world.sid, paging=PageRequest(3, 10))
    assert [r.resource.external_id for r in last.items] == ["f20", "f21", "f22"]
    assert not last.has_next
    beyond = resources.list_resources(world.viewer, world.sid, paging=PageRequest(9, 10))
    assert (beyond.items, beyond.total) == ([], 23)
    for page_no, per_page, field in [(0, 10, "page"), (1, 0, "per_page"),
                                     (1, 201, "per_page")]:
        with pytest.raises(ValidationFailed) as caught:
            PageRequest(page_no, per_page)
        assert fields(caught.value) == [field]


def test_listing_a_page_costs_the_same_whatever_its_size(world: World, count_queries: Any
                                                         ) -> None:
    ids = external_ids(50)
    resources.register_resources(world.editor, world.sid, [
        ResourceInput("table", i, name=f"table {i}") for i in ids
    ])
    assignments.attach(world.editor, world.sid, ["area::north", "area::south"],
                       {"table": ids[::2]})
    assignments.attach(world.editor, world.sid, ["Address.email", "plain"], {"table": ids})
    sid, viewer_id = world.sid, world.viewer.user_id
    db.session.expire_all()

    def cost(per_page: int) -> tuple[int, int]:
        actor = Actor(user_id=viewer_id)
        with count_queries() as counter:
            page = resources.list_resources(actor, sid, rtype="table",
                                            paging=PageRequest(1, per_page))
            tag_names = [t.qualified_name for row in page.items for t in row.tags]
        assert len(page.items) == per_page
        return counter.count, len(tag_names)

    small, small_tags = cost(5)
    large, large_tags = cost(50)
    assert small == large
    assert (small_tags, large_tags) == (5 * 2 + 3 * 2, 50 * 2 + 25 * 2)
    assert small <= 5  # role, count, page, tags (+ BEGIN)


def test_get_resource(world: World) -> None:
    _catalogue(world)
    row = resources.get_resource(world.viewer, world.sid, "table", "customers")
    assert row.resource.name == "Customers"
    assert [t.qualified_name for t in row.tags] == ["PII.email", "prio::high"]
    with pytest.raises(NotFound):
        resources.get_resource(world.viewer, world.sid, "table", "nope")
    with pytest.raises(NotFound):
        resources.get_resource(world.viewer, world.sid, "source", "customers")
    with pytest.raises(ValidationFailed):
        resources.get_resource(world.viewer, world.sid, "sheet", "customers")


def test_other_scopes_never_see_these_resources(world: World) -> None:
    _catalogue(world)
    with pytest.raises(PermissionDenied):
        resources.list_resources(world.outsider, world.sid)
    with pytest.raises(PermissionDenied):
        resources.get_resource(world.outsider, world.sid, "table", "orders")
    theirs = resources.list_resources(world.outsider, world.other_scope.id)
    assert [(r.resource.external_id, r.resource.name, r.tags) for r in theirs.items] == [
        ("orders", "Not yours", []),
    ]
    # A tag handle of the other scope filters nothing in.
    email = get_tag(world.viewer, world.sid, "pii.email")
    assert resources.list_resources(world.outsider, world.other_scope.id,
                                    tag=email.id).total == 0
    assert resources.list_resources(SYSTEM, world.sid).total == 5
