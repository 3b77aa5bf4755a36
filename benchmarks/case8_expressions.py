"""Case 8 — a tag expression's first page (issue 12): ``GET /api/v1/resources?q=type:table
AND NOT group:sensitivity`` (API key, 50 a page, the exact count) over 1,000,000 resources
and 5,000,000 assignments.  Median server time (test client) and statements per request.
Baseline: the raw-SQL twin of the same work on a raw DBAPI connection, measured in the
same rounds — look up the group, count the matches, read the page's 50 rows, read their
tags (the four statements the API sends after its key check).  A note gives the raw page
without its count, which is what the count costs.

Data: 10,000 curated tags (100 roots × 99 children) and a ``sensitivity`` group of four
tags; resources are 40 % tables, then sources, columns and files; each carries five
curated tags, and 70 % of the tables a sensitivity tag too (so 30 % of the tables match):
5,280,000 links at a million resources.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

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
)
from benchmarks.datasets import NOW, TAG_COLUMNS, Loader, TagMaker, build_forest

EXPRESSION = "type:table AND NOT group:sensitivity"
PER_PAGE = 50
GOAL_RATIO = 3.0
TYPES = ("table", "table", "source", "column", "file")  # by resource number modulo 5
SLOTS = 5  # curated tags per resource, each from its own fifth of the forest
SENSITIVE = 7  # of every 10 tables


def _is_table(n: int) -> bool:
    return TYPES[n % len(TYPES)] == "table"


def build_sensitivity(bench: Bench) -> tuple[int, list[int]]:
    """The group and its four tags (``sensitivity::pii`` …), loaded like the forest."""
    loader = Loader(bench)
    group_rows = loader.execute(
        "INSERT INTO tag_groups (public_id, scope_id, identifier, identifier_key, label, "
        "exclusive, allowed_types, created_at, updated_at) VALUES "
        "('tag_group_sensitivity', ?, 'sensitivity', 'sensitivity', 'Sensitivity', ?, '[]', "
        "?, ?) RETURNING id",
        (bench.scope_id, True, loader.value(NOW), loader.value(NOW)))
    group_id = int(group_rows[0][0])
    maker = TagMaker(bench.scope_id, bench.user_id, loader.next_id("tags"), random.Random(7))
    rows = []
    for name in ("pii", "internal", "public", "secret"):
        row = list(maker.row(name, None))
        row[TAG_COLUMNS.index("group_id")] = group_id
        row[TAG_COLUMNS.index("path_key")] = f"sensitivity::{name}"
        rows.append(tuple(row))
    loader.load("tags", TAG_COLUMNS, rows)
    return group_id, [int(row[0]) for row in rows]


def build_resources_of_types(bench: Bench, count: int) -> int:
    """``count`` resources, their type by number (see TYPES); returns the first id."""
    loader = Loader(bench)
    first = loader.next_id("resources")
    rows = ((first + n, bench.scope_id, TYPES[n % len(TYPES)], f"r{n:07d}",
             f"resource {n}", None, NOW) for n in range(count))
    loader.load("resources", ("id", "scope_id", "type", "external_id", "name", "slug",
                              "created_at"), rows)
    log(f"loaded {count:,} resources")
    return first


def link_rows(bench: Bench, first_resource: int, count: int, sensitivity: list[int],
              forest: tuple[int, int]) -> Iterator[tuple[Any, ...]]:
    """The links in (tag, resource) order, streamed (no list of millions in memory).

    Resource n carries sensitivity tag ``n % 4`` when it is one of the 70 % sensitive
    tables, and in each part k of the forest (SLOTS parts) the tag ``k * part + (n * step)
    mod part`` (a bijection per part, so every tag carries count / part resources)."""
    def link(tag: int, n: int) -> tuple[Any, ...]:
        return (tag, first_resource + n, bench.user_id, NOW, "import", None)

    for index, tag in enumerate(sensitivity):
        for n in range(index, count, len(sensitivity)):
            if _is_table(n) and (n // len(TYPES)) % 10 < SENSITIVE:
                yield link(tag, n)
    first_tag, last_tag = forest
    part = (last_tag - first_tag + 1) // SLOTS
    step = 7919  # prime, so n -> n * step is a bijection modulo the part
    inverse = pow(step, -1, part)
    for slot in range(SLOTS):
        for offset in range(part):
            start = (offset * inverse) % part
            for n in range(start, count, part):
                yield link(first_tag + slot * part + offset, n)


def build_links(bench: Bench, first_resource: int, count: int, sensitivity: list[int],
                forest: tuple[int, int]) -> int:
    loaded = Loader(bench).load(
        "assignments", ("tag_id", "resource_id", "added_by_id", "added_at", "context",
                        "change_set_id"),
        link_rows(bench, first_resource, count, sensitivity, forest))
    log(f"loaded {loaded:,} assignments")
    return loaded


def raw_twin(bench: Bench, *, with_count: bool = True) -> tuple[int, list[str]]:
    """The API's work after its key check, in plain SQL on a raw connection: the count
    (-1 without it) and the page's external ids."""
    mark = bench.placeholder
    connection = bench.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute(f"SELECT id FROM tag_groups WHERE scope_id = {mark} AND "
                       f"identifier_key = {mark}", (bench.scope_id, "sensitivity"))
        group_id = cursor.fetchone()[0]
        where = (f"FROM resources r WHERE r.scope_id = {mark} AND r.type = 'table' AND NOT "
                 "EXISTS (SELECT 1 FROM assignments a JOIN tags t ON t.id = a.tag_id "
                 f"WHERE a.resource_id = r.id AND t.deleted_at IS NULL AND t.group_id = {mark})")
        total = -1
        if with_count:
            cursor.execute(f"SELECT count(*) {where}", (bench.scope_id, group_id))
            total = int(cursor.fetchone()[0])
        cursor.execute(f"SELECT r.id, r.type, r.external_id, r.name, r.slug {where} "
                       f"ORDER BY r.type, r.external_id LIMIT {PER_PAGE}",
                       (bench.scope_id, group_id))
        rows = cursor.fetchall()
        ids = [int(row[0]) for row in rows]
        cursor.execute(f"SELECT a.resource_id, t.* FROM assignments a JOIN tags t ON "
                       f"t.id = a.tag_id WHERE a.resource_id IN ({', '.join(map(str, ids))}) "
                       "AND t.deleted_at IS NULL ORDER BY t.path_key")
        cursor.fetchall()
        connection.rollback()
        return total, [str(row[2]) for row in rows]
    finally:
        connection.close()


def run(bench: Bench, options: dict[str, Any]) -> dict[str, Metric]:
    small = options.get("small", False)
    count = 100_000 if small else 1_000_000
    _, sensitivity = build_sensitivity(bench)
    forest = build_forest(bench, 100, 99)
    first_resource = build_resources_of_types(bench, count)
    links = build_links(bench, first_resource, count, sensitivity, forest)
    Loader(bench).analyze()

    expected_total, expected_ids = raw_twin(bench)
    query = {"q": EXPRESSION, "per_page": PER_PAGE}

    def api() -> None:
        response = bench.api("GET", "/api/v1/resources", query_string=query)
        body = response.get_json() if response.status_code == 200 else None
        if body is None or body["count"] != expected_total or [
                item["id"] for item in body["results"]] != expected_ids:
            raise RuntimeError(f"{EXPRESSION!r}: {response.status_code} "
                               f"{response.get_data()[:300]!r}")

    api()
    with counting_statements(bench.engine) as statements:
        api()
    rounds = 3 if small else 7
    times = interleaved({"api": api, "raw": lambda: raw_twin(bench),
                         "raw_page": lambda: raw_twin(bench, with_count=False)},
                        rounds, warmup=1)
    value, baseline = ms(median(times["api"])), ms(median(times["raw"]))
    page_only = ms(median(times["raw_page"]))
    ratios = [a / r for a, r in zip(times["api"], times["raw"], strict=True)]
    note = (f"{count:,} resources, {links:,} links, {expected_total:,} matches; "
            f"baseline: raw SQL group + count + page + tags; raw page without its count "
            f"{page_only:.1f} ms")
    return {
        "8_expression_first_page_ms": metric(
            value, "ms", baseline=baseline, ratio=median(ratios),
            goal=f"ratio <= {GOAL_RATIO:.0f}", met=median(ratios) <= GOAL_RATIO, note=note),
        "8_expression_first_page_statements": metric(
            len(statements), "statements", goal="<= 6", met=len(statements) <= 6,
            note="key check, names, count, page, tags"),
    }


if __name__ == "__main__":
    case_main(run)
