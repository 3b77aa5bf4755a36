"""Tags: create (missing ancestors included), look up by any handle, update (a rename or
move rewrites the whole subtree in one statement), soft delete and restore.

Every write runs in ``uow.writing`` and records audit events; descendants whose paths a
rename or move rewrites are derived state and are not recorded one by one.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

from sqlalchemy import (
    ColumnElement,
    and_,
    bindparam,
    case,
    false,
    func,
    inspect,
    literal,
    select,
    union_all,
    update,
)

from webapp.extensions import db
from webapp.ids import parse_uuid, public_id, uuid7
from webapp.models import Assignment, Resource, Tag, TagGroup
from webapp.models.types import utcnow
from webapp.services import names
from webapp.services.actor import Actor, Permission, authorize
from webapp.services.errors import (
    Conflict,
    FieldError,
    LimitExceeded,
    NotFound,
    PermissionDenied,
    ServiceError,
    ValidationFailed,
)
from webapp.services.groups import (
    check_allowed_types,
    check_exclusive,
    ensure_group,
)
from webapp.services.sql import integer_key, integer_list, json_rows
from webapp.services.unset import UNSET
from webapp.services.uow import ChangeRecorder, writing

CREATE_PERMISSIONS = (Permission.TAGS_CREATE, Permission.TAGS_WRITE)
MAX_BULK_DELETE = 1000  # handles in one bulk delete


# --- look-ups ---------------------------------------------------------------------------


def subtree_of(id_path: str) -> ColumnElement[bool]:
    """Condition selecting the tag whose ``id_path`` is given and all its descendants.

    It needs no scope condition beside it: id paths are made of ids, so a subtree never
    crosses scopes.  And it must not have one: SQLite would then scan the scope's live
    tags by the scope index instead of the ``id_path`` range (a one-tag subtree in a scope
    of 10,000 tags: 2 ms a statement instead of 0.02)."""
    return and_(Tag.id_path >= id_path, Tag.id_path < id_path[:-1] + "0")


# A tag by integer key, the most frequent look-up (``GET /tags/{id}``): built once, since
# building a statement costs more than running it on an indexed row.
_ANY_TAG_BY_ID = select(Tag).where(Tag.scope_id == bindparam("scope_id"),
                                   Tag.id == bindparam("row_id"))
_LIVE_TAG_BY_ID = _ANY_TAG_BY_ID.where(Tag.deleted_at.is_(None))


def find_tag(scope_id: int, handle: int | str, *, include_deleted: bool = False) -> Tag | None:
    """A tag of the scope by integer key, UUID, public id or (qualified) path.

    Live tags win; with ``include_deleted`` a path names the most recently deleted tag
    when no live one has it.
    """
    row_id = integer_key(handle)
    by_id = _ANY_TAG_BY_ID if include_deleted else _LIVE_TAG_BY_ID
    if isinstance(handle, int):
        return db.session.scalar(by_id, {"scope_id": scope_id, "row_id": row_id}
                                 ) if row_id else None
    text = str(handle).strip()
    if row_id is not None:
        found = db.session.scalar(by_id, {"scope_id": scope_id, "row_id": row_id})
        if found is not None:
            return found
    query = select(Tag).where(Tag.scope_id == scope_id)
    if not include_deleted:
        query = query.where(Tag.deleted_at.is_(None))
    as_uuid = parse_uuid(text)
    if as_uuid is not None:
        found = db.session.scalar(query.where(Tag.uuid == as_uuid))
        if found is not None:
            return found
    found = db.session.scalar(query.where(Tag.public_id == text))
    if found is not None:
        return found
    try:  # " Priority :: High " names the tag that attach would find
        path_key = names.parse_name(text).key
    except ValidationFailed:
        path_key = names.key(text)
    return db.session.scalar(
        query.where(Tag.path_key == path_key)
        .order_by(Tag.deleted_at.is_not(None), Tag.deleted_at.desc())
        .limit(1)
    )


def live_tag(scope_id: int, handle: int | str, field: str = "tag") -> Tag:
    tag = find_tag(scope_id, handle)
    if tag is None:
        raise NotFound(f"tag {handle!r} not found", [FieldError(field, "no such tag")])
    return tag


def get_tag(actor: Actor, scope_id: int, handle: int | str, *, include_deleted: bool = False
            ) -> Tag:
    """Read one tag by any handle; NotFound when it is not in the actor's scope."""
    authorize(actor, scope_id, Permission.TAGS_READ)
    tag = find_tag(scope_id, handle, include_deleted=include_deleted)
    if tag is None:
        raise NotFound(f"tag {handle!r} not found")
    return tag


class TagFacts(NamedTuple):
    """A live tag read as a row, not an object: what bulk operations check and record
    (loading a thousand objects costs more than the statements that change them)."""

    id: int
    name: str
    path: str
    path_key: str
    id_path: str
    depth: int
    parent_id: int | None
    group_id: int | None
    group: str | None  # the group's identifier
    label: str
    color: str | None
    description: str | None
    protected: bool

    @property
    def qualified_name(self) -> str:
        return f"{self.group}{names.GROUP_SEPARATOR}{self.path}" if self.group else self.path

    def snapshot(self) -> dict[str, Any]:
        """The same editable state as :meth:`webapp.models.Tag.snapshot` (a live tag)."""
        return {"name": self.name, "label": self.label, "color": self.color,
                "description": self.description, "parent_id": self.parent_id,
                "group_id": self.group_id, "path": self.path, "deleted": False}

    @classmethod
    def of(cls, tag: Tag) -> TagFacts:
        return cls(tag.id, tag.name, tag.path, tag.path_key, tag.id_path, tag.depth,
                   tag.parent_id, tag.group_id, tag.group.identifier if tag.group else None,
                   tag.label, tag.color, tag.description, tag.protected)


_FACT_COLUMNS = (Tag.id, Tag.name, Tag.path, Tag.path_key, Tag.id_path, Tag.depth,
                 Tag.parent_id, Tag.group_id, TagGroup.identifier, Tag.label, Tag.color,
                 Tag.description, Tag.protected)


def _path_key(text: str) -> str:
    try:  # " Priority :: High " names the tag that attach would find
        return names.parse_name(text).key
    except ValidationFailed:
        return names.key(text)


def find_live_tags(scope_id: int, handles: Sequence[int | str]) -> list[TagFacts | None]:
    """The live tag each handle names (None when none), in one statement whatever the
    number of handles: the same rules as :func:`find_tag` (an integer key first, then a
    UUID, a public id, a (qualified) path)."""
    ids: set[int] = set()
    uuids: set[Any] = set()
    texts: set[str] = set()
    for handle in handles:
        row_id = integer_key(handle)
        if row_id is not None:
            ids.add(row_id)
        if isinstance(handle, int):
            continue
        text = str(handle).strip()
        as_uuid = parse_uuid(text)
        if as_uuid is not None:
            uuids.add(as_uuid)
        texts.update((text, _path_key(text)))
    if not (ids or texts):
        return [None] * len(handles)
    id_table = integer_list(sorted(ids), "handle_ids")
    candidates: Any = select(id_table.c.id)
    if texts:  # integer keys alone (the list's ticked rows) need no other look-up
        text_table = json_rows([[text] for text in sorted(texts)], [("value", "text")],
                               "handle_texts")
        words = select(text_table.c.value)
        # One indexed look-up per kind of handle; an OR of them beside the scope
        # condition made SQLite scan the scope's live tags (100 ms in a scope of 100,000).
        candidates = union_all(
            select(Tag.id).where(Tag.id.in_(select(id_table.c.id))),
            select(Tag.id).where(Tag.uuid.in_(list(uuids)) if uuids else false()),
            select(Tag.id).where(Tag.scope_id == scope_id, Tag.public_id.in_(words)),
            select(Tag.id).where(Tag.scope_id == scope_id, Tag.path_key.in_(words)),
        )
    rows = db.session.execute(
        select(*_FACT_COLUMNS, Tag.uuid, Tag.public_id)
        .outerjoin(TagGroup, TagGroup.id == Tag.group_id)
        .where(Tag.id.in_(candidates), Tag.scope_id == scope_id, Tag.deleted_at.is_(None))
    ).all()
    by_id: dict[int, TagFacts] = {}
    by_uuid: dict[Any, TagFacts] = {}
    by_public_id: dict[str, TagFacts] = {}
    by_key: dict[str, TagFacts] = {}
    for row in rows:
        facts = TagFacts(*row[:len(_FACT_COLUMNS)])
        by_id[facts.id] = by_uuid[row.uuid] = by_public_id[row.public_id] = facts
        by_key[facts.path_key] = facts
    found: list[TagFacts | None] = []
    for handle in handles:
        row_id = integer_key(handle)
        hit = by_id.get(row_id) if row_id is not None else None
        if hit is None and not isinstance(handle, int):
            text = str(handle).strip()
            hit = (by_uuid.get(parse_uuid(text)) or by_public_id.get(text)
                   or by_key.get(_path_key(text)))
        found.append(hit)
    return found


def expire_tags(ids: set[int] | None = None,
                where: Callable[[Tag], bool] | None = None) -> None:
    """Expire the loaded Tag objects a bulk statement rewrote: those with the given ids, or
    for which ``where`` holds (neither: every one), in one pass over the session.

    Emits no SQL: an object with unloaded attributes is expired without asking ``where``
    (which would load it), and an object already expired is skipped, so a thousand bulk
    statements in one session do not expire the same objects a thousand times."""
    for obj in list(db.session.identity_map.values()):
        if not isinstance(obj, Tag):
            continue
        state = inspect(obj)
        if state.expired or (ids is not None and state.identity[0] not in ids):
            continue
        if where is not None and not state.unloaded and not where(obj):
            continue
        db.session.expire(obj)


class _Lockable(Protocol):
    @property
    def path(self) -> str: ...
    @property
    def protected(self) -> bool: ...


def refuse_protected(actor: Actor, tags: Iterable[_Lockable]) -> None:
    if actor.is_system:
        return
    locked = [tag.path for tag in tags if tag.protected]
    if locked:
        raise PermissionDenied(f"protected tag(s) cannot be changed: {', '.join(locked[:10])}")


# --- creation ---------------------------------------------------------------------------


@dataclass
class TagSpec:
    """What to create: a name (path or ``group::path``) and its optional attributes."""

    name: str
    parent: int | str | None = None
    group: str | None = None
    label: str | None = None
    color: str | None = None
    description: str | None = None
    public_id: str | None = None


@dataclass
class Provenance:
    """Where new tags come from: ``source`` is ``curated`` when made here."""

    source: str = "curated"
    system_created: bool = False
    protected: bool = False


@dataclass
class _Planned:
    qname: names.QualifiedName
    attributes: dict[str, Any] = field(default_factory=dict)


def create_tag(actor: Actor, scope_id: int, spec: TagSpec, provenance: Provenance | None = None
               ) -> Tag:
    """Create one tag and any missing ancestors; a clash with a live tag is a Conflict."""
    return create_tags(actor, scope_id, [spec], provenance, summary=f"Create tag {spec.name}")[0]


def create_tags(
    actor: Actor,
    scope_id: int,
    specs: Sequence[TagSpec],
    provenance: Provenance | None = None,
    *,
    summary: str | None = None,
) -> list[Tag]:
    """Create several tags, all or nothing. Field errors of item ``i`` are named ``[i].field``
    when more than one item is given."""
    provenance = provenance or Provenance()
    with writing(actor, scope_id, summary or f"Create {len(specs)} tag(s)") as recorder:
        authorize(actor, scope_id, *CREATE_PERMISSIONS)
        planned = [_plan(scope_id, spec, index if len(specs) > 1 else None)
                   for index, spec in enumerate(specs)]
        _refuse_duplicates(scope_id, planned, batch=len(specs) > 1)
        created = ensure_paths(
            actor, scope_id, recorder, [plan.qname for plan in planned], provenance,
            attributes={plan.qname.key: plan.attributes for plan in planned},
        )
        return [created[plan.qname.key] for plan in planned]


def _prefixed(error: ValidationFailed, index: int | None) -> ValidationFailed:
    if index is None:
        return error
    details = [FieldError(f"[{index}].{d.field}", d.message) for d in error.details]
    return ValidationFailed(f"item {index}: {error.message}", details)


def _plan(scope_id: int, spec: TagSpec, index: int | None) -> _Planned:
    try:
        qname = names.parse_name(spec.name, "name")
        if spec.parent is not None:
            parent = find_tag(scope_id, spec.parent)
            if parent is None:
                raise ValidationFailed.field("parent", f"no live tag {spec.parent!r}")
            parent_group = parent.group.identifier if parent.group else None
            if qname.group and names.key(qname.group) != names.key(parent_group or ""):
                raise ValidationFailed.field("name", "a child tag takes its parent's group")
            qname = names.QualifiedName(
                parent_group, tuple(parent.path.split(names.PATH_SEPARATOR)) + qname.segments
            )
            if len(qname.path) > names.PATH_MAX:
                raise ValidationFailed.field(
                    "name", f"path must be at most {names.PATH_MAX} characters"
                )
        if spec.group:
            group = names.clean_identifier(spec.group, "group")
            # With a parent, qname.group is the parent's group, None when it has none.
            if (qname.group or spec.parent is not None) and names.key(
                qname.group or ""
            ) != names.key(group):
                raise ValidationFailed.field(
                    "group", "differs from the group in the name" if spec.parent is None
                    else "a child tag takes its parent's group"
                )
            qname = names.QualifiedName(group, qname.segments)
        attributes: dict[str, Any] = {
            "label": names.clean_label(spec.label) if spec.label else None,
            "color": names.clean_color(spec.color),
            "description": names.clean_description(spec.description),
            "public_id": names.clean_public_id(spec.public_id) if spec.public_id else None,
        }
    except ValidationFailed as error:
        raise _prefixed(error, index) from None
    return _Planned(qname, {k: v for k, v in attributes.items() if v is not None})


def _refuse_duplicates(scope_id: int, planned: Sequence[_Planned], *, batch: bool) -> None:
    seen: dict[str, int] = {}
    for index, plan in enumerate(planned):
        if plan.qname.key in seen:
            where = f"[{index}].name" if batch else "name"
            raise ValidationFailed.field(where, f"{plan.qname.text!r} is given twice")
        seen[plan.qname.key] = index
    taken = db.session.scalars(
        select(Tag.path_key).where(
            Tag.scope_id == scope_id, Tag.deleted_at.is_(None), Tag.path_key.in_(list(seen))
        )
    ).all()
    if taken:
        index = seen[taken[0]]
        where = f"[{index}].name" if batch else "name"
        raise Conflict(
            f"a tag named {planned[index].qname.text!r} already exists",
            [FieldError(where, "already exists")],
        )
    ids = {plan.attributes["public_id"]: i for i, plan in enumerate(planned)
           if "public_id" in plan.attributes}
    if len(ids) != sum("public_id" in plan.attributes for plan in planned):
        raise ValidationFailed.field("id", "the same id is given twice")
    if ids:
        clash = db.session.scalar(
            select(Tag.public_id).where(Tag.scope_id == scope_id, Tag.public_id.in_(list(ids)))
        )
        if clash is not None:
            where = f"[{ids[clash]}].id" if batch else "id"
            raise Conflict(f"a tag with id {clash!r} already exists",
                           [FieldError(where, "already exists")])


def ensure_paths(
    actor: Actor,
    scope_id: int,
    recorder: ChangeRecorder,
    qnames: Iterable[names.QualifiedName],
    provenance: Provenance,
    *,
    attributes: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Tag]:
    """Return the live tag of every name (by key), creating missing tags and ancestors.

    One query finds every existing prefix; missing tags are inserted level by level, so
    the statement count depends on the depth of the names, never on how many there are.
    """
    wanted = {prefix.key: prefix for qname in qnames for prefix in qname.prefixes()}
    found: dict[str, Tag] = {
        tag.path_key: tag
        for tag in db.session.scalars(
            select(Tag).where(
                Tag.scope_id == scope_id, Tag.deleted_at.is_(None), Tag.path_key.in_(list(wanted))
            )
        )
    }
    missing = [qname for key, qname in wanted.items() if key not in found]
    if not missing:
        return found
    groups: dict[str, TagGroup] = {}
    for identifier in {q.group for q in missing if q.group}:
        groups[names.key(identifier)] = ensure_group(actor, scope_id, recorder, identifier)
    now = utcnow()
    created: list[Tag] = []
    for depth in sorted({len(q.segments) for q in missing}):
        level: list[tuple[Tag, Tag | None]] = []
        for qname in (q for q in missing if len(q.segments) == depth):
            parent = found[qname.parent.key] if qname.parent else None
            group = groups[names.key(qname.group)] if qname.group else None
            extra = dict((attributes or {}).get(qname.key, {}))
            # The default public id spells the tag's own UUID: tag_<uuid>.
            tag_uuid = uuid7()
            extra["public_id"] = extra.get("public_id") or public_id("tag", tag_uuid)
            tag = Tag(
                scope_id=scope_id,
                group=group,
                parent_id=parent.id if parent else None,
                name=qname.leaf,
                uuid=tag_uuid,
                label=extra.pop("label", qname.leaf),
                path=qname.path,
                path_key=qname.key,
                depth=depth - 1,
                source=provenance.source,
                system_created=provenance.system_created,
                protected=provenance.protected,
                created_by_id=actor.user_id,
                created_at=now,
                updated_at=now,
                **extra,
            )
            level.append((tag, parent))
        db.session.add_all(tag for tag, _ in level)
        db.session.flush()
        for tag, parent in level:
            tag.id_path = f"{parent.id_path if parent else '/'}{tag.id}/"
            found[tag.path_key] = tag
            created.append(tag)
    db.session.flush()
    recorder.record_many([
        {"object_type": "tag", "object_id": tag.id, "action": "create", "before": None,
         "after": tag.snapshot()} for tag in created
    ])
    return found


# --- update -----------------------------------------------------------------------------


def update_tag(
    actor: Actor,
    scope_id: int,
    handle: int | str,
    *,
    name: str = UNSET,
    label: str = UNSET,
    color: str | None = UNSET,
    description: str | None = UNSET,
    parent: int | str | None = UNSET,
    group: str | None = UNSET,
) -> Tag:
    """Change a tag. Arguments left UNSET stay as they are.

    ``parent=None`` makes the tag a root; a child always takes its parent's group, so
    ``group`` may only be set on a root.  A move under its own subtree is refused.
    """
    placeholder = f"Update tag {handle}"
    with writing(actor, scope_id, placeholder) as recorder:
        authorize(actor, scope_id, Permission.TAGS_WRITE)
        tag = live_tag(scope_id, handle)
        recorder.retitle(placeholder, f"Update tag {tag.qualified_name}")
        refuse_protected(actor, [tag])
        before = tag.snapshot()
        new_name = tag.name if name is UNSET else names.clean_segment(name, "name")
        new_parent = _parent_of(tag) if parent is UNSET else (
            None if parent is None or parent == "" else _new_parent(scope_id, tag, parent)
        )
        new_group = _group_for(actor, scope_id, recorder, tag, new_parent, group)
        if label is UNSET and name is not UNSET and tag.label == tag.name:
            label = new_name
        if (new_name, _id(new_parent), _id(new_group)) != (tag.name, tag.parent_id, tag.group_id):
            _refuse_protected_descendants(actor, tag)
            relocate(scope_id, tag, name=new_name, parent=new_parent, group=new_group)
        if label is not UNSET:
            tag.label = names.clean_label(label) if label else tag.name
        if color is not UNSET:
            tag.color = names.clean_color(color)
        if description is not UNSET:
            tag.description = names.clean_description(description)
        after = tag.snapshot()
        if after != before:
            tag.updated_at = utcnow()
            recorder.record("tag", tag.id, "update", before, after)
        return tag


def _refuse_protected_descendants(actor: Actor, tag: Tag) -> None:
    """A rename or move rewrites every descendant's path: refuse it over protected ones."""
    if actor.is_system:
        return
    locked = db.session.scalar(
        select(Tag.path).where(
            Tag.deleted_at.is_(None), Tag.protected.is_(True),
            subtree_of(tag.id_path), Tag.id != tag.id,
        ).limit(1)
    )
    if locked is not None:
        raise PermissionDenied(
            f"renaming or moving {tag.path!r} would change the protected tag {locked!r}"
        )


def _id(obj: Tag | TagGroup | None) -> int | None:
    return obj.id if obj is not None else None


def _parent_of(tag: Tag) -> Tag | None:
    return db.session.get(Tag, tag.parent_id) if tag.parent_id else None


def _new_parent(scope_id: int, tag: Tag, handle: int | str) -> Tag:
    parent = find_tag(scope_id, handle)
    if parent is None:
        raise ValidationFailed.field("parent", f"no live tag {handle!r}")
    if parent.id_path.startswith(tag.id_path):
        raise ValidationFailed.field(
            "parent", f"{parent.path!r} is {tag.path!r} or one of its descendants; "
            "the move would make a cycle"
        )
    return parent


def _group_for(
    actor: Actor,
    scope_id: int,
    recorder: ChangeRecorder,
    tag: Tag,
    parent: Tag | None,
    group: str | None,
) -> TagGroup | None:
    if parent is not None:
        if group is not UNSET and names.key(group or "") != names.key(
            parent.group.identifier if parent.group else ""
        ):
            raise ValidationFailed.field("group", "a child tag takes its parent's group")
        return parent.group
    if group is UNSET:
        return tag.group
    if not group:
        return None
    return ensure_group(actor, scope_id, recorder, names.clean_identifier(group, "group"))


def relocate(scope_id: int, tag: Tag, *, name: str, parent: Tag | None,
             group: TagGroup | None) -> None:
    """Give ``tag`` a new name, parent and/or group and rewrite the paths, keys, depths and
    group of its whole subtree in one UPDATE."""
    new_path = f"{parent.path}{names.PATH_SEPARATOR}{name}" if parent else name
    new_key = names.qualified_key(group.identifier if group else None, new_path)
    new_id_path = f"{parent.id_path if parent else '/'}{tag.id}/"
    new_depth = parent.depth + 1 if parent else 0
    subtree = subtree_of(tag.id_path)
    if new_key != tag.path_key:
        clash = db.session.scalar(
            select(Tag.path).where(
                Tag.scope_id == scope_id, Tag.deleted_at.is_(None), Tag.path_key == new_key,
                Tag.id != tag.id,
            )
        )
        if clash is not None:
            raise Conflict(f"a tag named {clash!r} already exists there",
                           [FieldError("name", "already exists")])
    if len(new_path) > len(tag.path):
        longest = db.session.scalar(select(func.max(func.length(Tag.path))).where(subtree)) or 0
        if longest - len(tag.path) + len(new_path) > names.PATH_MAX:
            raise ValidationFailed.field(
                "name", f"a descendant's path would exceed {names.PATH_MAX} characters"
            )
    if group is not None and group.id != tag.group_id:
        subtree_ids = select(Tag.id).where(subtree)
        check_allowed_types(group, subtree_ids)
        if group.exclusive:
            check_exclusive(group, subtree_ids)
    old_path, old_key, old_id_path = tag.path, tag.path_key, tag.id_path
    db.session.execute(
        update(Tag)
        .where(subtree)
        .values(
            path=literal(new_path) + func.substr(Tag.path, len(old_path) + 1),
            path_key=literal(new_key) + func.substr(Tag.path_key, len(old_key) + 1),
            id_path=literal(new_id_path) + func.substr(Tag.id_path, len(old_id_path) + 1),
            depth=Tag.depth + (new_depth - tag.depth),
            group_id=group.id if group else None,
            updated_at=utcnow(),
        ),
        execution_options={"synchronize_session": False},
    )
    expire_tags(where=lambda other: other is not tag and other.id_path.startswith(old_id_path))
    tag.name, tag.path, tag.path_key, tag.id_path = name, new_path, new_key, new_id_path
    tag.parent_id, tag.depth, tag.group = _id(parent), new_depth, group
    tag.group_id = _id(group)  # the snapshot reads the column, not the relationship


class MovedTag(NamedTuple):
    """Where a tag of a bulk move ended up."""

    id: int
    path: str
    parent_id: int | None


Blame = Callable[[int, ServiceError], ServiceError]
"""Turns an error about the tag with this id into the error the caller reports."""


@dataclass
class _Move:
    """A tag's new place: its new path, key, ``id_path``, depth, parent and group (the
    whole subtree takes the group)."""

    tag: TagFacts
    path: str
    key: str
    id_path: str
    depth: int
    parent_id: int | None
    group_id: int | None


def relocate_all(actor: Actor, scope_id: int, recorder: ChangeRecorder,
                 movers: Sequence[TagFacts], parent: Tag | None, blame: Blame, *,
                 check_protected: bool = True) -> list[MovedTag]:
    """Move every tag of ``movers`` under ``parent`` (``None``: to the top level) with its
    subtree, by the rules of :func:`update_tag` (a child takes its parent's group; no
    cycle; no clash with a sibling, nor between two movers; paths within the limit; the
    group's rules hold for the moved links), and record an update event for each mover.

    Set-based: the checks read every subtree in one statement, and one UPDATE … FROM a
    JSON table of ``id_path`` ranges rewrites every subtree; a mover inside another
    mover's subtree is cut out of the outer range and moved on its own.  A tag already
    in place is left as it is.  ``check_protected=False`` moves protected tags too (a
    merge moves the children of the tags it takes away)."""
    group = parent.group if parent is not None else None
    moves: dict[int, _Move] = {}
    for tag in movers:
        try:
            if check_protected:
                refuse_protected(actor, [tag])
            if parent is not None and parent.id_path.startswith(tag.id_path):
                raise ValidationFailed.field(
                    "parent", f"{parent.path!r} is {tag.path!r} or one of its descendants; "
                    "the move would make a cycle")
        except ServiceError as error:
            raise blame(tag.id, error) from error
        if tag.parent_id == _id(parent) and (parent is None or tag.group_id == parent.group_id):
            continue
        path = f"{parent.path}{names.PATH_SEPARATOR}{tag.name}" if parent else tag.name
        group_name = (group.identifier if group else None) if parent else tag.group
        moves.setdefault(tag.id, _Move(
            tag, path, names.qualified_key(group_name, path),
            f"{parent.id_path if parent else '/'}{tag.id}/",
            parent.depth + 1 if parent else 0, _id(parent),
            parent.group_id if parent else tag.group_id))
    if moves:
        _check_moves(actor, scope_id, list(moves.values()), group, blame,
                     check_protected=check_protected)
        _rewrite_subtrees(list(moves.values()))
        recorder.record_many([
            {"object_type": "tag", "object_id": move.tag.id, "action": "update",
             "before": move.tag.snapshot(),
             "after": {**move.tag.snapshot(), "parent_id": _id(parent), "path": move.path,
                       "group_id": parent.group_id if parent else move.tag.group_id}}
            for move in moves.values()
        ])
        expire_tags()
    return [MovedTag(tag.id, moves[tag.id].path, _id(parent)) if tag.id in moves
            else MovedTag(tag.id, tag.path, tag.parent_id) for tag in movers]


def _check_moves(actor: Actor, scope_id: int, moves: Sequence[_Move],
                 group: TagGroup | None, blame: Blame, *, check_protected: bool) -> None:
    """Refuse protected descendants, clashes and over-long paths (one statement each),
    then the destination group's rules over every moved subtree."""
    ranges = subtree_ranges([move.tag for move in moves], "moving")
    locked = case((and_(Tag.protected.is_(True), Tag.deleted_at.is_(None),
                        Tag.id != ranges.c.top), 1), else_=0)
    facts = {top: (longest, protected) for top, longest, protected in db.session.execute(
        select(ranges.c.top, func.max(func.length(Tag.path)), func.sum(locked))
        .select_from(ranges).join(Tag, in_range(ranges)).group_by(ranges.c.top)
    ).tuples()}
    keys = json_rows([[move.key] for move in moves], [("key", "text")], "new_keys")
    taken = dict(db.session.execute(
        select(Tag.path_key, Tag.path).where(
            Tag.scope_id == scope_id, Tag.deleted_at.is_(None),
            Tag.path_key.in_(select(keys.c.key)))
    ).tuples().all())
    seen: set[str] = set()
    for move in moves:
        tag = move.tag
        longest, protected = facts.get(tag.id, (len(tag.path), 0))
        try:
            if check_protected and protected and not actor.is_system:
                raise PermissionDenied(f"moving {tag.path!r} would change {protected} "
                                       "protected tag(s) under it")
            if move.key in taken or move.key in seen:
                raise Conflict(f"a tag named {taken.get(move.key, move.path)!r} already "
                               "exists there", [FieldError("name", "already exists")])
            if len(move.path) > len(tag.path) and (
                    (longest or 0) - len(tag.path) + len(move.path) > names.PATH_MAX):
                raise ValidationFailed.field(
                    "name", f"a descendant's path would exceed {names.PATH_MAX} characters")
        except ServiceError as error:
            raise blame(tag.id, error) from error
        seen.add(move.key)
    regrouped = [move.tag for move in moves if group is not None
                 and move.tag.group_id != group.id]
    if group is not None and regrouped:
        moved = subtree_ranges(regrouped, "regrouped")
        subtree_ids = select(Tag.id).select_from(moved).join(Tag, in_range(moved))
        try:
            check_allowed_types(group, subtree_ids)
            if group.exclusive:
                check_exclusive(group, subtree_ids)
        except ServiceError as error:
            raise blame(regrouped[0].id, error) from error


class Place(NamedTuple):
    """Where :func:`relocate_each` puts a tag: under ``parent_id`` (``None``: at the top
    level, in the group ``group_id``; a child takes its parent's group)."""

    parent_id: int | None
    group_id: int | None


class Relocated(NamedTuple):
    """A tag :func:`relocate_each` moved: its snapshot before and after."""

    id: int
    before: dict[str, Any]
    after: dict[str, Any]


def relocate_each(scope_id: int, places: Mapping[int, Place]) -> list[Relocated]:
    """Put every live tag of ``places`` (by id) in its own place, with its subtree: what
    undoing a bulk move or a merge does.  Returns each tag's snapshots, those already in
    place included; ids of no live tag are left out.

    The parents may be deleted (a merge's sources, revived after) or be moved too: each
    tag goes under its parent as that parent will be once every tag is in place, the
    outcome of undoing the moves one at a time in reverse order.  Refused as
    :func:`relocate` refuses: a live tag holding a new name (or two of them the same), a
    path over the limit, a group's rules broken (allowed resource types, exclusive); and a
    parent that no longer exists or now lies under the tag (a cycle).

    Set-based: a fixed number of statements whatever the number of tags (the tags and
    parents in one read, their groups in another, one statement per check, one UPDATE …
    FROM for every subtree, as :func:`relocate_all`)."""
    wanted = set(places) | {place.parent_id for place in places.values()
                            if place.parent_id is not None}
    rows, live = _facts_by_id(wanted)
    tops = {tag_id: place for tag_id, place in places.items() if tag_id in live}
    group_ids = {place.group_id for place in tops.values() if place.group_id is not None}
    group_ids |= {row.group_id for row in rows.values() if row.group_id is not None}
    groups = {group.id: group for group in db.session.scalars(
        select(TagGroup).where(TagGroup.id.in_(group_ids)))} if group_ids else {}
    homes = _Homes(rows, tops, groups)
    moves = [homes.move(tag_id) for tag_id in tops]
    moving = [move for move in moves if (move.id_path, move.key, move.group_id) != (
        move.tag.id_path, move.tag.path_key, move.tag.group_id)]
    if moving:
        _check_homes(scope_id, moving)
        _rewrite_subtrees(moving)
        _check_group_rules([move for move in moving if move.group_id != move.tag.group_id],
                           groups)
        expire_tags()
    return [Relocated(move.tag.id, move.tag.snapshot(), {
        **move.tag.snapshot(), "parent_id": move.parent_id, "group_id": move.group_id,
        "path": move.path}) for move in moves]


def _facts_by_id(ids: set[int]) -> tuple[dict[int, TagFacts], set[int]]:
    """The tags with these ids, deleted ones too, in one statement; and the live ones."""
    chosen = integer_list(sorted(ids), "tag_ids")
    rows: dict[int, TagFacts] = {}
    live: set[int] = set()
    for row in db.session.execute(
        select(*_FACT_COLUMNS, Tag.deleted_at)
        .outerjoin(TagGroup, TagGroup.id == Tag.group_id)
        .where(Tag.id.in_(select(chosen.c.id)))
    ):
        rows[row.id] = TagFacts(*row[:len(_FACT_COLUMNS)])
        if row.deleted_at is None:
            live.add(row.id)
    return rows, live


class _Home(NamedTuple):
    path: str
    key: str
    id_path: str
    depth: int
    group_id: int | None
    group: str | None  # the group's identifier


class _Homes:
    """Where each tag will be once every tag of ``tops`` is in its place (worked out
    once per tag, parents first)."""

    def __init__(self, rows: Mapping[int, TagFacts], tops: Mapping[int, Place],
                 groups: Mapping[int, TagGroup]) -> None:
        self.rows, self.tops, self.groups = rows, tops, groups
        self.known: dict[int, _Home] = {}
        self.pending: set[int] = set()

    def move(self, tag_id: int) -> _Move:
        home = self.of(tag_id)
        return _Move(self.rows[tag_id], home.path, home.key, home.id_path, home.depth,
                     self.tops[tag_id].parent_id, home.group_id)

    def of(self, tag_id: int) -> _Home:
        known = self.known.get(tag_id)
        if known is not None:
            return known
        tag = self.rows[tag_id]
        if tag_id in self.pending:
            raise Conflict(f"{tag.path!r} cannot go back under its parent, which now lies "
                           "under it; move the parent out first")
        self.pending.add(tag_id)
        place = self.tops.get(tag_id)
        if place is not None:
            home = self._placed(tag, place)
        else:  # not moved itself: it goes with the nearest moved tag above it, if any
            above = [int(part) for part in tag.id_path.strip("/").split("/")[:-1]]
            carrier = next((top for top in reversed(above) if top in self.tops), None)
            home = (_Home(tag.path, tag.path_key, tag.id_path, tag.depth, tag.group_id,
                          tag.group) if carrier is None else self._carried(tag, carrier))
        self.pending.discard(tag_id)
        self.known[tag_id] = home
        return home

    def _placed(self, tag: TagFacts, place: Place) -> _Home:
        if place.parent_id is None:
            group = self.groups.get(place.group_id) if place.group_id is not None else None
            identifier = group.identifier if group is not None else None
            return _Home(tag.name, names.qualified_key(identifier, tag.name),
                         f"/{tag.id}/", 0, _id(group), identifier)
        if place.parent_id not in self.rows:
            raise Conflict(f"the parent of {tag.path!r} no longer exists")
        parent = self.of(place.parent_id)
        path = f"{parent.path}{names.PATH_SEPARATOR}{tag.name}"
        return _Home(path, names.qualified_key(parent.group, path),
                     f"{parent.id_path}{tag.id}/", parent.depth + 1, parent.group_id,
                     parent.group)

    def _carried(self, tag: TagFacts, carrier: int) -> _Home:
        top, home = self.rows[carrier], self.of(carrier)
        return _Home(home.path + tag.path[len(top.path):],
                     home.key + tag.path_key[len(top.path_key):],
                     home.id_path + tag.id_path[len(top.id_path):],
                     tag.depth + home.depth - top.depth, home.group_id, home.group)


def _check_homes(scope_id: int, moves: Sequence[_Move]) -> None:
    """Refuse a new name a live tag holds or two movers share, and over-long paths (one
    statement each)."""
    keys = json_rows([[move.key] for move in moves], [("key", "text")], "new_keys")
    holders = {key: (tag_id, path) for key, tag_id, path in db.session.execute(
        select(Tag.path_key, Tag.id, Tag.path).where(
            Tag.scope_id == scope_id, Tag.deleted_at.is_(None),
            Tag.path_key.in_(select(keys.c.key)))
    ).tuples()}
    seen: set[str] = set()
    for move in moves:
        holder = holders.get(move.key)
        if (holder is not None and holder[0] != move.tag.id) or move.key in seen:
            taken = holder[1] if holder is not None else move.path
            raise Conflict(f"{move.tag.path!r} cannot go back: a tag named {taken!r} "
                           "already exists there", [FieldError("name", "already exists")])
        seen.add(move.key)
    if all(len(move.path) <= len(move.tag.path) for move in moves):
        return
    moved = {move.tag.id: move for move in moves}
    table = json_rows([(move.tag.id, lo, hi) for lo, hi, move in _intervals(moves)],
                      [("top", "integer"), ("lo", "text"), ("hi", "text")], "moving")
    for top, longest in db.session.execute(
        select(table.c.top, func.max(func.length(Tag.path)))
        .select_from(table).join(Tag, in_range(table)).group_by(table.c.top)
    ).tuples():
        move = moved[top]
        if (longest or 0) - len(move.tag.path) + len(move.path) > names.PATH_MAX:
            raise ValidationFailed.field(
                "name", f"a descendant's path would exceed {names.PATH_MAX} characters")


def _check_group_rules(moves: Sequence[_Move], groups: Mapping[int, TagGroup]) -> None:
    """After the moves: refuse links to resource types a new group does not allow, and
    resources carrying two tags of a new exclusive group (the rules of
    :func:`~webapp.services.groups.check_allowed_types` and
    :func:`~webapp.services.groups.check_exclusive`), one statement each for every group."""
    ruled = sorted((move for move in moves if move.group_id in groups
                    and groups[move.group_id].allowed_types), key=lambda move: move.id_path)
    outermost: list[_Move] = []
    for move in ruled:
        if not outermost or not move.id_path.startswith(outermost[-1].id_path):
            outermost.append(move)
    if outermost:
        ranges = json_rows([(move.id_path, move.id_path[:-1] + "0") for move in outermost],
                           [("lo", "text"), ("hi", "text")], "regrouped")
        wrong: dict[int, list[str]] = {}
        for group_id, rtype, count in db.session.execute(
            select(Tag.group_id, Resource.type, func.count())
            .select_from(ranges).join(Tag, in_range(ranges))
            .join(Assignment, Assignment.tag_id == Tag.id)
            .join(Resource, Resource.id == Assignment.resource_id)
            .group_by(Tag.group_id, Resource.type).order_by(Tag.group_id, Resource.type)
        ).tuples():
            if rtype not in groups[group_id].allowed_types:
                wrong.setdefault(group_id, []).append(f"{count} {rtype}")
        for group_id, found in wrong.items():
            listing = ", ".join(found)
            raise Conflict(
                f"tags of group {groups[group_id].identifier!r} are attached to resources "
                f"it would not allow ({listing})",
                [FieldError("allowed_types", f"existing links to {listing}")])
    exclusive = {move.group_id for move in moves
                 if move.group_id in groups and groups[move.group_id].exclusive}
    if exclusive:
        crowded = (
            select(Tag.group_id.label("group_id"))
            .join(Assignment, Assignment.tag_id == Tag.id)
            .where(Tag.group_id.in_(exclusive))
            .group_by(Tag.group_id, Assignment.resource_id)
            .having(func.count() > 1)
            .subquery("crowded")
        )
        for group_id, count in db.session.execute(
            select(crowded.c.group_id, func.count()).group_by(crowded.c.group_id)
            .order_by(crowded.c.group_id).limit(1)
        ).tuples():
            identifier = groups[group_id].identifier
            raise Conflict(
                f"{count} resource(s) carry more than one tag of the exclusive group "
                f"{identifier!r}; detach the extras first",
                [FieldError("exclusive", f"{count} resource(s) carry several tags of the "
                            "group")])


def _intervals(moves: Sequence[_Move]) -> list[tuple[str, str, _Move]]:
    """Disjoint ``id_path`` intervals ``(lo, hi, move)``: each mover's subtree with the
    subtrees of the movers inside it cut out (they go to their own places)."""
    ordered = sorted(moves, key=lambda move: move.tag.id_path)
    inner: dict[int, list[_Move]] = {move.tag.id: [] for move in ordered}
    stack: list[_Move] = []
    for move in ordered:
        while stack and not move.tag.id_path.startswith(stack[-1].tag.id_path):
            stack.pop()
        if stack:
            inner[stack[-1].tag.id].append(move)
        stack.append(move)
    intervals: list[tuple[str, str, _Move]] = []
    for move in ordered:
        start = move.tag.id_path
        for nested in inner[move.tag.id]:
            intervals.append((start, nested.tag.id_path, move))
            start = nested.tag.id_path[:-1] + "0"
        intervals.append((start, move.tag.id_path[:-1] + "0", move))
    return intervals


def _rewrite_subtrees(moves: Sequence[_Move]) -> None:
    """One UPDATE … FROM a JSON table of disjoint ``id_path`` intervals, each carrying
    its mover's new path, key and ``id_path`` prefixes, depth shift, parent and group."""
    rows = []
    for lo, hi, move in _intervals(moves):
        tag = move.tag
        rows.append((lo, hi, tag.id, move.path, len(tag.path) + 1, move.key,
                     len(tag.path_key) + 1, move.id_path, len(tag.id_path) + 1,
                     move.depth - tag.depth, move.parent_id, move.group_id))
    table = json_rows(rows, [
        ("lo", "text"), ("hi", "text"), ("top", "integer"), ("path", "text"),
        ("path_cut", "integer"), ("key", "text"), ("key_cut", "integer"),
        ("id_path", "text"), ("id_path_cut", "integer"), ("shift", "integer"),
        ("parent_id", "integer"), ("group_id", "integer"),
    ], "intervals")
    db.session.execute(
        update(Tag).where(in_range(table)).values(
            path=table.c.path + func.substr(Tag.path, table.c.path_cut),
            path_key=table.c.key + func.substr(Tag.path_key, table.c.key_cut),
            id_path=table.c.id_path + func.substr(Tag.id_path, table.c.id_path_cut),
            depth=Tag.depth + table.c.shift,
            parent_id=case((Tag.id == table.c.top, table.c.parent_id), else_=Tag.parent_id),
            group_id=table.c.group_id,
            updated_at=utcnow(),
        ),
        execution_options={"synchronize_session": False},
    )


# --- delete and restore -----------------------------------------------------------------


class DeletedTag(NamedTuple):
    """A tag a soft delete took away (its row is not loaded as an object)."""

    id: int
    path: str


def delete_tag(actor: Actor, scope_id: int, handle: int | str, *, hierarchy: bool = False
               ) -> list[DeletedTag]:
    """Soft-delete a tag; with ``hierarchy`` its live descendants too, else live children
    make it a Conflict. Returns the tags deleted, the named one first."""
    with writing(actor, scope_id, f"Delete tag {handle}") as recorder:
        authorize(actor, scope_id, Permission.TAGS_DELETE)
        return soft_delete(actor, recorder, live_tag(scope_id, handle), hierarchy)


@dataclass
class BulkDeleteOutcome:
    deleted: list[DeletedTag]
    not_found: list[str]
    refused: list[str]


def bulk_delete_tags(
    actor: Actor, scope_id: int, handles: Sequence[int | str], *, hierarchy: bool = False
) -> BulkDeleteOutcome:
    """Delete many tags in one change set. Unknown handles are reported, not fatal; a tag
    that cannot go (live children without ``hierarchy``, protected) is reported as refused.
    A handle naming a tag this call already deleted (given twice, or a descendant of a
    hierarchy deleted before it) is neither.

    Set-based: the handles are looked up, the subtrees (or, without ``hierarchy``, the live
    children) read as rows and the chosen tags marked in one statement each, so the number
    of statements does not grow with the number of tags.  The handles are then judged in
    order, as one at a time would: a parent given after its last live child has gone too
    may go."""
    if not handles:
        raise ValidationFailed.field("tag_ids", "give at least one tag")
    if len(handles) > MAX_BULK_DELETE:
        raise LimitExceeded(
            f"at most {MAX_BULK_DELETE} tags per bulk delete ({len(handles)} given)",
            [FieldError("tag_ids", f"at most {MAX_BULK_DELETE} items")])
    outcome = BulkDeleteOutcome([], [], [])
    with writing(actor, scope_id, f"Delete {len(handles)} tag(s)") as recorder:
        authorize(actor, scope_id, Permission.TAGS_DELETE)
        found = find_live_tags(scope_id, handles)
        named = {tag.id: tag for tag in found if tag is not None}
        if hierarchy:
            below = _live_subtrees(list(named.values()))
            starts = [row.id_path for row in below]
        else:
            children: dict[int, set[int]] = {}
            for child in live_children(list(named)):
                children.setdefault(child.parent_id or 0, set()).add(child.id)
        gone: set[int] = set()
        for handle, tag in zip(handles, found, strict=True):
            if tag is None:
                outcome.not_found.append(str(handle))
                continue
            if tag.id in gone:
                continue
            if hierarchy:
                first = bisect_left(starts, tag.id_path)
                last = bisect_left(starts, tag.id_path[:-1] + "0")
                doomed = [row for row in below[first:last] if row.id not in gone]
            else:
                doomed = [tag] if not children.get(tag.id, set()) - gone else []
            if not doomed or (not actor.is_system and any(row.protected for row in doomed)):
                outcome.refused.append(str(handle))
                continue
            gone.update(row.id for row in doomed)
            outcome.deleted.extend(DeletedTag(row.id, row.path) for row in doomed)
        if outcome.deleted:
            mark_deleted(recorder, [item.id for item in outcome.deleted])
    return outcome


class _SubtreeRow(NamedTuple):
    id: int
    path: str
    id_path: str
    protected: bool


def _outermost(tags: Iterable[TagFacts]) -> list[TagFacts]:
    """The tags that lie under no other of them, in ``id_path`` order."""
    kept: list[TagFacts] = []
    for tag in sorted(tags, key=lambda item: item.id_path):
        if not kept or not tag.id_path.startswith(kept[-1].id_path):
            kept.append(tag)
    return kept


def subtree_ranges(tags: Iterable[TagFacts], name: str = "subtrees") -> Any:
    """A derived table ``(top, lo, hi)``: each tag's ``id_path`` range (one JSON
    parameter; join it with :func:`in_range`)."""
    return json_rows([(tag.id, tag.id_path, tag.id_path[:-1] + "0") for tag in tags],
                     [("top", "integer"), ("lo", "text"), ("hi", "text")], name)


def in_range(ranges: Any) -> ColumnElement[bool]:
    return and_(Tag.id_path >= ranges.c.lo, Tag.id_path < ranges.c.hi)


def _live_subtrees(tops: Sequence[TagFacts]) -> list[_SubtreeRow]:
    """Every live tag in the subtrees of ``tops``, in ``id_path`` order, in one statement."""
    if not tops:
        return []
    ranges = subtree_ranges(_outermost(tops))
    rows = db.session.execute(
        select(Tag.id, Tag.path, Tag.id_path, Tag.protected)
        .select_from(ranges).join(Tag, in_range(ranges))
        .where(Tag.deleted_at.is_(None))
    ).all()
    return sorted((_SubtreeRow(*row) for row in rows), key=lambda row: row.id_path)


def live_children(parent_ids: Sequence[int]) -> list[TagFacts]:
    """The live children of the given tags, in one statement.

    The ids go in as a list of values, not a JSON table: PostgreSQL then weighs each id
    against the parent column's statistics, where a JSON table of unknown size joined to
    parents of a thousand children each looked like most of the scope and was read by a
    scan (30 ms in a scope of 100,000 tags)."""
    if not parent_ids:
        return []
    rows = db.session.execute(
        select(*_FACT_COLUMNS).outerjoin(TagGroup, TagGroup.id == Tag.group_id)
        .where(Tag.parent_id.in_(list(parent_ids)), Tag.deleted_at.is_(None))
    ).all()
    return [TagFacts(*row) for row in rows]


def mark_deleted(recorder: ChangeRecorder, tag_ids: Sequence[int]) -> None:
    """Soft-delete the given live tags in one UPDATE and record a delete event for each
    (no checks: the caller decided they go)."""
    now = utcnow()
    chosen = integer_list(tag_ids, "doomed")
    db.session.execute(
        update(Tag).where(Tag.id.in_(select(chosen.c.id)), Tag.deleted_at.is_(None))
        .values(deleted_at=now, updated_at=now),
        execution_options={"synchronize_session": False},
    )
    expire_tags(set(tag_ids))
    recorder.record_many([
        {"object_type": "tag", "object_id": tag_id, "action": "delete",
         "before": {"deleted": False}, "after": {"deleted": True}} for tag_id in tag_ids
    ])


def soft_delete(actor: Actor, recorder: ChangeRecorder, tag: Tag, hierarchy: bool
                ) -> list[DeletedTag]:
    """Soft-delete ``tag`` (with ``hierarchy``, its live descendants too) inside the
    running write; refuses live children without ``hierarchy`` and protected tags.

    Set-based: the subtree is read as (id, path, protected) rows, not objects (10,000
    tags would cost more to load than to delete), and marked in one UPDATE."""
    in_subtree = (Tag.deleted_at.is_(None), subtree_of(tag.id_path))
    subtree = db.session.execute(
        select(Tag.id, Tag.path, Tag.protected).where(*in_subtree).order_by(Tag.id_path)
    ).all()
    if len(subtree) > 1 and not hierarchy:
        raise Conflict(
            f"tag {tag.path!r} has {len(subtree) - 1} live descendant(s); delete the hierarchy "
            "to remove them too",
            [FieldError("deleteHierarchy", "required to delete a tag with children")],
        )
    refuse_protected(actor, subtree)
    now = utcnow()
    db.session.execute(
        update(Tag).where(*in_subtree).values(deleted_at=now, updated_at=now),
        execution_options={"synchronize_session": False},
    )
    ids = [row.id for row in subtree]
    expire_tags(set(ids))
    recorder.record_many([
        {"object_type": "tag", "object_id": item_id, "action": "delete",
         "before": {"deleted": False}, "after": {"deleted": True}} for item_id in ids
    ])
    return [DeletedTag(row.id, row.path) for row in subtree]


def restore_tag(actor: Actor, scope_id: int, handle: int | str, *, hierarchy: bool = False
                ) -> list[Tag]:
    """Bring a deleted tag back (with ``hierarchy``, the descendants deleted with it).
    Its parent must be live and no live tag may hold its name."""
    with writing(actor, scope_id, f"Restore tag {handle}") as recorder:
        authorize(actor, scope_id, Permission.TAGS_DELETE)
        tag = find_tag(scope_id, handle, include_deleted=True)
        if tag is None:
            raise NotFound(f"tag {handle!r} not found")
        if tag.deleted_at is None:
            raise Conflict(f"tag {tag.path!r} is not deleted")
        return restore_tags(scope_id, recorder, tag, hierarchy)


def restore_tags(scope_id: int, recorder: ChangeRecorder, tag: Tag, hierarchy: bool
                 ) -> list[Tag]:
    if tag.parent_id is not None:
        parent = db.session.get(Tag, tag.parent_id)
        if parent is not None and parent.deleted_at is not None:
            raise Conflict(f"restore the parent {parent.path!r} first")
    query = select(Tag).where(Tag.id == tag.id)
    if hierarchy:
        query = select(Tag).where(
            subtree_of(tag.id_path), Tag.deleted_at == tag.deleted_at
        )
    revived = db.session.scalars(query.order_by(Tag.id_path)).all()
    keys = [item.path_key for item in revived]
    clash = db.session.scalar(
        select(Tag.path).where(
            Tag.scope_id == scope_id, Tag.deleted_at.is_(None), Tag.path_key.in_(keys)
        )
    )
    if clash is not None:
        raise Conflict(f"a live tag named {clash!r} exists; rename it first")
    now = utcnow()
    for item in revived:
        item.deleted_at = None
        item.updated_at = now
    db.session.flush()
    recorder.record_many([
        {"object_type": "tag", "object_id": item.id, "action": "restore",
         "before": {"deleted": True}, "after": {"deleted": False}} for item in revived
    ])
    return list(revived)
