"""The typed errors every service raises; entrypoints map each to one status code."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


class ServiceError(Exception):
    """Base class. ``code`` is the machine-readable error code of the JSON API."""

    code = "ERROR"

    def __init__(self, message: str, details: Iterable[FieldError] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.details = list(details)


class NotFound(ServiceError):
    code = "NOT_FOUND"


class Conflict(ServiceError):
    code = "CONFLICT"


class TagDeprecated(Conflict):
    """A deprecated tag cannot be attached again; the message names its replacement."""

    code = "TAG_DEPRECATED"


class PermissionDenied(ServiceError):
    code = "PERMISSION_DENIED"


class ValidationFailed(ServiceError):
    code = "VALIDATION_FAILED"

    @classmethod
    def field(cls, field: str, message: str) -> ValidationFailed:
        return cls(f"{field}: {message}", [FieldError(field, message)])


class LimitExceeded(ServiceError):
    """The input is well-formed but over a size limit (HTTP 413)."""

    code = "LIMIT_EXCEEDED"


class RateLimited(ServiceError):
    """Too many attempts in a short time (HTTP 429); ``retry_after`` is in seconds."""

    code = "RATE_LIMITED"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PolicyViolation(Conflict):
    """An enforced tag policy refuses the change (HTTP 409): ``policy`` is its name,
    ``resources`` the first refused resources (``type:external_id``), ``count`` all."""

    code = "POLICY_VIOLATION"

    def __init__(self, message: str, policy: str, resources: list[str], count: int,
                 details: Iterable[FieldError] = ()) -> None:
        super().__init__(message, details)
        self.policy = policy
        self.resources = resources
        self.count = count
