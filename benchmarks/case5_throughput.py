"""Case 5 — API throughput: ``GET /api/v1/tags/{id}`` (API key, a scope of 100,000 tags,
random ids) under gunicorn with 2 sync workers on loopback, against a bare Flask route
returning a copy of the same JSON object (benchmarks/bare_app.py) under the same
gunicorn settings.  Both servers run side by side and take the load in alternating
2-second windows (10 s each in all), 8 clients (2 processes × 4 threads) on fresh
connections.  Requests per second of successful answers, the median of the windows (a
burst of machine noise spoils one window, not the figure); any other answer is an
error."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from typing import Any

from benchmarks.common import (
    BENCH_RATE_LIMITS,
    BENCH_SECRET,
    Bench,
    Metric,
    case_main,
    log,
    median,
    metric,
)
from benchmarks.datasets import Loader, build_forest
from benchmarks.loadgen import Gunicorn, LoadResult, Request, spread_load

GOAL_RATIO = 0.5
WINDOWS = 5
PROCESSES, THREADS = 2, 4


@dataclass
class GetTag:
    """A client of ``GET /api/v1/tags/{id}`` over a list of ids (picklable)."""

    token: str
    ids: list[int]

    def __call__(self, client: int, number: int) -> tuple[Request, Any]:
        tag_id = self.ids[(client * 7919 + number * 104729) % len(self.ids)]
        return ("GET", f"/api/v1/tags/{tag_id}", {"x-api-key": self.token}, b""), _ok


def _ok(status: int, _body: bytes) -> bool:
    return status == 200


def server_env(bench: Bench) -> dict[str, str]:
    return {"DATABASE_URL": bench.url, "SECRET_KEY": BENCH_SECRET,
            "TAGWRIGHT_INSTANCE": str(bench.workdir / "instance"), **BENCH_RATE_LIMITS}


def run(bench: Bench, options: dict[str, Any]) -> dict[str, Metric]:
    small = options.get("small", False)
    duration = float(options.get("duration", 10.0))
    first, last = build_forest(bench, 10 if small else 100, 999)
    Loader(bench).analyze()
    ids = random.Random(5).sample(range(first, last + 1), 2000)
    sample = bench.api("GET", f"/api/v1/tags/{ids[0]}")
    if sample.status_code != 200:
        raise RuntimeError(f"GET /api/v1/tags/{ids[0]}: {sample.status_code}")
    client = GetTag(bench.token, ids)
    app_total, bare_total = LoadResult(), LoadResult()
    window_rps: dict[str, list[float]] = {"app": [], "bare": []}
    window = duration / WINDOWS
    with Gunicorn("wsgi:app", server_env(bench)) as app_server, \
            Gunicorn("benchmarks.bare_app:app",
                     {"BARE_TAG_JSON": json.dumps(sample.get_json())}) as bare_server:
        spread_load(app_server.port, client, PROCESSES, THREADS, 1.0)  # warm up both
        spread_load(bare_server.port, client, PROCESSES, THREADS, 1.0)
        for index in range(WINDOWS):
            servers = [("app", app_server, app_total), ("bare", bare_server, bare_total)]
            for name, server, total in servers if index % 2 == 0 else reversed(servers):
                part = spread_load(server.port, client, PROCESSES, THREADS, window)
                window_rps[name].append(part.rps)
                total.seconds += part.seconds
                part.seconds = 0.0
                total.merge(part)
    for name, total in (("app", app_total), ("bare", bare_total)):
        log(f"{name}: {total.ok:,} ok, {total.errors} errors in {total.seconds:.1f} s, "
            f"{total.rps:,.0f}/s, median {total.median * 1000:.1f} ms, "
            f"p99 {total.percentile(0.99) * 1000:.1f} ms {total.samples[:2]}")
    for name, rates in window_rps.items():
        log(f"{name} per window: {', '.join(f'{rate:,.0f}' for rate in rates)} req/s")
    app_rps, bare_rps = median(window_rps["app"]), median(window_rps["bare"])
    ratio = app_rps / bare_rps if bare_rps else 0.0
    return {
        "5_api_get_tag_rps": metric(
            app_rps, "req/s", baseline=bare_rps,
            goal=f"ratio >= {GOAL_RATIO}", met=ratio >= GOAL_RATIO and not app_total.errors,
            note="median of 5 windows; gunicorn 2 workers, 8 clients; baseline: bare Flask "
                 "route, same settings"),
        "5_api_get_tag_errors": metric(
            app_total.errors, "errors", goal="0", met=app_total.errors == 0,
            note=f"{app_total.ok + app_total.errors:,} requests"),
        "5_api_get_tag_p99_ms": metric(
            app_total.percentile(0.99) * 1000, "ms",
            baseline=bare_total.percentile(0.99) * 1000, goal="(reported)", met=True,
            note="99th percentile latency under the load; baseline: the bare route's"),
    }


if __name__ == "__main__":
    case_main(run)
