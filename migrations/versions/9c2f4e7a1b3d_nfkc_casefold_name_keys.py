"""name keys under NFKC + casefold

Tag path keys (``tags.path_key``) and group identifier keys (``tag_groups.identifier_key``)
were ``str.casefold()`` of the text; they become NFKC, casefold, NFKC again (the key
function of ``webapp/services/names.py``, frozen here), so full-width, compatibility and
combining-accent look-alikes of a name are the same name.  No schema change: the keys are
recomputed in Python, in batches, and only rows whose key changes are written.  The
substring search index follows by itself (SQLite: the FTS5 triggers of 4303508b8404 on
``path_key``; PostgreSQL: the trigram index on the column).

Look-alikes that already exist do not stop the migration.  When two live tags of a scope
(or two groups of a scope) now share a key, the row whose key was already in the new form
keeps it (a look-up that found it before still finds it), else the oldest row (lowest id);
each other row gets a distinguishable key, ``<key>\\x1fclash<id>`` (no name can hold the
U+001F control character, so it never meets a typed key), and its descendants' keys carry
that prefix too.  Display names are never touched.  The clashes are listed as a warning
(the ``alembic.runtime.migration`` logger, shown by ``flask db upgrade``) so an admin can
rename or merge them.

The downgrade recomputes the casefolded keys the same way.

Revision ID: 9c2f4e7a1b3d
Revises: d3a8f0c6e2b1
Create Date: 2026-12-04 18:00:00.000000

"""
import logging
import unicodedata

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '9c2f4e7a1b3d'
down_revision = 'd3a8f0c6e2b1'
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")

BATCH = 5000
KEY_MAX = {"tags": 1100, "tag_groups": 300}  # the key columns' lengths
CLASH_MARK = "\x1fclash"
TEMPORARY_MARK = "\x01"  # a key no row holds, while keys are swapped

tags = sa.table(
    "tags",
    sa.column("id", sa.Integer), sa.column("scope_id", sa.Integer),
    sa.column("group_id", sa.Integer), sa.column("parent_id", sa.Integer),
    sa.column("name", sa.String), sa.column("path", sa.String),
    sa.column("path_key", sa.String), sa.column("depth", sa.Integer),
    sa.column("deleted_at", sa.DateTime),
)
groups = sa.table(
    "tag_groups",
    sa.column("id", sa.Integer), sa.column("scope_id", sa.Integer),
    sa.column("identifier", sa.String), sa.column("identifier_key", sa.String),
)


def nfkc_casefold(text):
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())


def casefold(text):
    return text.casefold()


class Report:
    def __init__(self):
        self.lines = []

    def clash(self, kind, row_id, text, key, holder):
        self.lines.append(f"{kind} {row_id} ({text!r}) has the key {key!r} of {kind} "
                          f"{holder}: it now has the key {key + CLASH_MARK}{row_id}")

    def too_long(self, kind, row_id, text):
        self.lines.append(f"{kind} {row_id} ({text!r}): its new key is too long for the "
                          f"column; it keeps its old key")

    def emit(self):
        if self.lines:
            log.warning("%d name key(s) clash under the new key function; rename or merge "
                        "these rows:\n  %s", len(self.lines), "\n  ".join(self.lines))


def _write(bind, table, column, changes):
    """Set ``column`` of each (id, new key) pair: first to a temporary key unique to the
    row, then to its new key, so that no swap of keys between rows trips a unique index."""
    ids = [row_id for row_id, _ in changes]
    for start in range(0, len(changes), BATCH):
        chunk = ids[start:start + BATCH]
        bind.execute(
            table.update().where(table.c.id == sa.bindparam("row_id"))
            .values({column: sa.bindparam("temporary")}),
            [{"row_id": row_id, "temporary": f"{TEMPORARY_MARK}{row_id}"} for row_id in chunk],
        )
    for start in range(0, len(changes), BATCH):
        bind.execute(
            table.update().where(table.c.id == sa.bindparam("row_id"))
            .values({column: sa.bindparam("new_key")}),
            [{"row_id": row_id, "new_key": new_key}
             for row_id, new_key in changes[start:start + BATCH]],
        )


def _recompute_groups(bind, key_fn, report):
    """New identifier keys of every group (groups are few: read at once).  Returns
    {group id: its final key}."""
    rows = bind.execute(sa.select(groups.c.id, groups.c.scope_id, groups.c.identifier,
                                  groups.c.identifier_key).order_by(groups.c.id)).all()
    final, taken, changes = {}, {}, []
    # Rows whose key is already in the new form claim it first, then the others by age.
    ordered = sorted(rows, key=lambda row: (key_fn(row.identifier) != row.identifier_key,
                                            row.id))
    for row in ordered:
        new_key = key_fn(row.identifier)
        if len(new_key) > KEY_MAX["tag_groups"]:
            report.too_long("tag group", row.id, row.identifier)
            new_key = row.identifier_key
        holder = taken.get((row.scope_id, new_key))
        if holder is not None:
            report.clash("tag group", row.id, row.identifier, new_key, holder)
            new_key = f"{new_key}{CLASH_MARK}{row.id}"
        taken[(row.scope_id, new_key)] = row.id
        final[row.id] = new_key
        if new_key != row.identifier_key:
            changes.append((row.id, new_key))
    _write(bind, groups, "identifier_key", changes)
    return final


def _plain_key(row, group_keys, moved, key_fn):
    """A tag's key from its parent's final key (when the parent's key was made
    distinguishable) or from its group's key and its path."""
    if row.parent_id is not None and row.parent_id in moved:
        return f"{moved[row.parent_id]}.{key_fn(row.name)}"
    prefix = f"{group_keys[row.group_id]}::" if row.group_id is not None else ""
    return prefix + key_fn(row.path)


def _recompute_tags(bind, key_fn, group_keys, report):
    """New path keys of every tag, read in batches in (depth, id) order so that a parent's
    final key is known before its children's.  Only changed keys are kept in memory."""
    moved = {}  # tag id -> final key, where it differs from the key of its text
    claimed = {}  # (scope id, key) -> id of the changed live tag that took it
    changes = []
    last = (-1, 0)
    while True:
        rows = bind.execute(
            sa.select(tags.c.id, tags.c.scope_id, tags.c.group_id, tags.c.parent_id,
                      tags.c.name, tags.c.path, tags.c.path_key, tags.c.depth,
                      tags.c.deleted_at.is_(None).label("live"))
            .where(sa.or_(tags.c.depth > last[0],
                          sa.and_(tags.c.depth == last[0], tags.c.id > last[1])))
            .order_by(tags.c.depth, tags.c.id).limit(BATCH)
        ).all()
        if not rows:
            break
        last = (rows[-1].depth, rows[-1].id)
        for row in rows:
            natural = (f"{group_keys[row.group_id]}::" if row.group_id is not None else "") \
                + key_fn(row.path)
            new_key = _plain_key(row, group_keys, moved, key_fn)
            if len(new_key) > KEY_MAX["tags"]:
                report.too_long("tag", row.id, row.path)
                new_key = row.path_key
            if row.live and new_key != row.path_key:
                holder = claimed.get((row.scope_id, new_key)) \
                    or _holder(bind, row, new_key, group_keys, moved, key_fn)
                if holder is not None:
                    report.clash("tag", row.id, row.path, new_key, holder)
                    new_key = f"{new_key}{CLASH_MARK}{row.id}"
                claimed[(row.scope_id, new_key)] = row.id
            if new_key != natural:
                moved[row.id] = new_key
            if new_key != row.path_key:
                changes.append((row.id, new_key))
    _write(bind, tags, "path_key", changes)


def _holder(bind, row, new_key, group_keys, moved, key_fn):
    """The live tag of the scope that keeps ``new_key``: one whose key is it already and
    stays it (its own new key is the same)."""
    others = bind.execute(
        sa.select(tags.c.id, tags.c.group_id, tags.c.parent_id, tags.c.name, tags.c.path)
        .where(tags.c.scope_id == row.scope_id, tags.c.path_key == new_key,
               tags.c.deleted_at.is_(None), tags.c.id != row.id)
    ).all()
    for other in others:
        if _plain_key(other, group_keys, moved, key_fn) == new_key:
            return other.id
    return None


def recompute(key_fn):
    bind = op.get_bind()
    report = Report()
    group_keys = _recompute_groups(bind, key_fn, report)
    _recompute_tags(bind, key_fn, group_keys, report)
    report.emit()


def upgrade():
    recompute(nfkc_casefold)


def downgrade():
    recompute(casefold)
