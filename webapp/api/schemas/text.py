"""Text fields as the services accept them, spelt as JSON Schema patterns, so the OpenAPI
document says what the server takes (``webapp.services.names``):

* no control character anywhere (Cc, Cf, Co; lone surrogates cannot be sent as UTF-8);
* white space at either end is trimmed, and the length counts what is left;
* a name segment or group identifier holds no ``.``, no ``::`` and does not start or end
  with ``:`` -- nor the look-alikes that NFKC folds to them (``．``, ``﹕``, ``⒈``);
* free text (descriptions) may hold tabs and line breaks.

Each pattern is a character-class regex that Python, Rust and ECMA-262 engines read alike:
the classes hold the characters themselves (JSON escapes them on the wire), never ``\\p{}``
or ``\\u{}`` escapes.  What a pattern cannot say (a name's length once NFKC-normalised) is
in the field's description.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from typing import Annotated, Any

from pydantic import Field, StringConstraints, WithJsonSchema

from webapp.services.names import PATH_MAX, SEGMENT_MAX

# Planes holding control, format and private-use characters: the BMP, plane 1 (format
# characters of musical notation and shorthand), plane 14 (tags) and planes 15-16 (private
# use).
_PLANES = (range(0x0000, 0x20000), range(0xE0000, 0x110000))
_CONTROL_CATEGORIES = frozenset({"Cc", "Cf", "Co"})
# Planes 15 and 16 are private use as a whole.  A class excluding their 131,068 characters
# makes generators crawl, so a pattern refuses them once, up front (NO_PRIVATE_PLANES).
_PRIVATE_PLANES = 0xF0000
NO_PRIVATE_PLANES = f"(?![\\s\\S]*[{chr(_PRIVATE_PLANES)}-{chr(0x10FFFF)}])"


def _class(chars: Iterable[str]) -> str:
    """The characters as the body of a regex class, in runs (``a-z``)."""
    codes = sorted({ord(ch) for ch in chars})
    runs: list[tuple[int, int]] = []
    for code in codes:
        if runs and runs[-1][1] == code - 1:
            runs[-1] = (runs[-1][0], code)
        else:
            runs.append((code, code))

    def one(code: int) -> str:
        ch = chr(code)
        return "\\" + ch if ch in "\\]^-[" else ch

    return "".join(one(a) if a == b else f"{one(a)}-{one(b)}" for a, b in runs)



def _classify() -> dict[str, list[str]]:
    """One pass over the planes: the character sets the patterns are built from."""
    sets: dict[str, list[str]] = {"control": [], "space": [], "dot": [], "colon": []}
    for plane in _PLANES:
        for code in plane:
            if 0xD800 <= code <= 0xDFFF or code >= _PRIVATE_PLANES:
                continue
            ch = chr(code)
            category = unicodedata.category(ch)
            if category in _CONTROL_CATEGORIES:
                sets["control"].append(ch)
                continue
            if ch.isspace():
                sets["space"].append(ch)
            if category[0] in "LMNPS" and code > 0x7F:
                folded = unicodedata.normalize("NFKC", ch)
                if "." in folded:
                    sets["dot"].append(ch)
                if ":" in folded:
                    sets["colon"].append(ch)
    sets["dot"].append(".")
    sets["colon"].append(":")
    return sets


_SETS = _classify()
_CONTROLS = _SETS["control"]
_SPACES = _SETS["space"]
_DOTS = _SETS["dot"]
_COLONS = _SETS["colon"]
_LINE_CONTROLS = [ch for ch in _CONTROLS
                  if unicodedata.category(ch) == "Cc" and ch not in "\t\n\r"]
_C0_C1 = [ch for ch in _CONTROLS if unicodedata.category(ch) == "Cc"]

_NOT_CONTROL = f"[^{_class(_CONTROLS)}]"
_SOLID = f"[^{_class(_CONTROLS + _SPACES)}]"  # neither control nor trimmed white space
_SPACE = f"[{_class(_SPACES)}]"
# A segment's inner character: no dot, a colon only when no colon follows.
_INNER = f"(?:[^{_class(_CONTROLS + _DOTS + _COLONS)}]|:(?![{_class(_COLONS)}]))"
# A segment's first and last character: no white space, dot or colon.
_EDGE = f"[^{_class(_CONTROLS + _SPACES + _DOTS + _COLONS)}]"


def _trimmed(solid: str, inner: str, longest: int, ends: str = _SPACE) -> str:
    """1 to ``longest`` characters once ``ends`` are trimmed: ``solid`` at both ends of
    what is left, ``inner`` between."""
    return f"{ends}*(?:{solid}|{solid}{inner}{{0,{longest - 2}}}{solid}){ends}*"


SEGMENT_PATTERN = _trimmed(_EDGE, _INNER, SEGMENT_MAX)
# [group::]segment.segment...; the path's length (at most PATH_MAX after the group) is the
# document's maxLength, for the whole text.
QUALIFIED_NAME_PATTERN = f"(?:{SEGMENT_PATTERN}::)?{SEGMENT_PATTERN}(?:\\.{SEGMENT_PATTERN})*"
LABEL_PATTERN = _trimmed(_SOLID, _NOT_CONTROL, SEGMENT_MAX)
_NOT_LINE_CONTROL = f"[^{_class(_LINE_CONTROLS)}]"

_NFKC = " (counted once NFKC-normalised too)"


def documented(pattern: str, description: str = "", **extra: object) -> WithJsonSchema:
    """A string type's schema in the document: ``pattern`` (anchored) and ``extra``.  The
    services enforce the rule (with their own messages naming the field), so pydantic does
    not run the pattern a second time."""
    schema: dict[str, object] = {"type": "string",
                                 "pattern": f"^{NO_PRIVATE_PLANES}{pattern}$", **extra}
    if description:
        schema["description"] = description
    return WithJsonSchema(schema)


Segment = Annotated[str, documented(
    SEGMENT_PATTERN, f"1–{SEGMENT_MAX} characters once trimmed{_NFKC}; no '.', no '::', "
    "no ':' at either end, no control characters")]
QualifiedName = Annotated[str, documented(
    QUALIFIED_NAME_PATTERN, f"`[group::]segment.segment…`: segments of 1–{SEGMENT_MAX} "
    f"characters, the path after `group::` at most {PATH_MAX}{_NFKC}; no control characters",
    maxLength=PATH_MAX)]
Label = Annotated[str, documented(
    LABEL_PATTERN, f"display text: 1–{SEGMENT_MAX} characters once trimmed, no control "
    "characters")]
# A label in an update: "" puts back the default (the name).
LabelOrBlank = Annotated[str, documented(
    f"(?:{LABEL_PATTERN})?", f"display text: 1–{SEGMENT_MAX} characters once trimmed, no "
    "control characters; \"\" resets it to the name")]
Description = Annotated[str, documented(
    f"{_NOT_LINE_CONTROL}*", "free text, at most 2000 characters once trimmed; tabs and "
    "line breaks allowed, no other control characters; blank clears it", maxLength=2000)]
PublicId = Annotated[str, documented(
    "(?:[A-Za-z0-9][A-Za-z0-9_.:-]{0,99})?",
    "1–100 letters, digits, '_', '-', '.' or ':', starting with a letter or digit (\"\": "
    "none given)")]


def items(least: int, most: int, *, unique: bool = False) -> Any:
    """A list's bounds in the document (``unique``: no item twice).  The services check
    them (fewer is a 400, more a 413, with their own messages), so pydantic does not."""
    extra: dict[str, Any] = {"minItems": least, "maxItems": most}
    if unique:
        extra["uniqueItems"] = True
    return Field(json_schema_extra=extra)


def _drop_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def optional(description: str = "") -> Any:
    """A field that may be left out but is never null: no default in the document (null
    is not a value of its type)."""
    return Field(None, description=description or None, json_schema_extra=_drop_default)


# ``names.trimmed`` text (an external id): 1-255 characters once white space, tabs and
# line breaks are trimmed; no control character inside.
ExternalId = Annotated[str, documented(
    _trimmed(_SOLID, _NOT_CONTROL, 255),
    "1–255 characters once trimmed, no control characters")]
# A resource's name or slug: at most 255 characters, blank is none.
OptionalText = Annotated[str, StringConstraints(max_length=255), documented(
    f"{_SPACE}*(?:{_SOLID}(?:{_NOT_CONTROL}*{_SOLID})?)?{_SPACE}*",
    "at most 255 characters, no control characters; blank is none", maxLength=255)]


# A query or URL parameter: no C0/C1 control characters (format characters are allowed).
QUERY_TEXT_PATTERN = f"^[^{_class(_C0_C1)}]*$"
# One URL segment: not empty, no '/', no C0/C1 control characters.
PATH_SEGMENT_PATTERN = f"^[^/{_class(_C0_C1)}]+$"
_SOLID_URL = f"[^/{_class(_CONTROLS + _SPACES)}]"
_INNER_URL = f"[^/{_class(_CONTROLS)}]"
# An external id in the URL (``modelId``): trimmed text of 1-255 characters, no '/' (and
# no tab or line break: no URL parameter holds a C0/C1 control character).
EXTERNAL_ID_PATTERN = f"^{NO_PRIVATE_PLANES}{_trimmed(_SOLID_URL, _INNER_URL, 255)}$"
# A UUID as the URL of a UUID-typed resource takes it: hyphenated, either case.
UUID_PATTERN = "^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$"
# A column's ``modelId``: ``<datasource id>_<column>``, both parts non-empty once trimmed
# (the length, 1-255 once trimmed, is the document's maxLength).
_SOLID_URL_NOT_UNDERSCORE = f"[^_/{_class(_CONTROLS + _SPACES)}]"
COLUMN_ID_PATTERN = (f"^{NO_PRIVATE_PLANES}{_SPACE}*{_SOLID_URL_NOT_UNDERSCORE}"
                     f"[^_/{_class(_CONTROLS)}]*_{_INNER_URL}*{_SOLID_URL}{_SPACE}*$")
