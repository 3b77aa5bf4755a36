"""The layers import in one direction: the web admin and the JSON API are siblings over
the services, and neither imports the other; services import neither, nor the request.
The command line (and its demo data set) sits on top: nothing that serves a request
imports it, and building the app does not load the demo."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

WEBAPP = Path(__file__).resolve().parents[2] / "webapp"


def _imported_modules(package: str) -> dict[str, set[str]]:
    """Each module of ``webapp/<package>`` and the modules it imports (anywhere in it)."""
    found: dict[str, set[str]] = {}
    for path in sorted((WEBAPP / package).rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
            elif isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
        found[str(path.relative_to(WEBAPP.parent))] = names
    return found


@pytest.mark.parametrize(("package", "forbidden"), [
    ("ui", ("webapp.api",)),
    ("api", ("webapp.ui",)),
    # Services take plain values: never the request, the session, a form.
    ("services", ("webapp.ui", "webapp.api", "flask.request", "flask.session", "flask.g",
                  "flask_wtf", "wtforms")),
])
def test_a_layer_does_not_import_its_sibling_or_the_one_above(
        package: str, forbidden: tuple[str, ...]) -> None:
    offenders = {module: sorted(name for name in names
                                if any(name == f or name.startswith(f + ".") for f in forbidden))
                 for module, names in _imported_modules(package).items()}
    assert {module: names for module, names in offenders.items() if names} == {}


@pytest.mark.parametrize("package", ["services", "ui", "api"])
def test_no_request_serving_layer_imports_the_cli_or_its_demo(package: str) -> None:
    offenders = {module: sorted(name for name in names
                                if name == "webapp.cli" or name.startswith("webapp.cli."))
                 for module, names in _imported_modules(package).items()}
    assert {module: names for module, names in offenders.items() if names} == {}


def test_building_the_app_does_not_load_the_demo() -> None:
    script = (
        "import sys\n"
        "from webapp import create_app\n"
        "create_app({'SQLALCHEMY_DATABASE_URI': 'sqlite://', 'SECRET_KEY': 'layering'})\n"
        "print(sorted(name for name in sys.modules if name.startswith('webapp.cli.demo')))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=WEBAPP.parent,
                            capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
