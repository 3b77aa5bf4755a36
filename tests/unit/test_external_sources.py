"""External tag sources: configuration rules and permissions, fetching (file and a local HTTP
server started here: timeouts, size, bad JSON), the refresh's upsert/restore/delete rules,
its audit trail, and the ``flask sources …`` commands."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import select

from tests.feed_server import FeedServer, feed_server
from tests.unit.factories import SYSTEM, World, events, fields, key_actor
from webapp.extensions import db
from webapp.models import ExternalTagSource, Tag
from webapp.services import external_sources as sources
from webapp.services.actor import API_KEY_PERMISSIONS
from webapp.services.assignments import attach
from webapp.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from webapp.services.external_sources import (
    FetchError,
    RefreshCounts,
    add_source,
    list_sources,
    parse_paths,
    read_source,
    refresh_external_tags,
    remove_source,
)
from webapp.services.policies.crud import PolicyInput, create_policy, patch_policy
from webapp.services.tags.creation import TagSpec, create_tags
from webapp.services.tags.deletion import delete_tag
from webapp.services.undo import undo_change_set


@pytest.fixture
def feeds() -> Iterator[FeedServer]:
    with feed_server() as server:
        yield server



def feed_file(tmp_path: Path, paths: Any, name: str = "feed.json") -> str:
    target = tmp_path / name
    target.write_text(json.dumps(paths))
    return target.as_uri()


def live_paths(scope_id: int, source: str | None = None) -> list[str]:
    db.session.expire_all()
    query = select(Tag.path).where(Tag.scope_id == scope_id, Tag.deleted_at.is_(None))
    if source is not None:
        query = query.where(Tag.source == source)
    return sorted(db.session.scalars(query))


def refresh_one(world: World) -> sources.SourceOutcome:
    (outcome,) = refresh_external_tags(SYSTEM, world.sid)
    return outcome


# --- configuration ----------------------------------------------------------------------


def test_add_list_remove(world: World) -> None:
    source = add_source(world.manager, world.sid, " Catalog ", "https://catalog.example/tags",
                        timeout_seconds=2.5)
    assert (source.name, source.url, source.timeout_seconds, source.enabled) == (
        "Catalog", "https://catalog.example/tags", 2.5, True)
    add_source(SYSTEM, world.other_scope.id, "other", "http://other.example/")
    assert [s.name for s in list_sources(world.manager, world.sid)] == ["Catalog"]
    with pytest.raises(Conflict):
        add_source(world.manager, world.sid, "CATALOG", "https://x.example/")
    remove_source(world.manager, world.sid, "catalog")
    assert list_sources(world.manager, world.sid) == []
    with pytest.raises(NotFound):
        remove_source(world.manager, world.sid, "catalog")
    assert [(e.object_type, e.action) for e in events("external_source")] == [
        ("external_source", "create"), ("external_source", "create"),
        ("external_source", "delete")]


@pytest.mark.parametrize("kwargs, field", [
    ({"name": ""}, "name"),
    ({"name": "x" * 101}, "name"),
    ({"name": "a\tb"}, "name"),
    ({"name": "Curated"}, "name"),
    ({"url": "ftp://example.com/tags.json"}, "url"),
    ({"url": "javascript:alert(1)"}, "url"),
    ({"url": "http://"}, "url"),
    ({"url": "http://a b/"}, "url"),
    ({"url": "file://relative/tags.json"}, "url"),
    ({"url": "file:relative.json"}, "url"),
    ({"url": "https://example.com/" + "x" * 2000}, "url"),
    ({"timeout_seconds": 0}, "timeout"),
    ({"timeout_seconds": 0.05}, "timeout"),
    ({"timeout_seconds": 61}, "timeout"),
    ({"timeout_seconds": True}, "timeout"),
    ({"timeout_seconds": "5"}, "timeout"),
])
def test_add_validates(world: World, kwargs: dict[str, Any], field: str) -> None:
    values: dict[str, Any] = {"name": "catalog", "url": "https://catalog.example/tags",
                              "timeout_seconds": 5.0, **kwargs}
    with pytest.raises(ValidationFailed) as error:
        add_source(SYSTEM, world.sid, values["name"], values["url"],
                   timeout_seconds=values["timeout_seconds"])
    assert fields(error.value) == [field]
    assert list_sources(SYSTEM, world.sid) == []


def test_who_may_manage_sources(world: World) -> None:
    url = "https://catalog.example/tags"
    all_key_permissions = key_actor(world.manager, *API_KEY_PERMISSIONS)
    for actor in (world.editor, world.viewer, world.outsider, all_key_permissions):
        with pytest.raises(PermissionDenied):
            add_source(actor, world.sid, "catalog", url)
        with pytest.raises(PermissionDenied):
            list_sources(actor, world.sid)
    with pytest.raises(PermissionDenied, match="site administrator"):
        add_source(world.manager, world.sid, "disk", "file:///etc/passwd")
    add_source(SYSTEM, world.sid, "disk", "file:///srv/tags.json")
    with pytest.raises(PermissionDenied):
        remove_source(world.editor, world.sid, "disk")


# --- fetching ---------------------------------------------------------------------------


def test_parse_paths() -> None:
    parsed = parse_paths(b'[" A.b ", "a.B", "C"]')
    assert [q.text for q in parsed] == ["A.b", "C"]
    for body, message in [(b"{", "not valid JSON"), (b'{"a": 1}', "JSON list"),
                          (b"[1]", "item 0"), (b'["ok", ""]', "item 1"),
                          (b'["g::a"]', "group"), (b"\xff", "not valid JSON")]:
        with pytest.raises(FetchError, match=message):
            parse_paths(body)


def test_parse_paths_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sources, "MAX_PATHS", 2)
    with pytest.raises(FetchError, match="at most 2"):
        parse_paths(b'["a", "b", "c"]')


def test_read_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = feed_file(tmp_path, ["A.b"], name="with space.json")
    assert json.loads(read_source(url, 1.0)) == ["A.b"]
    with pytest.raises(FetchError, match="cannot read"):
        read_source((tmp_path / "missing.json").as_uri(), 1.0)
    monkeypatch.setattr(sources, "MAX_BYTES", 4)
    with pytest.raises(FetchError, match="larger than"):
        read_source(url, 1.0)


def test_read_over_http(feeds: FeedServer, monkeypatch: pytest.MonkeyPatch) -> None:
    assert json.loads(read_source(feeds.serve("/ok", ["A"]), 2.0)) == ["A"]
    with pytest.raises(FetchError, match="HTTP 503"):
        read_source(feeds.serve("/down", [], status=503), 2.0)
    with pytest.raises(FetchError, match=r"timed out after 0\.2 s"):
        read_source(feeds.serve("/slow", ["A"], delay=1.0), 0.2)
    with pytest.raises(FetchError, match="timed out"):  # each byte in time, the whole late
        read_source(feeds.serve("/drip", ["A.b.c.d.e.f.g"], drip=0.05), 0.3)
    with pytest.raises(FetchError, match="cannot reach"):
        read_source("http://127.0.0.1:9/closed", 1.0)
    monkeypatch.setattr(sources, "MAX_BYTES", 4)
    with pytest.raises(FetchError, match="larger than"):
        read_source(feeds.serve("/big", ["A.b"]), 2.0)


# --- refresh ----------------------------------------------------------------------------


def test_refresh_creates_and_tracks_the_source(world: World, tmp_path: Path) -> None:
    add_source(SYSTEM, world.sid, "catalog", feed_file(tmp_path, ["Cat.PII.Email", "Cat.Fin"]))
    outcome = refresh_one(world)
    assert (outcome.error, outcome.counts) == (None, RefreshCounts(4, 4, 0, 0, 0))
    tag = db.session.scalar(select(Tag).where(Tag.path == "Cat.PII.Email"))
    assert tag is not None
    assert (tag.source, tag.system_created, tag.protected, tag.created_by_id, tag.depth,
            tag.label) == ("catalog", False, True, None, 2, "Email")
    parent = db.session.get(Tag, tag.parent_id)
    assert parent is not None and tag.id_path == f"{parent.id_path}{tag.id}/"
    assert tag.public_id == f"tag_{tag.uuid}"
    source = db.session.scalars(select(ExternalTagSource)).one()
    assert source.last_refreshed_at == outcome.refreshed_at and source.last_error is None


def test_refresh_leaves_tags_of_other_origins(world: World, tmp_path: Path) -> None:
    create_tags(world.editor, world.sid, [TagSpec(name="Cat.Mine")])
    feed = tmp_path / "feed.json"
    add_source(SYSTEM, world.sid, "catalog", feed_file(tmp_path, ["Cat.PII.Email"]))
    assert refresh_one(world).counts == RefreshCounts(3, 2, 0, 1, 0)
    assert live_paths(world.sid, "curated") == ["Cat", "Cat.Mine"]
    create_tags(world.editor, world.sid, [TagSpec(name="Cat.PII.Email.Work")])
    feed.write_text("[]")
    outcome = refresh_one(world)
    assert outcome.counts == RefreshCounts(0, 0, 0, 0, 0)  # PII and Email hold a curated tag
    assert live_paths(world.sid) == ["Cat", "Cat.Mine", "Cat.PII", "Cat.PII.Email",
                                     "Cat.PII.Email.Work"]
    delete_tag(SYSTEM, world.sid, "Cat.PII.Email.Work")
    assert refresh_one(world).counts == RefreshCounts(0, 0, 0, 0, 2)
    assert live_paths(world.sid) == ["Cat", "Cat.Mine"]


def test_restore_needs_the_same_parent(world: World, tmp_path: Path) -> None:
    feed = tmp_path / "feed.json"
    add_source(SYSTEM, world.sid, "catalog", feed_file(tmp_path, ["Cat.PII"]))
    refresh_one(world)
    old_ids = dict(db.session.execute(select(Tag.path, Tag.id)).all())
    feed.write_text("[]")
    assert refresh_one(world).counts.deleted == 2
    create_tags(world.editor, world.sid, [TagSpec(name="Cat")])  # a new, curated Cat
    feed.write_text(json.dumps(["Cat.PII"]))
    assert refresh_one(world).counts == RefreshCounts(2, 1, 0, 1, 0)
    new_pii = db.session.scalar(select(Tag.id).where(Tag.path == "Cat.PII",
                                                     Tag.deleted_at.is_(None)))
    assert new_pii != old_ids["Cat.PII"]


def test_two_sources_share_paths(world: World, tmp_path: Path) -> None:
    add_source(SYSTEM, world.sid, "a", feed_file(tmp_path, ["Shared.x", "A.only"], "a.json"))
    add_source(SYSTEM, world.sid, "b", feed_file(tmp_path, ["Shared.x", "B.only"], "b.json"))
    first, second = refresh_external_tags(SYSTEM, world.sid)
    assert (first.counts.created, second.counts.created, second.counts.unchanged) == (4, 2, 2)
    assert live_paths(world.sid, "a") == ["A", "A.only", "Shared", "Shared.x"]


def test_a_refresh_is_one_change_set_per_source_and_undoable(world: World,
                                                             tmp_path: Path) -> None:
    add_source(SYSTEM, world.sid, "catalog", feed_file(tmp_path, ["Cat.PII"]))
    refresh_one(world)
    refreshes = [e for e in events("tag") if e.action == "create"]
    assert len(refreshes) == 2 and len({e.change_set_id for e in refreshes}) == 1
    undo_change_set(world.manager, world.sid, refreshes[0].change_set_id)
    assert live_paths(world.sid) == []
    assert refresh_one(world).counts == RefreshCounts(2, 0, 2, 0, 0)


def test_a_failure_is_recorded_and_changes_no_tag(world: World, feeds: FeedServer) -> None:
    add_source(SYSTEM, world.sid, "catalog", feeds.serve("/bad", b"not json"))
    outcome = refresh_one(world)
    assert outcome.error is not None and "not valid JSON" in outcome.error
    assert (outcome.counts, outcome.refreshed_at) == (RefreshCounts(), None)
    source = db.session.scalars(select(ExternalTagSource)).one()
    db.session.refresh(source)
    assert source.last_error == outcome.error and source.last_refreshed_at is None
    assert live_paths(world.sid) == []


def test_refresh_needs_tags_write(world: World) -> None:
    for actor in (world.viewer, world.outsider, key_actor(world.manager)):
        with pytest.raises(PermissionDenied):
            refresh_external_tags(actor, world.sid)
    assert refresh_external_tags(world.editor, world.sid) == []


# --- CLI --------------------------------------------------------------------------------


def run(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(args=list(args))


def test_cli(world: World, app: Flask, tmp_path: Path) -> None:
    url = feed_file(tmp_path, ["Cat.PII"])
    added = run(app, "sources", "add", "--scope", "scope_acme", "--name", "catalog", "--url",
                url, "--timeout", "3")
    assert added.exit_code == 0, added.output
    assert "Added source catalog" in added.output
    listed = run(app, "sources", "list", "--scope", "acme")
    assert listed.output.startswith(f"catalog\t{url}\t3s\tenabled\tnever\t")
    refreshed = run(app, "sources", "refresh", "--scope", "scope_acme")
    assert refreshed.exit_code == 0, refreshed.output
    assert "catalog: 2 paths, 2 created, 0 restored, 0 unchanged, 0 deleted" in refreshed.output
    change_set = events("tag")[0].change_set
    assert (change_set.via, change_set.actor_id) == ("cli", None)
    removed = run(app, "sources", "remove", "--scope", "scope_acme", "--name", "catalog")
    assert removed.exit_code == 0 and list_sources(SYSTEM, world.sid) == []


def test_cli_errors(world: World, app: Flask, tmp_path: Path) -> None:
    bad = run(app, "sources", "add", "--scope", "scope_acme", "--name", "x", "--url",
              "ftp://example.com/")
    assert bad.exit_code == 1 and "url" in bad.output and "Traceback" not in bad.output
    assert run(app, "sources", "list", "--scope", "scope_nope").exit_code == 1
    missing = (tmp_path / "missing.json").as_uri()
    run(app, "sources", "add", "--scope", "scope_acme", "--name", "gone", "--url", missing)
    failed = run(app, "sources", "refresh", "--scope", "scope_acme")
    assert failed.exit_code == 1 and "gone: failed: cannot read" in failed.output
    assert run(app, "sources", "remove", "--scope", "scope_acme", "--name",
               "nope").exit_code == 1


def test_refresh_refuses_to_run_inside_a_write(world: World) -> None:
    from webapp.services.uow import writing

    with pytest.raises(RuntimeError), writing(SYSTEM, world.sid, "outer"):
        refresh_external_tags(SYSTEM, world.sid)


def test_an_enforced_policy_refuses_a_refresh_restoring_a_forbidden_tag(
        world: World, tmp_path: Path) -> None:
    feed = tmp_path / "feed.json"
    add_source(SYSTEM, world.sid, "catalog", feed_file(tmp_path, ["Cat.Legacy", "Cat.Keep"]))
    refresh_one(world)
    attach(SYSTEM, world.sid, ["Cat.Legacy"], {"table": ["t1"]})
    feed.write_text(json.dumps(["Cat.Keep"]))
    assert refresh_one(world).counts.deleted == 1  # its link stays, for a restore
    policy = create_policy(world.manager, world.sid, PolicyInput(
        name="No catalog on tables", resource_types=["table"], forbid_tags=["Cat"],
        mode="enforce"))
    feed.write_text(json.dumps(["Cat.Keep", "Cat.Legacy"]))
    outcome = refresh_one(world)
    assert outcome.error is not None and "No catalog on tables" in outcome.error
    assert "table:t1" in outcome.error and outcome.counts == RefreshCounts()
    assert live_paths(world.sid) == ["Cat", "Cat.Keep"]
    # A policy in report mode reports it instead.
    patch_policy(world.manager, world.sid, policy.id, {"mode": "report"})
    assert refresh_one(world).counts.restored == 1
