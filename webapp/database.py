"""Engine behaviour that the whole app relies on.

SQLite: WAL journal, ``busy_timeout`` of 10 s, foreign keys on.  How its transactions
begin (``BEGIN IMMEDIATE`` for writes, so two writers queue on the lock instead of failing
with "database is locked" when a read transaction tries to upgrade; deferred ``BEGIN`` for
reads, so readers never wait on each other) is installed by :func:`webapp.fastpath.install`,
which sends them straight to the driver.  ``WRITE_OPTION`` marks a write transaction.

PostgreSQL: while a request is served, a transaction that was not begun as a write runs
its statements in autocommit.  Under READ COMMITTED every statement takes its own snapshot
anyway, so reads see exactly what they saw inside ``BEGIN … ROLLBACK``, without the two
extra round trips (which cost the server more than the reads themselves).  Writes, and
everything outside a request (migrations, the CLI, tests' fixtures), keep real
transactions.  A pooled connection is checked for life on checkout without a round trip:
an idle connection has nothing to read, so a readable socket means the server said goodbye
(a restart or ``pg_terminate_backend``) and the pool replaces it.

Every engine is disposed in a forked child (gunicorn workers), so no pooled connection
crosses a fork.
"""

from __future__ import annotations

import os
import select
import weakref
from typing import Any

from flask import has_request_context
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DisconnectionError

WRITE_OPTION = "tagwright_write"
SQLITE_BUSY_TIMEOUT_MS = 10_000

_engines: weakref.WeakSet[Engine] = weakref.WeakSet()


def engine_options(url: str) -> dict[str, Any]:
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}}
    # No JIT: it compiled short statements whose row estimates looked large (a JSON table
    # joined by id_path ranges: ~8 ms of a 12 ms UPDATE of 100 tags).
    return {"pool_size": 5, "max_overflow": 5, "connect_args": {"options": "-c jit=off"}}


def configure_engine(engine: Engine) -> None:
    """Install the connection hooks on ``engine`` (idempotent per engine); the app factory
    then installs the speed paths (:func:`webapp.fastpath.install`)."""
    if engine in _engines:
        return
    _engines.add(engine)
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    elif engine.dialect.name == "postgresql":
        _configure_postgresql(engine)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def _configure_postgresql(engine: Engine) -> None:
    @event.listens_for(engine, "checkout")
    def drop_dead_connection(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        if connection_is_dead(dbapi_connection):
            raise DisconnectionError("the server closed the pooled connection")

    @event.listens_for(engine, "begin")
    def on_begin(connection: Connection) -> None:
        write = connection.get_execution_options().get(WRITE_OPTION, False)
        set_autocommit(connection, has_request_context() and not write)


def set_autocommit(connection: Connection, autocommit: bool) -> None:
    """Put a PostgreSQL connection's driver in or out of autocommit, between transactions.
    (SQLite's driver is always outside a transaction until the app sends ``BEGIN``.)"""
    if connection.dialect.name != "postgresql":
        return
    driver = connection.connection.driver_connection
    if driver.autocommit != autocommit:  # type: ignore[union-attr]
        driver.autocommit = autocommit  # type: ignore[union-attr]


def connection_is_dead(dbapi_connection: Any) -> bool:
    """Whether an idle psycopg connection is closed or has unread input (a server's
    farewell): both mean it cannot serve another statement."""
    if dbapi_connection.closed or dbapi_connection.broken:
        return True
    poller = select.poll()  # not select(): it fails on descriptors past 1024
    poller.register(dbapi_connection.fileno(), select.POLLIN)
    return bool(poller.poll(0))


def _dispose_after_fork() -> None:
    for engine in list(_engines):
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_dispose_after_fork)
