"""PostgreSQL sessions run without JIT: it compiled short statements whose row estimates
looked large (a JSON table joined by ``id_path`` ranges), ~8 ms of a 12 ms UPDATE of 100
tags, the fixed cost that kept a 100-tag bulk move and merge above their goal."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import text

from webapp.extensions import db

pytestmark = pytest.mark.postgres_only


def test_connections_run_without_jit(app: Flask) -> None:
    assert db.session.execute(text("SHOW jit")).scalar() == "off"
