"""Case 4 — subtree operations through the API, in a scope of 100,000 tags: rename a
parent with 10,000 descendants (``PUT /api/v1/tags/{id}`` ``{"name"}``), move it under
another tag (``{"parent_tag_id"}``), and delete the subtree
(``DELETE /api/v1/tags/{id}?deleteHierarchy=true``); the same with 1,000 descendants, to
show how the time grows (linear: ~10×; quadratic: ~100×).  Baseline: a raw ``UPDATE``
touching the same rows in one statement and transaction (a DBAPI connection)."""

from __future__ import annotations

from typing import Any

from benchmarks.common import Bench, Metric, case_main, log, median, metric, ms, timed
from benchmarks.datasets import NOW, Loader, build_forest, build_subtree

GOAL_MS = 1000.0
GOAL_GROWTH = 20.0


def api_ok(bench: Bench, method: str, path: str, **kwargs: Any) -> Any:
    response = bench.api(method, path, **kwargs)
    if response.status_code != 200:
        raise RuntimeError(f"{method} {path}: {response.status_code} "
                           f"{response.get_data()[:300]!r}")
    return response.get_json()


class RawSubtree:
    """The physical floor of each operation: the same rewrite of a twin subtree of the
    same size in one raw ``UPDATE`` and transaction (the FTS triggers fire as for the
    app); no look-ups, checks, ORM objects or audit events."""

    def __init__(self, bench: Bench, top_id: int) -> None:
        self.bench = bench
        self.top_id = top_id
        self.mark = bench.placeholder

    def _top(self, cursor: Any, top_id: int) -> tuple[str, str, str, int]:
        cursor.execute(f"SELECT path, path_key, id_path, depth FROM tags WHERE id = {self.mark}",
                       (top_id,))
        return cursor.fetchone()  # type: ignore[no-any-return]

    def _update(self, top_id: int, assignments: str, values: Any) -> None:
        m = self.mark
        connection = self.bench.raw_connection()
        try:
            cursor = connection.cursor()
            if self.bench.dialect == "sqlite":
                cursor.execute("BEGIN IMMEDIATE")
            path, path_key, id_path, depth = self._top(cursor, top_id)
            params = values(path, path_key, id_path, depth)
            cursor.execute(
                f"UPDATE tags SET {assignments} WHERE scope_id = {m} "
                f"AND id_path >= {m} AND id_path < {m}",
                (*params, self.bench.scope_id, id_path, id_path[:-1] + "0"))
            if self.bench.dialect == "sqlite":
                cursor.execute("COMMIT")
            else:
                connection.commit()
        finally:
            connection.close()

    def rename(self, name: str) -> None:
        m = self.mark
        self._update(
            self.top_id,
            f"path = {m} || substr(path, {m}), path_key = {m} || substr(path_key, {m}), "
            f"updated_at = {m}",
            lambda path, key, _i, _d: (name, len(path) + 1, name.casefold(), len(key) + 1,
                                       Loader(self.bench).value(NOW)))

    def move(self, parent: tuple[str, str, str, int]) -> None:
        m = self.mark
        p_path, p_key, p_id_path, p_depth = parent
        self._update(
            self.top_id,
            f"path = {m} || substr(path, {m}), path_key = {m} || substr(path_key, {m}), "
            f"id_path = {m} || substr(id_path, {m}), depth = depth + {m}, updated_at = {m}",
            lambda path, key, id_path, depth: (
                f"{p_path}.", len(path) - len(path.rsplit(".", 1)[-1]) + 1,
                f"{p_key}.", len(key) - len(key.rsplit(".", 1)[-1]) + 1,
                p_id_path, len(id_path) - len(id_path.rstrip("/").rsplit("/", 1)[-1]),
                p_depth + 1 - depth, Loader(self.bench).value(NOW)))

    def delete(self, top_id: int) -> None:
        m = self.mark
        self._update(top_id, f"deleted_at = {m}, updated_at = {m}",
                     lambda *_: (Loader(self.bench).value(NOW),) * 2)

    def parent_of(self, tag_id: int) -> tuple[str, str, str, int]:
        rows = Loader(self.bench).execute(
            "SELECT path, path_key, id_path, depth FROM tags WHERE id = ?", (tag_id,))
        return rows[0]  # type: ignore[no-any-return]


def measure(bench: Bench, size: int, repeat: int) -> dict[str, dict[str, float]]:
    """Median milliseconds of rename, move and delete, and of their raw floors."""
    top = build_subtree(bench, f"Big{size}", size, seed=size)
    dest = [build_subtree(bench, f"Dest{size}{side}", 0, seed=size + i)
            for i, side in enumerate("AB")]
    twin = RawSubtree(bench, build_subtree(bench, f"Twin{size}", size, seed=size + 2))
    twin_dest = [twin.parent_of(build_subtree(bench, f"TwinDest{size}{side}", 0,
                                              seed=size + 3 + i))
                 for i, side in enumerate("AB")]
    ops = ("rename", "move", "delete")
    times: dict[str, list[float]] = {f"{op}{kind}": [] for op in ops for kind in ("", "_raw")}
    for rep in range(repeat + 1):  # the first round warms up
        doomed = build_subtree(bench, f"Doomed{size}_{rep}", size, seed=size * 7 + rep)
        twin_doomed = build_subtree(bench, f"TwinDoomed{size}_{rep}", size,
                                    seed=size * 11 + rep)
        steps = {
            "rename": lambda rep=rep: api_ok(bench, "PUT", f"/api/v1/tags/{top}",
                                             json={"name": f"Big{size}_{rep}"}),
            "rename_raw": lambda rep=rep: twin.rename(f"Twin{size}_{rep}"),
            "move": lambda rep=rep: api_ok(bench, "PUT", f"/api/v1/tags/{top}",
                                           json={"parent_tag_id": dest[rep % 2]}),
            "move_raw": lambda rep=rep: twin.move(twin_dest[rep % 2]),
            "delete": lambda doomed=doomed: api_ok(
                bench, "DELETE", f"/api/v1/tags/{doomed}",
                query_string={"deleteHierarchy": "true"}),
            "delete_raw": lambda twin_doomed=twin_doomed: twin.delete(twin_doomed),
        }
        order = list(steps) if rep % 2 == 0 else list(reversed(steps))
        for name in order:
            seconds, _ = timed(steps[name])
            if rep:
                times[name].append(seconds)
    log(f"{size:,} descendants, ms: " + ", ".join(
        f"{name} {[round(ms(t)) for t in values]}" for name, values in times.items()))
    return {op: {"app": ms(median(times[op])), "raw": ms(median(times[f"{op}_raw"]))}
            for op in ops}


def run(bench: Bench, options: dict[str, Any]) -> dict[str, Metric]:
    small = options.get("small", False)
    build_forest(bench, 10 if small else 100, 999)
    Loader(bench).analyze()
    repeat = 3 if small else 5
    sizes = (100, 1000) if small else (1000, 10_000)
    by_size = {size: measure(bench, size, repeat) for size in sizes}
    low, high = sizes
    results: dict[str, Metric] = {}
    for op, title in (("rename", "rename the parent"), ("move", "move the parent"),
                      ("delete", "delete the subtree")):
        for size in sizes:
            value = by_size[size][op]["app"]
            results[f"4_{op}_{size // 1000}k_ms" if size >= 1000 else f"4_{op}_{size}_ms"] = (
                metric(value, "ms", baseline=by_size[size][op]["raw"],
                       goal=f"<= {GOAL_MS:.0f} ms", met=value <= GOAL_MS,
                       note=f"{title} with {size:,} descendants through the API; baseline: "
                            "the same rewrite of a twin subtree in one raw UPDATE"))
        growth = by_size[high][op]["app"] / by_size[low][op]["app"]
        raw_growth = by_size[high][op]["raw"] / by_size[low][op]["raw"]
        results[f"4_{op}_growth"] = metric(
            growth, "x", baseline=raw_growth, goal=f"<= {GOAL_GROWTH:.0f}x (linear)",
            met=growth <= GOAL_GROWTH,
            note=f"{title}: time at {high:,} / time at {low:,} descendants "
                 f"(linear ~10x, quadratic ~100x); baseline: the raw UPDATE's growth")
    return results


if __name__ == "__main__":
    case_main(run)
