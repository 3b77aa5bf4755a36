"""Case 1 — bulk attach and detach: 10 tag names × 10,000 resource ids through the real
``POST /api/v1/tags/attach/`` and ``/detach/`` handlers (test client, one request each),
against the physical limit: a raw DBAPI ``executemany`` of the same 100,000 link rows into
(and out of) an equivalent table — same columns, primary key, indexes and foreign keys —
in one transaction.  Each attach names 10,000 resources never seen before, so it also
registers them.  Peak memory is the process's peak resident set (``ru_maxrss``), read
after an attach and a detach made before anything else in this process."""

from __future__ import annotations

import resource
import uuid
from typing import Any

from benchmarks.common import (
    Bench,
    Metric,
    case_main,
    log,
    median,
    metric,
    ms,
    paired_ratio,
    timed,
)
from benchmarks.datasets import NOW, Loader, build_resources

NAMES = [f"Bulk.label_{n:02d}" for n in range(10)]
RESOURCES = 10_000
GOAL_RATIO = 2.0
GOAL_MB = 250.0


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


class Attacher:
    """Attach then detach 10 names on 10,000 fresh resource ids, through the API."""

    def __init__(self, bench: Bench) -> None:
        self.bench = bench
        self.batch = 0
        self.body: dict[str, Any] = {}

    def attach(self) -> None:
        self.batch += 1
        ids = [str(uuid.UUID(int=(self.batch << 64) + n)) for n in range(RESOURCES)]
        self.body = {"names": NAMES, "sources": ids}
        response = self.bench.api("POST", "/api/v1/tags/attach/", json=self.body)
        if response.status_code != 200:
            raise RuntimeError(f"attach: {response.status_code} {response.get_data()[:300]!r}")

    def detach(self) -> None:
        response = self.bench.api("POST", "/api/v1/tags/detach/", json=self.body)
        if response.status_code != 200:
            raise RuntimeError(f"detach: {response.status_code} {response.get_data()[:300]!r}")


class RawLinks:
    """The physical limit: executemany of the same rows into a copy of ``assignments``."""

    def __init__(self, bench: Bench, tag_ids: list[int], resource_ids: range,
                 change_set_id: int) -> None:
        self.bench = bench
        self.loader = Loader(bench)
        added_at = self.loader.value(NOW)
        self.rows = [(tag, res, bench.user_id, added_at, "api", change_set_id)
                     for tag in tag_ids for res in resource_ids]
        self.keys = [(tag, res) for tag, res, *_ in self.rows]
        self.mark = bench.placeholder
        make_equivalent_table(bench)

    def _run(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        connection = self.bench.raw_connection()
        try:
            cursor = connection.cursor()
            if self.bench.dialect == "sqlite":
                cursor.execute("BEGIN IMMEDIATE")
                cursor.executemany(sql, rows)
                cursor.execute("COMMIT")
            else:
                cursor.executemany(sql, rows)
                connection.commit()
        finally:
            connection.close()

    def insert(self) -> None:
        m = self.mark
        self._run("INSERT INTO bench_links (tag_id, resource_id, added_by_id, added_at, "
                  f"context, change_set_id) VALUES ({m}, {m}, {m}, {m}, {m}, {m})", self.rows)

    def delete(self) -> None:
        m = self.mark
        self._run(f"DELETE FROM bench_links WHERE tag_id = {m} AND resource_id = {m}",
                  self.keys)


def make_equivalent_table(bench: Bench) -> None:
    loader = Loader(bench)
    if bench.dialect == "sqlite":
        rows = loader.execute(
            "SELECT sql FROM sqlite_master WHERE tbl_name = 'assignments' AND sql IS NOT NULL")
        for (sql,) in rows:
            loader.execute(sql.replace("assignments", "bench_links"))
    else:
        loader.execute("CREATE TABLE bench_links (LIKE assignments INCLUDING ALL)")
        loader.execute(
            "ALTER TABLE bench_links "
            "ADD FOREIGN KEY (tag_id) REFERENCES tags (id) ON DELETE CASCADE, "
            "ADD FOREIGN KEY (resource_id) REFERENCES resources (id) ON DELETE CASCADE, "
            "ADD FOREIGN KEY (added_by_id) REFERENCES users (id) ON DELETE SET NULL, "
            "ADD FOREIGN KEY (change_set_id) REFERENCES change_sets (id) ON DELETE SET NULL")


def run(bench: Bench, options: dict[str, Any]) -> dict[str, Metric]:
    repeat = int(options.get("repeat", 5))
    attacher = Attacher(bench)
    # Memory first, before the baseline's row lists exist in this process.
    before = peak_rss_mb()
    attacher.attach()
    attacher.detach()
    peak = peak_rss_mb()
    log(f"peak RSS {before:.0f} MB before the first attach, {peak:.0f} MB after")

    loader = Loader(bench)
    tag_ids = [row[0] for row in loader.execute(
        "SELECT id FROM tags WHERE scope_id = ? AND deleted_at IS NULL AND depth = 1 "
        "ORDER BY id", (bench.scope_id,))]
    change_set_id = loader.execute("SELECT max(id) FROM change_sets")[0][0]
    first, last = build_resources(bench, RESOURCES, rtype="table")
    raw = RawLinks(bench, tag_ids, range(first, last + 1), change_set_id)

    # Each round: attach and the raw insert, then detach and the raw delete; the order of
    # each pair alternates between rounds so that both see the same noise.
    times: dict[str, list[float]] = {"attach": [], "insert": [], "detach": [], "delete": []}
    steps = {"attach": attacher.attach, "insert": raw.insert,
             "detach": attacher.detach, "delete": raw.delete}
    for index in range(repeat):
        for pair in (["attach", "insert"], ["detach", "delete"]):
            for name in pair if index % 2 == 0 else reversed(pair):
                seconds, _ = timed(steps[name])
                times[name].append(seconds)
    log("attach/insert/detach/delete ms: " + ", ".join(
        f"{name} {[round(ms(t)) for t in values]}" for name, values in times.items()))
    attach_ms, insert_ms = ms(median(times["attach"])), ms(median(times["insert"]))
    detach_ms, delete_ms = ms(median(times["detach"])), ms(median(times["delete"]))
    attach_ratio = paired_ratio(times["attach"], times["insert"])
    detach_ratio = paired_ratio(times["detach"], times["delete"])
    return {
        "1_attach_100k_links": metric(
            attach_ms, "ms", baseline=insert_ms, ratio=attach_ratio,
            goal=f"ratio <= {GOAL_RATIO}", met=attach_ratio <= GOAL_RATIO,
            note="API attach (registers 10k new resources) vs raw executemany INSERT; "
                 "ratio: median of the rounds'"),
        "1_detach_100k_links": metric(
            detach_ms, "ms", baseline=delete_ms, ratio=detach_ratio,
            goal=f"ratio <= {GOAL_RATIO}", met=detach_ratio <= GOAL_RATIO,
            note="API detach (copies removals for undo) vs raw executemany DELETE; "
                 "ratio: median of the rounds'"),
        "1_attach_detach_peak_rss": metric(
            peak, "MB", baseline=before, goal=f"<= {GOAL_MB:.0f} MB", met=peak <= GOAL_MB,
            note="process peak RSS (ru_maxrss) after one attach + detach; baseline: "
                 "before them"),
    }


if __name__ == "__main__":
    case_main(run)
