"""Users: create, authenticate, look up, change passwords.

Passwords are hashed with :func:`werkzeug.security.generate_password_hash`; neither the
password nor its hash ever reaches the audit trail.  Emails are stored lower-cased, so a
look-up by email is case-insensitive.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any

from werkzeug.security import check_password_hash, generate_password_hash

from webapp.extensions import db
from webapp.models import User
from webapp.services import names
from webapp.services.actor import Actor, require_admin
from webapp.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from webapp.services.uow import writing

PASSWORD_MIN = 8
PASSWORD_MAX = 1024  # hashing a megabyte of "password" is a cheap denial of service
EMAIL_MAX = 254
DISPLAY_NAME_MAX = 100

# local@domain: no whitespace, one "@", domain labels of letters, digits and hyphens.
_EMAIL = re.compile(
    r"^[^@\s]{1,64}@(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$"
)


def normalize_email(raw: object, field: str = "email") -> str:
    """Return the trimmed, lower-cased email or raise ValidationFailed naming ``field``."""
    if not isinstance(raw, str):
        raise ValidationFailed.field(field, "must be a string")
    email = raw.strip().lower()
    if not email:
        raise ValidationFailed.field(field, "must not be empty")
    if len(email) > EMAIL_MAX:
        raise ValidationFailed.field(field, f"must be at most {EMAIL_MAX} characters")
    if not _EMAIL.match(email) or any(unicodedata.category(ch)[0] == "C" for ch in email):
        raise ValidationFailed.field(field, "must be an email address such as ada@example.com")
    return email


def _clean_password(raw: object) -> str:
    if not isinstance(raw, str):
        raise ValidationFailed.field("password", "must be a string")
    if len(raw) < PASSWORD_MIN:
        raise ValidationFailed.field("password", f"must be at least {PASSWORD_MIN} characters")
    if len(raw) > PASSWORD_MAX:
        raise ValidationFailed.field("password", f"must be at most {PASSWORD_MAX} characters")
    return raw


def _clean_display_name(raw: object) -> str:
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise ValidationFailed.field("display_name", "must be a string")
    text = names.trimmed(raw, "display_name")
    if len(text) > DISPLAY_NAME_MAX:
        raise ValidationFailed.field(
            "display_name", f"must be at most {DISPLAY_NAME_MAX} characters"
        )
    if any(unicodedata.category(ch)[0] == "C" for ch in text):
        raise ValidationFailed.field("display_name", "must not contain control characters")
    return text


def user_snapshot(user: User) -> dict[str, Any]:
    """The audited state of a user: never the password hash."""
    return {
        "email": user.email,
        "display_name": user.display_name,
        "is_admin": user.is_admin,
        "is_active": user.is_active,
    }


def require_site_admin(actor: Actor) -> None:
    """A site admin acting in person (web or CLI) or the system; never through an API key.

    API keys carry tag permissions only, so even an admin's key cannot manage users, scopes
    or keys.
    """
    require_admin(actor)
    if actor.key_permissions is not None:
        raise PermissionDenied("an API key cannot perform administrative actions")


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A hash to check against when the email is unknown, so both paths cost the same."""
    return generate_password_hash("tagwright-no-such-user")


def create_user(
    actor: Actor,
    email: str,
    password: str,
    *,
    display_name: str = "",
    is_admin: bool = False,
) -> User:
    """Create a user. Only a site admin (or the system itself) may do this.

    Raises PermissionDenied, ValidationFailed (email, password, display_name) or Conflict
    when the email is taken.
    """
    require_site_admin(actor)
    email = normalize_email(email)
    password = _clean_password(password)
    display_name = _clean_display_name(display_name)
    with writing(actor, None, f"Create user {email}") as recorder:
        if db.session.scalar(db.select(User.id).where(User.email == email)) is not None:
            raise Conflict(f"a user with email {email} already exists")
        user = User(
            email=email,
            display_name=display_name,
            password_hash=generate_password_hash(password),
            is_admin=bool(is_admin),
            is_active=True,
        )
        db.session.add(user)
        db.session.flush()
        recorder.record("user", user.id, "create", None, user_snapshot(user))
    return user


def authenticate(email: str, password: str) -> User | None:
    """Return the active user with this email and password, else None.

    The password hash is checked even when no such user exists (or it is inactive), so the
    answer takes about as long either way and does not reveal which emails are registered.
    """
    if not isinstance(email, str) or not isinstance(password, str):
        return None
    user = db.session.scalar(db.select(User).where(User.email == email.strip().lower()))
    if user is None:
        check_password_hash(_dummy_hash(), password)
        return None
    if not check_password_hash(user.password_hash, password):
        return None
    if not user.is_active:
        return None
    return user


def get_user_by_email(email: str) -> User:
    """Return the user with this email (case-insensitive) or raise NotFound."""
    normalized = email.strip().lower() if isinstance(email, str) else ""
    user = db.session.scalar(db.select(User).where(User.email == normalized))
    if user is None:
        raise NotFound(f"no user with email {email!r}")
    return user


def get_user(user_id: int) -> User:
    """Return the user with this id or raise NotFound."""
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user with id {user_id}")
    return user


def set_password(actor: Actor, user_id: int, password: str) -> None:
    """Change a user's password: the user themself or a site admin.

    The audit trail records that the password changed, never what it is.
    """
    if actor.key_permissions is not None:
        raise PermissionDenied("an API key cannot change passwords")
    if not actor.is_admin and actor.user_id != user_id:
        raise PermissionDenied("only the user themself or a site administrator may do this")
    password = _clean_password(password)
    with writing(actor, None, "Change password") as recorder:
        user = get_user(user_id)
        user.password_hash = generate_password_hash(password)
        db.session.flush()
        recorder.record("user", user.id, "set_password", None, {"password_changed": True})
