"""Case 3 — substring search over 1,000,000 tags, a rare term (3 matches) and a common
one (~50,000 matches, 5 %): ``GET /api/v1/tags?search=`` (API key, first page of 50 with
the total count) and the tag page's search-as-you-type (the htmx fragment of
``/s/<scope>/tags?q=``).  Median server time (test client).  Baseline: what the index
replaces — a raw ``count(*) … WHERE path_key LIKE '%term%'`` table scan, on a raw DBAPI
connection, measured in the same rounds."""

from __future__ import annotations

from typing import Any

from benchmarks.common import (
    Bench,
    Metric,
    case_main,
    interleaved,
    log,
    median,
    metric,
    ms,
    sign_in_client,
)
from benchmarks.datasets import COMMON_TERM, RARE_TERM, Loader, build_forest

GOAL_MS = 50.0


def like_scan(bench: Bench, term: str) -> int:
    mark = bench.placeholder
    connection = bench.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute(f"SELECT count(*) FROM tags WHERE scope_id = {mark} AND "
                       f"deleted_at IS NULL AND path_key LIKE {mark}",
                       (bench.scope_id, f"%{term}%"))
        found = int(cursor.fetchone()[0])
        connection.rollback()
        return found
    finally:
        connection.close()


def run(bench: Bench, options: dict[str, Any]) -> dict[str, Metric]:
    small = options.get("small", False)
    build_forest(bench, 100 if small else 1000, 999)
    Loader(bench).analyze()
    client = sign_in_client(bench)
    page_url = f"/s/{bench.scope_slug}/tags"
    use_page = client.get(page_url, headers={"HX-Request": "true"}).status_code == 200
    if not use_page:
        log(f"{page_url} is not there: the page figures use services.tags.queries.list_tags")

    results: dict[str, Metric] = {}
    for label, term in (("rare", RARE_TERM), ("common", COMMON_TERM)):
        matches = like_scan(bench, term)

        def api(term: str = term, matches: int = matches) -> int:
            response = bench.api("GET", "/api/v1/tags", query_string={"search": term})
            body = response.get_json() if response.status_code == 200 else None
            # The count is exact, or a lower bound when the API caps counting (10,000+).
            if body is None or not (body["count"] == matches
                                    or 1000 <= body["count"] < matches) or (
                    matches and not body["results"]):
                raise RuntimeError(f"search {term!r}: {response.status_code} "
                                   f"{response.get_data()[:200]!r}")
            return int(body["count"])

        def page(term: str = term) -> None:
            if use_page:
                response = client.get(page_url, query_string={"q": term},
                                      headers={"HX-Request": "true"})
                if response.status_code != 200:
                    raise RuntimeError(f"page search {term!r}: {response.status_code}")
            else:
                from webapp.services.actor import Actor
                from webapp.services.tags.queries import TagFilter, list_tags

                with bench.app.app_context():
                    list_tags(Actor(user_id=bench.user_id), bench.scope_id,
                              TagFilter(search=term))

        times = interleaved({"api": api, "page": page,
                             "scan": lambda term=term: like_scan(bench, term)},
                            5 if small else 15, warmup=2)
        scan_ms = ms(median(times["scan"]))
        counted = api()
        shown = f"{matches:,} matches" + (
            f", counted as {counted:,}" if counted != matches else "")
        for kind, title in (("api", "GET /api/v1/tags?search="),
                            ("page", "tag page search-as-you-type" if use_page
                             else "list_tags (page not built)")):
            value = ms(median(times[kind]))
            results[f"3_search_{kind}_{label}_ms"] = metric(
                value, "ms", baseline=scan_ms, goal=f"<= {GOAL_MS:.0f} ms",
                met=value <= GOAL_MS,
                note=f"{title} {term!r}: {shown}; baseline: LIKE table scan")
    return results


if __name__ == "__main__":
    case_main(run)
