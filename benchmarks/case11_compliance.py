"""Case 11 — the compliance summary of one policy (issue 12, performance): covered,
compliant and non-compliant resources and the count per reason, through
``webapp.services.policies.compliance.policy_compliance`` (the service the report's API and
page call), over 1,000,000 resources and ~5,300,000 assignments.

The policy: ``resource_types=[table]``, ``require_groups=[sensitivity]`` (an exclusive
group, so two reasons: no tag of it, more than one) and ``forbid_tags=[legacy]`` (the tag
and its subtree).  Baseline, in the same rounds (alternating, rotating order): a raw SQL
aggregate of the same counts on a raw DBAPI connection — the covered tables, each with its
live sensitivity tags and live tags of the legacy subtree counted in one pass over its
links (a ``LEFT JOIN`` of the per-resource counts), then the counts summed.  Both answers
are checked equal before timing.

Data: case 8's (10,000 curated tags, a ``sensitivity`` group of four tags, resources 40 %
tables, five curated tags each, 70 % of the tables a sensitivity tag), plus a ``legacy``
root tag with two children carried by one resource in 20, and a second sensitivity tag on
one table in 100 (so every reason has resources).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

from benchmarks.case8_expressions import (
    TYPES,
    build_links,
    build_resources_of_types,
    build_sensitivity,
)
from benchmarks.common import (
    Bench,
    Metric,
    case_main,
    counting_statements,
    interleaved,
    log,
    median,
    metric,
    ms,
    paired_ratio,
)
from benchmarks.datasets import NOW, TAG_COLUMNS, Loader, TagMaker, build_forest

GOAL_RATIO = 3.0
GOAL_MS = 2000.0
LEGACY_EVERY = 20  # one resource in 20 carries a legacy tag
DOUBLE_EVERY = 100  # one table in 100 carries a second sensitivity tag


def build_legacy(bench: Bench) -> list[int]:
    """``legacy`` (a root) with ``legacy.v1`` and ``legacy.v2``; returns their ids."""
    loader = Loader(bench)
    maker = TagMaker(bench.scope_id, bench.user_id, loader.next_id("tags"), random.Random(11))
    root = maker.row("legacy", None)
    parent = (root[0], root[TAG_COLUMNS.index("path")], root[TAG_COLUMNS.index("id_path")])
    rows = [root, maker.row("v1", parent), maker.row("v2", parent)]
    loader.load("tags", TAG_COLUMNS, rows)
    return [int(row[0]) for row in rows]


def extra_link_rows(bench: Bench, first_resource: int, count: int, legacy: list[int],
                    sensitivity: list[int]) -> Iterator[tuple[Any, ...]]:
    """Legacy links (one resource in LEGACY_EVERY, the three tags in turn) and a second
    sensitivity tag on one table in DOUBLE_EVERY (the one after its own, so a table
    without one gets a single tag: it then has exactly one)."""
    def link(tag: int, n: int) -> tuple[Any, ...]:
        return (tag, first_resource + n, bench.user_id, NOW, "import", None)

    for n in range(0, count, LEGACY_EVERY):
        yield link(legacy[(n // LEGACY_EVERY) % len(legacy)], n)
    tables = [n for n in range(count) if TYPES[n % len(TYPES)] == "table"]
    for index in range(0, len(tables), DOUBLE_EVERY):
        n = tables[index]
        yield link(sensitivity[(n + 1) % len(sensitivity)], n)


def raw_aggregate_sql(bench: Bench) -> str:
    m = bench.placeholder
    return (
        "SELECT count(*), "
        "sum(CASE WHEN coalesce(x.g, 0) <> 1 OR coalesce(x.f, 0) > 0 THEN 1 ELSE 0 END), "
        "sum(CASE WHEN coalesce(x.g, 0) = 0 THEN 1 ELSE 0 END), "
        "sum(CASE WHEN coalesce(x.g, 0) > 1 THEN 1 ELSE 0 END), "
        "sum(CASE WHEN coalesce(x.f, 0) > 0 THEN 1 ELSE 0 END) "
        "FROM resources r LEFT JOIN ("
        " SELECT a.resource_id,"
        f"  sum(CASE WHEN t.group_id = {m} THEN 1 ELSE 0 END) AS g,"
        f"  sum(CASE WHEN t.id_path >= {m} AND t.id_path < {m} THEN 1 ELSE 0 END) AS f"
        " FROM assignments a JOIN tags t ON t.id = a.tag_id"
        f" WHERE t.deleted_at IS NULL AND (t.group_id = {m}"
        f"  OR (t.id_path >= {m} AND t.id_path < {m}))"
        " GROUP BY a.resource_id"
        ") x ON x.resource_id = r.id "
        f"WHERE r.scope_id = {m} AND r.type = 'table'"
    )


def raw_aggregate(bench: Bench, sql: str, group_id: int, id_path: str) -> tuple[int, ...]:
    """(covered, non-compliant, missing, several, forbidden) in one raw statement."""
    upper = id_path[:-1] + "0"
    connection = bench.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute(sql, (group_id, id_path, upper, group_id, id_path, upper,
                             bench.scope_id))
        row = cursor.fetchone()
        connection.rollback()
        return tuple(int(v or 0) for v in row)
    finally:
        connection.close()


def run(bench: Bench, options: dict[str, Any]) -> dict[str, Metric]:
    small = options.get("small", False)
    count = 100_000 if small else 1_000_000
    group_id, sensitivity = build_sensitivity(bench)
    forest = build_forest(bench, 100, 99)
    legacy = build_legacy(bench)
    first_resource = build_resources_of_types(bench, count)
    links = build_links(bench, first_resource, count, sensitivity, forest)
    extra = Loader(bench).load(
        "assignments", ("tag_id", "resource_id", "added_by_id", "added_at", "context",
                        "change_set_id"),
        extra_link_rows(bench, first_resource, count, legacy, sensitivity))
    log(f"loaded {extra:,} legacy and double-sensitivity links")
    links += extra
    Loader(bench).analyze()

    from webapp.extensions import db
    from webapp.services.actor import Actor
    from webapp.services.policies.compliance import policy_compliance
    from webapp.services.policies.crud import PolicyInput, create_policy

    with bench.app.app_context():
        view = create_policy(Actor.system(), bench.scope_id, PolicyInput(
            name="Tables are classified, nothing legacy", resource_types=["table"],
            require_groups=["sensitivity"], forbid_tags=["legacy"]))
        policy_id = view.id
        db.session.remove()
    legacy_id_path = Loader(bench).execute("SELECT id_path FROM tags WHERE id = ?",
                                           (legacy[0],))[0][0]
    actor = Actor(user_id=bench.user_id)
    sql = raw_aggregate_sql(bench)

    def service() -> tuple[int, ...]:
        with bench.app.app_context():
            try:
                found = policy_compliance(actor, bench.scope_id, policy_id)
                by_kind = {r.kind: r.resources for r in found.reasons}
                return (found.covered, found.non_compliant, by_kind["missing"],
                        by_kind["several"], by_kind["forbidden"])
            finally:
                db.session.remove()

    def raw() -> tuple[int, ...]:
        return raw_aggregate(bench, sql, group_id, legacy_id_path)

    expected = raw()
    got = service()
    if got != expected:
        raise RuntimeError(f"service {got} != raw aggregate {expected}")
    log(f"covered {expected[0]:,}, non-compliant {expected[1]:,} (missing {expected[2]:,}, "
        f"several {expected[3]:,}, forbidden {expected[4]:,})")
    with counting_statements(bench.engine) as statements:
        service()
    rounds = 3 if small else 5
    times = interleaved({"service": service, "raw": raw}, rounds, warmup=1)
    value, baseline = ms(median(times["service"])), ms(median(times["raw"]))
    ratio = paired_ratio(times["service"], times["raw"])
    note = (f"{count:,} resources, {links:,} links, {expected[0]:,} covered, "
            f"{expected[1]:,} non-compliant; {len(statements)} statements; baseline: one raw "
            f"aggregate (per-table link counts LEFT JOINed); rounds "
            f"{', '.join(f'{ms(s):.0f}' for s in times['service'])} ms vs "
            f"{', '.join(f'{ms(s):.0f}' for s in times['raw'])} ms")
    return {
        "11_compliance_summary_ms": metric(
            value, "ms", baseline=baseline, ratio=ratio,
            goal=f"ratio <= {GOAL_RATIO:.0f}, <= {GOAL_MS:.0f} ms",
            met=ratio <= GOAL_RATIO and value <= GOAL_MS, note=note),
    }


if __name__ == "__main__":
    case_main(run)
