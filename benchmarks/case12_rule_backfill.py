"""Case 12 — a rule back-fill that matches 100,000 resources (issue 12, performance):
``webapp.services.rules.apply_rule`` of a saved rule ``when: type:table`` → ``attach:
[reviewN]`` (a tag the back-fill creates), over 250,000 resources (40 % tables) that
already carry ~1,300,000 links.  The back-fill is one undoable change set: the match, the
plan, the new tag, the policy check, the links with context ``rule``, the audit events.

Baseline, in the same rounds (alternating, the order rotating): a raw DBAPI
``executemany`` of the same 100,000 link rows (a twin tag × the matched resources' ids,
worked out beforehand) into ``assignments`` itself, in one transaction — no matching,
planning or checks.  Each round uses a new rule and a new twin tag, so both insert
100,000 new links into a table of the same size.

Peak memory: the process's peak resident set (``ru_maxrss``, as case 9) after the first
back-fill, before any baseline row list exists.  The kernel's high-water mark is reset
just before the back-fill (``/proc/self/clear_refs``; it resets ``ru_maxrss`` too), so the
figure is the peak while the back-fill ran — everything resident included — not the
benchmark's own data load, whose peak the note gives with the resident set before.
"""

from __future__ import annotations

import random
import resource
from typing import Any

from benchmarks.case8_expressions import (
    build_links,
    build_resources_of_types,
    build_sensitivity,
)
from benchmarks.common import Bench, Metric, case_main, log, median, metric, ms, timed
from benchmarks.datasets import NOW, TAG_COLUMNS, Loader, TagMaker, build_forest

GOAL_RATIO = 2.0
GOAL_MB = 300.0
WHEN = "type:table"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def status_mb(field: str) -> float:
    """A size from ``/proc/self/status`` (``VmRSS``, ``VmHWM``) in MB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def reset_peak() -> bool:
    """Reset the kernel's peak resident set (``VmHWM``) to the current one, so the peak
    of what follows can be read apart from the data load's (Linux; False elsewhere)."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
        return True
    except OSError:
        return False


def twin_tag(bench: Bench, name: str) -> int:
    loader = Loader(bench)
    maker = TagMaker(bench.scope_id, bench.user_id, loader.next_id("tags"),
                     random.Random(len(name)))
    row = maker.row(name, None)
    loader.load("tags", TAG_COLUMNS, [row])
    return int(row[0])


def raw_insert(bench: Bench, rows: list[tuple[Any, ...]]) -> None:
    m = bench.placeholder
    connection = bench.raw_connection()
    try:
        cursor = connection.cursor()
        if bench.dialect == "sqlite":
            cursor.execute("BEGIN IMMEDIATE")
        cursor.executemany(
            "INSERT INTO assignments (tag_id, resource_id, added_by_id, added_at, context, "
            f"change_set_id) VALUES ({m}, {m}, {m}, {m}, {m}, {m})", rows)
        if bench.dialect == "sqlite":
            cursor.execute("COMMIT")
        else:
            connection.commit()
    finally:
        connection.close()


def run(bench: Bench, options: dict[str, Any]) -> dict[str, Metric]:
    small = options.get("small", False)
    count = 25_000 if small else 250_000
    _, sensitivity = build_sensitivity(bench)
    forest = build_forest(bench, 10, 99)
    first_resource = build_resources_of_types(bench, count)
    links = build_links(bench, first_resource, count, sensitivity, forest)
    Loader(bench).analyze()
    loader = Loader(bench)
    table_ids = [int(row[0]) for row in loader.execute(
        "SELECT id FROM resources WHERE scope_id = ? AND type = 'table' ORDER BY id",
        (bench.scope_id,))]
    matches = len(table_ids)
    log(f"{matches:,} tables match {WHEN!r}")

    from webapp.extensions import db
    from webapp.services.actor import Actor
    from webapp.services.rules import apply_rule, create_rule

    actor = Actor(user_id=bench.user_id)
    rounds = 2 if small else 3

    def new_rule(index: int) -> int:
        with bench.app.app_context():
            try:
                return create_rule(actor, bench.scope_id, name=f"review {index}", when=WHEN,
                                   attach=[f"review{index}"]).id
            finally:
                db.session.remove()

    def backfill(rule_id: int) -> None:
        with bench.app.app_context():
            try:
                done = apply_rule(actor, bench.scope_id, rule_id)
            finally:
                db.session.remove()
        if done.resources != matches or done.changed != matches:
            raise RuntimeError(f"back-fill: {done}")

    rule_ids = [new_rule(i) for i in range(rounds)]
    twins = [twin_tag(bench, f"twin{i}") for i in range(rounds)]
    rss_before = status_mb("VmRSS")
    peak_before = peak_rss_mb()
    was_reset = reset_peak()
    app_times: list[float] = []
    raw_times: list[float] = []
    peak = 0.0
    for index in range(rounds):
        rows = None if index == 0 else [
            (twins[index], rid, bench.user_id, loader.value(NOW), "rule", None)
            for rid in table_ids]
        steps = ["app", "raw"] if index % 2 == 0 else ["raw", "app"]
        for step in steps:
            if step == "app":
                seconds, _ = timed(lambda index=index: backfill(rule_ids[index]))
                app_times.append(seconds)
                if index == 0:
                    peak = peak_rss_mb()
                    log(f"first back-fill {seconds:.2f} s, peak RSS {peak:.0f} MB (before: "
                        f"{rss_before:.0f} MB resident; the data load's peak "
                        f"{peak_before:.0f} MB)")
            else:
                if rows is None:
                    rows = [(twins[index], rid, bench.user_id, loader.value(NOW), "rule", None)
                            for rid in table_ids]
                seconds, _ = timed(lambda rows=rows: raw_insert(bench, rows))
                raw_times.append(seconds)
        del rows
        log(f"round {index + 1}: back-fill {app_times[-1]:.2f} s, raw {raw_times[-1]:.2f} s")
    value, baseline = ms(median(app_times)), ms(median(raw_times))
    ratios = [a / r for a, r in zip(app_times, raw_times, strict=True)]
    note = (f"{count:,} resources, {links:,} links before, {matches:,} matched; baseline: "
            f"raw executemany of {matches:,} link rows, one transaction; rounds "
            f"{', '.join(f'{ms(s):.0f}' for s in app_times)} ms vs "
            f"{', '.join(f'{ms(s):.0f}' for s in raw_times)} ms")
    label = f"{matches // 1000}k"
    reset = ("high-water mark reset before it" if was_reset
             else "not reset: the data load included")
    return {
        f"12_rule_backfill_{label}_ms": metric(
            value, "ms", baseline=baseline, ratio=median(ratios),
            goal=f"ratio <= {GOAL_RATIO:.0f}", met=median(ratios) <= GOAL_RATIO, note=note),
        "12_rule_backfill_peak_rss": metric(
            peak, "MB", goal=f"<= {GOAL_MB:.0f} MB", met=peak <= GOAL_MB,
            note=f"the process's peak resident set during the first back-fill ({reset}); "
                 f"{rss_before:.0f} MB resident before it, the data load's peak "
                 f"{peak_before:.0f} MB"),
    }


if __name__ == "__main__":
    case_main(run)
