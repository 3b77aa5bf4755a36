"""Case 6 — concurrent writers: 8 clients attaching and detaching for 10 s against the app
under gunicorn (2 sync workers; the case's database: SQLite file in WAL mode, or
PostgreSQL).  Each client owns 20 resources and its own tag, and shares one tag with all
the others (so every write contends for the same tag rows); each call attaches or
detaches 1–2 names on a random half of its resources.  Every 200 answer is an
acknowledged write: afterwards each client's links must be exactly what its acknowledged
calls left.  Any other answer (a "database is locked" among them) is an error.
Baseline for the rate and latency: one client alone, same calls, for half the time."""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass, field
from typing import Any

from benchmarks.case5_throughput import server_env
from benchmarks.common import Bench, Metric, case_main, log, metric
from benchmarks.datasets import Loader
from benchmarks.loadgen import Gunicorn, Request, closed_loop

CLIENTS = 8
RESOURCES = 20
SHARED = "Writers.shared"


@dataclass
class Writer:
    """The calls of all clients, and what each acknowledged call left behind."""

    token: str
    seed: int
    expected: dict[tuple[str, str], bool] = field(default_factory=dict)
    unknown: set[tuple[str, str]] = field(default_factory=set)

    def resources(self, client: int) -> list[str]:
        return [str(uuid.UUID(int=(self.seed << 96) + (client << 32) + n))
                for n in range(RESOURCES)]

    def __call__(self, client: int, number: int) -> tuple[Request, Any]:
        rng = random.Random(hash((self.seed, client, number)))
        own = f"Writers.client_{client}"
        names = rng.choice([[SHARED], [own], [SHARED, own]])
        chosen = rng.sample(self.resources(client), RESOURCES // 2)
        verb = "attach" if number % 2 == 0 or rng.random() < 0.3 else "detach"
        body = json.dumps({"names": names, "sources": chosen}).encode()
        request = ("POST", f"/api/v1/tags/{verb}/",
                   {"x-api-key": self.token, "Content-Type": "application/json"}, body)
        pairs = [(name.casefold(), rid) for name in names for rid in chosen]

        def check(status: int, payload: bytes) -> bool:
            if status == 200:
                for pair in pairs:  # a client's calls are sequential: the last one wins
                    self.expected[pair] = verb == "attach"
                    self.unknown.discard(pair)
                return True
            self.unknown.update(pairs)  # the call may or may not have been applied
            return False

        return request, check


def present_links(bench: Bench) -> set[tuple[str, str]]:
    rows = Loader(bench).execute(
        "SELECT t.path_key, r.external_id FROM assignments a "
        "JOIN tags t ON t.id = a.tag_id JOIN resources r ON r.id = a.resource_id "
        "WHERE t.path_key LIKE 'writers.%'")
    return {(path_key, external_id) for path_key, external_id in rows or []}


def lost_writes(bench: Bench, writer: Writer) -> int:
    """Acknowledged outcomes that the database does not show."""
    present = present_links(bench)
    return sum(1 for pair, attached in writer.expected.items()
               if pair not in writer.unknown and (pair in present) != attached)


def run(bench: Bench, options: dict[str, Any]) -> dict[str, Metric]:
    duration = float(options.get("duration", 10.0))
    solo_writer, writer = Writer(bench.token, 1), Writer(bench.token, 2)
    with Gunicorn("wsgi:app", server_env(bench)) as server:
        solo = closed_loop(server.port, solo_writer, 1, duration / 2)
        crowd = closed_loop(server.port, writer, CLIENTS, duration)
    lost = lost_writes(bench, solo_writer) + lost_writes(bench, writer)
    for name, result in (("1 client", solo), (f"{CLIENTS} clients", crowd)):
        log(f"{name}: {result.ok:,} ok, {result.errors} errors, {result.rps:.0f}/s, "
            f"median {result.median * 1000:.0f} ms, p99 {result.percentile(0.99) * 1000:.0f} ms"
            f" {result.samples[:3]}")
    locked = sum("locked" in sample for sample in crowd.samples)
    return {
        "6_writers_rps": metric(
            crowd.rps, "req/s", baseline=solo.rps, goal="(reported)", met=True,
            note=f"{CLIENTS} clients attach/detach; baseline: 1 client"),
        "6_writers_p99_ms": metric(
            crowd.percentile(0.99) * 1000, "ms", baseline=solo.percentile(0.99) * 1000,
            goal="(reported)", met=True, note="baseline: 1 client's p99"),
        "6_writers_errors": metric(
            crowd.errors + solo.errors, "errors", goal="0",
            met=crowd.errors + solo.errors == 0,
            note=f"{crowd.ok + crowd.errors + solo.ok + solo.errors:,} calls"
                 + (f", {locked} 'database is locked' among the samples" if locked else "")),
        "6_writers_lost_writes": metric(
            lost, "links", goal="0", met=lost == 0,
            note=f"{len(solo_writer.expected) + len(writer.expected):,} acknowledged "
                 "tag × resource outcomes checked"),
    }


if __name__ == "__main__":
    case_main(run)
