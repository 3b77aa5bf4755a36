"""Aliases: other (qualified) names that mean a tag.

An alias compares as names do (NFKC + casefold) and is unique in its scope against every
live tag's path and every other alias; a clash is a Conflict naming what holds the name.
Every name look-up resolves aliases (the link planner, :func:`lookup.find_tag` when a
name is read), an alias never creates a tag, and a new tag, rename or move may not take a
name an alias holds.  Merging a tag into another makes the merged tag's path and aliases
aliases of the kept tag (:func:`transfer_aliases`); the undo takes them back.

Events: ``tag_alias`` ``add`` / ``remove`` / ``move`` with ``{"tag_id", "alias"}`` (and
``from_tag_id`` for a move), undone by :func:`revert_alias_events`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, delete, false, select, true, union_all

from webapp.extensions import db
from webapp.models import Tag, TagAlias
from webapp.models.types import utcnow
from webapp.services import names
from webapp.services.actor import Actor, Permission, authorize
from webapp.services.errors import Conflict, FieldError, LimitExceeded, ValidationFailed
from webapp.services.sql import json_rows
from webapp.services.tags.lookup import live_tag
from webapp.services.uow import ChangeRecorder, writing

MAX_ALIASES = 50  # per tag


@dataclass(frozen=True)
class NameHolder:
    """What holds a name key: a live tag's path, or an alias (of ``tag_id``)."""

    key: str
    text: str
    tag_id: int
    is_alias: bool

    def clash(self, field: str, holder_name: str | None = None) -> Conflict:
        """The Conflict of taking this name; ``holder_name``: the qualified name of the tag
        an alias belongs to, to name it."""
        if self.is_alias:
            message = (f"{self.text!r} is already an alias of "
                       f"{repr(holder_name) if holder_name else 'another tag'}")
        else:
            message = f"a tag named {self.text!r} already exists"
        return Conflict(message, [FieldError(field, message)])


def name_holders(scope_id: int, keys: Iterable[str] | Select[Any]) -> Select[Any]:
    """The live tags and aliases of the scope holding any of ``keys`` (key, text, tag id,
    is_alias), as one statement to run or to join."""
    wanted = keys if isinstance(keys, Select) else sorted(set(keys))
    return union_all(
        select(Tag.path_key.label("key"), Tag.path.label("text"), Tag.id.label("tag_id"),
               false().label("is_alias"))
        .where(Tag.scope_id == scope_id, Tag.deleted_at.is_(None), Tag.path_key.in_(wanted)),
        select(TagAlias.alias_key, TagAlias.alias, TagAlias.tag_id, true())
        .where(TagAlias.scope_id == scope_id, TagAlias.alias_key.in_(wanted)),
    )


def find_holders(scope_id: int, keys: Iterable[str]) -> dict[str, NameHolder]:
    """Who holds each of ``keys`` (one statement; none when ``keys`` is empty)."""
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    return {row.key: NameHolder(row.key, row.text, row.tag_id, bool(row.is_alias))
            for row in db.session.execute(name_holders(scope_id, wanted))}


def aliases_of(tag_ids: Sequence[int]) -> dict[int, list[str]]:
    """Each tag's aliases, sorted by key (by code point, in Python: the same order on every
    database and in the API's tag views; one statement)."""
    found: dict[int, list[str]] = {tag_id: [] for tag_id in tag_ids}
    if not tag_ids:
        return found
    for tag_id, alias, _ in sorted(db.session.execute(
        select(TagAlias.tag_id, TagAlias.alias, TagAlias.alias_key)
        .where(TagAlias.tag_id.in_(list(tag_ids)))
    ).tuples(), key=lambda row: row[2]):
        found[tag_id].append(alias)
    return found


def _parse(raw_aliases: Sequence[str], field: str) -> list[names.QualifiedName]:
    if isinstance(raw_aliases, str):
        raise ValidationFailed.field(field, "must be a list of names")
    if len(raw_aliases) > MAX_ALIASES:
        raise LimitExceeded(f"at most {MAX_ALIASES} aliases per tag ({len(raw_aliases)} given)",
                            [FieldError(field, f"at most {MAX_ALIASES} aliases")])
    unique: dict[str, names.QualifiedName] = {}
    for index, raw in enumerate(raw_aliases):
        qname = names.parse_name(raw, f"{field}[{index}]")
        unique.setdefault(qname.key, qname)
    return list(unique.values())


def set_aliases(actor: Actor, scope_id: int, handle: int | str, raw_aliases: Sequence[str],
                *, field: str = "aliases") -> list[str]:
    """Make the tag's aliases exactly ``raw_aliases`` (one change set; an alias another
    tag or alias holds is a Conflict naming it).  Returns the aliases, sorted."""
    with writing(actor, scope_id, "Set tag aliases") as recorder:
        authorize(actor, scope_id, Permission.TAGS_WRITE)
        tag = live_tag(scope_id, handle)
        replace_aliases(actor, scope_id, recorder, tag, raw_aliases, field=field)
        return aliases_of([tag.id])[tag.id]


def replace_aliases(actor: Actor, scope_id: int, recorder: ChangeRecorder, tag: Tag,
                    raw_aliases: Sequence[str], *, field: str = "aliases") -> None:
    """Inside a running write: the tag's aliases become ``raw_aliases``."""
    wanted = {qname.key: qname for qname in _parse(raw_aliases, field)}
    current = {alias.alias_key: alias for alias in db.session.scalars(
        select(TagAlias).where(TagAlias.tag_id == tag.id))}
    if tag.path_key in wanted:
        raise ValidationFailed.field(field, f"{tag.qualified_name!r} is the tag's own name")
    added = [qname for key, qname in wanted.items() if key not in current]
    for holder in find_holders(scope_id, [qname.key for qname in added]).values():
        raise holder.clash(field, _tag_name(holder) if holder.is_alias else None)
    removed = [alias for key, alias in current.items() if key not in wanted]
    if removed:
        db.session.execute(delete(TagAlias).where(TagAlias.id.in_([a.id for a in removed])),
                           execution_options={"synchronize_session": False})
    _insert(scope_id, actor, [(tag.id, qname.text, qname.key) for qname in added])
    recorder.record_many(
        [_event("remove", alias.tag_id, alias.alias) for alias in removed]
        + [_event("add", tag.id, qname.text) for qname in added])


def transfer_aliases(actor: Actor, scope_id: int, recorder: ChangeRecorder,
                     sources: Sequence[tuple[int, str]], kept_id: int) -> None:
    """A merge: each source's qualified name and its aliases become aliases of the kept
    tag (the sources are deleted by then, so their names are free).  ``sources`` are
    (tag id, qualified name); two statements, plus one when a source had aliases."""
    source_ids = [tag_id for tag_id, _ in sources]
    moved = db.session.execute(
        select(TagAlias.id, TagAlias.tag_id, TagAlias.alias)
        .where(TagAlias.tag_id.in_(source_ids))
    ).all()
    if moved:
        db.session.execute(
            TagAlias.__table__.update().where(TagAlias.id.in_([row.id for row in moved]))
            .values(tag_id=kept_id), execution_options={"synchronize_session": False})
    own = [(kept_id, text, names.parse_name(text).key) for _, text in sources]
    _insert(scope_id, actor, own)
    recorder.record_many(
        [_event("move", kept_id, row.alias, from_tag_id=row.tag_id) for row in moved]
        + [_event("add", kept_id, text) for _, text, _ in own])


def revert_alias_events(scope_id: int, recorder: ChangeRecorder,
                        events: Sequence[tuple[str, dict[str, Any]]]) -> None:
    """Undo a run of ``tag_alias`` events (action, after), newest first as an undo runs
    them: added aliases go, removed ones come back (unless their name was taken since: a
    Conflict), moved ones return to their tag — a fixed number of statements however
    many."""
    keyed = [(action, after, names.parse_name(after["alias"]).key) for action, after in events]
    added = [key for action, _, key in keyed if action == "add"]
    removed = [(after, key) for action, after, key in keyed if action == "remove"]
    moved = [(after, key) for action, after, key in keyed if action == "move"]
    if added:
        db.session.execute(delete(TagAlias).where(TagAlias.scope_id == scope_id,
                                                  TagAlias.alias_key.in_(added)))
    if moved:
        back = json_rows([(key, after["from_tag_id"]) for after, key in moved],
                         [("key", "text"), ("tag_id", "integer")], "aliases_back")
        db.session.execute(
            TagAlias.__table__.update()
            .where(TagAlias.scope_id == scope_id,
                   TagAlias.alias_key.in_(select(back.c.key)))
            .values(tag_id=select(back.c.tag_id).where(back.c.key == TagAlias.alias_key)
                    .scalar_subquery()),
            execution_options={"synchronize_session": False})
    if removed:
        for holder in find_holders(scope_id, [key for _, key in removed]).values():
            raise holder.clash("aliases")
        _insert(scope_id, None, [(after["tag_id"], after["alias"], key)
                                 for after, key in removed])
    recorder.record_many(
        [_event("undo " + action, after.get("from_tag_id", after["tag_id"])
                if action == "move" else after["tag_id"], after["alias"])
         for action, after, _ in keyed])


def _tag_name(holder: NameHolder) -> str | None:
    """The qualified name of the tag holding an alias (a refusal's message names it)."""
    tag = db.session.get(Tag, holder.tag_id)
    return tag.qualified_name if tag is not None else None


def _insert(scope_id: int, actor: Actor | None, rows: Sequence[tuple[int, str, str]]) -> None:
    if not rows:
        return
    now = utcnow()
    db.session.execute(TagAlias.__table__.insert(), [
        {"scope_id": scope_id, "tag_id": tag_id, "alias": text, "alias_key": key,
         "created_by_id": actor.user_id if actor else None, "created_at": now}
        for tag_id, text, key in rows])


def _event(action: str, tag_id: int, alias: str, **extra: Any) -> dict[str, Any]:
    after = {"tag_id": tag_id, "alias": alias, **extra}
    return {"object_type": "tag_alias", "object_id": tag_id, "action": action,
            "before": None, "after": after}
