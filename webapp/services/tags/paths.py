"""Seed 003's dotted-path operations, composed from the tag and link services.

* ``save_paths``: create paths (ancestors made as needed), rename or move tags by id to a
  new full name, and with ``delete_hierarchy`` replace a root's children, in one change set;
* ``tag_resource`` / ``untag_resource``: add existing tags to, or remove one from, one
  resource of any type (the seed's datasource, column and project, and every other);
* ``delete_by_name``: soft-delete a tag (and with ``hierarchy`` its subtree) by path.

Results are read back after the write commits, in one query, so serialising them never
reloads expired rows one by one.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import select, update

from webapp.extensions import db
from webapp.models import RESOURCE_TYPES, Assignment, AssignmentContext, Resource, Tag
from webapp.models.types import utcnow
from webapp.services import names
from webapp.services.actor import Actor, Permission, authorize
from webapp.services.assignments import attach, detach
from webapp.services.errors import (
    FieldError,
    LimitExceeded,
    NotFound,
    ServiceError,
    ValidationFailed,
)
from webapp.services.link_plan import MAX_NAMES, refuse_unassignable
from webapp.services.resources import clean_external_id
from webapp.services.sql import integer_list
from webapp.services.tags.aliases import find_holders
from webapp.services.tags.creation import CREATE_PERMISSIONS, Provenance, ensure_paths
from webapp.services.tags.deletion import delete_tag
from webapp.services.tags.hierarchy import update_tag
from webapp.services.tags.lookup import Reading, find_tag, refuse_protected, subtree_of
from webapp.services.unset import UNSET
from webapp.services.uow import ChangeRecorder, writing

MAX_ITEMS = 1000
# The words of ``/tag/{modelType}/{modelId}``: the seed's datasource, column and project,
# and every other resource type (docs/decisions.md, "What /tag/… means").
MODEL_TYPES: tuple[str, ...] = RESOURCE_TYPES
CURATED = "curated"


# --- look-ups ---------------------------------------------------------------------------


def load_tags(tag_ids: Sequence[int]) -> list[Tag]:
    """The tags with these ids, in this order, in one query."""
    if not tag_ids:
        return []
    wanted = select(integer_list(list(set(tag_ids)), "wanted").c.id)
    rows = db.session.scalars(select(Tag).where(Tag.id.in_(wanted))).all()
    by_id = {tag.id: tag for tag in rows}
    return [by_id[tag_id] for tag_id in tag_ids]


# --- create, rename and replace (POST /tag) ---------------------------------------------


@dataclass(frozen=True)
class PathItem:
    """A full name to create, or (with ``tag_id``) the new full name of that tag."""

    name: str
    tag_id: int | None = None


@dataclass(frozen=True)
class RootSpec:
    """The parent whose hierarchy the items describe."""

    name: str
    source: str | None = None
    delete_hierarchy: bool = False


@dataclass(frozen=True)
class _Parsed:
    index: int
    qname: names.QualifiedName
    tag_id: int | None


def save_paths(actor: Actor, scope_id: int, items: Sequence[PathItem],
               root: RootSpec | None = None) -> list[Tag]:
    """Create or rename the items' tags, all or nothing; returns them in item order.

    An item without an id is created with its missing ancestors (an existing live tag of
    that name is returned as it is).  An item with an id renames or moves that tag to the
    given full name.  Renames run first, in item order, so a created name may reuse one a
    rename frees.  With a root, every name must lie under it; with
    ``root.delete_hierarchy`` the root's other live descendants are soft-deleted.
    """
    root_qname = _parse_root(root)
    parsed = _parse_items(items, root_qname)
    renames = [item for item in parsed if item.tag_id is not None]
    creates = [item for item in parsed if item.tag_id is None]
    with writing(actor, scope_id, _save_summary(parsed, root)) as recorder:
        if creates or root_qname is not None:
            authorize(actor, scope_id, *CREATE_PERMISSIONS)
        if renames:
            authorize(actor, scope_id, Permission.TAGS_WRITE)
        if root is not None and root.delete_hierarchy:
            authorize(actor, scope_id, Permission.TAGS_DELETE)
        if root is not None and root_qname is not None and root.source is not None:
            _check_root_source(scope_id, root_qname, root.source)
        result: dict[int, int] = {}
        targets = _live_by_ids(scope_id, renames)
        for item in renames:
            with _item_fields(item.index):
                result[item.index] = _rename(actor, scope_id, recorder, targets[item.index],
                                             item.qname)
        wanted = [item.qname for item in creates]
        if root_qname is not None:
            wanted.append(root_qname)
        if wanted:
            found = ensure_paths(actor, scope_id, recorder, wanted, Provenance())
            result.update({item.index: found[item.qname.key].id for item in creates})
            if root is not None and root.delete_hierarchy:
                _replace_hierarchy(actor, recorder, found[root_qname.key],
                                   list(result.values()))
        ordered = [result[item.index] for item in parsed]
    return load_tags(ordered)


def _parse_root(root: RootSpec | None) -> names.QualifiedName | None:
    if root is None:
        return None
    if root.source is not None and root.source.strip().casefold() != CURATED:
        raise ValidationFailed.field("root.source", f"must be {CURATED!r}")
    return names.parse_name(root.name, "root.name")


def _parse_items(items: Sequence[PathItem], root: names.QualifiedName | None
                 ) -> list[_Parsed]:
    if not items and root is None:
        raise ValidationFailed.field("tags", "give at least one tag")
    if len(items) > MAX_ITEMS:
        raise LimitExceeded(f"at most {MAX_ITEMS} tags per call ({len(items)} given)",
                            [FieldError("tags", f"at most {MAX_ITEMS} tags")])
    parsed: list[_Parsed] = []
    keys: dict[str, int] = {}
    ids: dict[int, int] = {}
    for index, item in enumerate(items):
        field = f"tags[{index}].name"
        qname = names.parse_name(item.name, field)
        if root is not None and not _is_under(qname, root):
            raise ValidationFailed.field(field, f"must lie under the root tag {root.text!r}")
        if qname.key in keys:
            raise ValidationFailed.field(field, f"{qname.text!r} is given twice")
        if item.tag_id is not None and item.tag_id in ids:
            raise ValidationFailed.field(f"tags[{index}].id", f"id {item.tag_id} is given twice")
        keys[qname.key] = index
        if item.tag_id is not None:
            ids[item.tag_id] = index
        parsed.append(_Parsed(index, qname, item.tag_id))
    return parsed


def _is_under(qname: names.QualifiedName, root: names.QualifiedName) -> bool:
    depth = len(root.segments)
    return (
        len(qname.segments) > depth
        and names.key(qname.group or "") == names.key(root.group or "")
        and tuple(map(names.key, qname.segments[:depth])) == tuple(map(names.key, root.segments))
    )


def _save_summary(parsed: Sequence[_Parsed], root: RootSpec | None) -> str:
    if root is not None:
        return f"Save {len(parsed)} tag(s) under {root.name.strip()}"
    return f"Save {len(parsed)} tag(s)"


def _check_root_source(scope_id: int, root: names.QualifiedName, source: str) -> None:
    existing = find_tag(scope_id, root.text, reading=Reading.NAME_FIRST)
    if existing is not None and existing.source.casefold() != source.strip().casefold():
        raise ValidationFailed.field(
            "root.source", f"{existing.path!r} comes from source {existing.source!r}"
        )


def _live_by_ids(scope_id: int, renames: Sequence[_Parsed]) -> dict[int, Tag]:
    """The live tag of every rename item (by item index); NotFound naming the first
    unknown id."""
    if not renames:
        return {}
    ids = [item.tag_id for item in renames if item.tag_id is not None]
    rows = db.session.scalars(
        select(Tag).where(Tag.scope_id == scope_id, Tag.deleted_at.is_(None), Tag.id.in_(ids))
    ).all()
    by_id = {tag.id: tag for tag in rows}
    missing = [item for item in renames if item.tag_id not in by_id]
    if missing:
        raise NotFound(
            f"no live tag with id {missing[0].tag_id}",
            [FieldError(f"tags[{item.index}].id", f"no live tag with id {item.tag_id}")
             for item in missing],
        )
    return {item.index: by_id[item.tag_id] for item in renames if item.tag_id is not None}


@contextmanager
def _item_fields(index: int) -> Iterator[None]:
    """Re-raise a service error of item ``index`` with its fields named ``tags.<i>.…``."""
    try:
        yield
    except ServiceError as error:
        details = [
            FieldError(f"tags[{index}].name" if d.field in ("name", "parent", "group")
                       else d.field, d.message)
            for d in error.details
        ] or [FieldError(f"tags[{index}].name", error.message)]
        raise type(error)(error.message, details) from None


def _rename(actor: Actor, scope_id: int, recorder: ChangeRecorder, tag: Tag,
            qname: names.QualifiedName) -> int:
    """Give ``tag`` the full name ``qname`` (a rename, a move, or both)."""
    parent_qname = qname.parent
    if parent_qname is None:
        update_tag(actor, scope_id, tag.id, name=qname.leaf, parent=None, group=qname.group)
        return tag.id
    parent = ensure_paths(actor, scope_id, recorder, [parent_qname], Provenance())
    update_tag(actor, scope_id, tag.id, name=qname.leaf, parent=parent[parent_qname.key].id,
               group=UNSET)
    return tag.id


def _replace_hierarchy(actor: Actor, recorder: ChangeRecorder, root: Tag,
                       kept_ids: Sequence[int]) -> None:
    """Soft-delete the root's live descendants that are neither kept nor an ancestor of a
    kept tag (so no live tag is left under a deleted parent)."""
    kept_paths = db.session.scalars(select(Tag.id_path).where(Tag.id.in_(list(kept_ids)))).all()
    keep = {root.id} | {int(part) for path in kept_paths for part in path.strip("/").split("/")}
    doomed = db.session.scalars(
        select(Tag).where(Tag.deleted_at.is_(None), subtree_of(root.id_path),
                          Tag.id.not_in(select(integer_list(sorted(keep), "keep").c.id)))
        .order_by(Tag.id_path)
    ).all()
    if not doomed:
        return
    refuse_protected(actor, doomed)
    now = utcnow()
    db.session.execute(
        update(Tag)
        .where(Tag.id.in_(select(integer_list([tag.id for tag in doomed], "doomed").c.id)))
        .values(deleted_at=now, updated_at=now),
        execution_options={"synchronize_session": False},
    )
    for tag in doomed:
        tag.deleted_at = now
        tag.updated_at = now
    recorder.record_many([
        {"object_type": "tag", "object_id": tag.id, "action": "delete",
         "before": {"deleted": False}, "after": {"deleted": True}} for tag in doomed
    ])


# --- tags on one resource (POST/DELETE /tag/{modelType}/{modelId}) ----------------------


@dataclass(frozen=True)
class ResourceTag:
    """A tag on a resource, with how and by whom it was added."""

    name: str
    source: str
    context: str
    added_by: int | None
    deleted: bool


def clean_model(model_type: str, model_id: str) -> tuple[str, str]:
    """The resource type and external id a ``/tag/{modelType}/{modelId}`` URL names."""
    rtype = model_type.strip().lower() if isinstance(model_type, str) else ""
    if rtype not in MODEL_TYPES:
        raise ValidationFailed.field("resource_type",
                                     f"must be one of {', '.join(MODEL_TYPES)}")
    external_id = clean_external_id(model_id, "resource_id")
    if rtype == "column":
        datasource, _, column = external_id.partition("_")
        if not datasource or not column:
            raise ValidationFailed.field(
                "resource_id", "a column is named <datasource id>_<column> (such as 6_countrycode)"
            )
    return rtype, external_id


def tag_resource(actor: Actor, scope_id: int, model_type: str, model_id: str,
                 tag_names: Sequence[str]) -> list[ResourceTag]:
    """Add existing live tags to one resource (registered on the fly), all or nothing: an
    unknown or deleted name fails the call and nothing is added.  New links are ``manual``;
    links already there keep their context and adder."""
    authorize(actor, scope_id, Permission.TAGS_WRITE)
    rtype, external_id = clean_model(model_type, model_id)
    if not tag_names:
        raise ValidationFailed.field("names", "give at least one tag")
    if len(tag_names) > MAX_NAMES:
        raise LimitExceeded(f"at most {MAX_NAMES} tags per call ({len(tag_names)} given)",
                            [FieldError("names", f"at most {MAX_NAMES} tags")])
    qnames = [names.parse_name(name, f"names[{index}]") for index, name in enumerate(tag_names)]
    with writing(actor, scope_id, f"Tag {rtype} {external_id}"):
        _refuse_unknown(scope_id, qnames)
        outcome = attach(actor, scope_id, [q.text for q in qnames], {rtype: [external_id]},
                         context=AssignmentContext.MANUAL, create_missing=False)
        return _links(scope_id, rtype, external_id, outcome.tags)


def _refuse_unknown(scope_id: int, qnames: Sequence[names.QualifiedName]) -> None:
    known = find_holders(scope_id, [q.key for q in qnames])  # live tags and aliases
    unknown = [(index, q) for index, q in enumerate(qnames) if q.key not in known]
    if unknown:
        raise ValidationFailed(
            "unknown or deleted tag(s): " + ", ".join(q.text for _, q in unknown)
            + "; nothing was added",
            [FieldError(f"names[{index}]", f"unknown or deleted tag {q.text!r}")
             for index, q in unknown],
        )


def _links(scope_id: int, rtype: str, external_id: str, tags: Sequence[Tag]
           ) -> list[ResourceTag]:
    rows = db.session.execute(
        select(Assignment.tag_id, Assignment.context, Assignment.added_by_id)
        .join(Resource, Resource.id == Assignment.resource_id)
        .where(Resource.scope_id == scope_id, Resource.type == rtype,
               Resource.external_id == external_id,
               Assignment.tag_id.in_([tag.id for tag in tags]))
    ).all()
    links = {row.tag_id: row for row in rows}
    return [
        ResourceTag(tag.qualified_name, tag.source, links[tag.id].context,
                    links[tag.id].added_by_id, tag.deleted_at is not None)
        for tag in tags
    ]


def untag_resource(actor: Actor, scope_id: int, model_type: str, model_id: str,
                   tag_name: str) -> ResourceTag:
    """Remove one live tag from one resource; NotFound when the tag or the resource is
    unknown, or the tag is not on the resource.  Returns the link removed."""
    authorize(actor, scope_id, Permission.TAGS_WRITE)
    rtype, external_id = clean_model(model_type, model_id)
    with writing(actor, scope_id, f"Untag {rtype} {external_id}"):
        tag = find_tag(scope_id, tag_name, reading=Reading.NAME_FIRST)
        if tag is None:
            raise NotFound(f"tag {tag_name!r} not found", [FieldError("tag", "no such tag")])
        refuse_unassignable(actor, scope_id, [(tag.qualified_name, tag.group)])
        resource_id = db.session.scalar(
            select(Resource.id).where(Resource.scope_id == scope_id, Resource.type == rtype,
                                      Resource.external_id == external_id)
        )
        if resource_id is None:
            raise NotFound(f"{rtype} {external_id!r} not found",
                           [FieldError("resource_id", f"no such {rtype}")])
        link = db.session.get(Assignment, (tag.id, resource_id))
        if link is None:
            raise NotFound(f"tag {tag.qualified_name!r} is not on {rtype} {external_id!r}",
                           [FieldError("tag", f"not on this {rtype}")])
        removed = ResourceTag(tag.qualified_name, tag.source, link.context, link.added_by_id,
                              False)
        detach(actor, scope_id, [tag.qualified_name], {rtype: [external_id]})
    return removed


# --- delete by path (DELETE /tag/{tag}) -------------------------------------------------


def delete_by_name(actor: Actor, scope_id: int, name: str, *, hierarchy: bool = False
                   ) -> list[Tag]:
    """Soft-delete the live tag named ``name`` (with ``hierarchy``, its live subtree);
    live children without ``hierarchy`` are a Conflict, protected tags PermissionDenied.
    Returns the tags deleted, the named one first."""
    with writing(actor, scope_id, f"Delete tag {name}"):
        authorize(actor, scope_id, Permission.TAGS_DELETE)
        tag = find_tag(scope_id, name, reading=Reading.NAME_FIRST)
        if tag is None:
            raise NotFound(f"tag {name!r} not found", [FieldError("tag", "no such tag")])
        deleted = [item.id for item in delete_tag(actor, scope_id, tag.id, hierarchy=hierarchy)]
    return load_tags(deleted)
