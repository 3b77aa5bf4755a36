"""The demo data set: ``load_demo()`` and ``flask --app wsgi demo``."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import func, select

from webapp.cli.demo.dataset import ADMIN_EMAIL, DEMO_USERS, build_resources
from webapp.cli.demo.loader import PASSWORD_ENV, load_demo
from webapp.extensions import db
from webapp.models import (
    RESOURCE_TYPES,
    Assignment,
    Membership,
    Resource,
    Scope,
    Tag,
    TagGroup,
    TagRule,
    User,
)
from webapp.services.actor import Actor
from webapp.services.rules import preview_rule
from webapp.services.users import authenticate

PASSWORD = "demo-password-123"


def table_counts() -> dict[str, int]:
    return {
        table.name: db.session.scalar(select(func.count()).select_from(table)) or 0
        for table in db.metadata.sorted_tables
    }


@pytest.fixture
def demo(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Flask:
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    summary = load_demo()
    assert summary.created
    return app


def test_demo_contents(demo: Flask) -> None:
    scope = db.session.scalars(select(Scope).where(Scope.public_id == "scope_acme")).one()
    assert (scope.name, scope.slug) == ("Acme Corp", "acme")
    types = set(db.session.scalars(select(Resource.type).distinct()))
    assert types == set(RESOURCE_TYPES)
    assert db.session.scalar(select(func.count()).select_from(Resource)) >= 200
    sources = db.session.scalars(select(Resource.slug).where(Resource.type == "source")).all()
    assert len(sources) >= 200
    assert sum(slug.endswith("-ads") for slug in sources) >= 100
    assert {"facebook-ads", "google-ads"} <= set(sources)
    assert db.session.scalar(select(func.count()).select_from(Assignment)) >= 2000

    urgent = db.session.scalars(select(Tag).where(Tag.path_key == "priority::urgent")).one()
    assert (urgent.name, urgent.label) == ("urgent", "Urgent")
    priority = db.session.scalars(
        select(TagGroup).where(TagGroup.public_id == "tag_group_priority")).one()
    assert priority.identifier == "priority" and priority.exclusive
    assert urgent.group_id == priority.id
    # Seed 002's batch example (high, medium, low; ids tag_high…) must still be creatable.
    assert db.session.scalar(select(Tag.id).where(Tag.public_id.in_(
        ["tag_high", "tag_medium", "tag_low"]))) is None
    cross = db.session.scalars(
        select(Tag).where(Tag.path == "DataProperties.Cross-Sectional")).one()
    assert cross.system_created and not cross.protected  # seed 003 deletes it

    canada = db.session.scalars(
        select(Tag).where(Tag.path == "Discovered.Country.Canada")).one()
    assert canada.protected and canada.system_created and canada.source == "curated"
    assert canada.group_id is None and canada.depth == 2
    email = db.session.scalars(select(Tag).where(Tag.path == "Address.email")).one()
    assert not email.protected and not email.system_created
    for path in ("Discovered.Passport", "DataProperties.Cross-Sectional", "Confidential",
                 "marketing", "production", "weekly-refresh", "owned-by-revops", "ads",
                 "legacy"):
        assert db.session.scalar(select(Tag.id).where(Tag.path == path)) is not None, path

    # Seed 000's example is a saved rule, with -ads sources left for its back-fill.
    rule = db.session.scalars(select(TagRule)).one()
    assert (rule.name, rule.when, rule.attach, rule.enabled) == (
        "Ads sources", "type:source AND name:*-ads", ["ads"], True)
    preview = preview_rule(Actor.system(), scope.id, rule.when, rule.attach)
    assert preview.resources >= 100 and 0 < preview.change < preview.resources

    # Seed 003's examples find their resources.
    for rtype, external_id in (("datasource", "22"), ("datasource", "523"),
                               ("column", "6_countrycode"), ("column", "49_OBJECTID"),
                               ("project", "2")):
        assert db.session.scalar(select(Resource.id).where(
            Resource.type == rtype, Resource.external_id == external_id)) is not None


def test_exclusive_groups_and_allowed_types_hold(demo: Flask) -> None:
    crowded = db.session.execute(
        select(Assignment.resource_id, Tag.group_id, func.count())
        .join(Tag, Tag.id == Assignment.tag_id)
        .join(TagGroup, TagGroup.id == Tag.group_id)
        .where(TagGroup.exclusive.is_(True))
        .group_by(Assignment.resource_id, Tag.group_id)
        .having(func.count() > 1)
    ).all()
    assert crowded == []
    used = db.session.scalar(
        select(func.count()).select_from(Assignment)
        .join(Tag, Tag.id == Assignment.tag_id)
        .join(TagGroup, TagGroup.id == Tag.group_id)
        .where(TagGroup.exclusive.is_(True))
    )
    assert used >= 500  # the exclusive groups are really used
    for group in db.session.scalars(select(TagGroup)):
        if not group.allowed_types:
            continue
        wrong = db.session.scalars(
            select(Resource.type).distinct()
            .join(Assignment, Assignment.resource_id == Resource.id)
            .join(Tag, Tag.id == Assignment.tag_id)
            .where(Tag.group_id == group.id, Resource.type.not_in(group.allowed_types))
        ).all()
        assert wrong == [], group.identifier


def test_demo_users_and_roles(demo: Flask) -> None:
    admin = authenticate(ADMIN_EMAIL, PASSWORD)
    assert admin is not None and admin.is_admin
    scope_id = db.session.scalar(select(Scope.id).where(Scope.public_id == "scope_acme"))
    for email, _name, role in DEMO_USERS:
        user = authenticate(email, PASSWORD)
        assert user is not None, email
        membership = db.session.get(Membership, (user.id, scope_id))
        if role is None:
            assert user.is_admin
        else:
            assert not user.is_admin and membership is not None and membership.role == role


def test_second_load_changes_nothing(demo: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    before = table_counts()
    hashes = dict(db.session.execute(select(User.email, User.password_hash)).all())
    monkeypatch.setenv(PASSWORD_ENV, "another-password")
    summary = load_demo()
    assert not summary.created
    assert summary.password is None and not any(user.created for user in summary.users)
    assert table_counts() == before
    assert dict(db.session.execute(select(User.email, User.password_hash)).all()) == hashes
    assert authenticate(ADMIN_EMAIL, PASSWORD) is not None


def test_resources_are_deterministic() -> None:
    first = build_resources()
    assert first == build_resources()
    assert len({(r.type, r.id) for r in first}) == len(first)
    assert {r.type for r in first} == set(RESOURCE_TYPES)


def test_cli_command(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    monkeypatch.setenv("PORT", "5123")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert ADMIN_EMAIL in result.output
    served = {rule.rule for rule in app.url_map.iter_rules()}
    shown = "/login" if "/login" in served else "/healthz"
    assert f"http://127.0.0.1:5123{shown}" in result.output
    line = next(line for line in result.output.splitlines() if "Password:" in line)
    password = line.split("Password:")[1].split()[0]
    assert len(password) >= 12
    assert authenticate(ADMIN_EMAIL, password) is not None
    assert authenticate("viewer@example.com", password) is not None

    again = runner.invoke(args=["demo"])
    assert again.exit_code == 0, again.output
    assert ADMIN_EMAIL in again.output and "already" in again.output
    assert password not in again.output
    assert "users set-password" in again.output


def test_cli_rejects_a_short_password(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "short")
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 1
    assert PASSWORD_ENV in result.output and "Traceback" not in result.output
    assert table_counts()["scopes"] == 0 and table_counts()["users"] == 0
