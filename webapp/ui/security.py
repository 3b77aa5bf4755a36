"""Security headers for every response, and ``Vary: HX-Request`` for htmx-aware pages.

The Content-Security-Policy allows scripts from this origin only (no inline scripts, no
eval: htmx is configured with ``allowEval: false``).  Style attributes are allowed because
tag colour swatches are data-driven colours; style elements must come from this origin.
The API docs page (Swagger UI) needs inline styles in elements too.

When the app is served over HTTPS (``TAGWRIGHT_HTTPS`` or ``PREFERRED_URL_SCHEME=https``)
every response also carries HSTS.
"""

from __future__ import annotations

from flask import Flask, Response, request

BASE_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "style-src-attr": "'unsafe-inline'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
DOCS_POLICY = {**BASE_POLICY, "style-src": "'self' 'unsafe-inline'"}
HSTS = "max-age=31536000"  # one year; not includeSubDomains: other hosts are not ours


def _policy(directives: dict[str, str]) -> str:
    return "; ".join(f"{name} {value}" for name, value in directives.items())


CSP = _policy(BASE_POLICY)
DOCS_CSP = _policy(DOCS_POLICY)


# Every response carries these unless its view set its own (name in lower case, name,
# value); the policy itself depends on the page.
_FIXED = (
    ("x-content-type-options", "X-Content-Type-Options", "nosniff"),
    ("x-frame-options", "X-Frame-Options", "DENY"),
    # same-origin keeps the Referer on our own requests, which Flask-WTF's HTTPS check needs.
    ("referrer-policy", "Referrer-Policy", "same-origin"),
)


def _headers(response: Response) -> Response:
    headers = response.headers
    present = {name.lower() for name, _ in headers}  # one pass, not one per header
    csp = DOCS_CSP if request.endpoint == "api.docs" else CSP
    missing = [(name, value) for key, name, value in
               (("content-security-policy", "Content-Security-Policy", csp), *_FIXED)
               if key not in present]
    headers.extend(missing)
    if request.blueprint not in (None, "api", "health") or request.endpoint == "auth.login":
        response.vary.add("HX-Request")
        headers.setdefault("Cache-Control", "no-store")
    return response


def serves_https(app: Flask) -> bool:
    """True when the app is configured to be reached over HTTPS only."""
    return bool(app.config.get("TAGWRIGHT_HTTPS")) or (
        app.config.get("PREFERRED_URL_SCHEME") == "https")


def _strict_transport(response: Response) -> Response:
    response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def init_app(app: Flask) -> None:
    app.after_request(_headers)
    if serves_https(app):
        app.after_request(_strict_transport)
