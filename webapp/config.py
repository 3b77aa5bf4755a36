"""Settings from the environment, with defaults that make a fresh checkout run.

``DATABASE_URL`` defaults to a SQLite file in ``instance/``; ``SECRET_KEY`` defaults to a
random key generated once and kept in ``instance/secret_key``.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def instance_dir(root: Path) -> Path:
    path = Path(os.environ.get("TAGWRIGHT_INSTANCE", root / "instance"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_url(instance: Path) -> str:
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        return f"sqlite:///{instance / 'tagwright.db'}"
    if url.startswith("postgres://"):  # the Heroku-style spelling
        url = "postgresql+psycopg://" + url.removeprefix("postgres://")
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def secret_key(instance: Path) -> str:
    """Return SECRET_KEY from the environment, else the one kept in the instance folder."""
    from_env = os.environ.get("SECRET_KEY", "").strip()
    if from_env:
        return from_env
    key_file = instance / "secret_key"
    if not key_file.exists():
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return key_file.read_text().strip()
