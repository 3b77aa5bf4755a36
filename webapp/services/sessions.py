"""Sign-in sessions of the web admin.

The browser's (signed) cookie carries a random session token; only its HMAC is stored, in
``login_sessions``.  Every request looks the token up, so signing out (which ends the row)
makes a copied cookie worthless.  Each sign-in makes a new token.

Failed sign-ins are limited per client (and per client and e-mail) at the HTTP layer:
see webapp.rate_limits.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import select, update

from webapp.extensions import db
from webapp.models import LoginSession, User
from webapp.models.types import utcnow
from webapp.services.api_keys import hash_token
from webapp.services.errors import ValidationFailed
from webapp.services.uow import bookkeeping
from webapp.services.users import authenticate

SESSION_IDLE_LIMIT = timedelta(hours=12)
LAST_SEEN_RESOLUTION = timedelta(minutes=1)
USER_AGENT_MAX = 300


def sign_in(email: str, password: str, *, remote_addr: str | None = None,
            user_agent: str | None = None) -> tuple[User, str]:
    """Check the credentials and open a session; return the user and the session token.

    Wrong credentials raise ValidationFailed (without saying which part was wrong).
    """
    user = authenticate(email, password)
    if user is None:
        raise ValidationFailed("the e-mail or the password is wrong")
    token = secrets.token_urlsafe(32)
    now = utcnow()
    with bookkeeping():
        db.session.add(LoginSession(
            user_id=user.id, token_hash=hash_token(token), created_at=now, last_seen_at=now,
            remote_addr=remote_addr, user_agent=(user_agent or "")[:USER_AGENT_MAX] or None,
        ))
    return user, token


def session_user(token: object) -> User | None:
    """The active user of a live session token, else None.  Notes the time of use (at
    most once a minute); a session idle for over 12 hours has expired."""
    if not isinstance(token, str) or not token or len(token) > 100:
        return None
    row = db.session.execute(
        select(LoginSession, User)
        .join(User, User.id == LoginSession.user_id)
        .where(LoginSession.token_hash == hash_token(token), LoginSession.ended_at.is_(None))
    ).first()
    if row is None:
        return None
    login, user = row
    now = utcnow()
    if not user.is_active or login.last_seen_at < now - SESSION_IDLE_LIMIT:
        return None
    if login.last_seen_at < now - LAST_SEEN_RESOLUTION:
        with bookkeeping():
            db.session.execute(update(LoginSession).where(LoginSession.id == login.id)
                               .values(last_seen_at=now)
                               .execution_options(synchronize_session=False))
    return user


def end_session(token: object) -> None:
    """Sign out: the token stops working at once."""
    if not isinstance(token, str) or not token:
        return
    with bookkeeping():
        db.session.execute(update(LoginSession)
                           .where(LoginSession.token_hash == hash_token(token),
                                  LoginSession.ended_at.is_(None))
                           .values(ended_at=utcnow())
                           .execution_options(synchronize_session=False))
