"""What ``flask --app wsgi demo`` prints after loading: the counts, where to log in, the
demo logins and, only when this run created the users, their password."""

from __future__ import annotations

import os

import click
from flask import Flask

from webapp.cli.demo.loader import PASSWORD_ENV, DemoSummary


def _set_password_hint(app: Flask) -> str | None:
    """The command that resets a password, when the CLI has one."""
    users = app.cli.commands.get("users")
    if users is not None and "set-password" in getattr(users, "commands", {}):
        return "flask --app wsgi users set-password"
    return None


def print_summary(app: Flask, summary: DemoSummary, *, from_env: bool) -> None:
    """Print what the demo load did and the logins; ``from_env`` says where the password
    came from."""
    echo = click.echo
    counts = (f"{summary.groups} tag groups, {summary.tags} tags, {summary.resources} "
              f"resources of {summary.resource_types} types, {summary.assignments} assignments")
    if summary.created:
        echo(f"Loaded the demo data into {summary.scope_public_id} ({summary.scope_name}): "
             f"{counts}.")
    else:
        echo(f"Scope {summary.scope_public_id} ({summary.scope_name}) already exists, so the "
             f"demo data was not loaded again. It holds {counts}.")
    port = os.environ.get("PORT") or "5000"
    width = max(len(user.email) for user in summary.users)
    echo("")
    served = {rule.rule for rule in app.url_map.iter_rules()}
    if "/login" in served:
        echo(f"  Log in at:  http://127.0.0.1:{port}/login")
        echo(f"  Scope:      http://127.0.0.1:{port}/s/{summary.scope_slug}/tags")
    else:  # the web admin is not part of this build: point at what is served
        echo(f"  Server:     http://127.0.0.1:{port}/healthz")
    for index, user in enumerate(summary.users):
        label = "Email:" if index == 0 else ""
        state = "" if user.created else "  (already existed)"
        echo(f"  {label:<10}  {user.email:<{width}}  {user.role:<10}{state}".rstrip())
    password = summary.password
    if password is not None:
        new_users = [user for user in summary.users if user.created]
        whom = "all demo users" if len(new_users) == len(summary.users) else \
            ", ".join(user.email for user in new_users)
        origin = f"from {PASSWORD_ENV}" if from_env else "shown only now"
        echo(f"  Password:   {password}   ({whom}; {origin})")
    existing = [user.email for user in summary.users if not user.created]
    if existing:
        echo(f"  The password of {'these users' if len(existing) > 1 else existing[0]} was "
             "printed when {} created; it is not stored anywhere readable.".format(
                 "they were" if len(existing) > 1 else "it was"))
        hint = _set_password_hint(app)
        if hint:
            echo(f"  To choose a new one:  {hint} {existing[0]}")
    echo("")

