"""Apps of their own for tests that need a configuration the session's app does not have
(rate limits switched on, HTTPS): the same database and secret key, so the data and API
keys that a test makes through the ``app`` fixture are seen by them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask

from webapp import create_app
from webapp.extensions import db

MakeApp = Callable[..., Flask]


@pytest.fixture
def make_app(app: Flask, database_url: str) -> Iterator[MakeApp]:
    """``make_app(NAME=value, ...)``: a new app with these config overrides (the ``app``
    fixture empties the database afterwards)."""
    made: list[Flask] = []

    def make(**overrides: Any) -> Flask:
        built = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url,
                            "SECRET_KEY": app.config["SECRET_KEY"], **overrides})
        made.append(built)
        return built

    yield make
    for built in made:
        with built.app_context():
            db.engine.dispose()
