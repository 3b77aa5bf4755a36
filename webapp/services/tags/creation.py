"""Creating tags: one, many (all or nothing), and the missing ancestors of a path."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    String,
    literal,
    select,
    union_all,
)

from webapp.extensions import db
from webapp.ids import public_id, uuid7
from webapp.models import Tag, TagGroup
from webapp.models.types import utcnow
from webapp.services import names
from webapp.services.actor import Actor, Permission, authorize
from webapp.services.errors import (
    Conflict,
    FieldError,
    ValidationFailed,
)
from webapp.services.groups import (
    ensure_group,
)
from webapp.services.tags.aliases import find_holders
from webapp.services.tags.lookup import find_tag
from webapp.services.uow import ChangeRecorder, writing

CREATE_PERMISSIONS = (Permission.TAGS_CREATE, Permission.TAGS_WRITE)
# How a grouped path key joins its group's key and the path's (``names.qualified_key``).
GROUP_KEY_SEPARATOR = names.key(names.GROUP_SEPARATOR)



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


class Uniqueness(enum.Enum):
    """Which live tags a new tag's name must differ from (a clash is a Conflict)."""

    # The same path in the same group, or in none: the unique index's rule, so the same
    # name may live in several groups (seed 002: one identifier in different groups).
    GROUP = "group"
    # Also the same name at the same level in any group: a new root named like a live root
    # of another group (or of none) clashes.  Seed 004's create ("409 — Tag with this
    # name already exists"); a child shares its parent's group, so under a parent the
    # group's rule is already the level's.  One statement more.
    LEVEL = "level"


def create_tag(actor: Actor, scope_id: int, spec: TagSpec, provenance: Provenance | None = None,
               *, uniqueness: Uniqueness = Uniqueness.GROUP) -> Tag:
    """Create one tag and any missing ancestors; a clash with a live tag is a Conflict."""
    return create_tags(actor, scope_id, [spec], provenance, summary=f"Create tag {spec.name}",
                       uniqueness=uniqueness)[0]


def create_tags(
    actor: Actor,
    scope_id: int,
    specs: Sequence[TagSpec],
    provenance: Provenance | None = None,
    *,
    summary: str | None = None,
    uniqueness: Uniqueness = Uniqueness.GROUP,
) -> list[Tag]:
    """Create several tags, all or nothing. Field errors of item ``i`` are named ``[i].field``
    when more than one item is given.  ``uniqueness`` says which live tags a name clashes
    with (see :class:`Uniqueness`)."""
    provenance = provenance or Provenance()
    with writing(actor, scope_id, summary or f"Create {len(specs)} tag(s)") as recorder:
        authorize(actor, scope_id, *CREATE_PERMISSIONS)
        planned = [_plan(scope_id, spec, index if len(specs) > 1 else None)
                   for index, spec in enumerate(specs)]
        _refuse_duplicates(scope_id, planned, batch=len(specs) > 1)
        if uniqueness is Uniqueness.LEVEL:
            _refuse_level_clashes(scope_id, planned, batch=len(specs) > 1)
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
    # A live tag or an alias holding a name clashes; an alias holding an ancestor too
    # (the ancestor would be created beside the tag the alias means).
    prefixes = {prefix.key: index for index, plan in enumerate(planned)
                for prefix in plan.qname.prefixes()}
    for key, holder in sorted(find_holders(scope_id, prefixes).items()):
        if key in seen or holder.is_alias:
            index = seen.get(key, prefixes[key])
            where = f"[{index}].name" if batch else "name"
            if holder.is_alias:
                raise Conflict(f"{holder.text!r} is an alias of another tag; name that tag",
                               [FieldError(where, f"{holder.text!r} is an alias")])
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


def _refuse_level_clashes(scope_id: int, planned: Sequence[_Planned], *, batch: bool) -> None:
    """A new root named like a live root of any group (or of none) is a Conflict naming
    it, in one statement: each name is probed as itself and as ``group::name`` of each of
    the scope's groups (index probes on the live path keys)."""
    wanted = {names.key(plan.qname.segments[0]) for plan in planned}
    candidates = union_all(
        *(select(literal(root, String()).label("key")) for root in sorted(wanted)),
        *(select((TagGroup.identifier_key + literal(GROUP_KEY_SEPARATOR + root, String())
                  ).label("key")).where(TagGroup.scope_id == scope_id)
          for root in sorted(wanted)),
    ).subquery()
    rows = db.session.execute(
        select(Tag.path_key, Tag.path, TagGroup.identifier)
        .outerjoin(TagGroup, TagGroup.id == Tag.group_id)
        .where(Tag.scope_id == scope_id, Tag.deleted_at.is_(None), Tag.parent_id.is_(None),
               Tag.path_key.in_(select(candidates.c.key)))
    ).all()
    live_roots = {row.path_key for row in rows}
    for index, plan in enumerate(planned):
        root = plan.qname.prefixes()[0]
        if root.key in live_roots:
            continue  # its root exists in its own group: nothing new at the top level
        clash = next((row for row in rows if names.key(row.path) == names.key(root.path)),
                     None)
        if clash is not None:
            where = f"[{index}].name" if batch else "name"
            existing = (f"{clash.identifier}{names.GROUP_SEPARATOR}{clash.path}"
                        if clash.identifier else clash.path)
            raise Conflict(
                f"a tag named {root.path!r} already exists at this level ({existing!r})",
                [FieldError(where, f"already exists at this level as {existing!r}")],
            )


def ensure_paths(
    actor: Actor,
    scope_id: int,
    recorder: ChangeRecorder,
    qnames: Iterable[names.QualifiedName],
    provenance: Provenance,
    *,
    attributes: Mapping[str, Mapping[str, Any]] | None = None,
    live: Mapping[str, Tag] | None = None,
) -> dict[str, Tag]:
    """Return the live tag of every name (by key), creating missing tags and ancestors.

    One query finds every existing prefix (none when the caller passes ``live``: every
    live tag among the names and their ancestors, by key, as a link plan holds them);
    missing tags are inserted level by level, so the statement count depends on the depth
    of the names, never on how many there are.
    """
    wanted = {prefix.key: prefix for qname in qnames for prefix in qname.prefixes()}
    found: dict[str, Tag] = (
        {key: live[key] for key in wanted if key in live} if live is not None else {
            tag.path_key: tag
            for tag in db.session.scalars(
                select(Tag).where(Tag.scope_id == scope_id, Tag.deleted_at.is_(None),
                                  Tag.path_key.in_(list(wanted)))
            )
        }
    )
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
