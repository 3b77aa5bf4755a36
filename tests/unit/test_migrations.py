"""The migrations are the schema: they build it from nothing, match the models exactly
(``flask db check`` finds nothing to generate) and can be rolled back."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import create_engine, inspect

from webapp.extensions import db

REPO_ROOT = Path(__file__).resolve().parents[2]


def migration_head() -> str:
    config = Config()
    config.set_main_option("script_location", str(REPO_ROOT / "migrations"))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


def test_migrations_match_the_models(app: Flask) -> None:
    """The equivalent of ``flask db check`` on the database the migrations built."""
    options = dict(app.extensions["migrate"].configure_args)
    options.setdefault("compare_type", True)
    options.pop("process_revision_directives", None)
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts=options)
        assert context.get_current_revision() == migration_head()
        diff = compare_metadata(context, db.metadata)
    assert diff == [], "the models differ from the migrations; run `flask db migrate`"


def test_there_is_a_single_migration_head() -> None:
    config = Config()
    config.set_main_option("script_location", str(REPO_ROOT / "migrations"))
    heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1, f"several migration heads, merge them: {heads}"


def flask_cli(database_url: str, instance: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "TAGWRIGHT_INSTANCE": str(instance),
        "FLASK_APP": "wsgi",
    }
    env.pop("FLASK_DEBUG", None)
    result = subprocess.run([sys.executable, "-m", "flask", *args], cwd=REPO_ROOT, env=env,
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, (
        f"flask {' '.join(args)} failed ({result.returncode})\n"
        f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    )
    return result


def table_names(database_url: str) -> set[str]:
    engine = create_engine(database_url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def current_revision(database_url: str) -> str | None:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def check_upgrade_and_downgrade(database_url: str, instance: Path) -> None:
    model_tables = set(db.metadata.tables)
    assert not table_names(database_url) & model_tables, "the database is not empty"

    flask_cli(database_url, instance, "db", "upgrade")
    assert model_tables <= table_names(database_url)
    assert current_revision(database_url) == migration_head()

    flask_cli(database_url, instance, "db", "downgrade", "base")
    assert not table_names(database_url) & model_tables
    assert current_revision(database_url) is None

    # ...and the schema can be built again after a full rollback.
    flask_cli(database_url, instance, "db", "upgrade")
    assert current_revision(database_url) == migration_head()


def test_cli_upgrade_and_downgrade_on_an_empty_sqlite_file(tmp_path: Path) -> None:
    database = tmp_path / "fresh.db"
    check_upgrade_and_downgrade(f"sqlite:///{database}", tmp_path / "instance")
    assert database.exists()


@pytest.mark.postgres_only
def test_cli_upgrade_and_downgrade_on_an_empty_postgres_database(
        empty_database_url: str, tmp_path: Path) -> None:
    check_upgrade_and_downgrade(empty_database_url, tmp_path / "instance")
