"""The substring search index (migration 4303508b8404): SQLite FTS5 trigram table kept in
step by triggers, PostgreSQL pg_trgm GIN index.  Searching through it must give exactly
the rows of the plain ``path_key LIKE '%term%'`` scan, whatever the term and whatever has
happened to the tags since they were created (renames, moves, subtree renames, soft
deletes, restores, purges)."""

from __future__ import annotations

import random
from collections.abc import Iterable

import pytest
from sqlalchemy import select, text

from tests.unit.factories import SYSTEM, World
from webapp.extensions import db
from webapp.models import Tag
from webapp.services import names
from webapp.services.paging import PageRequest
from webapp.services.sql import like_pattern
from webapp.services.tags import queries as tag_queries
from webapp.services.tags.creation import TagSpec, create_tag
from webapp.services.tags.deletion import delete_tag, restore_tag
from webapp.services.tags.hierarchy import update_tag
from webapp.services.tags.lookup import find_tag
from webapp.services.tags.queries import TagFilter

NAMES = [
    "100% done", "100_percent", "back\\slash", "it's", 'say "hi"', "a%b_c\\d",
    "Straße", "STRASSE-Nord", "ΣΊΣΥΦΟΣ", "İstanbul", "ǅemal", "ﬁle", "Ǆungla",
    "naïve café", "Crème Brûlée", "日本語タグ", "emoji 🎉 party", "tab-less name",
    "Address", "email", "Email-Backup", "mail", "ai", "x",
]

TERMS = [
    "%", "_", "\\", "'", '"', "%b", "a%b", "_c\\", "\\d", "100%", "100_", "0%",
    "it's", '"hi"', 'y "h', "strasse", "STRASSE", "Straße", "ß", "ss", "sse",
    "σίσυφοσ", "ΣΊΣΥΦΟΣ", "ςυφ", "istanbul", "İstan", "i̇st", "ǆem", "Ǆ", "fi", "file",
    "ﬁ", "naïve", "NAÏVE", "café", "brûlée", "日本", "日本語", "本語タ", "🎉", "🎉 p",
    "mail", "MAIL", "ai", "a", "x", "email", "address.email", "ADDRESS.E",
    "priority::", "::hi", "y::h", "ority::hig", "tab", "  mail  ", "nothing-like-it",
    "a" * 120,
]



def create(world: World, name: str, **kwargs: object) -> Tag:
    return create_tag(world.editor, world.sid, TagSpec(name, **kwargs))  # type: ignore[arg-type]


def like_scan(world: World, term: str, *, include_deleted: bool = False) -> list[int]:
    """The reference: the plain LIKE over the table, as the search was before the index."""
    key = names.key(term.strip())
    query = select(Tag.id).where(
        Tag.scope_id == world.sid, Tag.path_key.like(like_pattern(key), escape="\\")
    )
    if not include_deleted:
        query = query.where(Tag.deleted_at.is_(None))
    return sorted(db.session.scalars(query))


def python_scan(world: World, term: str, *, include_deleted: bool = False) -> list[int]:
    """A second reference, outside SQL: substring of the casefolded qualified name."""
    key = names.key(term.strip())
    db.session.expire_all()
    rows = db.session.scalars(select(Tag).where(Tag.scope_id == world.sid))
    return sorted(
        t.id for t in rows
        if key in t.path_key and (include_deleted or t.deleted_at is None)
    )


def searched(world: World, term: str, *, include_deleted: bool = False) -> list[int]:
    filters = TagFilter(search=term, include_deleted=include_deleted)
    found = [t.id for t in tag_queries.search_tags(world.viewer, world.sid, filters)]
    page = tag_queries.list_tags(world.viewer, world.sid, filters,
                                 paging=PageRequest(1, 200))
    listed = [row.tag.id for row in page.items]
    assert sorted(found) == sorted(listed)
    assert page.total == len(found)
    return sorted(found)


def check_terms(world: World, terms: Iterable[str], *, include_deleted: bool = False) -> None:
    for term in terms:
        expected = like_scan(world, term, include_deleted=include_deleted)
        assert expected == python_scan(world, term, include_deleted=include_deleted), term
        assert searched(world, term, include_deleted=include_deleted) == expected, term


def check_index_integrity() -> None:
    """SQLite: the FTS table holds exactly the keys of the rows of ``tags``."""
    if db.engine.dialect.name == "sqlite":
        db.session.execute(text("INSERT INTO tags_fts (tags_fts, rank) "
                                "VALUES ('integrity-check', 1)"))
        indexed = db.session.scalar(text("SELECT count(*) FROM tags_fts")) or 0
        stored = db.session.scalar(text("SELECT count(*) FROM tags")) or 0
        assert indexed == stored


def make_tags(world: World) -> dict[str, Tag]:
    made = {name: create(world, name) for name in NAMES}
    made["Address.email"] = create(world, "Address.email")
    made["priority::high"] = create(world, "priority::high")
    made["priority::say hi"] = create(world, 'priority::say "hi" there')
    return made


def test_special_characters_and_casefolding_give_the_rows_of_the_like_scan(
        world: World) -> None:
    make_tags(world)
    check_index_integrity()
    check_terms(world, TERMS)
    # The terms that actually exercise something match something.
    assert searched(world, "100%") and searched(world, "_c\\") and searched(world, '"hi"')
    assert len(searched(world, "STRASSE")) == 2  # Straße casefolds to strasse
    assert searched(world, "σίσυφοσ") and searched(world, "file")
    assert searched(world, "%") == like_scan(world, "%") != []


def test_deleted_and_restored_tags(world: World) -> None:
    made = make_tags(world)
    delete_tag(world.editor, world.sid, made["Address"].id, hierarchy=True)
    check_index_integrity()
    assert searched(world, "address") == []
    assert searched(world, "address", include_deleted=True) == sorted(
        [made["Address"].id, made["Address.email"].id])
    check_terms(world, TERMS)
    check_terms(world, TERMS, include_deleted=True)
    restore_tag(world.editor, world.sid, made["Address"].id, hierarchy=True)
    check_terms(world, ["address", "ADDRESS.E", "mail"])


def test_renamed_tags_are_found_by_their_new_name_only(world: World) -> None:
    made = make_tags(world)
    update_tag(world.editor, world.sid, made["mail"].id, name="Courrier ÉLECTRONIQUE")
    update_tag(world.editor, world.sid, made["100% done"].id, name="50_% half")
    check_index_integrity()
    assert made["mail"].id not in searched(world, "mail")
    assert searched(world, "électronique") == [made["mail"].id]
    assert searched(world, "0_% h") == [made["100% done"].id]
    assert searched(world, "100% d") == []
    check_terms(world, [*TERMS, "courrier", "électro", "0_%", "_% "])


def test_subtree_renames_moves_and_group_changes_rewrite_the_index(world: World) -> None:
    root = create(world, "Discovered")
    leaves = [create(world, f"Discovered.Country.{name}") for name in
              ("Canada", "Österreich", "Côte d'Ivoire", "100%_land")]
    other = create(world, "Elsewhere")
    update_tag(world.editor, world.sid, root.id, name="Found")
    check_index_integrity()
    assert searched(world, "discovered") == []
    assert len(searched(world, "found.country.")) == len(leaves)
    country = find_tag(world.sid, "Found.Country")
    assert country is not None
    update_tag(world.editor, world.sid, country.id, parent=other.id)
    check_index_integrity()
    assert len(searched(world, "elsewhere.country.")) == len(leaves)
    assert searched(world, "found.country") == []
    update_tag(world.editor, world.sid, other.id, group="geo")
    check_index_integrity()
    assert len(searched(world, "geo::elsewhere.country.")) == len(leaves)
    check_terms(world, ["found", "elsewhere", "geo::", "o::e", "österreich", "ÖSTER",
                        "d'ivoire", "100%_", "%_l", "country.c", "ry.c", "n"])


def test_purged_and_reinserted_rows_keep_the_index_in_step(world: World) -> None:
    made = make_tags(world)
    victim = made["emoji 🎉 party"]
    db.session.execute(text("DELETE FROM tags WHERE id = :id"), {"id": victim.id})
    db.session.execute(
        text("UPDATE tags SET path_key = 'raw-sql ' || path_key WHERE id = :id"),
        {"id": made["naïve café"].id},
    )
    db.session.execute(  # updates that leave the key alone do not touch the index
        text("UPDATE tags SET updated_at = updated_at, label = 'relabelled'")
    )
    db.session.commit()
    check_index_integrity()
    assert searched(world, "🎉") == []
    assert searched(world, "raw-sql naïve") == [made["naïve café"].id]
    check_terms(world, [*TERMS, "raw-sql", "relabelled"])


def test_random_names_and_terms(world: World) -> None:
    rng = random.Random(20261123)
    alphabet = "abcAB%_\\'\" ßSsΣσςé日🎉-:"
    made: list[str] = []
    for _ in range(150):
        name = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 8)))
        name = name.replace("::", ":").strip(" :")
        if not name or names.key(name) in {names.key(n) for n in made}:
            continue
        create(world, name)
        made.append(name)
    for name in rng.sample(made, 20):
        tag = find_tag(world.sid, name)
        if tag is not None:
            delete_tag(world.editor, world.sid, tag.id, hierarchy=True)
    check_index_integrity()
    terms = {"".join(rng.choice(alphabet) for _ in range(rng.randint(1, 5))) for _ in range(150)}
    terms |= {name[i:i + 3] for name in made for i in range(0, len(name), 2)}
    check_terms(world, sorted(t for t in terms if t.strip()))
    check_terms(world, sorted(t for t in terms if t.strip())[:60], include_deleted=True)


def test_common_terms_take_the_plain_scan_with_the_same_rows(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """A term with many index candidates is searched by LIKE alone (see search_path_keys);
    a tiny threshold sends every term down that branch."""
    make_tags(world)
    delete_tag(world.editor, world.sid, find_tag(world.sid, "mail").id)
    monkeypatch.setattr(tag_queries, "_COMMON", 2)
    assert "tags_fts" not in compiled_search(world, "mail")  # 3+ candidates: common
    check_terms(world, TERMS)
    check_terms(world, TERMS, include_deleted=True)


def test_other_scopes_tags_never_match(world: World) -> None:
    create(world, "shared-name")
    create_tag(SYSTEM, world.other_scope.id, TagSpec("shared-name"))
    assert len(searched(world, "shared-name")) == 1
    assert len(searched(world, "red-na")) == 1


# --- the index is the one answering --------------------------------------------------------


def compiled_search(world: World, term: str) -> str:
    query = tag_queries.tag_query(world.sid, TagFilter(search=term))
    return str(query.compile(db.engine))


def test_long_terms_use_the_index_and_short_terms_scan(world: World) -> None:
    create(world, "Address.email")
    if db.engine.dialect.name == "sqlite":
        assert "tags_fts" in compiled_search(world, "ema")
        assert "tags_fts" not in compiled_search(world, "  ß  ")  # casefolds to "ss"
        assert "tags_fts" not in compiled_search(world, "em")
        statement = tag_queries.tag_query(world.sid, TagFilter(search="email"))
        compiled = statement.compile(db.engine)
        assert "FROM tags NOT INDEXED" in str(compiled)
        params = tuple(compiled.params[name] for name in compiled.positiontup or ())
        plan = " | ".join(
            str(row[-1]) for row in db.session.connection().exec_driver_sql(
                f"EXPLAIN QUERY PLAN {compiled}", params
            )
        )
        assert "VIRTUAL TABLE INDEX" in plan and "tags_fts" in plan, plan
        assert "USING INTEGER PRIMARY KEY" in plan, plan  # driven by the index's ids


@pytest.mark.postgres_only
def test_postgres_has_a_trigram_index_the_planner_can_use(world: World) -> None:
    for index in range(300):
        create(world, f"filler-{index:04d}")
    create(world, "Address.email")
    db.session.execute(text("ANALYZE tags"))
    db.session.execute(text("SET LOCAL enable_seqscan = off"))
    plan = "\n".join(db.session.scalars(text(
        "EXPLAIN SELECT id FROM tags WHERE path_key LIKE :pattern ESCAPE '\\'"
    ), {"pattern": "%ress.ema%"}))
    db.session.rollback()
    assert "ix_tags_path_key_trgm" in plan, plan
