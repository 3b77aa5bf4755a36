"""Command-line interface (``flask --app wsgi …``)."""

from __future__ import annotations

from flask import Flask


def register_cli(app: Flask) -> None:
    """Attach the command groups to ``app``."""
