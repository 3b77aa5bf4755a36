"""Case 9 — taxonomy import and export (issue 13 §3).

Import: a CSV file of 100,000 tags (1,000 roots × 99 children, labels, colours on the
roots, descriptions) sent to ``POST /api/v1/taxonomy`` (test client, ``text/csv``) into an
empty scope, first as a dry run (the whole diff answered, nothing written), then for real;
the answer is read as a streaming client reads it (its head parsed, the rest counted).
Baseline, in the same process: the rows the import writes, computed beforehand (tags with
their keys and ``id_path``, one audit event each, the change set), written by raw DBAPI
``executemany`` in one transaction into a twin scope, with the schema's indexes and
triggers (SQLite's search index) in place — no parsing, look-ups or checks.  Each is run
once (a run takes minutes).  Peak memory is the process's peak resident set after the
dry run and after the real run.

Export: ``GET /api/v1/taxonomy?format=csv`` of the 100,000 tags, the body streamed and
thrown away as it comes; the Python memory it allocates at its peak (``tracemalloc``)
against the same export of 10,000 tags, which a streamed export keeps the same.
"""

from __future__ import annotations

import json
import random
import resource
import time
import tracemalloc
from typing import Any

from benchmarks.common import Bench, Metric, case_main, log, metric, ms
from benchmarks.datasets import NOW, TAG_COLUMNS, Loader, TagMaker

GOAL_RATIO = 3.0
GOAL_MB = 300.0
GOAL_EXPORT_GROWTH = 1.5


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def taxonomy_csv(roots: int, children: int) -> str:
    lines = ["kind,name,label,color,description"]
    for r in range(roots):
        lines.append(f"tag,Area{r:04d},Area {r},#{r * 2654435761 % 0xFFFFFF:06X},"
                     f"root number {r}")
        lines.extend(f"tag,Area{r:04d}.item_{c:03d},Item {c},," for c in range(children))
    return "\n".join(lines) + "\n"


def baseline_steps(bench: Bench, scope_id: int, roots: int, children: int
                   ) -> list[tuple[str, Any]]:
    """What the import writes, as raw statements: the change set, the tags, an audit
    event per tag (its snapshot as JSON)."""
    loader = Loader(bench)
    m = bench.placeholder
    maker = TagMaker(scope_id, bench.user_id, loader.next_id("tags") + 1_000_000,
                     random.Random(9))
    tags: list[tuple[Any, ...]] = []
    events: list[tuple[Any, ...]] = []
    for r in range(roots):
        root = maker.row(f"Area{r:04d}", None)
        tags.append(root)
        for c in range(children):
            tags.append(maker.row(f"item_{c:03d}", (root[0], root[8], root[10])))
    for row in tags:
        snapshot = {"name": row[6], "label": row[7], "color": None, "description": None,
                    "parent_id": row[5], "group_id": None, "path": row[8], "deleted": False}
        events.append((row[0], json.dumps(snapshot)))
    now = loader.value(NOW)
    return [
        ("INSERT INTO change_sets (scope_id, actor_id, via, summary, created_at) "
         f"VALUES ({m}, {m}, 'api', 'bench', {m})", (scope_id, bench.user_id, now)),
        (f"INSERT INTO tags ({', '.join(TAG_COLUMNS)}) "
         f"VALUES ({', '.join(m for _ in TAG_COLUMNS)})",
         [tuple(loader.value(item) for item in row) for row in tags]),
        ("INSERT INTO audit_events (change_set_id, object_type, object_id, action, before, "
         f"after) SELECT max(id), 'tag', {m}, 'create', NULL, {m} FROM change_sets", events),
    ]


def run_raw(bench: Bench, steps: list[tuple[str, Any]]) -> None:
    connection = bench.raw_connection()
    try:
        cursor = connection.cursor()
        if bench.dialect == "sqlite":
            cursor.execute("BEGIN IMMEDIATE")
        for sql, params in steps:
            if isinstance(params, list):
                cursor.executemany(sql, params)
            else:
                cursor.execute(sql, params)
        if bench.dialect == "sqlite":
            cursor.execute("COMMIT")
        else:
            connection.commit()
    finally:
        connection.close()


def make_scope(bench: Bench, public_id: str) -> int:
    from webapp.services.actor import Actor
    from webapp.services.scopes import create_scope

    with bench.app.app_context():
        return create_scope(Actor.system(), public_id, name=public_id).id


def import_file(bench: Bench, text: str, dry_run: bool) -> dict[str, Any]:
    """The import's answer as a client streaming it reads it: the head of the report (its
    counts, change set, … come before the steps) parsed, the diff itself counted and let
    go.  Parsing the whole ~30 MB diff here, in the measured process, would add a
    client's memory (~60 MB of dicts) to the server's peak."""
    response = bench.api("POST", f"/api/v1/taxonomy?dry_run={str(dry_run).lower()}",
                         data=text.encode(), headers={"Content-Type": "text/csv"},
                         buffered=False)
    try:
        if response.status_code != 200:
            raise RuntimeError(f"import: {response.status_code} "
                               f"{response.get_data()[:300]!r}")
        start, size, marker = b"", 0, b', "groups": ['
        for chunk in response.response:
            size += len(chunk)
            if marker not in start:
                start += chunk
        head: dict[str, Any] = json.loads(start[:start.index(marker)] + b"}")
    finally:
        response.close()
    head["bytes"] = size
    return head


def export_peak(bench: Bench, token: str) -> tuple[float, float, int]:
    """(seconds, peak MB allocated while streaming, bytes) of a CSV export."""
    def stream() -> int:
        response = bench.client.get("/api/v1/taxonomy?format=csv", buffered=False,
                                    headers={"x-api-key": token})
        size = sum(len(chunk) for chunk in response.response)
        response.close()
        return size

    started = time.perf_counter()
    size = stream()
    seconds = time.perf_counter() - started
    tracemalloc.start()
    stream()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return seconds, peak / 2**20, size


def key_for(bench: Bench, scope_id: int) -> str:
    from webapp.services.actor import Actor
    from webapp.services.api_keys import create_api_key
    from webapp.services.scopes import add_member
    from webapp.services.users import get_user_by_email

    with bench.app.app_context():
        system = Actor.system()
        user = get_user_by_email("bench@example.com")
        add_member(system, scope_id, user.email, "manager")
        _, token = create_api_key(system, user_id=user.id, scope_id=scope_id,
                                  name="bench", permissions=("tags.read",))
        return token


def run(bench: Bench, options: dict[str, Any]) -> dict[str, Metric]:
    small = options.get("small", False)
    roots, children = (100, 99) if small else (1_000, 99)
    total = roots * (children + 1)
    text = taxonomy_csv(roots, children)
    log(f"file of {total:,} tags, {len(text) / 2**20:.1f} MiB")
    bench.api("GET", "/api/v1/tags?per_page=1")  # the key's first use

    started = time.perf_counter()
    dry = import_file(bench, text, dry_run=True)
    dry_seconds = time.perf_counter() - started
    dry_rss = peak_rss_mb()
    assert dry["counts"]["tags"]["create"] == total, dry["counts"]
    log(f"dry run {dry_seconds:.1f} s, peak {dry_rss:.0f} MB, "
        f"answer {dry['bytes'] / 2**20:.1f} MiB")
    del dry

    twin = make_scope(bench, "scope_twin")
    steps = baseline_steps(bench, twin, roots, children)
    started = time.perf_counter()
    run_raw(bench, steps)
    raw_seconds = time.perf_counter() - started
    del steps
    log(f"raw insert {raw_seconds:.1f} s")

    started = time.perf_counter()
    done = import_file(bench, text, dry_run=False)
    real_seconds = time.perf_counter() - started
    real_rss = peak_rss_mb()
    assert done["counts"]["tags"]["create"] == total and done["change_set_id"]
    log(f"import {real_seconds:.1f} s, peak {real_rss:.0f} MB")
    del done

    small_scope = make_scope(bench, "scope_small")
    small_token = key_for(bench, small_scope)
    with bench.app.app_context():
        from webapp.services.actor import Actor
        from webapp.services.taxonomy.apply import import_taxonomy
        from webapp.services.taxonomy.records import Format

        import_taxonomy(Actor.system(), small_scope, taxonomy_csv(total // 1000, 99),
                        Format.CSV, dry_run=False)
    big_token = key_for(bench, bench.scope_id)
    export_seconds, export_mb, size = export_peak(bench, big_token)
    _, small_mb, _ = export_peak(bench, small_token)
    log(f"export {export_seconds:.1f} s, {size / 2**20:.1f} MiB, peak {export_mb:.1f} MB "
        f"(10x fewer tags: {small_mb:.1f} MB)")

    label = f"{total // 1000}k"
    baseline_note = ("baseline: the same tag rows, an audit event each and the change set "
                     "written by raw executemany in one transaction")
    return {
        f"9_import_{label}_dry_run_ms": metric(
            ms(dry_seconds), "ms", baseline=ms(raw_seconds), goal=f"ratio <= {GOAL_RATIO:.0f}",
            met=dry_seconds / raw_seconds <= GOAL_RATIO,
            note=f"POST /api/v1/taxonomy (CSV, {total:,} tags) dry run, the whole diff "
                 f"answered; {baseline_note}"),
        f"9_import_{label}_ms": metric(
            ms(real_seconds), "ms", baseline=ms(raw_seconds), goal=f"ratio <= {GOAL_RATIO:.0f}",
            met=real_seconds / raw_seconds <= GOAL_RATIO,
            note=f"the same import for real, one change set; {baseline_note}"),
        "9_import_peak_rss": metric(
            max(dry_rss, real_rss), "MB", goal=f"<= {GOAL_MB:.0f} MB",
            met=max(dry_rss, real_rss) <= GOAL_MB,
            note="the process's peak resident set after the dry run and the import"),
        f"9_export_{label}_ms": metric(
            ms(export_seconds), "ms", goal="(reported)", met=True,
            note=f"GET /api/v1/taxonomy?format=csv of {total:,} tags, streamed "
                 f"({size / 2**20:.1f} MiB)"),
        "9_export_peak_growth": metric(
            export_mb / small_mb, "x", goal=f"<= {GOAL_EXPORT_GROWTH}x (constant)",
            met=export_mb / small_mb <= GOAL_EXPORT_GROWTH,
            note=f"Python memory at the export's peak: {export_mb:.1f} MB for {total:,} "
                 f"tags, {small_mb:.1f} MB for {total // 10:,}"),
    }


if __name__ == "__main__":
    case_main(run)
