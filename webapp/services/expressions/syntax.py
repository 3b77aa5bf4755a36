"""The syntax of tag expressions: a tokenizer and a recursive-descent parser.

Grammar (keywords in any case; ``-`` is ``NOT``; juxtaposition is ``AND``)::

    expression := or
    or         := and ( "OR" and )*
    and        := unary ( [ "AND" ] unary )*
    unary      := ( "NOT" | "-" ) unary | primary
    primary    := "(" or ")" | term
    term       := "untagged" | KEY ":" value
    KEY        := tag | group | type | name | source      (any case)
    value      := bare | '"' ( any character, \\" or \\\\ )* '"'
    (a tag value ending in ".*", quoted or not, or a quoted one followed by ".*", names the
    tag and every tag below it)

A bare value runs to the next white space or parenthesis; a quoted one may hold anything
(``tag:"Discovered.Person Name"``).  ``NOT`` binds tighter than ``AND``, which binds tighter
than ``OR``.  Every error is a :class:`ExpressionError` whose message starts with the
1-based position it concerns: ``at 14: expected a value after "tag:"``.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Literal

from webapp.services.errors import FieldError, ValidationFailed

MAX_LENGTH = 2_000
MAX_TERMS = 100
MAX_DEPTH = 20  # parentheses and NOTs inside one another

TermKey = Literal["tag", "group", "type", "name", "source", "untagged"]
KEYS: tuple[TermKey, ...] = ("tag", "group", "type", "name", "source")
TERMS_HELP = "a term (tag:, group:, type:, name:, source: or untagged)"
# A tag value ending in this names the tag and every tag below it.
SUBTREE_SUFFIX = ".*"


class ExpressionError(ValidationFailed):
    """A malformed expression (or one naming what does not exist): ``position`` is the
    1-based column the message is about (None for the expression as a whole)."""

    def __init__(self, field: str, message: str, position: int | None = None,
                 more: tuple[FieldError, ...] = ()) -> None:
        text = f"at {position}: {message}" if position is not None else message
        details = (FieldError(field, text), *more)
        super().__init__("; ".join(f"{d.field}: {d.message}" for d in details), details)
        self.position = position


# --- the tree ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """``key:value`` (or ``untagged``, whose value is empty) at ``position``; the value
    starts at ``value_position``.  ``subtree`` is a ``tag:`` value that ended in ``.*``
    (removed from ``value``)."""

    key: TermKey
    value: str
    position: int
    value_position: int
    subtree: bool = False


@dataclass(frozen=True)
class Not:
    operand: Node


@dataclass(frozen=True)
class AllOf:
    operands: tuple[Node, ...]


@dataclass(frozen=True)
class AnyOf:
    operands: tuple[Node, ...]


Node = Term | Not | AllOf | AnyOf


@dataclass(frozen=True)
class Expression:
    """A parsed expression: its text, its tree and its terms in order."""

    text: str
    root: Node
    terms: tuple[Term, ...]

    def __str__(self) -> str:
        return self.text


# --- tokens -----------------------------------------------------------------------------

TokenKind = Literal["term", "and", "or", "not", "(", ")", "end"]


@dataclass(frozen=True)
class _Token:
    kind: TokenKind
    position: int  # 1-based
    text: str  # as typed, for messages
    term: Term | None = None


class _Tokenizer:
    def __init__(self, text: str, field: str) -> None:
        self.text = text
        self.field = field
        self.i = 0

    def error(self, position: int, message: str) -> ExpressionError:
        return ExpressionError(self.field, message, position)

    def tokens(self) -> list[_Token]:
        text, found = self.text, []
        while True:
            while self.i < len(text) and text[self.i].isspace():
                self.i += 1
            if self.i >= len(text):
                found.append(_Token("end", len(text) + 1, ""))
                return found
            char, position = text[self.i], self.i + 1
            if char in "()":
                found.append(_Token(char, position, char))  # type: ignore[arg-type]
                self.i += 1
            elif char == "-":
                found.append(_Token("not", position, "-"))
                self.i += 1
            elif char == '"':
                raise self.error(position, f"expected {TERMS_HELP} but found a quote; a "
                                 'quoted value follows its term: tag:"Discovered.Person Name"')
            else:
                found.append(self._word())

    def _word(self) -> _Token:
        text, start = self.text, self.i
        while self.i < len(text) and not text[self.i].isspace() and text[self.i] not in '()":':
            self.i += 1
        word = text[start:self.i]
        if self.i < len(text) and text[self.i] == ":":
            return self._term(word, start)
        keyword = word.casefold()
        if keyword in ("and", "or", "not"):
            return _Token(keyword, start + 1, word)  # type: ignore[arg-type]
        if keyword == "untagged":
            return _Token("term", start + 1, word, Term("untagged", "", start + 1, start + 1))
        raise self.error(start + 1, f'expected {TERMS_HELP} but found "{word}" (to match '
                         f"names, write name:*{word}*)")

    def _term(self, word: str, start: int) -> _Token:
        text = self.text
        key = word.casefold()
        if key not in KEYS:
            shown = f'"{word}:"' if word else '":"'
            raise self.error(start + 1, f"unknown term {shown}; expected {TERMS_HELP}")
        self.i += 1  # the colon
        value_at = self.i
        quoted_subtree = False
        if self.i < len(text) and text[self.i] == '"':
            value = self._quoted()
            if key == "tag" and text.startswith(SUBTREE_SUFFIX, self.i):
                quoted_subtree = True  # tag:"Discovered.Person Name".*
                self.i += len(SUBTREE_SUFFIX)
            if self.i < len(text) and not text[self.i].isspace() and text[self.i] not in "()":
                raise self.error(self.i + 1, 'expected a space or ")" after the closing quote')
        else:
            while self.i < len(text) and not text[self.i].isspace() and text[self.i] not in "()":
                self.i += 1
            value = text[value_at:self.i]
        if not value.strip():
            raise self.error(value_at + 1, f'expected a value after "{word}:"')
        value = value.strip()
        subtree = quoted_subtree or (key == "tag" and value.endswith(SUBTREE_SUFFIX))
        if subtree:
            value = value.removesuffix(SUBTREE_SUFFIX).rstrip()
            if not value:
                raise self.error(value_at + 1, f'expected a tag path before ".*" after "{word}:"')
        term = Term(key, value, start + 1, value_at + 1, subtree)  # type: ignore[arg-type]
        return _Token("term", start + 1, text[start:self.i], term)

    def _quoted(self) -> str:
        """The value of the quoted string at ``self.i``, with ``\\"`` and ``\\\\`` read as
        the character they escape (any other backslash is kept)."""
        text, opened = self.text, self.i
        self.i += 1
        out: list[str] = []
        while self.i < len(text):
            char = text[self.i]
            if char == "\\" and self.i + 1 < len(text) and text[self.i + 1] in '"\\':
                out.append(text[self.i + 1])
                self.i += 2
            elif char == '"':
                self.i += 1
                return "".join(out)
            else:
                out.append(char)
                self.i += 1
        raise self.error(opened + 1, 'this quote is never closed; expected a closing "')


# --- the parser -------------------------------------------------------------------------


class _Parser:
    def __init__(self, tokens: list[_Token], field: str) -> None:
        self.tokens = tokens
        self.field = field
        self.at = 0
        self.depth = 0
        self.terms: list[Term] = []

    def error(self, position: int, message: str) -> ExpressionError:
        return ExpressionError(self.field, message, position)

    def peek(self) -> _Token:
        return self.tokens[self.at]

    def take(self) -> _Token:
        token = self.tokens[self.at]
        if token.kind != "end":
            self.at += 1
        return token

    def parse(self) -> Node:
        node = self.parse_or(None)
        token = self.peek()
        if token.kind == ")":
            raise self.error(token.position, 'found ")" with no "(" before it to close')
        assert token.kind == "end", token
        return node

    def parse_or(self, after: _Token | None) -> Node:
        operands = [self.parse_and(after)]
        while self.peek().kind == "or":
            operands.append(self.parse_and(self.take()))
        return operands[0] if len(operands) == 1 else AnyOf(tuple(operands))

    def parse_and(self, after: _Token | None) -> Node:
        operands = [self.parse_unary(after)]
        while True:
            kind = self.peek().kind
            if kind == "and":
                operands.append(self.parse_unary(self.take()))
            elif kind in ("term", "not", "("):  # side by side: AND
                operands.append(self.parse_unary(None))
            else:
                break
        return operands[0] if len(operands) == 1 else AllOf(tuple(operands))

    def parse_unary(self, after: _Token | None) -> Node:
        if self.peek().kind == "not":
            token = self.take()
            with self.nested(token):
                return Not(self.parse_unary(token))
        return self.parse_primary(after)

    def parse_primary(self, after: _Token | None) -> Node:
        token = self.take()
        if token.kind == "term":
            assert token.term is not None
            if len(self.terms) >= MAX_TERMS:
                raise self.error(token.position, f"too many terms (at most {MAX_TERMS})")
            self.terms.append(token.term)
            return token.term
        if token.kind == "(":
            with self.nested(token):
                node = self.parse_or(token)
            closing = self.take()
            if closing.kind != ")":
                raise self.error(closing.position, f'expected ")" to close the "(" at '
                                 f"{token.position} but found {_shown(closing)}")
            return node
        expected = f'after "{after.text}" ' if after is not None else ""
        raise self.error(token.position,
                         f"expected {TERMS_HELP} {expected}but found {_shown(token)}")

    def nested(self, token: _Token) -> _Depth:
        return _Depth(self, token)


class _Depth:
    """Counts one level of nesting while a ``(`` or ``NOT`` is parsed."""

    def __init__(self, parser: _Parser, token: _Token) -> None:
        self.parser = parser
        self.token = token

    def __enter__(self) -> None:
        self.parser.depth += 1
        if self.parser.depth > MAX_DEPTH:
            raise self.parser.error(
                self.token.position,
                f"nested too deeply (at most {MAX_DEPTH} parentheses and NOTs inside one "
                "another)")

    def __exit__(self, *_exc: object) -> None:
        self.parser.depth -= 1


def _shown(token: _Token) -> str:
    return "the end of the expression" if token.kind == "end" else f'"{token.text}"'


def _refuse_controls(text: str, field: str) -> None:
    for index, char in enumerate(text):
        if char in "\t\n\r":
            continue
        if unicodedata.category(char) in ("Cc", "Cs"):
            raise ExpressionError(field, f"control character U+{ord(char):04X} is not "
                                  "allowed", index + 1)


def parse(text: str, field: str = "q") -> Expression:
    """Parse an expression; ExpressionError (a ValidationFailed naming ``field``) when it
    is malformed, too long, too deep or holds too many terms."""
    if not isinstance(text, str):
        raise ExpressionError(field, "must be text")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(field, f"must be at most {MAX_LENGTH:,} characters "
                              f"({len(text):,} given)")
    _refuse_controls(text, field)
    if not text.strip():
        raise ExpressionError(field, f"expected {TERMS_HELP}", 1)
    parser = _Parser(_Tokenizer(text, field).tokens(), field)
    root = parser.parse()
    return Expression(text, root, tuple(parser.terms))


def parse_optional(raw: object, field: str = "q") -> Expression | None:
    """None for no expression (None or blank text), else :func:`parse`."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    return parse(raw, field)  # type: ignore[arg-type]
