"""The production server's settings, read as gunicorn reads them."""

from __future__ import annotations

import runpy
from pathlib import Path

from gunicorn.config import Config

SETTINGS = Path(__file__).resolve().parents[2] / "gunicorn.conf.py"


def _config() -> Config:
    config = Config()
    for name, value in runpy.run_path(str(SETTINGS)).items():
        if name in config.settings:
            config.set(name, value)
    return config


def test_gunicorn_trusts_no_forwarded_header_itself() -> None:
    """X-Forwarded-Proto from 127.0.0.1 must not turn a request into HTTPS behind the app's
    back: forwarded headers are trusted only through TAGWRIGHT_TRUSTED_PROXIES."""
    config = _config()
    assert config.forwarded_allow_ips == []
    assert config.secure_scheme_headers == {}
    assert Config().forwarded_allow_ips  # gunicorn's own default would trust localhost

