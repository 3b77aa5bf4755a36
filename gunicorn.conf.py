"""Gunicorn settings for ``make run`` (``gunicorn -c gunicorn.conf.py wsgi:app``).

Environment: ``PORT`` (default 5000), ``HOST`` (default 127.0.0.1), ``WEB_CONCURRENCY``
(worker processes, default 2), ``GUNICORN_TIMEOUT`` (seconds, default 60), ``LOG_LEVEL``.
Each worker builds its own app and database connections after the fork.
"""

import os

host = os.environ.get("HOST", "127.0.0.1").strip() or "127.0.0.1"
port = int(os.environ.get("PORT", "5000").strip() or 5000)

bind = [f"[{host}]:{port}" if ":" in host else f"{host}:{port}"]
workers = max(1, int(os.environ.get("WEB_CONCURRENCY", "2").strip() or 2))
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 20
preload_app = False
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info")
proc_name = "tagwright"
# gunicorn >= 25.1 opens a control socket in $HOME by default, shared by every instance of
# the user; we do not use it (older versions ignore this setting).
control_socket_disable = True
wsgi_app = "wsgi:app"
# Forwarded headers are the app's business (TAGWRIGHT_TRUSTED_PROXIES, through ProxyFix):
# gunicorn would otherwise believe X-Forwarded-Proto from 127.0.0.1 and mark a plain-HTTP
# request as HTTPS, whatever the app's setting.
forwarded_allow_ips = ""
secure_scheme_headers: dict[str, str] = {}
