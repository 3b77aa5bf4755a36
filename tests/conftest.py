"""Shared fixtures. ``pytest --db=postgres`` runs the same tests on a throwaway cluster."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from flask import Flask
from sqlalchemy import event, text

from webapp import create_app
from webapp.extensions import db

if TYPE_CHECKING:
    from tests.pg_cluster import PostgresCluster


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--db", choices=["sqlite", "postgres"], default="sqlite",
                     help="database backend to run the tests against")


def pytest_report_header(config: pytest.Config) -> str:
    return f"tagwright database backend: {config.getoption('--db')}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    backend = config.getoption("--db")
    others = {"postgres": ("postgres_only", "PostgreSQL-only test; run with --db=postgres"),
              "sqlite": ("sqlite_only", "SQLite-only test (its query plans); run with --db=sqlite")}
    for name, (marker, reason) in others.items():
        if name != backend:
            for item in items:
                if marker in item.keywords:
                    item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def db_backend(request: pytest.FixtureRequest) -> str:
    """``sqlite`` or ``postgres``: the ``--db`` option."""
    return str(request.config.getoption("--db"))


@pytest.fixture(scope="session")
def pg_cluster(db_backend: str) -> Iterator[PostgresCluster | None]:
    """The throwaway PostgreSQL cluster of a ``--db=postgres`` run (None on SQLite)."""
    if db_backend != "postgres":
        yield None
        return
    from tests.pg_cluster import PostgresCluster

    try:
        cluster = PostgresCluster()
    except RuntimeError as error:  # no server binaries: one clear message, not N errors
        pytest.exit(f"--db=postgres: {error}", returncode=1)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def database_url(pg_cluster: PostgresCluster | None,
                 tmp_path_factory: pytest.TempPathFactory) -> str:
    """The URL of the session's test database (SQLite file or throwaway PostgreSQL)."""
    if pg_cluster is not None:
        return pg_cluster.url("tagwright")
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture
def empty_database_url(pg_cluster: PostgresCluster | None, tmp_path: Path) -> str:
    """A brand-new, empty database of the backend under test (no schema at all)."""
    if pg_cluster is not None:
        return pg_cluster.create_database(f"empty_{uuid.uuid4().hex[:12]}")
    return f"sqlite:///{tmp_path / 'empty.db'}"


def upgrade_schema(app: Flask) -> None:
    """Build the schema with the migrations, as production does."""
    from flask_migrate import upgrade

    with app.app_context():
        upgrade()


@pytest.fixture(scope="session")
def _app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    os.environ.setdefault("TAGWRIGHT_INSTANCE", str(tmp_path_factory.mktemp("instance")))
    app = create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "test-secret-key",
        # The suite calls from one client far faster than any person; the rate limits
        # have their own apps in tests/http/test_rate_limits.py.
        "TAGWRIGHT_RATELIMIT_ENABLED": False,
    })
    upgrade_schema(app)
    yield app
    with app.app_context():  # close pooled connections before the cluster goes away
        db.engine.dispose()


def _empty_all_tables() -> None:
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    else:
        for table in tables:
            if table == tables[0]:
                # tags.parent_id points into its own table: check keys at commit instead.
                db.session.execute(text("PRAGMA defer_foreign_keys = ON"))
            db.session.execute(text(f"DELETE FROM {table}"))
    db.session.commit()


@pytest.fixture
def app(_app: Flask) -> Iterator[Flask]:
    """The app with an empty database and an app context pushed."""
    with _app.app_context():
        try:
            yield _app
        finally:
            db.session.rollback()
            _empty_all_tables()
            db.session.remove()


class QueryCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries(app: Flask) -> Any:
    """``with count_queries() as counter: …`` then ``counter.count`` SQL statements."""

    @contextmanager
    def counting() -> Iterator[QueryCounter]:
        counter = QueryCounter()

        def on_execute(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            counter.statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", on_execute)
        try:
            yield counter
        finally:
            event.remove(db.engine, "before_cursor_execute", on_execute)

    return counting
