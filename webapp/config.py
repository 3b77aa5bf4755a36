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


# Request limits (Flask-Limiter rate strings: "600 per minute", "5 per 15 minutes; 20/day").
RATE_LIMIT_DEFAULTS = {
    "TAGWRIGHT_RATELIMIT_API": "600 per minute",  # per API key, authenticated requests
    "TAGWRIGHT_RATELIMIT_API_ANON": "60 per minute",  # per client: no key or a bad key
    "TAGWRIGHT_RATELIMIT_LOGIN": "5 per 15 minutes",  # per client and e-mail: failed sign-ins
    "TAGWRIGHT_RATELIMIT_LOGIN_CLIENT": "20 per 15 minutes",  # per client: failed sign-ins
    "TAGWRIGHT_RATELIMIT_STORAGE_URI": "memory://",
}
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def _flag(name: str, default: bool) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw not in _TRUE | _FALSE:
        raise ValueError(f"{name} must be true or false, not {raw!r}")
    return raw in _TRUE


def _count(name: str) -> int:
    raw = os.environ.get(name, "").strip() or "0"
    if not raw.isdigit():
        raise ValueError(f"{name} must be a whole number (the proxies in front), not {raw!r}")
    return int(raw)


def security_settings() -> dict[str, object]:
    """Rate limits, trusted proxies and HTTPS from the environment, as app config keys of
    the same names (``create_app`` overrides win over them).

    ``TAGWRIGHT_RATELIMIT_ENABLED`` (default true) switches every rate limit;
    ``TAGWRIGHT_TRUSTED_PROXIES`` (default 0) is how many proxies in front set
    ``X-Forwarded-For``/``-Proto``; ``TAGWRIGHT_HTTPS`` (default false) marks cookies
    ``Secure`` and sends HSTS.
    """
    settings: dict[str, object] = {
        name: os.environ.get(name, "").strip() or default
        for name, default in RATE_LIMIT_DEFAULTS.items()
    }
    settings["TAGWRIGHT_RATELIMIT_ENABLED"] = _flag("TAGWRIGHT_RATELIMIT_ENABLED", True)
    settings["TAGWRIGHT_TRUSTED_PROXIES"] = _count("TAGWRIGHT_TRUSTED_PROXIES")
    settings["TAGWRIGHT_HTTPS"] = _flag("TAGWRIGHT_HTTPS", False)
    return settings
