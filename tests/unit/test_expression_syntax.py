"""Tag expressions, the syntax alone (no database): every construct, precedence, quoting,
and errors that name their 1-based position and what was expected."""

from __future__ import annotations

import pytest

from webapp.services.errors import ValidationFailed
from webapp.services.expressions.syntax import (
    MAX_DEPTH,
    MAX_LENGTH,
    MAX_TERMS,
    AllOf,
    AnyOf,
    ExpressionError,
    Node,
    Not,
    Term,
    parse,
    parse_optional,
)


def shape(node: Node) -> str:
    """The tree in prefix form: ``(and tag:a (not type:table))``."""
    if isinstance(node, Term):
        if node.key == "untagged":
            return "untagged"
        return f"{node.key}:{node.value}" + (".*" if node.subtree else "")
    if isinstance(node, Not):
        return f"(not {shape(node.operand)})"
    word = "and" if isinstance(node, AllOf) else "or"
    assert isinstance(node, AllOf | AnyOf)
    return f"({word} {' '.join(shape(o) for o in node.operands)})"


def tree(text: str) -> str:
    return shape(parse(text).root)


def error(text: str, field: str = "q") -> ExpressionError:
    with pytest.raises(ExpressionError) as caught:
        parse(text, field)
    return caught.value


def message(text: str) -> str:
    found = error(text)
    assert [d.field for d in found.details] == ["q"]
    return found.details[0].message


# --- terms ------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("tag:Address.email", "tag:Address.email"),
    ("tag:priority::high", "tag:priority::high"),
    ("tag:Address.*", "tag:Address.*"),
    ("group:sensitivity", "group:sensitivity"),
    ("type:table", "type:table"),
    ("name:*-ads", "name:*-ads"),
    ("name:report_?", "name:report_?"),
    ("source:feed", "source:feed"),
    ("untagged", "untagged"),
    ("UNTAGGED", "untagged"),
    ("TAG:x", "tag:x"),
    ("Type:table", "type:table"),
    ('tag:"Discovered.Person Name"', "tag:Discovered.Person Name"),
    ('tag:"say \\"hi\\""', 'tag:say "hi"'),
    ('tag:"back\\\\slash"', "tag:back\\slash"),
    ('tag:"keep \\n as is"', "tag:keep \\n as is"),
    ('tag:"Discovered.Person Name".*', "tag:Discovered.Person Name.*"),
    ('tag:"Discovered.*"', "tag:Discovered.*"),
    ('name:"two words"', "name:two words"),
    ("name:a:b", "name:a:b"),
    ("tag:a-b", "tag:a-b"),
    ("  tag:padded  ", "tag:padded"),
])
def test_terms(text: str, expected: str) -> None:
    assert tree(text) == expected


def test_terms_know_their_positions() -> None:
    expression = parse('type:table  tag:"Discovered.Person Name" -untagged')
    assert [(t.key, t.position, t.value_position) for t in expression.terms] == [
        ("type", 1, 6), ("tag", 13, 17), ("untagged", 43, 43)]
    assert str(expression) == expression.text


# --- operators and precedence -----------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("tag:a AND tag:b", "(and tag:a tag:b)"),
    ("tag:a tag:b", "(and tag:a tag:b)"),
    ("tag:a and tag:b", "(and tag:a tag:b)"),
    ("tag:a OR tag:b", "(or tag:a tag:b)"),
    ("tag:a or tag:b", "(or tag:a tag:b)"),
    ("NOT tag:a", "(not tag:a)"),
    ("not tag:a", "(not tag:a)"),
    ("-tag:a", "(not tag:a)"),
    ("- tag:a", "(not tag:a)"),
    ("NOT NOT tag:a", "(not (not tag:a))"),
    ("--tag:a", "(not (not tag:a))"),
    # NOT > AND > OR
    ("tag:a OR tag:b AND tag:c", "(or tag:a (and tag:b tag:c))"),
    ("tag:a AND tag:b OR tag:c", "(or (and tag:a tag:b) tag:c)"),
    ("tag:a OR tag:b tag:c", "(or tag:a (and tag:b tag:c))"),
    ("NOT tag:a AND tag:b", "(and (not tag:a) tag:b)"),
    ("NOT tag:a OR tag:b", "(or (not tag:a) tag:b)"),
    ("type:table AND NOT group:sensitivity", "(and type:table (not group:sensitivity))"),
    ("type:table -group:sensitivity", "(and type:table (not group:sensitivity))"),
    # parentheses
    ("(tag:a OR tag:b) AND tag:c", "(and (or tag:a tag:b) tag:c)"),
    ("(tag:a OR tag:b)tag:c", "(and (or tag:a tag:b) tag:c)"),
    ("NOT (tag:a OR tag:b)", "(not (or tag:a tag:b))"),
    ("-(tag:a tag:b)", "(not (and tag:a tag:b))"),
    ("((tag:a))", "tag:a"),
    ("(tag:a)", "tag:a"),
    ("tag:a OR tag:b OR tag:c", "(or tag:a tag:b tag:c)"),
    ("tag:a tag:b AND tag:c", "(and tag:a tag:b tag:c)"),
    ("(type:table OR type:source) name:*-ads -untagged",
     "(and (or type:table type:source) name:*-ads (not untagged))"),
])
def test_operators_and_precedence(text: str, expected: str) -> None:
    assert tree(text) == expected


def test_a_minus_inside_a_value_is_part_of_it() -> None:
    assert tree("name:*-ads -name:x-y") == "(and name:*-ads (not name:x-y))"


def test_a_closing_parenthesis_ends_a_bare_value() -> None:
    assert tree("(tag:a OR name:b*)") == "(or tag:a name:b*)"


# --- errors -----------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("type:table AND tag:", 'at 20: expected a value after "tag:"'),
    ("tag: x", 'at 5: expected a value after "tag:"'),
    ('tag:""', 'at 5: expected a value after "tag:"'),
    ('name:"  "', 'at 6: expected a value after "name:"'),
    ("tag:.*", 'at 5: expected a tag path before ".*" after "tag:"'),
    ("tag:a AND", 'at 10: expected a term (tag:, group:, type:, name:, source: or untagged) '
                  'after "AND" but found the end of the expression'),
    ("tag:a OR OR tag:b", "at 10: expected a term (tag:, group:, type:, name:, source: or "
                          'untagged) after "OR" but found "OR"'),
    ("NOT", 'at 4: expected a term (tag:, group:, type:, name:, source: or untagged) after '
            '"NOT" but found the end of the expression'),
    ("tag:a -", 'at 8: expected a term (tag:, group:, type:, name:, source: or untagged) '
                'after "-" but found the end of the expression'),
    ("AND tag:a", 'at 1: expected a term (tag:, group:, type:, name:, source: or untagged) '
                  'but found "AND"'),
    ("(tag:a", 'at 7: expected ")" to close the "(" at 1 but found the end of the expression'),
    ("(tag:a OR (tag:b)", 'at 18: expected ")" to close the "(" at 1 but found the end of '
                          "the expression"),
    ("tag:a)", 'at 6: found ")" with no "(" before it to close'),
    ("()", 'at 2: expected a term (tag:, group:, type:, name:, source: or untagged) after '
           '"(" but found ")"'),
    ('tag:"unclosed', 'at 5: this quote is never closed; expected a closing "'),
    ('tag:"a"b', 'at 8: expected a space or ")" after the closing quote'),
    ('"Person Name"', "at 1: expected a term (tag:, group:, type:, name:, source: or "
                      'untagged) but found a quote; a quoted value follows its term: '
                      'tag:"Discovered.Person Name"'),
    ("tag:a ads", "at 7: expected a term (tag:, group:, type:, name:, source: or untagged) "
                  'but found "ads" (to match names, write name:*ads*)'),
    ("owner:bob", 'at 1: unknown term "owner:"; expected a term (tag:, group:, type:, name:, '
                  "source: or untagged)"),
    (":x", 'at 1: unknown term ":"; expected a term (tag:, group:, type:, name:, source: or '
           "untagged)"),
    ("", "at 1: expected a term (tag:, group:, type:, name:, source: or untagged)"),
    ("   ", "at 1: expected a term (tag:, group:, type:, name:, source: or untagged)"),
    ("tag:a\x00b", "at 6: control character U+0000 is not allowed"),
])
def test_errors_name_the_position_and_what_was_expected(text: str, expected: str) -> None:
    assert message(text) == expected


def test_errors_are_validation_failures_naming_the_field() -> None:
    found = error("tag:", field="expression")
    assert isinstance(found, ValidationFailed) and found.code == "VALIDATION_FAILED"
    assert [d.field for d in found.details] == ["expression"]
    assert found.position == 5
    assert found.message == 'expression: at 5: expected a value after "tag:"'


def test_white_space_of_any_kind_separates() -> None:
    assert tree("tag:a\tOR\ntag:b") == "(or tag:a tag:b)"


# --- limits -----------------------------------------------------------------------------


def test_length_is_capped() -> None:
    longest = "name:" + "x" * (MAX_LENGTH - 5)
    assert parse(longest).terms[0].value == "x" * (MAX_LENGTH - 5)
    found = error(longest + "x")
    assert found.position is None
    assert found.details[0].message == "must be at most 2,000 characters (2,001 given)"


def test_terms_are_capped() -> None:
    assert len(parse(" OR ".join(["untagged"] * MAX_TERMS)).terms) == MAX_TERMS
    text = " OR ".join(["untagged"] * (MAX_TERMS + 1))
    assert message(text) == f"at {MAX_TERMS * 12 + 1}: too many terms (at most {MAX_TERMS})"


def test_nesting_is_capped() -> None:
    deep = "(" * MAX_DEPTH + "untagged" + ")" * MAX_DEPTH
    assert tree(deep) == "untagged"
    assert message("(" * (MAX_DEPTH + 1) + "untagged" + ")" * (MAX_DEPTH + 1)) == (
        f"at {MAX_DEPTH + 1}: nested too deeply (at most {MAX_DEPTH} parentheses and NOTs "
        "inside one another)")
    assert message("NOT " * (MAX_DEPTH + 1) + "untagged").startswith(
        f"at {MAX_DEPTH * 4 + 1}: nested too deeply")
    # Never Python's recursion limit, however long the run.
    assert message("-" * 1990 + "untagged").startswith(f"at {MAX_DEPTH + 1}: nested too deeply")
    assert message("(" * 1990 + "untagged").startswith(f"at {MAX_DEPTH + 1}: nested too deeply")


def test_parse_optional_treats_blank_as_none() -> None:
    assert parse_optional(None) is None and parse_optional("  ") is None
    assert parse_optional("untagged") is not None
    with pytest.raises(ExpressionError):
        parse_optional("tag:")
