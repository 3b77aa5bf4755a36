"""Case 7 — bulk tag operations on 100, 1,000 and 10,000 tags, in a scope of 100,000.

Each data set is ``N / 20`` selected tags with 19 children each (``N`` tags in all):
* delete: ``POST /api/v1/tags/bulk-delete`` of the selected tags with
  ``delete_hierarchy`` (every one of the ``N`` tags goes);
* move: the tag list's bulk form (``POST /s/<scope>/tags/bulk``, ``action=move``, the
  only HTTP route for a bulk move) under a new parent (``N`` paths rewritten);
* merge: the same form with ``action=merge`` into a new tag: the selected tags' links
  move to it (2 resources each), their children move under it, they are deleted.

Baseline, in the same rounds: a twin data set of the same shape gets the same rows written
by raw DBAPI statements in one transaction: ``executemany`` of the tag rows' new values
(computed beforehand), the change set and an audit event per tag the app records (its
JSON payload of the same size); for merge also the links copied and deleted with one
``INSERT … SELECT`` and one ``DELETE``.  No look-ups, checks or ORM.  The app's statement
count is reported per operation at every size (set-based: the same at each)."""

from __future__ import annotations

import json
import random
from typing import Any

from benchmarks.common import (
    Bench,
    Metric,
    case_main,
    counting_statements,
    log,
    median,
    metric,
    ms,
    sign_in_client,
    timed,
)
from benchmarks.datasets import NOW, TAG_COLUMNS, Loader, TagMaker, build_forest, build_resources

GOAL_RATIO = 3.0
GOAL_GROWTH = 20.0
CHILDREN = 19
OPS = ("delete", "move", "merge")


class Selection:
    """``tops`` root tags with ``CHILDREN`` children each, loaded in one transaction; the
    rows stay in memory for the baseline's new values."""

    def __init__(self, bench: Bench, prefix: str, tops: int, seed: int) -> None:
        loader = Loader(bench)
        maker = TagMaker(bench.scope_id, bench.user_id, loader.next_id("tags"),
                         random.Random(seed))
        self.rows: list[tuple[Any, ...]] = []
        self.tops: list[tuple[Any, ...]] = []
        for t in range(tops):
            top = maker.row(f"{prefix}_{t:05d}", None)
            self.tops.append(top)
            self.rows.append(top)
            for c in range(CHILDREN):
                self.rows.append(maker.row(f"{prefix}_{t:05d}_{c:02d}",
                                           (top[0], top[8], top[10])))
        loader.load("tags", TAG_COLUMNS, self.rows)
        self.ids = [int(top[0]) for top in self.tops]

    def link(self, bench: Bench, resources: tuple[int, int]) -> None:
        """Two resources on every selected tag (neighbours share one)."""
        first, last = resources
        span = last - first + 1
        pairs = sorted({(tag_id, first + (n + k) % span)
                        for n, tag_id in enumerate(self.ids) for k in (0, 1)})
        Loader(bench).load("assignments", ("tag_id", "resource_id", "added_by_id",
                                           "added_at", "context", "change_set_id"),
                           ((t, r, bench.user_id, NOW, "import", None) for t, r in pairs))


def root(bench: Bench, name: str, seed: int) -> tuple[int, str, str]:
    """A new root tag; returns (id, path, id_path)."""
    loader = Loader(bench)
    row = TagMaker(bench.scope_id, bench.user_id, loader.next_id("tags"),
                   random.Random(seed)).row(name, None)
    loader.load("tags", TAG_COLUMNS, [row])
    return int(row[0]), str(row[8]), str(row[10])


DELETE_BEFORE, DELETE_AFTER = json.dumps({"deleted": False}), json.dumps({"deleted": True})


def snapshots(rows: list[tuple[Any, ...]]) -> tuple[str, str]:
    """A before and after snapshot of a tag row's size (the baseline's audit payload)."""
    row = rows[0]
    before = {"name": row[6], "label": row[7], "color": None, "description": None,
              "parent_id": row[5], "group_id": None, "path": row[8], "deleted": False}
    return json.dumps(before), json.dumps({**before, "path": f"Destination.{row[8]}"})


class Raw:
    """The same row changes on a twin selection, from raw DBAPI statements in one
    transaction."""

    def __init__(self, bench: Bench) -> None:
        self.bench = bench
        self.m = bench.placeholder
        self.now = Loader(bench).value(NOW)

    def _run(self, steps: list[tuple[str, list[tuple[Any, ...]] | tuple[Any, ...]]]) -> None:
        connection = self.bench.raw_connection()
        try:
            cursor = connection.cursor()
            if self.bench.dialect == "sqlite":
                cursor.execute("BEGIN IMMEDIATE")
            for sql, params in steps:
                if isinstance(params, list):
                    cursor.executemany(sql, params)
                else:
                    cursor.execute(sql, params)
            if self.bench.dialect == "sqlite":
                cursor.execute("COMMIT")
            else:
                connection.commit()
        finally:
            connection.close()

    def _moved(self, rows: list[tuple[Any, ...]], parent: tuple[int, str, str]
               ) -> list[tuple[Any, ...]]:
        """New (parent_id, path, path_key, id_path, depth, updated_at, id) of the roots in
        ``rows`` and their children once the roots are under ``parent``."""
        parent_id, parent_path, parent_id_path = parent
        moved = []
        for row in rows:
            path = f"{parent_path}.{row[8]}"
            moved.append((parent_id if row[5] is None else row[5], path, path.casefold(),
                          parent_id_path + row[10][1:], row[11] + 1, self.now, row[0]))
        return moved

    def delete_steps(self, twin: Selection) -> list[tuple[str, Any]]:
        m = self.m
        return [(f"UPDATE tags SET deleted_at = {m}, updated_at = {m} WHERE id = {m}",
                 [(self.now, self.now, row[0]) for row in twin.rows]),
                *self.audit_steps("delete", [row[0] for row in twin.rows],
                                  DELETE_BEFORE, DELETE_AFTER)]

    def move_steps(self, twin: Selection, parent: tuple[int, str, str]
                   ) -> list[tuple[str, Any]]:
        m = self.m
        return [(f"UPDATE tags SET parent_id = {m}, path = {m}, path_key = {m}, "
                 f"id_path = {m}, depth = {m}, updated_at = {m} WHERE id = {m}",
                 self._moved(twin.rows, parent)),
                *self.audit_steps("update", twin.ids, *snapshots(twin.tops))]

    def merge_steps(self, twin: Selection, kept: tuple[int, str, str]
                    ) -> list[tuple[str, Any]]:
        m = self.m
        ids = ", ".join(str(tag_id) for tag_id in twin.ids)
        children = [row for row in twin.rows if row[5] is not None]
        kept_id, kept_path, kept_id_path = kept
        moved = [(kept_id, f"{kept_path}.{row[6]}", f"{kept_path}.{row[6]}".casefold(),
                  f"{kept_id_path}{row[0]}/", 1, self.now, row[0]) for row in children]
        return [
            ("INSERT INTO assignments (tag_id, resource_id, added_by_id, added_at, context) "
             f"SELECT DISTINCT {m}, resource_id, {m}, {m}, 'manual' FROM assignments "
             f"WHERE tag_id IN ({ids}) ON CONFLICT DO NOTHING",
             (kept_id, self.bench.user_id, self.now)),
            (f"DELETE FROM assignments WHERE tag_id IN ({ids})", ()),
            (f"UPDATE tags SET deleted_at = {m}, updated_at = {m} WHERE id = {m}",
             [(self.now, self.now, tag_id) for tag_id in twin.ids]),
            (f"UPDATE tags SET parent_id = {m}, path = {m}, path_key = {m}, "
             f"id_path = {m}, depth = {m}, updated_at = {m} WHERE id = {m}", moved),
            *self.audit_steps("delete", twin.ids, DELETE_BEFORE, DELETE_AFTER),
            ("INSERT INTO audit_events (change_set_id, object_type, object_id, action, "
             f"before, after) SELECT max(id), 'tag', {m}, 'update', {m}, {m} FROM change_sets",
             [(row[0], *snapshots([row])) for row in children]),
        ]

    def run(self, steps: list[tuple[str, Any]]) -> None:
        self._run(steps)

    def audit_steps(self, action: str, tag_ids: list[int], before: str, after: str
                    ) -> list[tuple[str, Any]]:
        """The change set and one audit event per tag, as the app writes them (the
        change set's id is the highest, read back in the same transaction)."""
        m = self.m
        return [
            ("INSERT INTO change_sets (scope_id, actor_id, via, summary, created_at) "
             f"VALUES ({m}, {m}, 'api', 'bench', {m})",
             (self.bench.scope_id, self.bench.user_id, self.now)),
            ("INSERT INTO audit_events (change_set_id, object_type, object_id, action, "
             f"before, after) SELECT max(id), 'tag', {m}, {m}, {m}, {m} FROM change_sets",
             [(tag_id, action, before, after) for tag_id in tag_ids]),
        ]


def measure(bench: Bench, client: Any, size: int, repeat: int, resources: tuple[int, int]
            ) -> tuple[dict[str, dict[str, float]], dict[str, int]]:
    """Median milliseconds of each operation and of its raw twin; the app's statements."""
    tops = size // (CHILDREN + 1)
    raw = Raw(bench)
    times: dict[str, list[float]] = {f"{op}{kind}": [] for op in OPS for kind in ("", "_raw")}
    statements: dict[str, int] = {}
    bulk_url = f"/s/{bench.scope_slug}/tags/bulk"

    def api_delete(selection: Selection) -> None:
        response = bench.api("POST", "/api/v1/tags/bulk-delete",
                             json={"tag_ids": selection.ids, "delete_hierarchy": True})
        body = response.get_json()
        if response.status_code != 200 or body["deleted_count"] != size:
            raise RuntimeError(f"bulk delete: {response.status_code} {body}")

    def form(action: str, selection: Selection, **fields: str) -> None:
        response = client.post(bulk_url, data={"action": action, "ids": selection.ids,
                                               **fields})
        if response.status_code not in (302, 303):
            raise RuntimeError(f"bulk {action}: {response.status_code} "
                               f"{response.get_data()[:300]!r}")

    bench.api("GET", "/api/v1/tags?per_page=1")  # the key's first use records last_used_at
    for rep in range(repeat + 1):  # the first round warms up and counts the statements
        seed = size * 100 + rep * 10
        sets = {op: Selection(bench, f"{op[:2]}{size}r{rep}", tops, seed + i)
                for i, op in enumerate(OPS)}
        twins = {op: Selection(bench, f"tw{op[:2]}{size}r{rep}", tops, seed + 3 + i)
                 for i, op in enumerate(OPS)}
        for selection in (sets["merge"], twins["merge"]):
            selection.link(bench, resources)
        dest = root(bench, f"Dest{size}r{rep}", seed + 6)
        kept = root(bench, f"Keep{size}r{rep}", seed + 7)
        twin_dest = root(bench, f"TwinDest{size}r{rep}", seed + 8)
        twin_kept = root(bench, f"TwinKeep{size}r{rep}", seed + 9)
        steps = {
            "delete": lambda s=sets: api_delete(s["delete"]),
            "delete_raw": lambda t=twins: raw.run(raw.delete_steps(t["delete"])),
            "move": lambda s=sets, d=dest: form("move", s["move"], **{"bulk-parent": d[1]}),
            "move_raw": lambda t=twins, d=twin_dest: raw.run(raw.move_steps(t["move"], d)),
            "merge": lambda s=sets, k=kept: form("merge", s["merge"],
                                                 **{"bulk-target": k[1]}),
            "merge_raw": lambda t=twins, k=twin_kept: raw.run(raw.merge_steps(t["merge"], k)),
        }
        order = list(steps)
        shift = rep % len(order)
        for name in order[shift:] + order[:shift]:
            if rep == 0 and name in OPS:
                with counting_statements(bench.engine) as seen:
                    steps[name]()
                statements[name] = len(seen)
                continue
            seconds, _ = timed(steps[name])
            if rep:
                times[name].append(seconds)
    log(f"{size:,} tags, ms: " + ", ".join(
        f"{name} {[round(ms(t)) for t in values]}" for name, values in times.items()))
    return ({op: {"app": ms(median(times[op])), "raw": ms(median(times[f"{op}_raw"]))}
             for op in OPS}, statements)


def run(bench: Bench, options: dict[str, Any]) -> dict[str, Metric]:
    small = options.get("small", False)
    build_forest(bench, 10 if small else 100, 999)
    resources = build_resources(bench, 2_000)
    Loader(bench).analyze()
    client = sign_in_client(bench)
    repeat = 3 if small else 5
    sizes = (100, 1_000) if small else (100, 1_000, 10_000)
    measured = {size: measure(bench, client, size, repeat, resources) for size in sizes}
    results: dict[str, Metric] = {}
    titles = {"delete": "bulk delete with descendants (API)",
              "move": "bulk move under a new parent (tag list form)",
              "merge": "merge into a new tag (tag list form)"}
    for op in OPS:
        for size in sizes:
            app, base = measured[size][0][op]["app"], measured[size][0][op]["raw"]
            label = f"{size // 1000}k" if size >= 1000 else str(size)
            results[f"7_{op}_{label}_ms"] = metric(
                app, "ms", baseline=base, goal=f"ratio <= {GOAL_RATIO:.0f}",
                met=app / base <= GOAL_RATIO,
                note=f"{titles[op]} of {size:,} tags ({size // (CHILDREN + 1):,} selected, "
                     f"{CHILDREN} children each); baseline: the same rows changed by raw "
                     "statements in one transaction")
        low, high = sizes[-2], sizes[-1]
        growth = measured[high][0][op]["app"] / measured[low][0][op]["app"]
        raw_growth = measured[high][0][op]["raw"] / measured[low][0][op]["raw"]
        results[f"7_{op}_growth"] = metric(
            growth, "x", baseline=raw_growth, goal=f"<= {GOAL_GROWTH:.0f}x (linear)",
            met=growth <= GOAL_GROWTH,
            note=f"{titles[op]}: time at {high:,} / time at {low:,} tags (linear ~10x, "
                 "quadratic ~100x); baseline: the raw statements' growth")
        counts = [measured[size][1][op] for size in sizes]
        results[f"7_{op}_statements"] = metric(
            counts[-1], "statements", baseline=counts[0], goal="same at every size",
            met=len(set(counts)) == 1,
            note=f"{titles[op]}: SQL statements at {', '.join(f'{s:,}' for s in sizes)} "
                 f"tags: {counts}")
    return results


if __name__ == "__main__":
    case_main(run)
