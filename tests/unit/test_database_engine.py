"""Engine behaviour on PostgreSQL (``webapp.database``): reads served in a request run in
autocommit, writes keep real transactions, and a pooled connection the server closed is
replaced before anyone uses it."""

from __future__ import annotations

import time

import pytest
from flask import Flask
from psycopg.pq import TransactionStatus
from sqlalchemy import func, select, text

from tests.unit.factories import SYSTEM, make_scope
from webapp.extensions import db
from webapp.models import Scope
from webapp.services.scopes import create_scope
from webapp.services.uow import writing

pytestmark = pytest.mark.postgres_only


def _server_transaction() -> TransactionStatus:
    """Whether the session's connection is inside a transaction on the server."""
    driver = db.session.connection().connection.driver_connection
    return driver.info.transaction_status  # type: ignore[union-attr]


def test_reads_in_a_request_open_no_transaction(app: Flask) -> None:
    make_scope("scope_read")
    db.session.remove()

    with app.test_request_context("/"):
        count = db.session.scalar(select(func.count()).select_from(Scope))

        assert count == 1
        assert _server_transaction() == TransactionStatus.IDLE


def test_reads_outside_a_request_keep_their_transaction(app: Flask) -> None:
    db.session.remove()

    db.session.execute(text("SELECT 1"))

    assert _server_transaction() == TransactionStatus.INTRANS


def test_a_write_in_a_request_is_one_transaction(app: Flask) -> None:
    db.session.remove()

    with app.test_request_context("/"):
        db.session.scalar(select(func.count()).select_from(Scope))  # an autocommit read
        with writing(SYSTEM, None, "two scopes"):
            create_scope(SYSTEM, "scope_first", name="First")
            assert _server_transaction() == TransactionStatus.INTRANS

        with pytest.raises(RuntimeError), writing(SYSTEM, None, "half a change"):
            create_scope(SYSTEM, "scope_second", name="Second")
            raise RuntimeError("fails after the first statement")

        names = db.session.scalars(select(Scope.public_id)).all()

    assert names == ["scope_first"]


def test_a_connection_the_server_closed_is_replaced_on_checkout(app: Flask) -> None:
    client = app.test_client()
    assert client.get("/healthz").get_json()["status"] == "ok"
    db.session.remove()
    with db.engine.connect() as pooled, db.engine.connect() as other:
        pooled_pid = pooled.scalar(text("SELECT pg_backend_pid()"))
        pooled.rollback()
        pooled.close()  # back to the pool, idle
        other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pooled_pid})
        for _ in range(100):  # the server closes the socket a moment later
            gone = other.scalar(text("SELECT count(*) = 0 FROM pg_stat_activity "
                                     "WHERE pid = :pid"), {"pid": pooled_pid})
            other.rollback()
            if gone:
                break
            time.sleep(0.05)

    response = client.get("/healthz")

    assert response.get_json()["status"] == "ok"
    assert db.session.scalar(text("SELECT pg_backend_pid()")) != pooled_pid
