"""Print one line per test leg of ``make test`` and fail if any leg failed.

    python scripts/test-summary.py OUTPUT_DIR LEG [LEG ...]

Each LEG ran pytest with ``--junitxml=OUTPUT_DIR/LEG.xml`` and wrote pytest's exit code to
``OUTPUT_DIR/LEG.exit``. A leg passes when pytest exited 0 and ran at least one test. A leg
whose ``LEG.skipped`` file exists was skipped on purpose (its content says why).
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path


def counts(report: Path) -> tuple[dict[str, int], float]:
    """The leg's test counts and pytest's wall time in seconds."""
    root = ET.parse(report).getroot()
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    total = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    seconds = 0.0
    for suite in suites:
        for key in total:
            total[key] += int(suite.get(key, 0))
        seconds += float(suite.get("time", 0))
    return total, seconds


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    out, legs = Path(argv[0]), argv[1:]
    ok = True
    lines: list[str] = []
    grand = {"passed": 0, "failed": 0, "skipped": 0}
    for leg in legs:
        skipped_note = out / f"{leg}.skipped"
        if skipped_note.exists():
            lines.append(f"{leg}: SKIPPED ({skipped_note.read_text().strip()})")
            continue
        report, exit_file = out / f"{leg}.xml", out / f"{leg}.exit"
        exit_code = int(exit_file.read_text().strip() or 1) if exit_file.exists() else None
        if not report.exists():
            lines.append(f"{leg}: NO REPORT (pytest exit code {exit_code})")
            ok = False
            continue
        c, seconds = counts(report)
        failed = c["failures"] + c["errors"]
        passed = c["tests"] - failed - c["skipped"]
        line = f"{leg}: {passed} passed, {failed} failed"
        if c["skipped"]:
            line += f", {c['skipped']} skipped"
        lines.append(line)
        lines.append(f"{leg}: wall time {seconds / 60:.1f} min ({seconds:.0f} s)")
        grand["passed"] += passed
        grand["failed"] += failed
        grand["skipped"] += c["skipped"]
        if exit_code != 0 or failed or passed == 0:
            ok = False
            if exit_code != 0:
                lines.append(f"{leg}: pytest exit code {exit_code}")
            if passed == 0:
                lines.append(f"{leg}: no test passed")
    print()
    print("=" * 30 + " Tagwright test summary " + "=" * 30)
    for line in lines:
        print(line)
    total = f"total: {grand['passed']} passed, {grand['failed']} failed"
    if grand["skipped"]:
        total += f", {grand['skipped']} skipped"
    print("result: " + ("all legs passed" if ok else "FAILED"))
    print(total)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
