"""Case 2 — the tag list page ``/s/<scope>/tags``, page 1 and page 500 (50 tags a page,
sorted by path, usage counts shown), in a scope of 100,000 tags and 1,000,000
assignments: median server time (test client, signed-in session) and SQL statements per
request — for a full page load and for the htmx fragment that paging and filtering
swap in.  Baseline: the same data fetched with raw SQL on a raw DBAPI connection (count
the live tags, read the page's 50 rows, count their usage): the database's share."""

from __future__ import annotations

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
    sign_in_client,
)
from benchmarks.datasets import Loader, build_assignments, build_forest, build_resources

PER_PAGE = 50
GOAL_MS = 25.0
GOAL_STATEMENTS = 8


def raw_page(bench: Bench, page: int) -> Any:
    """The page's data in three plain statements on a raw connection."""
    mark = bench.placeholder
    connection = bench.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute(f"SELECT count(*) FROM tags WHERE scope_id = {mark} "
                       "AND deleted_at IS NULL", (bench.scope_id,))
        cursor.fetchall()
        cursor.execute(
            f"SELECT * FROM tags WHERE scope_id = {mark} AND deleted_at IS NULL "
            f"ORDER BY path_key, id LIMIT {PER_PAGE} OFFSET {(page - 1) * PER_PAGE}",
            (bench.scope_id,))
        ids = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            f"SELECT tag_id, count(*) FROM assignments WHERE tag_id IN "
            f"({', '.join(str(i) for i in ids)}) GROUP BY tag_id")
        cursor.fetchall()
        connection.rollback()
    finally:
        connection.close()


def run(bench: Bench, options: dict[str, Any]) -> dict[str, Metric]:
    small = options.get("small", False)
    roots = 10 if small else 100
    tag_ids = build_forest(bench, roots, 999)
    resource_ids = build_resources(bench, 10_000 if small else 100_000)
    build_assignments(bench, tag_ids, resource_ids, per_resource=10)
    Loader(bench).analyze()

    client = sign_in_client(bench)
    base = f"/s/{bench.scope_slug}/tags"
    probe = client.get(base)
    use_page = probe.status_code == 200
    if not use_page:
        log(f"{base} answers {probe.status_code}: measuring services.tags.queries.list_tags")

    def request(page: int, fragment: bool) -> Any:
        def call() -> None:
            if use_page:
                headers = {"HX-Request": "true"} if fragment else {}
                response = client.get(base, query_string={"page": page} if page > 1 else {},
                                      headers=headers)
                if response.status_code != 200:
                    raise RuntimeError(f"{base}?page={page}: {response.status_code}")
            else:
                from webapp.services.actor import Actor
                from webapp.services.paging import PageRequest
                from webapp.services.tags.queries import list_tags

                with bench.app.app_context():
                    found = list_tags(Actor(user_id=bench.user_id), bench.scope_id,
                                      paging=PageRequest(page, PER_PAGE))
                if len(found.items) != PER_PAGE:
                    raise RuntimeError("short page")
        return call

    results: dict[str, Metric] = {}
    repeat = 7 if small else 25
    for page in (1, 500):
        if small and page == 500:
            page = 150
        fns = {
            "page": request(page, False),
            "fragment": request(page, True),
            "raw": lambda page=page: raw_page(bench, page),
        }
        times = interleaved(fns, repeat, warmup=2)
        statements: dict[str, list[str]] = {}
        for kind in ("page", "fragment"):
            with counting_statements(bench.engine) as seen:
                fns[kind]()
            statements[kind] = seen
        raw_ms = ms(median(times["raw"]))
        for kind in ("page", "fragment"):
            value = ms(median(times[kind]))
            label = "full page" if kind == "page" else "htmx fragment"
            if not use_page:
                label = "list_tags (page not built)"
            results[f"2_tag_list_p{page}_{kind}_ms"] = metric(
                value, "ms", baseline=raw_ms, goal=f"<= {GOAL_MS:.0f} ms",
                met=value <= GOAL_MS, note=f"{label}, page {page}; baseline: raw SQL")
            count = len(statements[kind])
            results[f"2_tag_list_p{page}_{kind}_statements"] = metric(
                count, "statements", baseline=3, goal=f"<= {GOAL_STATEMENTS}",
                met=count <= GOAL_STATEMENTS,
                note=f"{label}; transaction control not counted; baseline: the 3 raw "
                     "statements")
            log(f"page {page} {kind}: {count} statements: " + " | ".join(
                " ".join(s.split())[:70] for s in statements[kind]))
    return results


if __name__ == "__main__":
    case_main(run)
