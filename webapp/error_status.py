"""The HTTP status of each service error, shared by the JSON API and the web admin (neither
imports the other for it)."""

from __future__ import annotations

from webapp.services.errors import (
    Conflict,
    LimitExceeded,
    NotFound,
    PermissionDenied,
    RateLimited,
    ServiceError,
    ValidationFailed,
)

SERVICE_STATUS: dict[type[ServiceError], int] = {
    ValidationFailed: 400,
    PermissionDenied: 403,
    NotFound: 404,
    Conflict: 409,
    LimitExceeded: 413,
    RateLimited: 429,
}


def status_for(error: ServiceError) -> int:
    """The status of the nearest mapped class of ``error`` (400 for an unmapped one)."""
    for cls in type(error).__mro__:
        if cls in SERVICE_STATUS:
            return SERVICE_STATUS[cls]
    return 400
