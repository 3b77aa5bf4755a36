"""API-key authentication: every /api/v1 call carries a key, and the key's scope is the
scope of the call.

The key travels as ``x-api-key: KEY`` or ``Authorization: Bearer KEY``.  A missing or bad
key is a 401.  ``X-User-ID``, when sent, must name the key's owner (by public id, number or
email), else 403.  The session cookie is never consulted, so the API needs no CSRF token.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import g, request

from webapp.api.errors import ApiError
from webapp.services.actor import Actor
from webapp.services.api_keys import VerifiedKey, actor_for_key, verify_api_key
from webapp.services.tags.views import TagReadWithKey, verify_key_and_read_tag

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="tagwright", error="invalid_token"'}


@dataclass(frozen=True)
class Caller:
    actor: Actor
    scope_id: int
    scope_public_id: str
    user_id: int
    tag_read: TagReadWithKey | None = None  # the tag asked for, read with the key


def _presented_token() -> str | None:
    header_key = request.headers.get("X-API-Key")
    authorization = request.headers.get("Authorization", "")
    scheme, _, credentials = authorization.strip().partition(" ")
    bearer = credentials.strip() if scheme.lower() == "bearer" else None
    if header_key and bearer and header_key.strip() != bearer:
        raise ApiError(401, "UNAUTHENTICATED",
                       "x-api-key and Authorization: Bearer carry different keys",
                       headers=CHALLENGE)
    token = (header_key or bearer or "").strip()
    return token or None


def _names_owner(claimed: str, key: VerifiedKey) -> bool:
    claimed = claimed.strip()
    return (claimed in {key.user_public_id, str(key.user_id)}
            or claimed.lower() == key.user_email.lower())


def authenticate(tag_row_id: int | None = None) -> Caller:
    """Resolve the caller of this request, or raise a 401/403 ApiError.  With
    ``tag_row_id``, the key's scope's live tag of that id is read in the same statement
    as the key (``Caller.tag_read``)."""
    token = _presented_token()
    if token is None:
        raise ApiError(401, "UNAUTHENTICATED",
                       "an API key is required (x-api-key or Authorization: Bearer)",
                       headers=CHALLENGE)
    tag_read = None
    if tag_row_id is None:
        key = verify_api_key(token)
    else:
        verified = verify_key_and_read_tag(token, tag_row_id)
        key, tag_read = verified if verified is not None else (None, None)
    if key is None:
        raise ApiError(401, "UNAUTHENTICATED", "the API key is invalid or revoked",
                       headers=CHALLENGE)
    claimed = request.headers.get("X-User-ID")
    if claimed is not None and not _names_owner(claimed, key):
        raise ApiError(403, "PERMISSION_DENIED", "X-User-ID does not name the key's owner")
    return Caller(actor_for_key(key), key.scope_id, key.scope_public_id, key.user_id,
                  tag_read)


def caller() -> Caller:
    """The authenticated caller of the current request (set by the blueprint's hook)."""
    return g.api_caller
