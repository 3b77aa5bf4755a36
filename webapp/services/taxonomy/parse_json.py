"""Reading the JSON format: an object ``{"format": "tagwright-taxonomy", "version": 1,
"groups": [...], "tags": [...]}`` (``format`` and ``version`` optional; a list left out is
empty).

The top level is walked by hand and each record decoded on its own, so every record
keeps the line it starts on, however the file is laid out.
"""

from __future__ import annotations

import json
from json.decoder import scanstring
from typing import Any

from webapp.services.taxonomy.records import FORMAT_NAME, FORMAT_VERSION, RawRecord, RowError

WHITESPACE = " \t\n\r"
SECTIONS = {"groups": "group", "tags": "tag"}


class _Malformed(Exception):
    def __init__(self, position: int, message: str) -> None:
        super().__init__(message)
        self.position = position
        self.message = message


class _Walker:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.decoder = json.JSONDecoder()
        self._line, self._line_pos = 1, 0

    def line_at(self, position: int) -> int:
        """The 1-based line of ``position`` (counted on from the last position asked)."""
        if position < self._line_pos:
            self._line, self._line_pos = 1, 0
        self._line += self.text.count("\n", self._line_pos, position)
        self._line_pos = position
        return self._line

    def skip(self) -> str:
        """Skip white space; the next character ("" at the end)."""
        text, pos = self.text, self.pos
        while pos < len(text) and text[pos] in WHITESPACE:
            pos += 1
        self.pos = pos
        return text[pos] if pos < len(text) else ""

    def expect(self, characters: str, what: str) -> str:
        found = self.skip()
        if not found or found not in characters:
            shown = repr(found) if found else "the end of the file"
            raise _Malformed(self.pos, f"expected {what}, found {shown}")
        self.pos += 1
        return found

    def value(self) -> Any:
        self.skip()
        try:
            value, self.pos = self.decoder.raw_decode(self.text, self.pos)
        except json.JSONDecodeError as error:
            raise _Malformed(error.pos, f"not JSON: {error.msg}") from None
        except RecursionError:
            raise _Malformed(self.pos, "not JSON: nested too deeply") from None
        return value

    def key(self) -> str:
        start = self.pos
        try:
            key, self.pos = scanstring(self.text, self.pos + 1)
        except json.JSONDecodeError as error:
            raise _Malformed(error.pos, f"not JSON: {error.msg}") from None
        if not isinstance(key, str):  # pragma: no cover - scanstring returns text
            raise _Malformed(start, "expected a key")
        return key


def read(text: str) -> tuple[list[RawRecord], list[RowError]]:
    walker = _Walker(text)
    records: list[RawRecord] = []
    errors: list[RowError] = []
    try:
        if not walker.skip():
            return [], [RowError(1, None, "the file is empty")]
        walker.expect("{", "an object {\"groups\": [...], \"tags\": [...]}")
        seen: set[str] = set()
        if walker.skip() == "}":
            walker.pos += 1
        else:
            while True:
                walker.expect('"', "a key in double quotes")
                walker.pos -= 1
                key_line = walker.line_at(walker.pos)
                key = walker.key()
                walker.expect(":", "':'")
                if key in seen:
                    errors.append(RowError(key_line, key, "is given twice"))
                seen.add(key)
                if key in SECTIONS:
                    _section(walker, SECTIONS[key], key, records, errors)
                else:
                    _header(key, walker.value(), key_line, errors)
                if walker.expect(",}", "',' or '}'") == "}":
                    break
        if walker.skip():
            raise _Malformed(walker.pos, "unexpected text after the object")
    except _Malformed as error:
        errors.append(RowError(walker.line_at(error.position), None, error.message))
        return [], errors
    return records, errors


def _header(key: str, value: Any, line: int, errors: list[RowError]) -> None:
    if key == "format":
        if value != FORMAT_NAME:
            errors.append(RowError(line, key, f"must be {FORMAT_NAME!r}"))
    elif key == "version":
        if value != FORMAT_VERSION or isinstance(value, bool):
            errors.append(RowError(line, key, f"must be {FORMAT_VERSION} (this server reads "
                                              f"version {FORMAT_VERSION})"))
    else:
        errors.append(RowError(line, key, "unknown key; the file has format, version, "
                                          "groups and tags"))


def _section(walker: _Walker, kind: str, key: str, records: list[RawRecord],
             errors: list[RowError]) -> None:
    if walker.skip() == "n" and walker.text.startswith("null", walker.pos):
        walker.pos += 4
        return
    walker.expect("[", f"a list of {key}")
    if walker.skip() == "]":
        walker.pos += 1
        return
    index = 0
    while True:
        walker.skip()
        line = walker.line_at(walker.pos)
        item = walker.value()
        if isinstance(item, dict):
            records.append(RawRecord(kind, line, item))
        else:
            errors.append(RowError(line, f"{key}[{index}]", f"must be an object, one {kind}"))
        index += 1
        if walker.expect(",]", "',' or ']'") == "]":
            return
