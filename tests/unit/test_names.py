"""Name rules (design.md section 2): segments, paths, ``group::path``, keys, colours, ids."""

from __future__ import annotations

import pytest

from webapp.services import names
from webapp.services.errors import ValidationFailed
from webapp.services.names import (
    QualifiedName,
    clean_color,
    clean_description,
    clean_identifier,
    clean_label,
    clean_public_id,
    clean_segment,
    key,
    parse_name,
    qualified_key,
)


def _field(call: object, *args: object, **kwargs: object) -> str:
    with pytest.raises(ValidationFailed) as caught:
        call(*args, **kwargs)  # type: ignore[operator]
    assert len(caught.value.details) == 1
    return caught.value.details[0].field


# --- segments ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("email", "email"),
        ("  Canada \t", "Canada"),
        ("x", "x"),
        ("a" * 100, "a" * 100),
        ("  " + "b" * 100 + "  ", "b" * 100),  # the limit applies after trimming
        ("Ünïcode ✓ naïve", "Ünïcode ✓ naïve"),
        ("with space", "with space"),
        ("colon:ok", "colon:ok"),  # a single colon is fine, only '::' separates
        ("dash-under_score", "dash-under_score"),
        ("love \u2764\ufe0f", "love \u2764\ufe0f"),  # an emoji's presentation selector
        ("\u2764\ufe0e text style", "\u2764\ufe0e text style"),
    ],
)
def test_valid_segments_are_trimmed(raw: str, expected: str) -> None:
    assert clean_segment(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("a" * 101, "at most 100"),
        ("a.b", "'.'"),
        (".", "'.'"),
        ("a::b", "'::'"),
        ("tab\tinside", "control"),
        ("new\nline", "control"),
        ("nul\x00", "control"),
        ("bell\x07", "control"),
        ("del\x7f", "control"),
        ("zero\u200bwidth", "control"),  # a format character (Cf)
        ("bidi\u202eoverride", "control"),
        # Invisible characters that are not format characters (default-ignorable code
        # points, the blank braille pattern): the name would look like one without them.
        ("a\ufe0f", "invisible characters (U+FE0F)"),  # a selector after a letter
        ("\ufe0fa", "invisible characters (U+FE0F)"),
        ("gr\u034fapheme", "invisible characters (U+034F)"),
        ("hangul\u3164filler", "invisible characters (U+3164)"),
        ("\u3164", "invisible characters"),
        ("mongol\u180bian", "invisible characters (U+180B)"),
        ("vs\ufe00one", "invisible characters (U+FE00)"),
        ("khmer\u17b4", "invisible characters (U+17B4)"),
        ("\u2800", "invisible characters (U+2800)"),
        ("braille\u2800blank", "invisible characters (U+2800)"),
        ("supp\U000e0100lement", "invisible characters (U+E0100)"),
        (":leading", "start or end with ':'"),
        ("trailing:", "start or end with ':'"),
        (":", "start or end with ':'"),
    ],
)
def test_invalid_segments_name_the_field(raw: str, reason: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        clean_segment(raw, "label_x")
    assert [d.field for d in caught.value.details] == ["label_x"]
    assert reason in caught.value.details[0].message


@pytest.mark.parametrize("raw", [None, 5, 1.5, ["a"], b"bytes"])
def test_a_segment_must_be_a_string(raw: object) -> None:
    assert _field(clean_segment, raw) == "name"


def test_identifier_follows_the_segment_rules() -> None:
    assert clean_identifier(" priority ") == "priority"
    assert _field(clean_identifier, "a.b") == "identifier"
    assert _field(clean_identifier, "a::b") == "identifier"
    assert _field(clean_identifier, "") == "identifier"
    assert _field(clean_identifier, "x" * 101, "group") == "group"


def test_label_allows_dots_but_not_control_characters() -> None:
    assert clean_label("  E-mail (v2.0) ") == "E-mail (v2.0)"
    assert clean_label("a::b") == "a::b"
    assert _field(clean_label, " ") == "label"
    assert _field(clean_label, "l" * 101) == "label"
    assert _field(clean_label, "bad\x1bescape") == "label"
    assert _field(clean_label, "blank\u3164") == "label"
    assert _field(clean_label, 3) == "label"


def test_description() -> None:
    assert clean_description(None) is None
    assert clean_description("   ") is None
    assert clean_description("  text\nwith lines ") == "text\nwith lines"
    assert clean_description("d" * 2000) == "d" * 2000
    assert _field(clean_description, "d" * 2001) == "description"
    assert _field(clean_description, 1) == "description"


# --- paths and qualified names ----------------------------------------------------------


def test_parse_a_plain_path() -> None:
    parsed = parse_name(" Discovered . Country.Canada ")
    assert parsed == QualifiedName(None, ("Discovered", "Country", "Canada"))
    assert parsed.path == "Discovered.Country.Canada"
    assert parsed.text == "Discovered.Country.Canada"
    assert parsed.leaf == "Canada"
    assert parsed.key == "discovered.country.canada"
    assert parsed.parent == QualifiedName(None, ("Discovered", "Country"))
    assert [p.path for p in parsed.prefixes()] == [
        "Discovered", "Discovered.Country", "Discovered.Country.Canada",
    ]


def test_parse_a_qualified_name() -> None:
    parsed = parse_name("Priority::High")
    assert parsed == QualifiedName("Priority", ("High",))
    assert parsed.text == "Priority::High"
    assert parsed.key == "priority::high"
    assert parsed.parent is None
    assert parse_name(" topic :: a.b ") == QualifiedName("topic", ("a", "b"))
    nested = parse_name("g::a.b.c")
    assert [p.text for p in nested.prefixes()] == ["g::a", "g::a.b", "g::a.b.c"]
    assert nested.parent is not None and nested.parent.key == "g::a.b"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("a..b", "empty"),
        (".a", "empty"),
        ("a.", "empty"),
        ("::a", "empty"),  # no group identifier
        ("g::", "empty"),  # no path
        ("g::a::b", "'::' at most once"),
        ("g.h::a", "'.'"),  # the group is one segment
        ("a.b\tc", "control"),
        ("a." + "x" * 101, "at most 100"),
        ("a:::b", "start or end with ':'"),  # group "a:" + "b", or group "a" + ":b"?
        ("a::::b", "'::'"),
        ("g:: :b", "start or end with ':'"),
    ],
)
def test_invalid_names(raw: str, message: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_name(raw, "names[3]")
    assert [d.field for d in caught.value.details] == ["names[3]"]
    assert message in caught.value.details[0].message


def test_path_is_at_most_255_characters() -> None:
    segment = "s" * 100
    exactly = f"{segment}.{segment}.{'t' * 53}"  # 100 + 1 + 100 + 1 + 53
    assert len(exactly) == 255
    assert parse_name(exactly).path == exactly
    with pytest.raises(ValidationFailed) as caught:
        parse_name(exactly + "t")
    assert "at most 255" in caught.value.details[0].message
    # The group does not count towards the path length.
    assert parse_name(f"{'g' * 100}::{exactly}").path == exactly


def test_name_must_be_a_string() -> None:
    assert _field(parse_name, None) == "name"
    assert _field(parse_name, 42, "tag") == "tag"


# --- keys -------------------------------------------------------------------------------


def test_keys_are_casefolded() -> None:
    assert key("Address.EMAIL") == "address.email"
    assert key("Straße") == key("STRASSE") == "strasse"
    assert key("ΣΊΣΥΦΟΣ") == key("σίσυφος")
    assert parse_name("Priority::HIGH").key == parse_name("priority::high").key
    assert qualified_key("Priority", "High.Now") == "priority::high.now"
    assert qualified_key(None, "High.Now") == "high.now"


# --- colours and ids --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "stored"),
    [("#a1b2c3", "#A1B2C3"), ("#FFFFFF", "#FFFFFF"), (" #00ff00 ", "#00FF00"), (None, None),
     ("", None)],
)
def test_valid_colours_are_stored_upper_case(raw: str | None, stored: str | None) -> None:
    assert clean_color(raw) == stored


@pytest.mark.parametrize(
    "raw", ["red", "#fff", "#12345", "#1234567", "123456", "#GGGGGG", "# 123456", "#12 456",
            "#123456\n#654321", 0x123456],
)
def test_invalid_colours(raw: object) -> None:
    assert _field(clean_color, raw) == "color"
    assert _field(clean_color, raw, "default_color") == "default_color"


@pytest.mark.parametrize("raw", ["tag_0192", "my-tag", "a", "A.b:c_d-e", "1" * 100])
def test_valid_public_ids(raw: str) -> None:
    assert clean_public_id(raw) == raw


@pytest.mark.parametrize(
    "raw", ["", "_leading", "-leading", "has space", "x" * 101, "slash/inside", "tag_x\n",
            "é", None, 12],
)
def test_invalid_public_ids(raw: object) -> None:
    assert _field(clean_public_id, raw) == "id"


def test_limits_are_the_documented_ones() -> None:
    assert (names.SEGMENT_MAX, names.PATH_MAX) == (100, 255)


def test_the_ascii_shortcut_of_has_control_agrees_with_the_categories() -> None:
    import unicodedata

    for code in range(128):
        text = f"a{chr(code)}b"
        by_category = unicodedata.category(chr(code)) in {"Cc", "Cf", "Cs", "Co"}
        assert names.has_control(text) is by_category, code
        line = by_category and chr(code) not in "\t\n\r"
        assert names.has_control(text, multiline=True) is line, code
