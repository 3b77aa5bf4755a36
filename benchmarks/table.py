"""``python -m benchmarks.table RUN.json [RUN.json …] --titles A,B`` prints a Markdown table
of one or more results files side by side (value / baseline / ratio, met or not)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def cell(m: dict[str, Any] | None) -> str:
    if m is None:
        return "—"

    def num(value: Any) -> str:
        if value is None:
            return "–"
        if isinstance(value, int) or (float(value).is_integer() and abs(value) >= 100):
            return f"{value:,.0f}"
        return f"{value:,.1f}" if abs(value) >= 10 else f"{value:,.2f}"

    text = f"{num(m['value'])} {m['unit']}"
    if m.get("baseline") is not None:
        text += f" / {num(m['baseline'])}"
    if m.get("ratio") is not None:
        text += f" (×{m['ratio']:.2f})"
    return text + ("" if m["met"] else " **✗**")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--titles", default="")
    args = parser.parse_args()
    runs = [json.loads(path.read_text()) for path in args.files]
    titles = args.titles.split(",") if args.titles else [p.stem for p in args.files]
    names: list[str] = []
    for run in runs:
        names += [name for name in run if name not in names]
    goals = {name: next(run[name]["goal"] for run in runs if name in run) for name in names}
    print("| figure | goal | " + " | ".join(titles) + " |")
    print("|---|---|" + "---|" * len(runs))
    for name in names:
        print(f"| `{name}` | {goals[name]} | "
              + " | ".join(cell(run.get(name)) for run in runs) + " |")


if __name__ == "__main__":
    main()
