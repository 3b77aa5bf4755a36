"""``GET /healthz``: status, database reachability and the schema revision."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from flask import Flask

from webapp import create_app
from webapp.extensions import db

REPO_ROOT = Path(__file__).resolve().parents[2]


def migration_head() -> str | None:
    config = Config()
    config.set_main_option("script_location", str(REPO_ROOT / "migrations"))
    return ScriptDirectory.from_config(config).get_current_head()


def test_healthz_reports_ok_and_the_schema_revision(app: Flask) -> None:
    response = app.test_client().get("/healthz")

    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["database"]["reachable"] is True
    assert body["database"]["dialect"] == db.engine.dialect.name
    assert body["schema_revision"] == migration_head()


@pytest.fixture
def other_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], Flask]]:
    """Build a second app against a database URL the test chooses."""
    monkeypatch.setenv("TAGWRIGHT_INSTANCE", str(tmp_path / "instance"))
    apps: list[Flask] = []

    def build(url: str) -> Flask:
        app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url,
                          "SECRET_KEY": "test-secret-key"})
        apps.append(app)
        return app

    yield build
    for app in apps:
        with app.app_context():
            db.engine.dispose()


def test_healthz_is_unavailable_on_an_unmigrated_database(
        other_app: Callable[[str], Flask], tmp_path: Path) -> None:
    app = other_app(f"sqlite:///{tmp_path / 'empty.db'}")

    response = app.test_client().get("/healthz")

    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert body["database"]["reachable"] is True  # reachable, but not migrated
    assert body["schema_revision"] is None


def test_healthz_is_unavailable_when_the_database_is_unreachable(
        other_app: Callable[[str], Flask], tmp_path: Path) -> None:
    # A SQLite file inside a directory that does not exist cannot be opened.
    app = other_app(f"sqlite:///{tmp_path / 'missing-dir' / 'tagwright.db'}")

    response = app.test_client().get("/healthz")

    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert body["database"]["reachable"] is False
    assert body["schema_revision"] is None


def test_the_readme_example_shows_the_current_schema_revision() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    example = readme.split("## Health check", 1)[1].split("```", 2)[1]
    assert f'"schema_revision": "{migration_head()}"' in example
