"""Reading a taxonomy file: the format's reader finds the records and their lines, then
every record is checked here, field by field, by the rules the rest of the app uses
(:mod:`webapp.services.names`, :func:`webapp.services.groups.clean_allowed_types`).  Every
problem is kept, with its line and field, so one pass reports them all."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from webapp.models import RESOURCE_TYPES
from webapp.services import names
from webapp.services.errors import FieldError, LimitExceeded, ValidationFailed
from webapp.services.groups import clean_allowed_types
from webapp.services.taxonomy import parse_csv, parse_json, parse_yaml
from webapp.services.taxonomy.records import (
    ASSIGN_ROLES,
    BOOLEAN_FIELDS,
    CURATED,
    GROUP_FIELDS,
    MAX_ALIASES,
    MAX_RECORDS,
    TAG_FIELDS,
    Format,
    GroupRecord,
    ParsedFile,
    PathKeys,
    RawRecord,
    RowError,
    TagRecord,
)

COLOR = re.compile(r"#[0-9A-Fa-f]{6}")
READERS: dict[Format, Callable[[str], tuple[list[RawRecord], list[RowError]]]] = {
    Format.JSON: parse_json.read,
    Format.CSV: parse_csv.read,
    Format.YAML: parse_yaml.read,
}


def decode(data: bytes | str, field: str = "body") -> str:
    """The file's text: UTF-8, with or without a byte-order mark."""
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValidationFailed.field(
            field, f"the file is not UTF-8 text (byte {error.start + 1} is not valid)"
        ) from error


def parse(data: bytes | str, fmt: Format, field: str = "body") -> ParsedFile:
    """Read and check every record of the file.  Problems are collected in ``errors``;
    only a file that is not text at all, or holds more than MAX_RECORDS records, raises.

    CSV is read record by record, each checked as it comes (the raw records of a
    100,000-line file never live all at once); JSON and YAML are documents, read whole."""
    text = decode(data, field)
    read_errors: list[RowError] = []
    if fmt is Format.CSV:
        raw: Iterable[RawRecord] = parse_csv.records_of(text, read_errors)
    else:
        raw, read_errors = READERS[fmt](text)
    del text
    parsed = ParsedFile(fmt)
    checked: list[RowError] = []
    keys = PathKeys()
    count = 0
    for record in raw:
        count += 1
        if count > MAX_RECORDS:
            continue  # only counted, for the refusal below
        if record.kind == "group":
            group = _check_group(record, checked)
            if group is not None:
                parsed.groups.append(group)
        else:
            tag = _check_tag(record, checked, keys)
            if tag is not None:
                parsed.tags.append(tag)
    if count > MAX_RECORDS:
        raise LimitExceeded(
            f"{count:,} records; at most {MAX_RECORDS:,} per import",
            [FieldError(field, f"at most {MAX_RECORDS:,} groups and tags per import")])
    parsed.errors = [*read_errors, *checked]
    parsed.errors.sort(key=lambda error: error.line or 0)
    return parsed


def _checked(record: RawRecord, errors: list[RowError], name: str,
             clean: Callable[[Any, str], Any]) -> tuple[bool, Any]:
    """(True, the cleaned value) or (False, None) with the problem added to ``errors``."""
    spelled = record.name_of(name)
    try:
        return True, clean(record.values[name], spelled)
    except ValidationFailed as error:
        message = error.details[0].message if error.details else error.message
        errors.append(RowError(record.line, spelled, message))
        return False, None


def _unknown(record: RawRecord, errors: list[RowError], known: tuple[str, ...]) -> None:
    for name in record.values:
        if name not in known:
            errors.append(RowError(record.line, record.name_of(name),
                                   f"unknown field; a {record.kind} has "
                                   f"{', '.join(record.name_of(k) for k in known)}"))


def _check_group(record: RawRecord, errors: list[RowError]) -> GroupRecord | None:
    _unknown(record, errors, GROUP_FIELDS)
    if "identifier" not in record.values:
        errors.append(RowError(record.line, record.name_of("identifier"), "is required"))
        return None
    ok, identifier = _checked(record, errors, "identifier",
                              _text(names.clean_identifier))
    given: dict[str, Any] = {}
    for name in GROUP_FIELDS[1:]:
        if name in record.values:
            good, value = _checked(record, errors, name, GROUP_CLEANERS[name])
            ok = ok and good
            given[name] = value
    return GroupRecord(record.line, identifier, given) if ok else None


def _check_tag(record: RawRecord, errors: list[RowError], keys: PathKeys) -> TagRecord | None:
    known = TAG_FIELDS
    _unknown(record, errors, known)
    if "path" not in record.values:
        errors.append(RowError(record.line, record.name_of("path"), "is required"))
        return None
    ok, qname = _checked(record, errors, "path", _text(names.parse_name))
    given: dict[str, Any] = {}
    for name in known[1:]:
        if name in record.values:
            good, value = _checked(record, errors, name, TAG_CLEANERS[name])
            ok = ok and good
            given[name] = value
    return TagRecord(record.line, qname, given, keys.of(qname)) if ok else None


# --- one cleaner per field: (value as read, field as the file spells it) -> clean value ---


def _label(raw: Any, field: str) -> str | None:
    """None (empty or null): the name is the label."""
    return None if raw is None or raw == "" else names.clean_label(raw, field)


def _boolean(raw: Any, field: str) -> bool:
    if not isinstance(raw, bool):
        raise ValidationFailed.field(field, "must be true or false")
    return raw


def _source(raw: Any, field: str) -> str:
    return CURATED if raw is None or raw == "" else names.clean_label(raw, field)


def _text_list(raw: Any, field: str) -> list[Any]:
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        raise ValidationFailed.field(field, "must be a list of strings")
    return raw


def _allowed_types(raw: Any, field: str) -> list[str]:
    """Resource types as the file spells them: exactly, no blank item."""
    items = _text_list(raw, field)
    unknown = [item for item in items if item not in RESOURCE_TYPES]
    if unknown:
        raise ValidationFailed.field(field, f"unknown resource type(s) "
                                            f"{', '.join(map(repr, unknown))}; known: "
                                            f"{', '.join(RESOURCE_TYPES)}")
    return clean_allowed_types(items, field)


def _color(raw: Any, field: str) -> str | None:
    """``#RRGGBB`` exactly (stored upper-case), or empty for none."""
    if isinstance(raw, str) and raw and not COLOR.fullmatch(raw):
        raise ValidationFailed.field(field, "must be a colour in the form #RRGGBB")
    return names.clean_color(raw, field)


def _aliases(raw: Any, field: str) -> list[str]:
    items = _text_list(raw, field)
    if len(items) > MAX_ALIASES:
        raise ValidationFailed.field(field, f"at most {MAX_ALIASES} aliases per tag "
                                            f"({len(items)} given)")
    found: dict[str, str] = {}
    for item in items:
        qname = names.parse_name(item, field)
        found.setdefault(qname.key, qname.text)
    return sorted(found.values(), key=names.key)


def _replacement(raw: Any, field: str) -> str | None:
    return None if raw is None or raw == "" else names.parse_name(raw, field).text


def _assign_role(raw: Any, field: str) -> str:
    if raw is None or raw == "":
        return "editor"
    if raw not in ASSIGN_ROLES:
        raise ValidationFailed.field(field, f"must be {' or '.join(ASSIGN_ROLES)}")
    return str(raw)


def _text(clean: Callable[[Any, str], Any]) -> Callable[[Any, str], Any]:
    """``clean`` for a text field: anything else than a string or null is refused first
    (YAML reads ``2024`` and ``yes`` as a number and a boolean: quote them)."""
    def cleaned(raw: Any, field: str) -> Any:
        if raw is not None and not isinstance(raw, str):
            raise ValidationFailed.field(field, "must be text (in YAML, put it in quotes)")
        return clean(raw, field)
    return cleaned


GROUP_CLEANERS: dict[str, Callable[[Any, str], Any]] = {
    "label": _text(_label),
    "color": _text(_color),
    "description": _text(names.clean_description),
    "exclusive": _boolean,
    "allowed_types": _allowed_types,
    "assign_role": _text(_assign_role),
}
TAG_CLEANERS: dict[str, Callable[[Any, str], Any]] = {
    "label": _text(_label),
    "color": _text(_color),
    "description": _text(names.clean_description),
    "protected": _boolean,
    "system_created": _boolean,
    "source": _text(_source),
    "aliases": _aliases,
    "deprecated": _boolean,
    "replacement": _text(_replacement),
}
assert set(BOOLEAN_FIELDS) <= set(GROUP_CLEANERS) | set(TAG_CLEANERS)
