"""The speed paths of ``webapp.fastpath`` are installed explicitly and keep the general
paths' behaviour: the tag read with the key is registered by a decorator on its view, and
SQLite's transactions begin as the app says, with from-hints rendered."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from webapp.database import WRITE_OPTION
from webapp.extensions import db
from webapp.fastpath import (
    check_tag_reads_with_key,
    reads_tag_with_key,
    sqlite_not_indexed,
    tag_read_with_key,
)
from webapp.models import Tag


def test_get_one_tag_reads_its_tag_with_the_key(app: Flask) -> None:
    get_one = app.view_functions["api.get_one_tag"]

    assert tag_read_with_key(get_one, {"tag_id": "12"}) == 12
    assert tag_read_with_key(get_one, {"tag_id": 12}) == 12
    assert tag_read_with_key(get_one, {"tag_id": "tag_0192abcd"}) is None  # not an id
    assert tag_read_with_key(get_one, {"tag_id": str(2**40)}) is None  # no such key
    assert tag_read_with_key(get_one, None) is None


def test_other_views_read_their_tag_on_their_own(app: Flask) -> None:
    marked = sorted(endpoint for endpoint, view in app.view_functions.items()
                    if tag_read_with_key(view, {"tag_id": "1"}) is not None)

    assert marked == ["api.get_one_tag"]
    assert tag_read_with_key(None, {"tag_id": "1"}) is None


def test_a_marked_view_must_name_an_argument_of_its_url() -> None:
    app = Flask(__name__)

    @app.get("/things/<int:thing_id>")
    @reads_tag_with_key("tag_id")
    def thing(thing_id: int) -> str:
        return str(thing_id)

    with pytest.raises(RuntimeError, match=r"thing: @reads_tag_with_key\('tag_id'\)"):
        check_tag_reads_with_key(app)
    reads_tag_with_key("thing_id")(thing)
    check_tag_reads_with_key(app)


@pytest.mark.sqlite_only
def test_sqlite_writes_begin_immediate_and_reads_deferred(app: Flask) -> None:
    sent: list[str] = []
    with db.engine.connect() as connection:
        driver = connection.connection.driver_connection
        assert driver.isolation_level is None  # type: ignore[union-attr]
        driver.set_trace_callback(sent.append)  # type: ignore[union-attr]
        try:
            connection.begin()
            connection.rollback()
            connection.execution_options(**{WRITE_OPTION: True}).begin()
            connection.rollback()
        finally:
            driver.set_trace_callback(None)  # type: ignore[union-attr]

    assert sent == ["BEGIN", "ROLLBACK", "BEGIN IMMEDIATE", "ROLLBACK"]


def test_the_not_indexed_hint_reaches_sqlite_only(app: Flask) -> None:
    compiled = str(sqlite_not_indexed(select(Tag.id), Tag).compile(db.engine))

    if db.engine.dialect.name == "sqlite":
        assert "FROM tags NOT INDEXED" in compiled
    else:
        assert "NOT INDEXED" not in compiled
