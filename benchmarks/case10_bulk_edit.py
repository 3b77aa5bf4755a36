"""Case 10 — bulk edit of tag attributes (issue 13 §4) on 1,000 and 10,000 tags, in a
scope of 100,000.

Two operations, each through the bulk-edit page (``POST /s/<scope>/tags/bulk-edit``,
``step=apply``, the ticked ids in the body), which calls
:func:`~webapp.services.tags.bulk_edit.apply_bulk_edit`:

* attrs: colour and description set on ``N`` tags (``N / 20`` roots with 19 children
  each, every one ticked): two UPDATEs, an ``update`` event per tag;
* move: ``N`` top-level tags moved under a new parent (``N`` paths rewritten, an
  ``update`` event per tag).

Baseline, in the same rounds: a twin data set of the same shape gets the same rows written
by raw DBAPI statements in one transaction: ``executemany`` of the tags' new values
(computed beforehand), the change set and an audit event per tag (a JSON payload of the
size the app writes).  No look-ups, checks or ORM.  The app's statement count is
reported per operation at every size (set-based: the same at each)."""

from __future__ import annotations

import json
import random
from typing import Any

from benchmarks.case7_bulk_tags import Raw, root
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
from benchmarks.datasets import TAG_COLUMNS, Loader, TagMaker, build_forest

GOAL_RATIO = 3.0
CHILDREN = 19
OPS = ("attrs", "move")
COLOURS = ("#1F77B4", "#FF7F0E", "#2CA02C", "#D62728", "#9467BD", "#8C564B")


class Tags:
    """A data set loaded in one transaction: ``tops`` roots, each with ``children``
    children (0: flat); the rows stay in memory for the baseline's new values."""

    def __init__(self, bench: Bench, prefix: str, tops: int, children: int, seed: int
                 ) -> None:
        loader = Loader(bench)
        maker = TagMaker(bench.scope_id, bench.user_id, loader.next_id("tags"),
                         random.Random(seed))
        self.rows: list[tuple[Any, ...]] = []
        for t in range(tops):
            top = maker.row(f"{prefix}_{t:05d}", None)
            self.rows.append(top)
            for c in range(children):
                self.rows.append(maker.row(f"{prefix}_{t:05d}_{c:02d}",
                                           (top[0], top[8], top[10])))
        loader.load("tags", TAG_COLUMNS, self.rows)
        self.ids = [int(row[0]) for row in self.rows]


def snapshot(row: tuple[Any, ...], **changes: Any) -> str:
    """A tag's audit snapshot of the size the app writes (TagFacts.snapshot)."""
    state = {"name": row[6], "label": row[7], "color": None, "description": None,
             "parent_id": row[5], "group_id": None, "path": row[8], "deleted": False}
    return json.dumps({**state, **changes})


class RawEdit(Raw):
    def attrs_steps(self, twin: Tags, color: str, description: str
                    ) -> list[tuple[str, Any]]:
        m = self.m
        return [(f"UPDATE tags SET color = {m}, description = {m}, updated_at = {m} "
                 f"WHERE id = {m}",
                 [(color, description, self.now, tag_id) for tag_id in twin.ids]),
                *self.events(twin, lambda row: (snapshot(row), snapshot(
                    row, color=color, description=description)))]

    def move_steps_flat(self, twin: Tags, parent: tuple[int, str, str]
                        ) -> list[tuple[str, Any]]:
        m = self.m
        return [(f"UPDATE tags SET parent_id = {m}, path = {m}, path_key = {m}, "
                 f"id_path = {m}, depth = {m}, updated_at = {m} WHERE id = {m}",
                 self._moved(twin.rows, parent)),
                *self.events(twin, lambda row: (snapshot(row), snapshot(
                    row, parent_id=parent[0], path=f"{parent[1]}.{row[8]}")))]

    def events(self, twin: Tags, payload: Any) -> list[tuple[str, Any]]:
        m = self.m
        return [
            ("INSERT INTO change_sets (scope_id, actor_id, via, summary, created_at) "
             f"VALUES ({m}, {m}, 'web', 'bench', {m})",
             (self.bench.scope_id, self.bench.user_id, self.now)),
            ("INSERT INTO audit_events (change_set_id, object_type, object_id, action, "
             f"before, after) SELECT max(id), 'tag', {m}, 'update', {m}, {m} FROM change_sets",
             [(row[0], *payload(row)) for row in twin.rows]),
        ]


def measure(bench: Bench, client: Any, size: int, repeat: int
            ) -> tuple[dict[str, dict[str, float]], dict[str, int]]:
    """Median milliseconds of each operation and of its raw twin; the app's statements."""
    raw = RawEdit(bench)
    times: dict[str, list[float]] = {f"{op}{kind}": [] for op in OPS for kind in ("", "_raw")}
    statements: dict[str, int] = {}
    url = f"/s/{bench.scope_slug}/tags/bulk-edit"

    def apply(tags: Tags, expected: int, **fields: str) -> None:
        response = client.post(url, data={"ids": ",".join(map(str, tags.ids)),
                                          "use": "ticked", "step": "apply", **fields})
        if response.status_code not in (302, 303):
            raise RuntimeError(f"bulk edit: {response.status_code} "
                               f"{response.get_data()[:300]!r}")
        with client.session_transaction() as session:  # the flash says how many changed
            flashes = session.pop("_flashes", [])
        if not any(f"Edited {expected:,} tags" in text for _, text in flashes):
            raise RuntimeError(f"bulk edit: {flashes}")

    for rep in range(repeat + 1):  # the first round warms up and counts the statements
        seed = size * 100 + rep * 10
        colour, text = COLOURS[rep % len(COLOURS)], f"bulk description {rep}"
        sets = {"attrs": Tags(bench, f"at{size}r{rep}", size // (CHILDREN + 1), CHILDREN,
                              seed),
                "move": Tags(bench, f"mv{size}r{rep}", size, 0, seed + 1)}
        twins = {"attrs": Tags(bench, f"twat{size}r{rep}", size // (CHILDREN + 1), CHILDREN,
                               seed + 2),
                 "move": Tags(bench, f"twmv{size}r{rep}", size, 0, seed + 3)}
        dest = root(bench, f"EditDest{size}r{rep}", seed + 4)
        twin_dest = root(bench, f"EditTwinDest{size}r{rep}", seed + 5)
        steps = {
            "attrs": lambda s=sets, c=colour, t=text: apply(
                s["attrs"], size, set_color="y", color=c, set_description="y",
                description_mode="set", description=t),
            "attrs_raw": lambda w=twins, c=colour, t=text: raw.run(
                raw.attrs_steps(w["attrs"], c, t)),
            "move": lambda s=sets, d=dest: apply(s["move"], size, set_parent="y",
                                                 parent_mode="under", parent=d[1]),
            "move_raw": lambda w=twins, d=twin_dest: raw.run(raw.move_steps_flat(w["move"], d)),
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
    Loader(bench).analyze()
    client = sign_in_client(bench)
    repeat = 2 if small else 3
    sizes = (100, 1_000) if small else (1_000, 10_000)
    measured = {size: measure(bench, client, size, repeat) for size in sizes}
    results: dict[str, Metric] = {}
    titles = {"attrs": "colour + description set on",
              "move": "parent move (top-level tags under a new parent) of"}
    for op in OPS:
        for size in sizes:
            app, base = measured[size][0][op]["app"], measured[size][0][op]["raw"]
            label = f"{size // 1000}k" if size >= 1000 else str(size)
            results[f"10_{op}_{label}_ms"] = metric(
                app, "ms", baseline=base, goal=f"ratio <= {GOAL_RATIO:.0f}",
                met=app / base <= GOAL_RATIO,
                note=f"bulk edit page, {titles[op]} {size:,} ticked tags; baseline: the "
                     "same rows, change set and audit events by raw statements in one "
                     "transaction")
        counts = [measured[size][1][op] for size in sizes]
        results[f"10_{op}_statements"] = metric(
            counts[-1], "statements", baseline=counts[0], goal="same at every size",
            met=len(set(counts)) == 1,
            note=f"bulk edit ({op}): SQL statements at "
                 f"{', '.join(f'{s:,}' for s in sizes)} tags: {counts}")
    return results


if __name__ == "__main__":
    case_main(run)
