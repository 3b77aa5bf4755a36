"""Taxonomy export and import (issue 13 §3): the round trip in every format, the dry run's
exact diff, row errors with their lines, mirror mode, permissions, undo and statement
counts."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from sqlalchemy import select

from tests.unit.factories import (
    SYSTEM,
    World,
    events,
    key_actor,
    make_scope,
    member,
    snapshot_counts,
)
from webapp.extensions import db
from webapp.models import Role, Tag, TagAlias, TagGroup
from webapp.models.types import utcnow
from webapp.services import names
from webapp.services.actor import Actor, Permission
from webapp.services.errors import Conflict, PermissionDenied, ValidationFailed
from webapp.services.groups import create_group
from webapp.services.tags.creation import Provenance, TagSpec, create_tag, create_tags
from webapp.services.taxonomy.apply import export_taxonomy, import_taxonomy
from webapp.services.taxonomy.plan import Action
from webapp.services.taxonomy.records import Format, Mode
from webapp.services.undo import undo_change_set

FORMATS = list(Format)


def exported(actor: Actor, scope_id: int, fmt: Format) -> str:
    return "".join(export_taxonomy(actor, scope_id, fmt).chunks)


def _alias(scope_id: int, tag: Tag, alias: str) -> None:
    db.session.add(TagAlias(scope_id=scope_id, tag_id=tag.id, alias=alias,
                            alias_key=names.key(alias)))


def seed_taxonomy(world: World) -> None:
    """Groups with every option, a hierarchy, odd text, a protected source's tags, aliases
    and a deprecated tag with its replacement."""
    sid = world.sid
    create_group(SYSTEM, sid, "priority", label="Priority", color="#ff0000",
                 description="How urgent, \"really\"", exclusive=True)
    create_group(SYSTEM, sid, "Team", allowed_types=["source", "node"])
    create_group(SYSTEM, sid, "empty", description="line one\nline two, with a comma")
    db.session.scalar(select(TagGroup).where(TagGroup.identifier == "Team")).assign_role = (
        "manager")
    create_tags(SYSTEM, sid, [
        TagSpec(name="priority::urgent", color="#00ff00", label="Urgent!"),
        TagSpec(name="priority::backlog"),
        TagSpec(name="Team::Data.Platform", description="Ünïcödé — 日本語"),
        TagSpec(name="Address.email", label="E-mail"),
        TagSpec(name="Address.zip"),
        TagSpec(name="2024"),
        TagSpec(name="yes"),
        TagSpec(name="= formula, \"quoted\""),
    ])
    create_tags(SYSTEM, sid, [TagSpec(name="Discovered.Country.Canada")],
                Provenance(source="crm", system_created=True, protected=True))
    old = db.session.scalar(select(Tag).where(Tag.path_key == "address.zip"))
    email = db.session.scalar(select(Tag).where(Tag.path_key == "address.email"))
    old.deprecated_at = utcnow()
    old.replacement_id = email.id
    _alias(sid, email, "Mail")
    _alias(sid, email, "contact.E-mail")
    db.session.commit()


@pytest.fixture
def taxonomy(world: World) -> World:
    seed_taxonomy(world)
    return world


@pytest.fixture
def empty_scope(world: World) -> tuple[int, Actor]:
    scope = make_scope("scope_gamma")
    return scope.id, member(scope, "manager@example.com", Role.MANAGER)


# --- export ------------------------------------------------------------------------------


def test_the_json_export_lists_every_field(taxonomy: World) -> None:
    document = json.loads(exported(taxonomy.viewer, taxonomy.sid, Format.JSON))
    assert document["format"] == "tagwright-taxonomy" and document["version"] == 1
    assert [group["identifier"] for group in document["groups"]] == ["empty", "priority", "Team"]
    assert document["groups"][1] == {
        "identifier": "priority", "label": "Priority", "color": "#FF0000",
        "description": "How urgent, \"really\"", "exclusive": True, "allowed_types": [],
        "assign_role": "editor"}
    assert document["groups"][2]["allowed_types"] == ["node", "source"]
    assert document["groups"][2]["assign_role"] == "manager"
    tags = {tag["path"]: tag for tag in document["tags"]}
    paths = [tag["path"] for tag in document["tags"]]
    assert paths.index("Address") < paths.index("Address.email")
    assert paths.index("Discovered.Country") < paths.index("Discovered.Country.Canada")
    assert tags["Address.email"] == {
        "path": "Address.email", "label": "E-mail", "color": None, "description": None,
        "protected": False, "system_created": False, "source": "curated",
        "aliases": ["contact.E-mail", "Mail"], "deprecated": False, "replacement": None}
    assert tags["Address.zip"]["deprecated"] is True
    assert tags["Address.zip"]["replacement"] == "Address.email"
    canada = tags["Discovered.Country.Canada"]
    assert (canada["protected"], canada["system_created"], canada["source"]) == (
        True, True, "crm")
    assert tags["priority::urgent"]["color"] == "#00FF00"


def test_the_export_holds_only_live_tags_of_the_scope(taxonomy: World) -> None:
    create_tag(SYSTEM, taxonomy.other_scope.id, TagSpec(name="Beta.only"))
    from webapp.services.tags.deletion import delete_tag
    delete_tag(SYSTEM, taxonomy.sid, "2024")
    text = exported(taxonomy.viewer, taxonomy.sid, Format.CSV)
    assert "Beta.only" not in text and "\r\ntag,2024," not in text
    with pytest.raises(PermissionDenied):
        export_taxonomy(taxonomy.outsider, taxonomy.sid, Format.CSV)


def test_the_csv_export_is_one_table(taxonomy: World) -> None:
    text = exported(taxonomy.viewer, taxonomy.sid, Format.CSV)
    lines = text.split("\r\n")
    assert lines[0] == ("kind,name,label,color,description,exclusive,allowed_types,"
                        "assign_role,protected,system_created,source,aliases,deprecated,"
                        "replacement")
    assert lines[1].startswith("group,empty,empty,,\"line one\nline two, with a comma\",false")
    assert 'tag,Address.email,E-mail,,,,,,false,false,curated,"contact.E-mail\nMail",false,' \
        in text


# --- round trip --------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS, ids=[f.value for f in FORMATS])
def test_export_import_export_is_byte_identical(taxonomy: World, empty_scope: tuple[int, Actor],
                                                fmt: Format) -> None:
    first = exported(taxonomy.manager, taxonomy.sid, fmt)
    target, manager = empty_scope
    result = import_taxonomy(manager, target, first, fmt, dry_run=False)
    assert result.change_set_id is not None
    db.session.expire_all()
    assert exported(manager, target, fmt) == first
    again = import_taxonomy(manager, target, first, fmt, dry_run=True)
    assert not again.plan.changes_anything and not again.plan.errors


# --- the dry run ---------------------------------------------------------------------------


def test_a_dry_run_answers_the_diff_and_writes_nothing(taxonomy: World) -> None:
    before = snapshot_counts()
    text = json.dumps({"groups": [{"identifier": "priority", "label": "Urgency"},
                                  {"identifier": "topic", "color": "#123456"}],
                       "tags": [{"path": "priority::urgent", "color": "#00FF00"},
                                {"path": "Address.email", "description": "mail"},
                                {"path": "topic::Finance.Tax"}]})
    result = import_taxonomy(taxonomy.manager, taxonomy.sid, text, Format.JSON)
    assert snapshot_counts() == before and result.change_set_id is None
    plan = result.plan
    assert not plan.errors
    update = {step.identifier: step for step in plan.group_steps(Action.UPDATE)}
    assert [(c.field, c.before, c.after) for c in update["priority"].changes] == [
        ("label", "Priority", "Urgency")]
    assert [step.identifier for step in plan.group_steps(Action.CREATE)] == ["topic"]
    tags = {step.path: step for step in plan.tags}
    assert tags["priority::urgent"].action is Action.UNCHANGED
    assert [(c.field, c.before, c.after) for c in tags["Address.email"].changes] == [
        ("description", None, "mail")]
    assert tags["topic::Finance"].action is Action.CREATE and tags["topic::Finance"].implied
    assert tags["topic::Finance.Tax"].action is Action.CREATE
    assert tags["Address"].action is Action.UNCHANGED and tags["Address"].implied
    assert not plan.tag_steps(Action.DELETE)  # merge mode deletes nothing


def test_mirror_deletes_what_the_file_leaves_out_but_protected_tags(taxonomy: World) -> None:
    text = "kind,name\ntag,Address.email\ntag,priority::urgent\n"
    plan = import_taxonomy(taxonomy.manager, taxonomy.sid, text, Format.CSV,
                           mode=Mode.MIRROR).plan
    deleted = {step.path for step in plan.tag_steps(Action.DELETE)}
    assert {"Address.zip", "2024", "priority::backlog", "Team::Data",
            "Team::Data.Platform"} <= deleted
    assert "Address" not in deleted and "Address.email" not in deleted
    kept = {step.path: step.reason for step in plan.tag_steps(Action.KEPT)}
    assert set(kept) == {"Discovered", "Discovered.Country", "Discovered.Country.Canada"}
    groups = {step.identifier: step.action for step in plan.groups}
    assert groups == {"empty": Action.DELETE, "priority": Action.UNCHANGED,
                      "Team": Action.KEPT}
    result = import_taxonomy(taxonomy.manager, taxonomy.sid, text, Format.CSV,
                             mode=Mode.MIRROR, dry_run=False)
    assert result.change_set_id is not None
    after = exported(taxonomy.manager, taxonomy.sid, Format.CSV)
    assert "Address.zip" not in after and "Discovered.Country.Canada" in after
    assert "group,empty," not in after


# --- errors ------------------------------------------------------------------------------


def test_one_bad_row_names_its_line_and_field_and_nothing_is_written(taxonomy: World) -> None:
    text = ("kind,name,color,exclusive\n"
            "group,topic,,true\n"
            "tag,topic::a,#12345,\n"
            "tag,topic::b,,true\n"
            "tag,\"bad.\",,\n")
    before = snapshot_counts()
    for dry_run in (True, False):
        with pytest.raises(ValidationFailed) as refused:
            import_taxonomy(taxonomy.manager, taxonomy.sid, text, Format.CSV, dry_run=dry_run)
        assert [d.field for d in refused.value.details] == [
            "line 3: color", "line 4: exclusive", "line 5: name"]
        assert "3 problems" in refused.value.message
    assert snapshot_counts() == before


def problems(world: World, text: str, fmt: Format) -> list[tuple[int | None, str | None]]:
    """The (line, field) of every problem a file that does not read has."""
    with pytest.raises(ValidationFailed) as refused:
        import_taxonomy(world.manager, world.sid, text, fmt)
    found = []
    for detail in refused.value.details:
        where, _, field = detail.field.partition(": ")
        found.append((int(where.removeprefix("line ")) if where.startswith("line ") else None,
                       field or None))
    return found


def test_json_and_yaml_errors_carry_the_line_of_their_record(taxonomy: World) -> None:
    text = ('{"tags": [\n  {"path": "a"},\n\n  {"path": "b",\n   "color": "red"}\n],\n'
            ' "groups": [{"identifier": "g", "exclusive": "yes"}]}')
    assert problems(taxonomy, text, Format.JSON) == [(4, "color"), (7, "exclusive")]
    yaml_text = "tags:\n- path: a\n- path: 2024-01-01\n- path: b\n  protected: maybe\n"
    assert problems(taxonomy, yaml_text, Format.YAML) == [(3, "path"), (4, "protected")]
    with pytest.raises(ValidationFailed, match="quotes"):
        import_taxonomy(taxonomy.manager, taxonomy.sid, yaml_text, Format.YAML)


@pytest.mark.parametrize("fmt, text, line", [
    (Format.JSON, '{"tags": [\n {"path": "a"}\n {"path": "b"}]}', 3),
    (Format.YAML, "tags:\n- path: a\n  - oops: [\n", 3),
    (Format.CSV, 'kind,name\ntag,"open\n', 2),
])
def test_a_file_that_does_not_parse_names_the_line(taxonomy: World, fmt: Format, text: str,
                                                   line: int) -> None:
    assert problems(taxonomy, text, fmt)[0][0] == line


def test_the_scope_refuses_rows_too(taxonomy: World) -> None:
    records = [
        {"path": "Discovered.Country.Canada", "label": "Kanada"},
        {"path": "Address.email", "source": "crm"},
        {"path": "Address.zip", "replacement": "Nowhere.tag"},
        {"path": "2024", "aliases": ["Address.email", "other"]},
        {"path": "yes", "deprecated": False, "replacement": "2024"},
        {"path": "Mail"},
        {"path": "new", "aliases": ["other"]},
    ]
    text = '{"tags": [\n' + ",\n".join(json.dumps(r) for r in records) + "\n]}"
    errors = import_taxonomy(taxonomy.manager, taxonomy.sid, text, Format.JSON).plan.errors
    assert [(error.line, error.field) for error in errors] == [
        (2, "label"), (3, "source"), (4, "replacement"), (5, "aliases"), (6, "replacement"),
        (7, "path"), (8, "aliases")]
    messages = [error.message for error in errors]
    with pytest.raises(Conflict) as refused:
        import_taxonomy(taxonomy.manager, taxonomy.sid, text, Format.JSON, dry_run=False)
    assert [detail.field for detail in refused.value.details] == [
        error.where for error in errors]
    assert "protected" in messages[0] and "never changes it" in messages[1]
    assert "no tag 'Nowhere.tag'" in messages[2]
    assert "'Address.email' is the path of a tag" in messages[3]
    assert messages[4] == "only a deprecated tag has a replacement"
    assert "is an alias of 'Address.email'" in messages[5]
    assert "'other' is an alias of '2024' too (line 5)" in messages[6]


def test_a_record_given_twice_is_an_error(taxonomy: World) -> None:
    text = "kind,name\ntag,a.b\ntag,A.B\ngroup,g\ngroup,G\n"
    errors = import_taxonomy(taxonomy.manager, taxonomy.sid, text, Format.CSV).plan.errors
    assert [(e.line, e.field) for e in errors] == [(3, "path"), (5, "identifier")]


# --- permissions -------------------------------------------------------------------------

ALL = (Permission.TAGS_READ, Permission.TAGS_CREATE, Permission.TAGS_WRITE,
       Permission.TAGS_DELETE, Permission.GROUPS_WRITE)


@pytest.mark.parametrize("missing", [Permission.TAGS_WRITE, Permission.GROUPS_WRITE,
                                     Permission.TAGS_DELETE])
@pytest.mark.parametrize("dry_run", [True, False])
def test_a_key_missing_a_permission_the_import_needs_is_refused(
        taxonomy: World, missing: Permission, dry_run: bool) -> None:
    text = json.dumps({"groups": [{"identifier": "topic"}],
                       "tags": [{"path": "Address.email"}, {"path": "topic::new"}]})
    key = key_actor(taxonomy.manager, *(p for p in ALL if p is not missing))
    with pytest.raises(PermissionDenied):
        import_taxonomy(key, taxonomy.sid, text, Format.JSON, mode=Mode.MIRROR,
                        dry_run=dry_run)
    exactly = key_actor(taxonomy.manager, Permission.TAGS_WRITE, Permission.GROUPS_WRITE,
                        Permission.TAGS_DELETE)
    import_taxonomy(exactly, taxonomy.sid, text, Format.JSON, mode=Mode.MIRROR,
                    dry_run=dry_run)


def test_editors_import_tags_and_plain_groups_viewers_only_export(taxonomy: World) -> None:
    plain = "kind,name\ntag,topic::a\n"
    result = import_taxonomy(taxonomy.editor, taxonomy.sid, plain, Format.CSV, dry_run=False)
    assert result.plan.group_steps(Action.CREATE)[0].implied
    with pytest.raises(PermissionDenied):
        import_taxonomy(taxonomy.editor, taxonomy.sid, "kind,name\ngroup,other\n", Format.CSV)
    with pytest.raises(PermissionDenied):
        import_taxonomy(taxonomy.viewer, taxonomy.sid, plain, Format.CSV)
    assert exported(taxonomy.viewer, taxonomy.sid, Format.YAML)


# --- undo --------------------------------------------------------------------------------


def test_an_import_is_one_change_set_that_undoes(taxonomy: World) -> None:
    before = exported(taxonomy.manager, taxonomy.sid, Format.JSON)
    text = json.dumps({
        "groups": [{"identifier": "priority", "label": "Urgency"},
                   {"identifier": "topic", "exclusive": True}],
        "tags": [{"path": "Address.email", "description": "mail", "color": "#112233"},
                 {"path": "topic::Finance.Tax", "label": "Taxes"},
                 {"path": "Address"}, {"path": "priority::urgent"}]})
    result = import_taxonomy(taxonomy.manager, taxonomy.sid, text, Format.JSON,
                             mode=Mode.MIRROR, dry_run=False)
    assert result.change_set_id is not None
    assert exported(taxonomy.manager, taxonomy.sid, Format.JSON) != before
    undo_change_set(taxonomy.manager, taxonomy.sid, result.change_set_id)
    db.session.expire_all()
    assert exported(taxonomy.manager, taxonomy.sid, Format.JSON) == before


def test_nothing_to_change_leaves_no_change_set(taxonomy: World) -> None:
    text = exported(taxonomy.manager, taxonomy.sid, Format.YAML)
    before = snapshot_counts()
    result = import_taxonomy(taxonomy.manager, taxonomy.sid, text, Format.YAML,
                             mode=Mode.MIRROR, dry_run=False)
    assert result.change_set_id is None and result.summary == "nothing to change"
    assert snapshot_counts() == before


# --- statement counts --------------------------------------------------------------------


def _file(count: int) -> str:
    lines = ["kind,name,label,color,description"]
    lines += [f"tag,Area.Part{n}.Leaf{n},Leaf {n},#00AA{n % 100:02d},about {n}"
              for n in range(count)]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("mode", list(Mode), ids=[m.value for m in Mode])
def test_statements_do_not_grow_with_the_number_of_tags(
        world: World, count_queries: Callable[[], object], mode: Mode) -> None:
    """Dry run, real run, a run that changes every tag, and one that deletes them all
    (mirror) or leaves them (merge): the same statements for 10 tags as for 300."""
    counts = []
    for scope_id, size in ((world.sid, 10), (world.other_scope.id, 300)):
        text = _file(size)
        steps = [(text, True), (text, False), (text.replace("about", "on"), False),
                 ("kind,name\ntag,Other\n", False)]
        measured = []
        for body, dry_run in steps:
            with count_queries() as counter:  # type: ignore[attr-defined]
                import_taxonomy(SYSTEM, scope_id, body, Format.CSV, mode=mode,
                                dry_run=dry_run)
            measured.append(counter.count)
        counts.append(measured)
    assert counts[0] == counts[1], counts


# --- aliases and deprecation -------------------------------------------------------------


def _tag(world: World, path: str) -> Tag:
    db.session.expire_all()
    found = db.session.scalar(select(Tag).where(Tag.scope_id == world.sid,
                                                Tag.path_key == names.key(path),
                                                Tag.deleted_at.is_(None)))
    assert found is not None, path
    return found


def _aliases(world: World, path: str) -> list[str]:
    return sorted(db.session.scalars(select(TagAlias.alias).where(
        TagAlias.tag_id == _tag(world, path).id)))


def test_aliases_move_between_tags_with_alias_events(taxonomy: World) -> None:
    text = json.dumps({"tags": [{"path": "Address.email", "aliases": ["contact.E-mail"]},
                                {"path": "2024", "aliases": ["Mail", "Year"]}]})
    result = import_taxonomy(taxonomy.manager, taxonomy.sid, text, Format.JSON, dry_run=False)
    assert _aliases(taxonomy, "Address.email") == ["contact.E-mail"]
    assert _aliases(taxonomy, "2024") == ["Mail", "Year"]
    alias_events = sorted((e.action, e.after["alias"]) for e in events("tag_alias"))
    assert alias_events == [("add", "Mail"), ("add", "Year"), ("remove", "Mail")]
    assert result.change_set_id is not None


def test_an_alias_of_a_deleted_tag_stays_taken_unless_mirror_deletes_it(
        taxonomy: World) -> None:
    from webapp.services.tags.deletion import delete_tag

    claim = "kind,name,aliases\ntag,2024,Mail\n"
    delete_tag(SYSTEM, taxonomy.sid, "Address.email")
    errors = import_taxonomy(taxonomy.manager, taxonomy.sid, claim, Format.CSV).plan.errors
    assert [(e.line, e.field) for e in errors] == [(2, "aliases")]
    assert "a deleted tag" in errors[0].message


def test_mirror_releases_the_aliases_of_the_tags_it_deletes(taxonomy: World) -> None:
    document = json.loads(exported(taxonomy.manager, taxonomy.sid, Format.JSON))
    tags = [tag for tag in document["tags"] if tag["path"] != "Address.email"]
    for tag in tags:
        if tag["path"] == "2024":
            tag["aliases"] = ["Mail"]  # an alias of Address.email, which mirror deletes
        if tag["path"] == "Address.zip":
            tag.update(deprecated=False, replacement=None)
    text = json.dumps({**document, "tags": tags})
    result = import_taxonomy(taxonomy.manager, taxonomy.sid, text, Format.JSON,
                             mode=Mode.MIRROR, dry_run=False)
    assert [step.path for step in result.plan.tag_steps(Action.DELETE)] == ["Address.email"]
    assert _aliases(taxonomy, "2024") == ["Mail"]
    assert sorted((e.action, e.after["alias"]) for e in events("tag_alias")) == [
        ("add", "Mail"), ("remove", "Mail")]


def test_deprecation_follows_the_rules_and_records_its_events(taxonomy: World) -> None:
    chain = json.dumps({"tags": [{"path": "yes", "deprecated": True,
                                  "replacement": "Address.zip"}]})
    errors = import_taxonomy(taxonomy.manager, taxonomy.sid, chain, Format.JSON).plan.errors
    assert [e.message for e in errors] == [
        "'Address.zip' is deprecated itself; name a tag that is not"]
    heir = json.dumps({"tags": [{"path": "Address.email", "deprecated": True}]})
    errors = import_taxonomy(taxonomy.manager, taxonomy.sid, heir, Format.JSON).plan.errors
    assert [(e.field, "stays deprecated" in e.message) for e in errors] == [
        ("deprecated", True)]
    moved = json.dumps({"tags": [{"path": "Address.zip", "deprecated": False},
                                 {"path": "2024", "deprecated": True,
                                  "replacement": "Address.zip"}]})
    import_taxonomy(taxonomy.manager, taxonomy.sid, moved, Format.JSON, dry_run=False)
    assert _tag(taxonomy, "Address.zip").deprecated_at is None
    year = _tag(taxonomy, "2024")
    assert year.deprecated_at is not None and year.replacement_id == _tag(
        taxonomy, "Address.zip").id
    actions = [(e.action, e.before["deprecated"], e.after["deprecated"])
               for e in events("tag") if e.action in ("deprecate", "undeprecate")]
    assert actions == [("undeprecate", True, False), ("deprecate", False, True)]
    assert events("tag", "deprecate")[-1].after["replacement"] == "Address.zip"


def test_an_import_of_deprecations_undoes(taxonomy: World) -> None:
    before = exported(taxonomy.manager, taxonomy.sid, Format.JSON)
    text = json.dumps({"tags": [
        {"path": "2024", "deprecated": True, "replacement": "yes"},
        {"path": "Address.zip", "deprecated": False},
        {"path": "New.tag", "deprecated": True, "replacement": "Address.zip"},
    ]})
    result = import_taxonomy(taxonomy.manager, taxonomy.sid, text, Format.JSON, dry_run=False)
    assert result.change_set_id is not None
    undo_change_set(taxonomy.manager, taxonomy.sid, result.change_set_id)
    db.session.expire_all()
    assert exported(taxonomy.manager, taxonomy.sid, Format.JSON) == before


@pytest.mark.parametrize("fmt", FORMATS, ids=[f.value for f in FORMATS])
def test_new_tags_written_in_batches_round_trip_and_undo(
        taxonomy: World, empty_scope: tuple[int, Actor], fmt: Format,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """With batches of 2 tags (parents and children, replacements and aliases across
    batches, the events written after each), the import is the same: one change set, the
    same file back, and an undo takes it all back."""
    from webapp.models import AuditEvent, ChangeSet
    from webapp.services.taxonomy import apply

    monkeypatch.setattr(apply, "CREATE_BATCH", 2)
    first = exported(taxonomy.manager, taxonomy.sid, fmt)
    target, manager = empty_scope
    sets = select(ChangeSet.id).where(ChangeSet.scope_id == target)
    before = set(db.session.scalars(sets))
    result = import_taxonomy(manager, target, first, fmt, dry_run=False)
    assert result.change_set_id is not None
    db.session.expire_all()
    assert exported(manager, target, fmt) == first
    assert set(db.session.scalars(sets)) - before == {result.change_set_id}
    actions = db.session.execute(
        select(AuditEvent.action, AuditEvent.object_type)
        .where(AuditEvent.change_set_id == result.change_set_id).order_by(AuditEvent.id)
    ).tuples().all()
    tag_actions = [action for action, kind in actions if kind == "tag"]
    created = tag_actions.count("create")
    assert created == len(result.plan.tag_steps(Action.CREATE)) > 4
    assert tag_actions.index("deprecate") > max(
        i for i, action in enumerate(tag_actions) if action == "create")
    undo_change_set(manager, target, result.change_set_id)
    db.session.expire_all()
    assert db.session.scalar(select(Tag.id).where(Tag.scope_id == target,
                                                  Tag.deleted_at.is_(None))) is None
    assert not import_taxonomy(manager, target, first, fmt).plan.tag_steps(Action.UNCHANGED)


@pytest.mark.parametrize("fmt", FORMATS, ids=[f.value for f in FORMATS])
def test_a_file_over_the_record_limit_is_refused_with_its_count(
        taxonomy: World, fmt: Format, monkeypatch: pytest.MonkeyPatch) -> None:
    """CSV is checked as it is read: the limit still counts every record of the file."""
    from webapp.services.errors import LimitExceeded
    from webapp.services.taxonomy import parse

    text = exported(taxonomy.manager, taxonomy.sid, fmt)
    total = len(parse.parse(text, fmt).tags) + len(parse.parse(text, fmt).groups)
    monkeypatch.setattr(parse, "MAX_RECORDS", total - 1)
    before = snapshot_counts()
    with pytest.raises(LimitExceeded) as caught:
        import_taxonomy(taxonomy.manager, taxonomy.sid, text, fmt, dry_run=False)
    assert caught.value.message.startswith(f"{total:,} records; at most {total - 1:,}")
    assert snapshot_counts() == before
    monkeypatch.setattr(parse, "MAX_RECORDS", total)
    assert not import_taxonomy(taxonomy.manager, taxonomy.sid, text, fmt).plan.errors
