"""What the API checks of a request before anything reads it deeply: the body's size, the
nesting depth of a JSON body, and characters no database can hold (NUL, lone surrogates)
in the body, the query string and the URL's own parameters.

Each failure is an :class:`ApiError` in the error envelope naming the field (413 for size,
400 for the rest), raised before pydantic, the services or SQL see the input.
"""

from __future__ import annotations

import json
import os
import re
import unicodedata
from collections.abc import Iterator, Mapping
from itertools import accumulate
from typing import Any

from werkzeug.datastructures import MultiDict

from webapp.api.errors import ApiError, field_path
from webapp.services.errors import FieldError

# The default body limit.  The largest legal requests are far below it: an attach of one
# name to 100,000 UUIDs is ~4 MB of JSON, a batch or registration of 1000 items with every
# text at its longest (and every character \u-escaped) ~10 MB.
DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024
BODY_LIMIT_VARIABLES = ("TAGWRIGHT_MAX_BODY_BYTES", "MAX_CONTENT_LENGTH")
# JSON bodies nest at most this deep (the deepest legal body nests 3 levels).
MAX_JSON_DEPTH = 32

_OPENERS = frozenset(b"[{")
_BRACKETS = re.compile(rb"[\[\]{}]")
# A JSON string (escapes included), as bytes: brackets inside one do not nest.
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_DEPTH_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}
CONTROL_MESSAGE = "must not contain control characters"
_BODY_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def max_body_bytes(environ: Mapping[str, str] | None = None) -> int:
    """The body limit from ``TAGWRIGHT_MAX_BODY_BYTES`` (or ``MAX_CONTENT_LENGTH``), in
    bytes; 16 MiB when neither is set.  A value that is not a positive whole number stops
    the app from starting, with the variable named."""
    environ = os.environ if environ is None else environ
    for variable in BODY_LIMIT_VARIABLES:
        raw = environ.get(variable, "").strip()
        if raw:
            if not raw.isascii() or not raw.isdigit() or int(raw) < 1:
                raise RuntimeError(f"{variable} must be a positive number of bytes, "
                                   f"not {raw!r}")
            return int(raw)
    return DEFAULT_MAX_BODY_BYTES


def json_depth(raw: bytes) -> int:
    """How deep the arrays and objects of the JSON text ``raw`` nest (brackets inside
    strings do not count).  Linear in the size of ``raw``, without recursion."""
    openers = raw.count(b"[") + raw.count(b"{")
    if openers <= MAX_JSON_DEPTH:  # the common case: too few brackets to nest too deep
        return openers
    brackets = b"".join(_BRACKETS.findall(_JSON_STRING.sub(b"", raw)))
    if not brackets:
        return 0
    return max(0, max(accumulate(_DEPTH_STEP[byte] for byte in brackets)))


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
    if json_depth(raw) > MAX_JSON_DEPTH:
        raise ApiError(400, "MALFORMED_JSON",
                       f"the request body nests deeper than {MAX_JSON_DEPTH} levels",
                       [FieldError("body", f"nested deeper than {MAX_JSON_DEPTH} levels")])
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as error:
        raise ApiError(400, "MALFORMED_JSON", f"the request body is not valid JSON: {error}",
                       [FieldError("body", "not valid JSON")]) from error
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
