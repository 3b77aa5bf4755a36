"""``flask --app wsgi taxonomy export|import``: the file on standard output or in a file,
a dry run that changes nothing, an import in one change set, problems with their lines."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from tests.unit.factories import World, make_scope, snapshot_counts
from tests.unit.test_cli import fails, ok
from tests.unit.test_taxonomy import seed_taxonomy


def test_export_writes_each_format(world: World, tmp_path: Path, app: Flask) -> None:
    seed_taxonomy(world)
    out = ok(app, "taxonomy", "export", "--scope", "scope_acme", "--format", "csv").output
    assert out.startswith("kind,name,label,")
    target = tmp_path / "acme.yaml"
    result = ok(app, "taxonomy", "export", "--scope", "acme", "-o", str(target))
    assert target.read_text().startswith("format: tagwright-taxonomy\n")
    assert "Wrote" in result.output
    fails(app, "taxonomy", "export", "--scope", "nowhere")


def test_import_prints_the_diff_then_applies(world: World, tmp_path: Path, app: Flask) -> None:
    seed_taxonomy(world)
    exported = tmp_path / "acme.json"
    ok(app, "taxonomy", "export", "--scope", "scope_acme", "-o", str(exported))
    make_scope("scope_gamma")
    before = snapshot_counts()
    dry = ok(app, "taxonomy", "import", str(exported), "--scope", "scope_gamma", "--dry-run")
    assert "+ group priority (line 6)" in dry.output
    assert "Dry run (json, merge): 13 tags to create; 3 groups to create" in dry.output
    assert snapshot_counts() == before
    done = ok(app, "taxonomy", "import", str(exported), "--scope", "scope_gamma", "-q")
    assert "Imported (json, merge): 13 tags created; 3 groups created (change set #" in (
        done.output)
    again = tmp_path / "gamma.json"
    ok(app, "taxonomy", "export", "--scope", "scope_gamma", "-o", str(again))
    assert again.read_bytes() == exported.read_bytes()


def test_problems_are_printed_with_their_lines(world: World, tmp_path: Path,
                                               app: Flask) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("kind,name,color\ntag,a,#12\n")
    result = fails(app, "taxonomy", "import", str(bad), "--scope", "acme")
    assert "line 2: color: must be a colour" in result.output
