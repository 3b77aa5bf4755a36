"""What the API checks of a request before anything reads it deeply: the body's size, the
nesting depth of a JSON body, and characters no database can hold (NUL, lone surrogates)
in the body, the query string and the URL's own parameters.

Each failure is an :class:`ApiError` in the error envelope naming the field (413 for size,
400 for the rest), raised before pydantic, the services or SQL see the input.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator, Mapping
from typing import Any

from werkzeug.datastructures import MultiDict

from webapp.api.errors import ApiError, field_path
from webapp.services.errors import FieldError

# JSON bodies nest at most this deep (the deepest legal body nests 3 levels).
MAX_JSON_DEPTH = 32

_OPENERS = frozenset(b"[{")
_PAIRS = bytes.maketrans(b"[{]}", b"(())")
_NOT_BRACKETS = bytes(set(range(256)) - set(b"[]{}"))
CONTROL_MESSAGE = "must not contain control characters"
_BODY_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# What such a character looks like in JSON text: an escape of a C0, DEL or C1 character
# or of a surrogate (a valid pair too), DEL itself, or a C1 character in UTF-8 (raw C0
# characters are not valid JSON).  Only a body holding one of these is walked.
_MAYBE_UNSTORABLE = re.compile(
    rb"\\u00[0-1][0-9a-fA-F]|\\u007[fF]|\\u00[89][0-9a-fA-F]|\\u[dD][89a-fA-F]"
    rb"|\x7f|\xc2[\x80-\x9f]")


def nests_too_deep(raw: bytes) -> bool:
    """Whether the arrays and objects of the JSON text ``raw`` nest deeper than
    MAX_JSON_DEPTH, or their brackets do not pair up (brackets inside strings do not
    count).  No recursion and no Python loop over the bytes: each of at most MAX_JSON_DEPTH
    passes removes the innermost bracket pairs, at C speed."""
    if raw.count(b"[") + raw.count(b"{") <= MAX_JSON_DEPTH:  # too few brackets to matter
        return False
    # Outside strings: drop escaped backslashes and quotes (only strings hold them), then
    # keep every other piece between quotes.
    unescaped = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    outside = b"".join(unescaped.split(b'"')[::2])
    brackets = outside.translate(_PAIRS, _NOT_BRACKETS)
    too_deep = b"(" * (MAX_JSON_DEPTH + 1)
    for _ in range(MAX_JSON_DEPTH):
        if too_deep in brackets:  # a run of openers deeper than the cap: no need to peel
            return True
        shorter = brackets.replace(b"()", b"")
        if not shorter or shorter == brackets:
            return bool(shorter)
        brackets = shorter
    return bool(brackets)


def _strings(value: Any, location: tuple[int | str, ...] = ()
             ) -> Iterator[tuple[tuple[int | str, ...], str]]:
    """Every string of a parsed JSON value, with its location; iterative (a depth-capped
    body nests little, but the walk needs no stack either way)."""
    stack: list[tuple[tuple[int | str, ...], Any]] = [(location, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str):
            yield where, item
        elif isinstance(item, dict):
            stack.extend(((*where, key), child) for key, child in item.items())
        elif isinstance(item, list):
            stack.extend(((*where, index), child) for index, child in enumerate(item))


def unstorable(text: str) -> bool:
    """Whether ``text`` holds a control character other than a tab or a line break (C0,
    DEL, C1: no field of the API takes one, and PostgreSQL refuses NUL even as a query
    parameter) or a lone surrogate (which no database stores).  Tabs and line breaks are
    left to the fields' own rules: a description may hold them, a name may not."""
    if _BODY_CONTROLS.search(text):
        return True
    try:
        text.encode("utf-8")  # fails on a lone surrogate, at C speed
    except UnicodeEncodeError:
        return True
    return False


def parse_json_body(raw: bytes) -> Any:
    """``raw`` parsed as JSON, after the depth cap; strings holding a control character
    (but tabs and line breaks) or a lone surrogate are refused, naming their field."""
    if nests_too_deep(raw):
        raise ApiError(400, "MALFORMED_JSON",
                       f"the request body nests deeper than {MAX_JSON_DEPTH} levels (or its "
                       "brackets do not pair up)",
                       [FieldError("body", f"nested deeper than {MAX_JSON_DEPTH} levels")])
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as error:
        raise ApiError(400, "MALFORMED_JSON", f"the request body is not valid JSON: {error}",
                       [FieldError("body", "not valid JSON")]) from error
    if not _MAYBE_UNSTORABLE.search(raw):  # the common case: no string to look at
        return body
    bad = [FieldError(field_path(where), CONTROL_MESSAGE)
           for where, text in _strings(body) if unstorable(text)]
    if bad:
        raise ApiError(400, "VALIDATION_FAILED",
                       f"invalid input ({bad[0].field}: {CONTROL_MESSAGE})", bad[:20])
    return body


def has_control(text: str) -> bool:
    """Control characters (C0, DEL, C1) or lone surrogates: in no query parameter or URL
    part of the API."""
    return any(unicodedata.category(ch) in ("Cc", "Cs") for ch in text)


def refuse_control_parameters(args: MultiDict[str, str],
                              view_args: Mapping[str, Any] | None) -> None:
    """400 naming each query parameter or URL parameter that holds a control character
    (a NUL would reach SQL, which refuses it)."""
    bad = [FieldError(name, CONTROL_MESSAGE) for name, value in (view_args or {}).items()
           if isinstance(value, str) and has_control(value)]
    bad += [FieldError(name if not has_control(name) else "query", CONTROL_MESSAGE)
            for name, value in args.items(multi=True)
            if has_control(value) or has_control(name)]
    if bad:
        raise ApiError(400, "VALIDATION_FAILED",
                       f"invalid input ({bad[0].field}: {CONTROL_MESSAGE})", bad[:20])
