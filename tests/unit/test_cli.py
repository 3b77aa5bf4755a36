"""The CLI: users, scopes, members and keys through ``flask --app wsgi …``."""

from __future__ import annotations

import pytest
from click.testing import Result
from flask import Flask

from webapp.extensions import db
from webapp.models import ApiKey, ChangeSet, Membership, User
from webapp.services.api_keys import verify_api_key
from webapp.services.users import authenticate


def run(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(args=list(args))


def ok(app: Flask, *args: str) -> Result:
    result = run(app, *args)
    assert result.exit_code == 0, result.output
    return result


def fails(app: Flask, *args: str) -> Result:
    result = run(app, *args)
    assert result.exit_code != 0, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result


@pytest.fixture
def acme(app: Flask) -> Flask:
    ok(app, "users", "create", "Ada@Example.com", "--password", "password123", "--admin",
       "--name", "Ada")
    ok(app, "users", "create", "bob@example.com", "--password", "password123")
    ok(app, "scopes", "create", "scope_acme", "--name", "Acme")
    ok(app, "scopes", "add-member", "scope_acme", "bob@example.com", "--role", "editor")
    return app


def test_users_create(app: Flask) -> None:
    result = ok(app, "users", "create", "Ada@Example.com", "--password", "password123",
                "--admin", "--name", "Ada Lovelace")
    assert "ada@example.com" in result.output
    user = db.session.scalars(db.select(User)).one()
    assert (user.email, user.display_name, user.is_admin) == ("ada@example.com",
                                                              "Ada Lovelace", True)
    assert authenticate("ada@example.com", "password123") == user
    assert "password123" not in result.output
    change_set = db.session.scalars(db.select(ChangeSet)).one()
    assert change_set.via == "cli" and change_set.actor_id is None


def test_users_create_prompts_for_the_password(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["users", "create", "ada@example.com"],
                                          input="password123\npassword123\n")
    assert result.exit_code == 0, result.output
    assert authenticate("ada@example.com", "password123") is not None


def test_users_create_errors_are_clean(app: Flask) -> None:
    result = fails(app, "users", "create", "ada@example.com", "--password", "short")
    assert "Error: password: must be at least 8 characters" in result.output
    ok(app, "users", "create", "ada@example.com", "--password", "password123")
    result = fails(app, "users", "create", "ADA@example.com", "--password", "password123")
    assert "already exists" in result.output
    result = fails(app, "users", "create", "not-an-email", "--password", "password123")
    assert "email" in result.output


def test_users_set_password(app: Flask) -> None:
    ok(app, "users", "create", "ada@example.com", "--password", "password123")
    ok(app, "users", "set-password", "ada@example.com", "--password", "another pass")
    assert authenticate("ada@example.com", "another pass") is not None
    assert "no user" in fails(app, "users", "set-password", "x@example.com",
                              "--password", "another pass").output


def test_scopes_create_and_add_member(acme: Flask) -> None:
    result = ok(acme, "scopes", "list")
    assert "scope_acme\tacme\tAcme" in result.output
    bob = db.session.scalars(db.select(User).where(User.email == "bob@example.com")).one()
    membership = db.session.scalars(
        db.select(Membership).where(Membership.user_id == bob.id)
    ).one()
    assert membership.role == "editor"
    # By slug, and changing the role.
    result = ok(acme, "scopes", "add-member", "acme", "BOB@example.com", "--role", "viewer")
    assert "bob@example.com is viewer in scope_acme" in result.output
    db.session.expire_all()
    assert db.session.get(Membership, (bob.id, membership.scope_id)).role == "viewer"
    # The CLI creates scopes without a manager (it is not a user).
    assert db.session.scalar(db.select(db.func.count()).select_from(Membership)) == 1


def test_scopes_errors_are_clean(acme: Flask) -> None:
    assert "already exists" in fails(acme, "scopes", "create", "scope_acme",
                                     "--name", "Again").output
    assert "must start with 'scope_'" in fails(acme, "scopes", "create", "acme",
                                               "--name", "X").output
    assert "no scope" in fails(acme, "scopes", "add-member", "scope_nope", "bob@example.com",
                               "--role", "viewer").output
    assert "no user" in fails(acme, "scopes", "add-member", "acme", "x@example.com",
                              "--role", "viewer").output
    result = run(acme, "scopes", "add-member", "acme", "bob@example.com", "--role", "owner")
    assert result.exit_code == 2 and "owner" in result.output  # click's own choice check


def test_keys_create_prints_the_token_alone_on_its_last_line(acme: Flask) -> None:
    result = ok(acme, "keys", "create", "--user", "bob@example.com", "--scope", "scope_acme",
                "--permissions", "tags.read, tags.write", "--name", "deploy")
    lines = result.output.rstrip("\n").split("\n")
    token = lines[-1]
    assert token == token.strip() and token.startswith("tw_") and " " not in token
    verified = verify_api_key(token)
    assert verified is not None
    key = db.session.get(ApiKey, verified.id)
    assert key is not None
    assert key.name == "deploy" and key.user.email == "bob@example.com"
    assert key.scope.public_id == "scope_acme"
    assert key.permissions == ["tags.read", "tags.write"]
    assert key.secret_hash != token and key.secret_hash not in result.output
    assert token not in "\n".join(lines[:-1])


def test_keys_create_refuses_permissions_beyond_the_role(acme: Flask) -> None:
    result = fails(acme, "keys", "create", "--user", "bob@example.com", "--scope", "acme",
                   "--permissions", "tags.read,groups.write")
    assert "groups.write" in result.output and "tw_" not in result.output
    result = fails(acme, "keys", "create", "--user", "bob@example.com", "--scope", "acme",
                   "--permissions", "tags.read,tags.everything")
    assert "unknown permission" in result.output
    assert db.session.scalar(db.select(db.func.count(ApiKey.id))) == 0


def test_keys_revoke_and_list(acme: Flask) -> None:
    token = ok(acme, "keys", "create", "--user", "bob@example.com", "--scope", "acme",
               "--permissions", "tags.read").output.rstrip("\n").split("\n")[-1]
    prefix = token.split("_")[1]
    assert f"{prefix}\tbob@example.com\tscope_acme\ttags.read\tactive" in ok(
        acme, "keys", "list").output

    result = ok(acme, "keys", "revoke", prefix)
    assert f"Revoked API key {prefix}" in result.output
    assert verify_api_key(token) is None
    assert "\trevoked\t" in ok(acme, "keys", "list", "--user", "bob@example.com").output
    assert "no API key" in fails(acme, "keys", "revoke", "zzzzzzzzzz").output
