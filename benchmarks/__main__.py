"""``python -m benchmarks [--db sqlite|postgres] [--cases 1,2,…]`` (``make bench``).

Each case runs in a process of its own, on a database of its own that it fills itself,
so one case's data, caches and peak memory never colour another's.  Prints one line per
measured figure and writes ``benchmarks/results.json``:
``{"case": {"value", "unit", "baseline", "ratio", "goal", "met"}}``.
Benchmarks report; they do not assert (the exit status is non-zero only when a case
crashed).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import REPO_ROOT

CASES = {
    "1": ("case1_attach", "bulk attach / detach"),
    "2": ("case2_tag_list", "tag list page"),
    "3": ("case3_search", "substring search"),
    "4": ("case4_subtree", "subtree operations"),
    "5": ("case5_throughput", "API throughput"),
    "6": ("case6_writers", "concurrent writers"),
    "7": ("case7_bulk_tags", "bulk delete / move / merge"),
    "8": ("case8_expressions", "tag expression first page"),
    "9": ("case9_taxonomy", "taxonomy import / export"),
    "10": ("case10_bulk_edit", "bulk edit of tag attributes"),
    "11": ("case11_compliance", "policy compliance summary"),
    "12": ("case12_rule_backfill", "rule back-fill"),
}
RESULTS = Path(__file__).resolve().parent / "results.json"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--cases", default=",".join(CASES),
                        help="comma-separated case numbers (default: all)")
    parser.add_argument("--small", action="store_true",
                        help="10× smaller data sets and fewer repetitions (a smoke run; "
                             "the figures do not answer the issue's goals)")
    parser.add_argument("--duration", type=float, default=10.0,
                        help="seconds of load in cases 5 and 6 (default 10)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    return parser.parse_args()


def format_line(name: str, m: dict[str, Any]) -> str:
    def num(value: Any) -> str:
        if value is None:
            return "-"
        return f"{value:,.1f}" if isinstance(value, float) else f"{value:,}"

    verdict = "met" if m["met"] else "MISSED"
    line = (f"{name:<34} {num(m['value']):>10} {m['unit']:<10} baseline {num(m['baseline']):>9}"
            f"  ratio {num(m['ratio']) if m['ratio'] is None else format(m['ratio'], '.2f'):>6}"
            f"  goal {m['goal']:<16} {verdict}")
    return line + (f"  ({m['note']})" if m.get("note") else "")


def main() -> int:
    args = parse_args()
    wanted = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = [c for c in wanted if c not in CASES]
    if unknown:
        print(f"unknown case(s): {', '.join(unknown)}", file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="tagwright-bench-"))
    cluster = None
    started = time.perf_counter()
    print(f"Tagwright benchmarks on {args.db} — {platform.node()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}, {time.strftime('%Y-%m-%d %H:%M:%S')}")
    print(f"work directory {workdir}")
    results: dict[str, dict[str, Any]] = {}
    failed: list[str] = []
    try:
        if args.db == "postgres":
            from benchmarks.pg import BenchCluster

            cluster = BenchCluster()
            cluster.start()
            print(f"PostgreSQL {cluster.version()} (throwaway cluster, {cluster.settings})")
        for number in wanted:
            module, title = CASES[number]
            case_dir = workdir / f"case{number}"
            case_dir.mkdir()
            url = (cluster.create_database(f"bench_case{number}") if cluster
                   else f"sqlite:///{case_dir / 'bench.db'}")
            options = {"small": args.small, "duration": args.duration}
            print(f"\n== case {number}: {title}", flush=True)
            case_started = time.perf_counter()
            found = run_case(module, case_dir, url, options)
            if found is None:
                failed.append(number)
                continue
            for name, m in found.items():
                results[name] = m
                print(format_line(name, m), flush=True)
            print(f"   ({time.perf_counter() - case_started:.0f} s)", flush=True)
    finally:
        if cluster is not None:
            cluster.stop()
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    public = {name: {k: v for k, v in m.items() if k != "note"} for name, m in results.items()}
    args.out.write_text(json.dumps(public, indent=2) + "\n")
    missed = [name for name, m in results.items() if not m["met"]]
    print(f"\n{len(results)} figures, {len(results) - len(missed)} met, {len(missed)} missed"
          f"{': ' + ', '.join(missed) if missed else ''}")
    shown = args.out.relative_to(REPO_ROOT) if args.out.is_relative_to(REPO_ROOT) else args.out
    print(f"wrote {shown} in {time.perf_counter() - started:.0f} s")
    if failed:
        print(f"case(s) {', '.join(failed)} crashed (see above)", file=sys.stderr)
        return 1
    return 0


def run_case(module: str, case_dir: Path, url: str, options: dict[str, Any]
             ) -> dict[str, dict[str, Any]] | None:
    """Run ``benchmarks.<module>`` in its own process; its progress goes to our stderr."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "PYTHONUNBUFFERED": "1"}
    env.pop("DATABASE_URL", None)
    process = subprocess.run(
        [sys.executable, "-m", f"benchmarks.{module}", str(case_dir), url, json.dumps(options)],
        cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=None, text=True, check=False,
    )
    lines = [line for line in process.stdout.splitlines() if line.startswith("{")]
    if process.returncode != 0 or not lines:
        print(f"!!! {module} failed with exit status {process.returncode}", file=sys.stderr)
        print(process.stdout[-3000:], file=sys.stderr)
        return None
    return json.loads(lines[-1])


if __name__ == "__main__":
    sys.exit(main())
