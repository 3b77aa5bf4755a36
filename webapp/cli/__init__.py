"""Command-line interface (``flask --app wsgi …``).

The commands act as a site administrator (``Actor(user_id=None, is_admin=True, via="cli")``)
through the same services as the web admin and the API, so every change is validated and
audited the same way.  A service error ends the command with its message and exit code 1.
``demo`` loads the demo data set of :mod:`webapp.cli.demo`, which only that command imports.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from webapp.models import Role
from webapp.services.actor import API_KEY_PERMISSIONS, Actor
from webapp.services.errors import ServiceError


def cli_actor() -> Actor:
    """The actor every CLI command acts as."""
    return Actor(user_id=None, is_admin=True, via="cli")


@contextmanager
def service_errors() -> Iterator[None]:
    """Turn a service error into a clean ``Error: …`` message and a non-zero exit."""
    try:
        yield
    except ServiceError as error:
        raise click.ClickException(error.message) from error


users_cli = AppGroup("users", help="Manage users.")
scopes_cli = AppGroup("scopes", help="Manage scopes and their members.")
keys_cli = AppGroup("keys", help="Manage API keys.")
sources_cli = AppGroup("sources", help="Manage external tag sources and refresh them.")


@users_cli.command("create")
@click.argument("email")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="At least 8 characters (prompted for when omitted).")
@click.option("--admin", is_flag=True, help="Make the user a site administrator.")
@click.option("--name", "display_name", default="", help="Display name.")
def create_user_command(email: str, password: str, admin: bool, display_name: str) -> None:
    """Create a user who signs in with EMAIL."""
    from webapp.services.users import create_user

    with service_errors():
        user = create_user(cli_actor(), email, password, display_name=display_name,
                           is_admin=admin)
    click.echo(f"Created {'admin ' if user.is_admin else ''}user {user.email}")


@users_cli.command("set-password")
@click.argument("email")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="At least 8 characters (prompted for when omitted).")
def set_password_command(email: str, password: str) -> None:
    """Set the password of the user EMAIL."""
    from webapp.services.users import get_user_by_email, set_password

    with service_errors():
        user = get_user_by_email(email)
        set_password(cli_actor(), user.id, password)
    click.echo(f"Password of {user.email} changed")


@scopes_cli.command("create")
@click.argument("scope_id", metavar="ID")
@click.option("--name", required=True, help="Display name of the scope.")
@click.option("--slug", default=None, help="URL slug (default: the ID without 'scope_').")
def create_scope_command(scope_id: str, name: str, slug: str | None) -> None:
    """Create a scope with the public id ID (such as scope_acme)."""
    from webapp.services.scopes import create_scope

    with service_errors():
        scope = create_scope(cli_actor(), scope_id, name=name, slug=slug)
    click.echo(f"Created scope {scope.public_id} ({scope.name}) at /s/{scope.slug}/")


@scopes_cli.command("list")
def list_scopes_command() -> None:
    """List every scope."""
    from webapp.services.scopes import list_scopes

    for scope, _role in list_scopes(cli_actor()):
        click.echo(f"{scope.public_id}\t{scope.slug}\t{scope.name}")


@scopes_cli.command("add-member")
@click.argument("scope")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice([role.value for role in Role]),
              help="The member's role in the scope.")
def add_member_command(scope: str, email: str, role: str) -> None:
    """Give the user EMAIL a role in SCOPE (public id or slug), or change it."""
    from webapp.services.scopes import add_member, get_scope

    actor = cli_actor()
    with service_errors():
        found = get_scope(actor, scope)
        membership = add_member(actor, found.id, email, role)
    click.echo(f"{membership.user.email} is {membership.role} in {found.public_id}")


@keys_cli.command("create")
@click.option("--user", "email", required=True, help="Email of the key's owner.")
@click.option("--scope", required=True, help="Scope public id or slug.")
@click.option("--permissions", default=None,
              help="Comma-separated: " + ",".join(p.value for p in API_KEY_PERMISSIONS)
              + ". Default: every one the owner's role allows.")
@click.option("--name", default="CLI key", show_default=True, help="A name to recognise it by.")
def create_key_command(email: str, scope: str, permissions: str | None, name: str) -> None:
    """Create an API key and print its token (shown only this once) on the last line."""
    from webapp.services.api_keys import create_api_key, grantable_permissions
    from webapp.services.scopes import get_scope
    from webapp.services.users import get_user_by_email

    actor = cli_actor()
    with service_errors():
        found = get_scope(actor, scope)
        owner = get_user_by_email(email)
        if permissions is None:
            owner_actor = Actor(user_id=owner.id, is_admin=owner.is_admin)
            wanted = [p.value for p in grantable_permissions(owner_actor, found.id)]
        else:
            wanted = [part.strip() for part in permissions.split(",") if part.strip()]
        key, token = create_api_key(actor, user_id=owner.id, scope_id=found.id, name=name,
                                    permissions=wanted)
    click.echo(
        f"Created API key {key.prefix} for {owner.email} in {found.public_id} "
        f"({', '.join(key.permissions)}). Store the token now; it is not shown again:"
    )
    click.echo(token)


@keys_cli.command("list")
@click.option("--user", "email", default=None, help="Only the keys of this user.")
@click.option("--scope", default=None, help="Only the keys of this scope.")
def list_keys_command(email: str | None, scope: str | None) -> None:
    """List API keys (prefix, owner, scope, permissions, state)."""
    from webapp.services.api_keys import list_api_keys
    from webapp.services.scopes import get_scope
    from webapp.services.users import get_user_by_email

    actor = cli_actor()
    with service_errors():
        user_id = get_user_by_email(email).id if email else None
        scope_id = get_scope(actor, scope).id if scope else None
    for key in list_api_keys(actor, user_id=user_id, scope_id=scope_id):
        state = "revoked" if key.revoked_at else "active"
        click.echo(f"{key.prefix}\t{key.user.email}\t{key.scope.public_id}\t"
                   f"{','.join(key.permissions)}\t{state}\t{key.name}")


@keys_cli.command("revoke")
@click.argument("prefix")
def revoke_key_command(prefix: str) -> None:
    """Revoke the API key with this PREFIX (the part after 'tw_')."""
    from webapp.services.api_keys import parse_token, revoke_api_key

    handle = parse_token(prefix.strip()) or prefix.strip()  # a whole token works too
    with service_errors():
        key = revoke_api_key(cli_actor(), handle)
    click.echo(f"Revoked API key {key.prefix}")


@sources_cli.command("add")
@click.option("--scope", required=True, help="Scope public id or slug.")
@click.option("--name", required=True, help="The source's name; its tags carry it as source.")
@click.option("--url", required=True,
              help="file:///absolute/path.json or http(s):// URL answering a JSON list of paths.")
@click.option("--timeout", type=float, default=10.0, show_default=True,
              help="Seconds (0.1 to 60) allowed for the whole download.")
@click.option("--disabled", is_flag=True, help="Configure it without refreshing it yet.")
def add_source_command(scope: str, name: str, url: str, timeout: float, disabled: bool) -> None:
    """Configure an external tag source for SCOPE."""
    from webapp.services.external_sources import add_source
    from webapp.services.scopes import get_scope

    actor = cli_actor()
    with service_errors():
        found = get_scope(actor, scope)
        source = add_source(actor, found.id, name, url, timeout_seconds=timeout,
                            enabled=not disabled)
    click.echo(f"Added source {source.name} ({source.url}) to {found.public_id}")


@sources_cli.command("list")
@click.option("--scope", required=True, help="Scope public id or slug.")
def list_sources_command(scope: str) -> None:
    """List the sources of SCOPE (name, URL, timeout, state, last refresh, last error)."""
    from webapp.services.external_sources import list_sources
    from webapp.services.scopes import get_scope

    actor = cli_actor()
    with service_errors():
        found = get_scope(actor, scope)
        sources = list_sources(actor, found.id)
    for source in sources:
        refreshed = source.last_refreshed_at.isoformat() if source.last_refreshed_at else "never"
        click.echo(f"{source.name}\t{source.url}\t{source.timeout_seconds:g}s\t"
                   f"{'enabled' if source.enabled else 'disabled'}\t{refreshed}\t"
                   f"{source.last_error or ''}")


@sources_cli.command("remove")
@click.option("--scope", required=True, help="Scope public id or slug.")
@click.option("--name", required=True, help="The source to forget (its tags stay).")
def remove_source_command(scope: str, name: str) -> None:
    """Remove a source from SCOPE; the tags it made stay."""
    from webapp.services.external_sources import remove_source
    from webapp.services.scopes import get_scope

    actor = cli_actor()
    with service_errors():
        found = get_scope(actor, scope)
        remove_source(actor, found.id, name)
    click.echo(f"Removed source {name.strip()} from {found.public_id}")


@sources_cli.command("refresh")
@click.option("--scope", required=True, help="Scope public id or slug.")
def refresh_sources_command(scope: str) -> None:
    """Refresh the enabled sources of SCOPE now (as POST /api/v1/tag/refresh does); exits 1
    when a source failed."""
    from webapp.services.external_sources import refresh_external_tags
    from webapp.services.scopes import get_scope

    actor = cli_actor()
    with service_errors():
        found = get_scope(actor, scope)
        outcomes = refresh_external_tags(actor, found.id)
    for outcome in outcomes:
        if outcome.error:
            click.echo(f"{outcome.name}: failed: {outcome.error}")
            continue
        c = outcome.counts
        click.echo(f"{outcome.name}: {c.paths} paths, {c.created} created, {c.restored} "
                   f"restored, {c.unchanged} unchanged, {c.deleted} deleted")
    if any(outcome.error for outcome in outcomes):
        raise click.exceptions.Exit(1)


@click.command("demo")
@with_appcontext
def demo_command() -> None:
    """Load the demo data set (scope_acme) and create the demo users; idempotent."""
    from webapp.cli.demo.loader import PASSWORD_ENV, demo_password, load_demo
    from webapp.cli.demo.summary import print_summary

    password, from_env = demo_password()
    try:
        summary = load_demo(password)
    except ServiceError as error:
        prefix = f"{PASSWORD_ENV}: " if from_env and "password" in error.message else ""
        raise click.ClickException(f"{prefix}{error.message}") from error
    print_summary(current_app, summary, from_env=from_env)


def register_cli(app: Flask) -> None:
    """Attach the command groups and the ``demo`` command to ``app``."""
    app.cli.add_command(users_cli)
    app.cli.add_command(scopes_cli)
    app.cli.add_command(keys_cli)
    app.cli.add_command(sources_cli)
    app.cli.add_command(demo_command)
    from webapp.cli.taxonomy import taxonomy_cli

    app.cli.add_command(taxonomy_cli)
