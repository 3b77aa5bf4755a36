"""Tagwright: a self-hosted tag administration server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.routing import IntegerConverter

from webapp import config, fastpath
from webapp.database import configure_engine, engine_options
from webapp.extensions import db, migrate

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class DatabaseIntegerConverter(IntegerConverter):
    """``<int:…>`` limited to what an integer key can hold (``2**63 - 1``)."""

    def __init__(self, url_map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", 2**63 - 1)
        super().__init__(url_map, *args, **kwargs)


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build the app. ``overrides`` (tests) win over the environment."""
    app = Flask(
        __name__,
        instance_path=str(config.instance_dir(PROJECT_ROOT)),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    instance = Path(app.instance_path)
    settings = overrides or {}
    url = settings.get("SQLALCHEMY_DATABASE_URI") or config.database_url(instance)
    app.config.update(
        SQLALCHEMY_DATABASE_URI=url,
        SQLALCHEMY_ENGINE_OPTIONS=engine_options(url),
        SECRET_KEY=settings.get("SECRET_KEY") or config.secret_key(instance),
        JSON_SORT_KEYS=False,
        # One field per ticked tag (1,000 at most) plus the form's own: werkzeug's default
        # of 1,000 multipart fields refused a full selection with 413.
        MAX_FORM_PARTS=2_000,
    )
    app.config.update(config.security_settings())
    app.config.update(settings)
    # An <int:…> URL part past a 64-bit key names nothing: 404, not an overflow in the driver.
    app.url_map.converters["int"] = DatabaseIntegerConverter

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), compare_type=True)
    with app.app_context():
        configure_engine(db.engine)
        fastpath.install(db.engine)  # SQLite: BEGIN on the driver, from-hints rendered

    from webapp import (
        body_limit,
        models,  # noqa: F401  (register every table on the metadata)
    )
    from webapp.api import api, register_api
    from webapp.cli import register_cli
    from webapp.health import health
    from webapp.http_errors import register_http_error_handler
    from webapp.rate_limits import init_app as register_rate_limits
    from webapp.ui import register_ui
    from webapp.ui.extensions import csrf

    body_limit.init_app(app)
    app.register_blueprint(health)
    register_api(app)
    register_ui(app)
    csrf.exempt(api)  # the API authenticates with keys only, never the session cookie
    register_rate_limits(app)
    register_http_error_handler(app)
    register_cli(app)
    return app
