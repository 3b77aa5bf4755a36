"""Tag expressions as SQL: the names an expression uses are resolved in one statement, and
the tree becomes one condition on ``resources`` (EXISTS / NOT EXISTS on the links).

:func:`resolve` checks every term (an unknown tag, group, source or type is an error naming
it and its position, never an empty result) and gives a :class:`Matcher`, whose
:meth:`~Matcher.condition` is added to any ``SELECT`` over ``Resource`` and whose
:meth:`~Matcher.select_ids` is the ``SELECT`` of the matching resource ids.  Neither checks
permissions: the caller has authorized the read of the scope.

Only live tags count: a deleted tag's links are hidden everywhere, so they are here too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    and_,
    exists,
    func,
    literal,
    not_,
    null,
    or_,
    select,
    union_all,
)

from webapp.extensions import db
from webapp.models import RESOURCE_TYPES, Assignment, ExternalTagSource, Resource, Tag, TagGroup
from webapp.services import names
from webapp.services.errors import FieldError, ValidationFailed
from webapp.services.expressions.syntax import (
    AllOf,
    Expression,
    ExpressionError,
    Node,
    Not,
    Term,
    parse,
)
from webapp.services.sql import json_rows
from webapp.services.tags.lookup import subtree_of


@dataclass(frozen=True)
class ResolvedTag:
    id: int
    id_path: str


@dataclass(frozen=True, eq=False)
class Matcher:
    """An expression resolved in one scope: every tag, group and source it names exists
    there.  Building its SQL reads nothing more."""

    scope_id: int
    expression: Expression
    tags: Mapping[str, ResolvedTag]  # a tag term's value → the live tag
    groups: Mapping[str, int]  # a group term's value → the group's id

    @property
    def text(self) -> str:
        return self.expression.text

    def condition(self) -> ColumnElement[bool]:
        """The condition on ``Resource`` (correlated EXISTS subqueries): AND it into any
        query of the scope's resources."""
        return _condition(self.expression.root, self)

    def select_ids(self) -> Select[tuple[int]]:
        """``SELECT resources.id`` of the scope's matching resources."""
        return select(Resource.id).where(Resource.scope_id == self.scope_id, self.condition())


def compile_expression(scope_id: int, text: str, field: str = "q") -> Select[tuple[int]]:
    """Parse, resolve and compile in one call: the ``SELECT`` of the resource ids of the
    scope that ``text`` matches (ExpressionError naming ``field`` otherwise)."""
    return resolve(scope_id, parse(text, field), field).select_ids()


# --- resolving names --------------------------------------------------------------------


def _tag_key(term: Term) -> str | tuple[None, str]:
    """The path key a ``tag:`` term names, or ``(None, why it is not a tag path)``."""
    try:
        return names.parse_name(term.value).key
    except ValidationFailed as error:
        reason = error.details[0].message if error.details else error.message
        return None, f'"{term.value}" is not a tag path: {reason}'


def resolve(scope_id: int, expression: Expression, field: str = "q") -> Matcher:
    """Look up every tag, group and source the expression names, in one statement.

    Raises ExpressionError (field ``field``) listing each unknown one with its position:
    ``at 5: unknown tag "Adress.email"``, as well as unknown resource types."""
    problems: list[tuple[int, str]] = []
    tag_keys: dict[Term, str] = {}
    for term in expression.terms:
        if term.key == "tag":
            key = _tag_key(term)
            if isinstance(key, tuple):
                problems.append((term.value_position, key[1]))
            else:
                tag_keys[term] = key
        elif term.key == "type" and term.value.casefold() not in RESOURCE_TYPES:
            problems.append((term.value_position, f'unknown resource type "{term.value}"; '
                             f"known: {', '.join(RESOURCE_TYPES)}"))
    _raise(field, problems)
    group_values = {t.value for t in expression.terms if t.key == "group"}
    source_values = {t.value for t in expression.terms if t.key == "source"}
    rows = _lookup(scope_id, set(tag_keys.values()), group_values, source_values)
    found_tags: dict[str, ResolvedTag] = {}
    groups_by_key: dict[str, int] = {}
    groups_by_public_id: dict[str, int] = {}
    sources: set[str] = set()
    for kind, key, alternative, row_id, id_path in rows:
        if kind == "tag":
            found_tags[key] = ResolvedTag(row_id, id_path)
        elif kind == "group":
            groups_by_key[key] = row_id
            groups_by_public_id[alternative] = row_id
        else:
            sources.add(key)
    tags: dict[str, ResolvedTag] = {}
    groups: dict[str, int] = {}
    for term in expression.terms:
        if term.key == "tag":
            tag = found_tags.get(tag_keys[term])
            if tag is None:
                problems.append((term.value_position, f'unknown tag "{term.value}" (no live '
                                 "tag of this scope has that path)"))
            else:
                tags[term.value] = tag
        elif term.key == "group":
            group_id = (groups_by_public_id.get(term.value)
                        or groups_by_key.get(names.key(term.value)))
            if group_id is None:
                problems.append((term.value_position, f'unknown group "{term.value}"'))
            else:
                groups[term.value] = group_id
        elif term.key == "source" and term.value not in sources:
            problems.append((term.value_position, f'unknown source "{term.value}" (no tag of '
                             "this scope comes from it)"))
    _raise(field, problems)
    return Matcher(scope_id, expression, tags, groups)


def _raise(field: str, problems: list[tuple[int, str]]) -> None:
    if not problems:
        return
    problems.sort()
    (position, message), *rest = problems
    raise ExpressionError(field, message, position,
                          tuple(FieldError(field, f"at {p}: {m}") for p, m in rest))


def _lookup(scope_id: int, tag_keys: set[str], group_values: set[str],
            source_values: set[str]) -> list[tuple[str, str, str, int, str]]:
    """``(kind, key, alternative key, id, id_path)`` of the named tags (by path key),
    groups (by identifier key or public id) and sources (a tag or a configured external
    source of that name): one statement, nothing when no name is used."""
    parts: list[Select[tuple[str, str, str, int, str]]] = []
    if tag_keys:
        parts.append(
            select(literal("tag", String), Tag.path_key, null().cast(String),
                   Tag.id, Tag.id_path)
            .where(Tag.scope_id == scope_id, Tag.deleted_at.is_(None),
                   Tag.path_key.in_(sorted(tag_keys)))
        )
    if group_values:
        parts.append(
            select(literal("group", String), TagGroup.identifier_key, TagGroup.public_id,
                   TagGroup.id, null().cast(String))
            .where(TagGroup.scope_id == scope_id,
                   or_(TagGroup.identifier_key.in_(sorted({names.key(v) for v in group_values})),
                       TagGroup.public_id.in_(sorted(group_values))))
        )
    if source_values:
        wanted = json_rows([[value] for value in sorted(source_values)], [("value", "text")],
                           "expression_sources")
        # One index probe per name (a DISTINCT over the scope's tags would read them all).
        parts.append(
            select(literal("source", String), wanted.c.value, null().cast(String),
                   literal(0, Integer), null().cast(String))
            .where(or_(
                exists().where(Tag.scope_id == scope_id, Tag.source == wanted.c.value),
                exists().where(ExternalTagSource.scope_id == scope_id,
                               ExternalTagSource.name == wanted.c.value),
            ))
        )
    if not parts:
        return []
    statement = parts[0] if len(parts) == 1 else union_all(*parts)
    return [tuple(row) for row in db.session.execute(statement)]  # type: ignore[misc]


# --- the condition ----------------------------------------------------------------------


def _condition(node: Node, matcher: Matcher) -> ColumnElement[bool]:
    if isinstance(node, Term):
        return _term(node, matcher)
    if isinstance(node, Not):
        return not_(_condition(node.operand, matcher))
    parts = [_condition(operand, matcher) for operand in node.operands]
    return and_(*parts) if isinstance(node, AllOf) else or_(*parts)


def _carries(*where: ColumnElement[bool]) -> ColumnElement[bool]:
    """The resource has a link to a live tag for which ``where`` holds."""
    return (
        select(Assignment.tag_id)
        .join(Tag, Tag.id == Assignment.tag_id)
        .where(Assignment.resource_id == Resource.id, Tag.deleted_at.is_(None), *where)
        .correlate(Resource)
        .exists()
    )


def glob_pattern(glob: str) -> str:
    """A LIKE pattern (escape ``\\``) for a glob: ``*`` any run, ``?`` one character, the
    LIKE wildcards ``%`` and ``_`` (and ``\\``) literal; lower-cased."""
    out = []
    for char in glob.lower():
        if char == "*":
            out.append("%")
        elif char == "?":
            out.append("_")
        elif char in "%_\\":
            out.append("\\" + char)
        else:
            out.append(char)
    return "".join(out)


def _term(term: Term, matcher: Matcher) -> ColumnElement[bool]:
    if term.key == "tag":
        tag = matcher.tags[term.value]
        if term.subtree:
            return _carries(subtree_of(tag.id_path))
        return (  # the tag itself: a primary-key probe, no join
            select(Assignment.tag_id)
            .where(Assignment.resource_id == Resource.id, Assignment.tag_id == tag.id)
            .correlate(Resource)
            .exists()
        )
    if term.key == "group":
        return _carries(Tag.group_id == matcher.groups[term.value])
    if term.key == "source":
        return _carries(Tag.source == term.value)
    if term.key == "untagged":
        return not_(_carries())
    if term.key == "type":
        return Resource.type == term.value.casefold()
    pattern = glob_pattern(term.value)  # name: on the name or the slug (never NULL-valued)
    return or_(*(and_(column.is_not(None), func.lower(column).like(pattern, escape="\\"))
                 for column in (Resource.name, Resource.slug)))
