"""Data sets built with set-based bulk loads, not the ORM: rows are generated in Python
and written in one transaction per table with ``executemany`` (SQLite) or ``COPY``
(PostgreSQL), so a million tags take seconds.

Every row is what the services would have written (casefolded keys, ``id_path``, depth,
UUIDv7-shaped ids, public ids), so the app cannot tell these tags from its own; the
schema's triggers (SQLite's FTS index) and indexes are maintained as the rows go in.
"""

from __future__ import annotations

import gc
import random
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from benchmarks.common import Bench, log

WORDS = (
    "address", "customer", "invoice", "payment", "product", "region", "country", "email",
    "phone", "supplier", "order", "shipment", "warehouse", "account", "ledger", "campaign",
    "channel", "segment", "revenue", "margin", "forecast", "budget", "employee", "contract",
    "vendor", "asset", "ticket", "incident", "release", "feature", "metric", "dashboard",
    "report", "pipeline", "dataset", "column", "schema", "domain", "owner", "quality",
)
COMMON_TERM = "customer"  # in ~5 % of paths: a root word or a leaf word, 1 in 40 each
RARE_TERM = "zebrafish"  # in exactly 3 leaf names of a generated forest
NOW = datetime(2026, 1, 1, tzinfo=UTC)

TAG_COLUMNS = (
    "id", "uuid", "public_id", "scope_id", "group_id", "parent_id", "name", "label", "path",
    "path_key", "id_path", "depth", "source", "system_created", "protected",
    "created_by_id", "created_at", "updated_at",
)


@contextmanager
def no_gc() -> Iterator[None]:
    """Millions of fresh tuples would trigger full collections over and over."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class Loader:
    """Bulk writes through a raw DBAPI connection, one transaction per call."""

    def __init__(self, bench: Bench) -> None:
        self.bench = bench
        self.dialect = bench.dialect

    def value(self, item: Any) -> Any:
        if self.dialect != "sqlite":
            return item
        if isinstance(item, datetime):  # SQLAlchemy's SQLite DateTime format, naive UTC
            return item.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
        if isinstance(item, uuid.UUID):  # SQLAlchemy's non-native Uuid: 32 hex digits
            return item.hex
        if isinstance(item, bool):
            return int(item)
        return item

    def load(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        """Write ``rows`` in one transaction; returns how many."""
        with no_gc():
            return self._load(table, columns, rows)

    def _load(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        connection = self.bench.raw_connection()
        count = 0
        try:
            cursor = connection.cursor()
            if self.dialect == "sqlite":
                # The rows are consistent by construction; the FK checks would double the time.
                cursor.execute("PRAGMA foreign_keys = OFF")
                cursor.execute("BEGIN")
                placeholders = ", ".join("?" for _ in columns)

                def converted() -> Iterator[tuple[Any, ...]]:
                    nonlocal count
                    for row in rows:
                        count += 1
                        yield tuple(self.value(item) for item in row)

                triggers = _suspend_fts_triggers(cursor) if table == "tags" else []
                first_id = cursor.execute("SELECT coalesce(max(id), 0) FROM tags").fetchone()[0]
                cursor.executemany(
                    f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})",
                    converted(),
                )
                if triggers:  # index the new rows in one statement, then re-arm the triggers
                    cursor.execute("INSERT INTO tags_fts (rowid, path_key) "
                                   "SELECT id, path_key FROM tags WHERE id > ?", (first_id,))
                    for statement in triggers:
                        cursor.execute(statement)
                cursor.execute("COMMIT")
                cursor.execute("PRAGMA foreign_keys = ON")
            else:
                with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                        count += 1
                if "id" in columns:  # explicit ids: move the sequence past them
                    cursor.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                connection.commit()
        finally:
            connection.close()
        return count

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        connection = self.bench.raw_connection()
        try:
            cursor = connection.cursor()
            if self.dialect != "sqlite":
                sql = sql.replace("%", "%%").replace("?", "%s")
            cursor.execute(sql, tuple(params))
            rows = cursor.fetchall() if cursor.description else None
            connection.commit()
            return rows
        finally:
            connection.close()

    def analyze(self) -> None:
        """PostgreSQL only: what autovacuum would do within a minute of a bulk load.
        SQLite is left as the app leaves it (no ANALYZE), so plans are the app's own."""
        if self.dialect == "postgresql":
            connection = self.bench.raw_connection()
            raw = connection.dbapi_connection
            try:
                raw.rollback()
                raw.autocommit = True
                raw.execute("VACUUM ANALYZE")
            finally:
                raw.autocommit = False
                connection.close()

    def next_id(self, table: str) -> int:
        rows = self.execute(f"SELECT coalesce(max(id), 0) FROM {table}")
        return int(rows[0][0]) + 1


def _suspend_fts_triggers(cursor: Any) -> list[str]:
    """Drop the FTS triggers of ``tags`` inside the running transaction; return their SQL.

    Per-row trigger maintenance costs ~3× a single ``INSERT … SELECT`` into the index."""
    rows = cursor.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'tags' "
        "AND name LIKE 'tags_fts_%'"
    ).fetchall()
    for name, _ in rows:
        cursor.execute(f"DROP TRIGGER {name}")
    return [sql for _, sql in rows]


def _uuid7(rng: random.Random, millis: int) -> uuid.UUID:
    value = (millis & ((1 << 48) - 1)) << 80 | 0x7 << 76 | rng.getrandbits(12) << 64
    value |= 0b10 << 62 | rng.getrandbits(62)
    return uuid.UUID(int=value)


@dataclass
class TagMaker:
    """Rows of the ``tags`` table for one scope, with ids handed out in order."""

    scope_id: int
    user_id: int
    next_id: int
    rng: random.Random

    def row(self, name: str, parent: tuple[int, str, str] | None) -> tuple[Any, ...]:
        """A tag row; ``parent`` is (id, path, id_path). Returns the row."""
        tag_id = self.next_id
        self.next_id += 1
        tag_uuid = _uuid7(self.rng, 1_767_225_600_000 + tag_id)
        path = f"{parent[1]}.{name}" if parent else name
        id_path = f"{parent[2] if parent else '/'}{tag_id}/"
        depth = id_path.count("/") - 2
        return (tag_id, tag_uuid, f"tag_{tag_uuid}", self.scope_id, None,
                parent[0] if parent else None, name, name, path, path.casefold(), id_path,
                depth, "curated", False, False, self.user_id, NOW, NOW)


def forest_rows(maker: TagMaker, roots: int, children: int) -> Iterator[tuple[Any, ...]]:
    """``roots`` root tags (``Customer0001``…) each with ``children`` leaves
    (``invoice_0001_042``…): ``roots × (children + 1)`` tags.  A root word and a leaf word
    are drawn from 40 words, so a word is in ~5 % of paths; RARE_TERM is in three leaves."""
    total_leaves = roots * children
    rare_at = {total_leaves // 7, total_leaves // 2, total_leaves - 5}
    leaf_index = 0
    for r in range(roots):
        root_name = f"{WORDS[r % len(WORDS)].title()}{r:04d}"
        root = maker.row(root_name, None)
        yield root
        parent = (root[0], root[8], root[10])
        for c in range(children):
            word = RARE_TERM if leaf_index in rare_at else maker.rng.choice(WORDS)
            yield maker.row(f"{word}_{r:04d}_{c:03d}", parent)
            leaf_index += 1


def build_forest(bench: Bench, roots: int, children: int, seed: int = 1) -> tuple[int, int]:
    """Load a forest of tags into the bench scope; return (first id, last id)."""
    loader = Loader(bench)
    maker = TagMaker(bench.scope_id, bench.user_id, loader.next_id("tags"), random.Random(seed))
    first = maker.next_id
    count = loader.load("tags", TAG_COLUMNS, forest_rows(maker, roots, children))
    log(f"loaded {count:,} tags")
    return first, maker.next_id - 1


def build_subtree(bench: Bench, root_name: str, descendants: int, seed: int = 2,
                  parent: tuple[int, str, str] | None = None) -> int:
    """A tag with ``descendants`` descendants on two levels (groups of 99 leaves under
    ``descendants / 100`` middle tags); returns the top tag's id."""
    if descendants % 100:
        raise ValueError("descendants must be a multiple of 100")
    loader = Loader(bench)
    maker = TagMaker(bench.scope_id, bench.user_id, loader.next_id("tags"), random.Random(seed))
    top_row = maker.row(root_name, parent)

    def rows() -> Iterator[tuple[Any, ...]]:
        yield top_row
        top = (top_row[0], top_row[8], top_row[10])
        for m in range(descendants // 100):
            middle = maker.row(f"{maker.rng.choice(WORDS)}_{m:03d}", top)
            yield middle
            for leaf in range(99):
                yield maker.row(f"{maker.rng.choice(WORDS)}_{m:03d}_{leaf:02d}",
                                (middle[0], middle[8], middle[10]))

    loader.load("tags", TAG_COLUMNS, rows())
    return int(top_row[0])


def build_resources(bench: Bench, count: int, rtype: str = "source") -> tuple[int, int]:
    """``count`` registered resources with UUID external ids; returns (first id, last id)."""
    loader = Loader(bench)
    first = loader.next_id("resources")
    rng = random.Random(3)
    rows = ((first + n, bench.scope_id, rtype, str(uuid.UUID(int=rng.getrandbits(128))),
             None, None, NOW) for n in range(count))
    loader.load("resources", ("id", "scope_id", "type", "external_id", "name", "slug",
                              "created_at"), rows)
    log(f"loaded {count:,} resources")
    return first, first + count - 1


def build_assignments(bench: Bench, tag_ids: tuple[int, int], resource_ids: tuple[int, int],
                      per_resource: int) -> int:
    """``per_resource`` distinct tags on every resource, skewed toward low tag ids (a few
    tags carry thousands of resources, most carry a handful); sorted by (tag, resource)."""
    rng = random.Random(4)
    first_tag, last_tag = tag_ids
    span = last_tag - first_tag + 1
    pairs: list[tuple[int, int]] = []
    with no_gc():
        for resource in range(resource_ids[0], resource_ids[1] + 1):
            chosen: set[int] = set()
            while len(chosen) < per_resource:
                chosen.add(first_tag + int(span * rng.random() ** 2))
            pairs.extend((tag, resource) for tag in chosen)
        pairs.sort()
    loader = Loader(bench)
    rows = ((tag, resource, bench.user_id, NOW, "import", None) for tag, resource in pairs)
    count = loader.load("assignments", ("tag_id", "resource_id", "added_by_id", "added_at",
                                        "context", "change_set_id"), rows)
    log(f"loaded {count:,} assignments")
    return count
