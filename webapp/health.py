"""``GET /healthz``: is the app up, is the database reachable, which schema revision is it on."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from webapp.extensions import db

health = Blueprint("health", __name__)


@health.get("/healthz")
def healthz() -> ResponseReturnValue:
    reachable, revision = False, None
    try:
        db.session.execute(text("SELECT 1"))
        reachable = True
        revision = db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except SQLAlchemyError:
        db.session.rollback()
    finally:
        db.session.close()
    ok = reachable and revision is not None
    body = {
        "status": "ok" if ok else "unavailable",
        "database": {"reachable": reachable, "dialect": db.engine.dialect.name},
        "schema_revision": revision,
    }
    return jsonify(body), 200 if ok else 503
