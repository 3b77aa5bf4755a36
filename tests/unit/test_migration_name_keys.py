"""Migration 9c2f4e7a1b3d recomputes the name keys under NFKC + casefold: look-alikes
that already exist do not stop it; they get distinguishable keys and are reported."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, Table, create_engine, select, text

from tests.unit.test_migrations import flask_cli
from webapp import models  # noqa: F401  (every table on the metadata)
from webapp.extensions import db

BEFORE = "d3a8f0c6e2b1"
REVISION = "9c2f4e7a1b3d"
MARK = "\x1fclash"


LATER_GROUP_COLUMNS = {"assign_role"}


def _insert(url: str) -> dict[str, int]:
    """A scope holding look-alikes under the old (casefold) keys; returns their ids."""
    now = datetime(2026, 1, 1, tzinfo=UTC)
    tables = dict(db.metadata.tables)
    # The groups table as it was at that revision (later revisions add columns with
    # Python-side defaults, which an insert would name).
    tables["tag_groups"] = Table("tag_groups", MetaData(), *(
        column._copy() for column in db.metadata.tables["tag_groups"].columns
        if column.name not in LATER_GROUP_COLUMNS))
    engine = create_engine(url)
    ids: dict[str, int] = {}
    try:
        with engine.begin() as connection:
            scope = connection.execute(tables["scopes"].insert().values(
                public_id="scope_old", name="Old", slug="old", created_at=now)
            ).inserted_primary_key[0]

            def group(label: str, identifier: str) -> int:
                ids[label] = connection.execute(tables["tag_groups"].insert().values(
                    public_id=f"tag_group_{label}", scope_id=scope, identifier=identifier,
                    identifier_key=identifier.casefold(), label=identifier, exclusive=False,
                    allowed_types=[], created_at=now, updated_at=now)).inserted_primary_key[0]
                return ids[label]

            def tag(label: str, path: str, *, parent: str | None = None,
                    group_id: int | None = None, deleted: bool = False) -> None:
                qualified = path
                if group_id is not None:
                    identifier = connection.scalar(
                        select(tables["tag_groups"].c.identifier)
                        .where(tables["tag_groups"].c.id == group_id))
                    qualified = f"{identifier}::{path}"
                parent_row: Any = None
                if parent is not None:
                    parent_row = connection.execute(  # the columns of that revision only
                        select(tables["tags"].c.id_path)
                        .where(tables["tags"].c.id == ids[parent])).one()
                values: dict[str, Any] = {
                    "uuid": uuid.uuid4(), "public_id": f"tag_{label}", "scope_id": scope,
                    "group_id": group_id, "parent_id": ids[parent] if parent else None,
                    "name": path.rsplit(".", 1)[-1], "label": label, "path": path,
                    "path_key": qualified.casefold(), "id_path": "",
                    "depth": path.count("."), "source": "curated", "system_created": False,
                    "protected": False, "created_at": now, "updated_at": now,
                    "deleted_at": now if deleted else None,
                }
                new_id = connection.execute(
                    tables["tags"].insert().values(values)).inserted_primary_key[0]
                id_path = f"{parent_row.id_path if parent_row is not None else '/'}{new_id}/"
                connection.execute(tables["tags"].update()
                                   .where(tables["tags"].c.id == new_id).values(id_path=id_path))
                ids[label] = new_id

            tag("plain", "UniqueX")  # already in the new form: keeps its key
            tag("wide", "Ｕｎｉｑｕｅｘ")  # older look-alike of "plain"... but made later
            tag("wide_child", "Ｕｎｉｑｕｅｘ.Child", parent="wide")
            tag("compat", "ᵁniquex")  # a third look-alike
            tag("gone", "ｕｎｉｑｕｅｘ", deleted=True)  # deleted: no clash, key recomputed
            tag("accent_composed", "Über")
            tag("accent_combining", "U\u0308ber")  # the same name, decomposed
            tag("lonely", "Ｌｏｎｅｌｙ")  # a look-alike of nothing: just a new key
            prio = group("prio", "Prio")
            wide_prio = group("wide_prio", "Ｐｒｉｏ")
            tag("in_prio", "High", group_id=prio)
            tag("in_wide_prio", "High", group_id=wide_prio)
    finally:
        engine.dispose()
    return ids


def _keys(url: str) -> tuple[dict[int, str], dict[int, str]]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            tag_keys = dict(connection.execute(text("SELECT id, path_key FROM tags")).all())
            group_keys = dict(connection.execute(
                text("SELECT id, identifier_key FROM tag_groups")).all())
    finally:
        engine.dispose()
    return tag_keys, group_keys


def test_the_migration_recomputes_keys_and_reports_clashes(
        empty_database_url: str, tmp_path: Path, db_backend: str) -> None:
    url, instance = empty_database_url, tmp_path / "instance"
    flask_cli(url, instance, "db", "upgrade", BEFORE)
    ids = _insert(url)
    old_tags, old_groups = _keys(url)

    result = flask_cli(url, instance, "db", "upgrade", REVISION)
    tags, groups = _keys(url)
    assert tags[ids["plain"]] == "uniquex"
    assert tags[ids["wide"]] == f"uniquex{MARK}{ids['wide']}"
    # The descendants of a row made distinguishable carry its key as their prefix, as
    # renames and moves expect.
    assert tags[ids["wide_child"]] == f"uniquex{MARK}{ids['wide']}.child"
    assert tags[ids["compat"]] == f"uniquex{MARK}{ids['compat']}"
    assert tags[ids["gone"]] == "uniquex"  # deleted rows may share a key
    assert tags[ids["accent_composed"]] == "über"
    assert tags[ids["accent_combining"]] == f"über{MARK}{ids['accent_combining']}"
    assert tags[ids["lonely"]] == "lonely"
    assert groups[ids["prio"]] == "prio"
    assert groups[ids["wide_prio"]] == f"prio{MARK}{ids['wide_prio']}"
    assert tags[ids["in_prio"]] == "prio::high"
    assert tags[ids["in_wide_prio"]] == f"prio{MARK}{ids['wide_prio']}::high"

    report = result.stdout + result.stderr
    assert "4 name key(s) clash" in report
    for label in ("wide", "compat", "accent_combining", "wide_prio"):
        assert f" {ids[label]} (" in report
    assert f" {ids['wide_child']} (" not in report  # follows its parent; no clash of its own

    if db_backend == "sqlite":  # the FTS5 index follows the keys (its triggers)
        engine = create_engine(url)
        try:
            with engine.connect() as connection:
                found = set(connection.scalars(text(
                    "SELECT rowid FROM tags_fts WHERE path_key MATCH '\"lonely\"'")))
        finally:
            engine.dispose()
        assert found == {ids["lonely"]}

    flask_cli(url, instance, "db", "downgrade", BEFORE)
    assert _keys(url) == (old_tags, old_groups)
