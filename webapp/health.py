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
    try:
        revision = db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()
        reachable = True
    except SQLAlchemyError:
        db.session.rollback()
        revision, reachable = None, False
    finally:
        db.session.close()
    ok = reachable and revision is not None
    body = {
        "status": "ok" if ok else "unavailable",
        "database": {"reachable": reachable, "dialect": db.engine.dialect.name},
        "schema_revision": revision,
    }
    return jsonify(body), 200 if ok else 503
