"""The server-rendered web admin: Flask-Login sessions, CSRF, htmx fragments.

``register_ui`` wires the cross-cutting parts (sign-in, CSRF, security headers, error
pages); each area of the admin is a blueprint module of its own.
"""

from __future__ import annotations

from flask import Flask

from webapp.ui import errors, security, session, urls
from webapp.ui.extensions import csrf, htmx, login_manager
from webapp.ui.scoping import template_globals


def register_ui(app: Flask) -> None:
    from webapp.ui.blueprints import BLUEPRINTS

    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # the token lives as long as the session
    # Flask's defaults already hold these keys (SameSite None), so setdefault would not
    # apply; a value given to create_app stays.
    if app.config["SESSION_COOKIE_SAMESITE"] is None:
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    if security.serves_https(app):
        app.config["SESSION_COOKIE_SECURE"] = True
    login_manager.init_app(app)
    csrf.init_app(app)
    htmx.init_app(app)
    session.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    urls.init_app(app)
    app.context_processor(template_globals)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
