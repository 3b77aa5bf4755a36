"""Changing a tag's place and fields: update (label, colour, description, group, name,
parent), and relocating one or many tags, where a rename or move rewrites the whole subtree
in one statement.  Descendants whose paths a rename or move rewrites are derived state and
are not recorded one by one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import (
    and_,
    case,
    func,
    literal,
    select,
    update,
)

from webapp.extensions import db
from webapp.models import Assignment, Resource, Tag, TagGroup
from webapp.models.types import utcnow
from webapp.services import names
from webapp.services.actor import Actor, Permission, authorize
from webapp.services.errors import (
    Conflict,
    FieldError,
    PermissionDenied,
    ServiceError,
    ValidationFailed,
)
from webapp.services.groups import (
    check_allowed_types,
    check_exclusive,
    ensure_group,
)
from webapp.services.policies.enforce import TagMove, refuse_policy_breaking_moves
from webapp.services.sql import integer_list, json_rows
from webapp.services.tags.aliases import find_holders, name_holders
from webapp.services.tags.lookup import (
    FACT_COLUMNS,
    TagFacts,
    expire_tags,
    find_tag,
    in_range,
    live_tag,
    refuse_protected,
    subtree_of,
    subtree_ranges,
)
from webapp.services.unset import UNSET
from webapp.services.uow import ChangeRecorder, writing


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
        holder = find_holders(scope_id, [new_key]).get(new_key)
        if holder is not None and holder.is_alias:
            raise holder.clash("name")
        if holder is not None and holder.tag_id != tag.id:
            raise Conflict(f"a tag named {holder.text!r} already exists there",
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
    old_group_id = tag.group_id
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
    refuse_policy_breaking_moves(scope_id, [TagMove(old_id_path, new_id_path, old_group_id,
                                                    _id(group))])
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
        refuse_policy_breaking_moves(scope_id, _tag_moves(moves.values()))
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


def _tag_moves(moves: Iterable[_Move]) -> list[TagMove]:
    return [TagMove(move.tag.id_path, move.id_path, move.tag.group_id, move.group_id)
            for move in moves]


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
    holders = name_holders(scope_id, select(keys.c.key)).subquery()
    taken = {row.key: (f"{row.text} (an alias)" if row.is_alias else row.text)
             for row in db.session.execute(select(holders))}
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
        refuse_policy_breaking_moves(scope_id, _tag_moves(moving))
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
        select(*FACT_COLUMNS, Tag.deleted_at)
        .outerjoin(TagGroup, TagGroup.id == Tag.group_id)
        .where(Tag.id.in_(select(chosen.c.id)))
    ):
        rows[row.id] = TagFacts(*row[:len(FACT_COLUMNS)])
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
