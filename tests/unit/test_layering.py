"""The layers import in one direction: the web admin and the JSON API are siblings over
the services, and neither imports the other; services import neither, nor the request."""

from __future__ import annotations

import ast
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
