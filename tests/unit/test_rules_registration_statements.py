"""Registration with enabled auto-tagging rules stays set-based (issue 12, performance):
registering 10 or 1,000 resources with 20 enabled rules sends the same number of SQL
statements — through the service the API's register calls
(:func:`webapp.services.resources.register_resources`) and through an attach of unknown
ids, which registers them.  Every rule matches in both batches (each resource matches
four of the twenty), so both do the same work per rule; only the row counts differ."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from tests.unit.factories import World, count
from webapp.extensions import db
from webapp.models import Assignment, AuditEvent, Resource
from webapp.services import assignments, resources, rules
from webapp.services.actor import Actor
from webapp.services.resources import ResourceInput

RULES = 20
KINDS = 5  # rule i matches slugs ending in -(i % KINDS): each resource matches 4 rules


def make_rules(world: World, when: Any) -> None:
    """Twenty enabled rules, rule I ``when(I)`` -> ``autoI``; and a disabled one
    matching everything, which must cost nothing."""
    for index in range(RULES):
        rules.create_rule(world.manager, world.sid, name=f"rule {index:02d}",
                          when=when(index), attach=[f"auto{index:02d}"])
    rules.create_rule(world.manager, world.sid, name="disabled", when="untagged",
                      attach=["never"], enabled=False)


def _items(prefix: str, number: int) -> list[ResourceInput]:
    return [ResourceInput("source", f"{prefix}{i:05d}", None, f"{prefix}{i}-{i % KINDS}")
            for i in range(number)]


def _rule_links() -> int:
    return count(Assignment, Assignment.context == "rule")


def _statements(count_queries: Any, write: Any) -> int:
    db.session.expire_all()
    with count_queries() as counter:
        write()
    return counter.count


def test_register_ten_or_a_thousand_resources_costs_the_same_statements(
    world: World, count_queries: Any,
) -> None:
    make_rules(world, lambda index: f"type:source AND name:*-{index % KINDS}")
    editor = Actor(user_id=world.editor.user_id)

    def cost(prefix: str, number: int) -> int:
        before = _rule_links()
        statements = _statements(count_queries, lambda: resources.register_resources(
            editor, world.sid, _items(prefix, number)))
        # Each resource got the tags of the four rules its slug matches, nothing else.
        assert _rule_links() - before == number * RULES // KINDS
        return statements

    cost("warm", 10)  # creates the rules' tags
    small = cost("a", 10)
    large = cost("b", 1_000)
    assert small == large
    assert count(Resource, Resource.external_id.like("b%")) == 1_000
    # The rules' attach events name the rule; one per rule and write, not per resource.
    attach_events = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.object_type == "assignments", AuditEvent.action == "attach"))
    assert attach_events == 3 * RULES


def test_attach_registering_ten_or_a_thousand_resources_costs_the_same_statements(
    world: World, count_queries: Any,
) -> None:
    # An attach registers unknown ids without a name or slug: the rules go by type, ten
    # on sources and ten on tables, and the attach names as many of each.
    make_rules(world, lambda index: f"type:{('source', 'table')[index % 2]}")
    editor = Actor(user_id=world.editor.user_id)

    def cost(prefix: str, number: int) -> int:
        before = _rule_links()
        refs = {rtype: [f"{prefix}{i:05d}" for i in range(number // 2)]
                for rtype in ("source", "table")}
        statements = _statements(count_queries, lambda: assignments.attach(
            editor, world.sid, ["manual"], refs))
        assert _rule_links() - before == number * RULES // 2
        return statements

    cost("warm", 10)
    small = cost("a", 10)
    large = cost("b", 1_000)
    assert small == large
