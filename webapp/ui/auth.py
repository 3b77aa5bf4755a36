"""Sign in and sign out."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, request, session, url_for
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from webapp.services.errors import RateLimited, ValidationFailed
from webapp.services.scopes import list_scopes
from webapp.services.sessions import end_session, sign_in
from webapp.ui.errors import REFUSED_FORM
from webapp.ui.rendering import render_page
from webapp.ui.session import SignedIn

auth = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site (no scheme, no host, no protocol-relative //)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def home_url() -> str:
    """Where a signed-in user starts: their first scope's tags, else the scope list."""
    scopes = list_scopes(current_user.actor)
    if len(scopes) >= 1:
        return url_for("tags.index", scope_slug=scopes[0][0].slug)
    return url_for("scopes.index")


@auth.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if current_user.is_authenticated and request.method == "GET":
        return redirect(_safe_next(request.args.get("next")) or home_url())
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user, token = sign_in(form.email.data or "", form.password.data or "",
                                  remote_addr=request.remote_addr,
                                  user_agent=request.headers.get("User-Agent"))
        except ValidationFailed as error:
            form.password.errors = [error.message]
            status = REFUSED_FORM
        else:
            session.clear()  # no state survives from before sign-in (session fixation)
            login_user(SignedIn(user, token))
            return redirect(_safe_next(request.args.get("next")) or home_url())
    elif form.is_submitted():
        status = REFUSED_FORM
    return render_page("auth/login.html", "auth/_login_form.html", status, form=form)


def refuse_sign_in(refusal: RateLimited) -> Any:
    """The sign-in form again, what was typed kept, with the rate limiter's refusal as its
    error (429, ``Retry-After``); see webapp.rate_limits."""
    form = LoginForm()
    form.form_errors.append(refusal.message)
    body, status = render_page("auth/login.html", "auth/_login_form.html", 429, form=form)
    return body, status, {"Retry-After": str(refusal.retry_after)}


@auth.post("/logout")
def logout() -> Any:
    if current_user.is_authenticated:
        end_session(current_user.get_id())
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))


@auth.get("/")
def index() -> Any:
    return redirect(home_url())
