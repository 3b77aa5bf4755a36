"""What a taxonomy file holds: groups and tags, field by field, in the same words in every
format, and the rules each value follows (those of the rest of the app: names.py, groups.py).

A **group** record: ``identifier``, ``label``, ``color``, ``description``, ``exclusive``,
``allowed_types``, ``assign_role``.  A **tag** record: ``path`` (the qualified name,
``priority::high`` or ``Address.email``), ``label``, ``color``, ``description``,
``protected``, ``system_created``, ``source``, ``aliases``, ``deprecated`` and
``replacement`` (the qualified name of the tag to use instead).  CSV puts both kinds in one
table: a ``kind`` column (``group`` or ``tag``) and a ``name`` column holding the group's
identifier or the tag's path.

A field left out of a record (or a CSV column left out of the header) is not given: a new
tag or group takes the default, an existing one keeps its value.  A field given empty
(``null``, ``""``) means the default: no colour, no description, the label of the name,
the source ``curated``.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from webapp.services import names

FORMAT_NAME = "tagwright-taxonomy"
FORMAT_VERSION = 1
MAX_RECORDS = 200_000  # groups and tags in one file
MAX_LISTED_ERRORS = 1000  # row errors reported (the count says how many more)
MAX_ALIASES = 50  # per tag, as the aliases services allow
CURATED = "curated"  # the source of tags made in Tagwright itself


class Format(enum.StrEnum):
    JSON = "json"
    CSV = "csv"
    YAML = "yaml"


class Mode(enum.StrEnum):
    """``merge``: create and update what the file lists, leave the rest.  ``mirror``: also
    delete the scope's tags (and empty groups) the file does not list, never protected
    tags nor the ancestors of tags that stay."""

    MERGE = "merge"
    MIRROR = "mirror"


MEDIA_TYPES: dict[Format, str] = {
    Format.JSON: "application/json",
    Format.CSV: "text/csv",
    Format.YAML: "application/yaml",
}
# Media types a request body may carry, per format (the first of each is what an export
# answers with).
ACCEPTED_MEDIA_TYPES: dict[str, Format] = {
    "application/json": Format.JSON,
    "text/json": Format.JSON,
    "text/csv": Format.CSV,
    "application/csv": Format.CSV,
    "application/yaml": Format.YAML,
    "application/x-yaml": Format.YAML,
    "text/yaml": Format.YAML,
    "text/x-yaml": Format.YAML,
}
EXTENSIONS: dict[str, Format] = {"json": Format.JSON, "csv": Format.CSV, "yaml": Format.YAML,
                                 "yml": Format.YAML}

GROUP_FIELDS = ("identifier", "label", "color", "description", "exclusive", "allowed_types",
                "assign_role")
TAG_FIELDS = ("path", "label", "color", "description", "protected", "system_created",
              "source", "aliases", "deprecated", "replacement")
# Who owns a tag: set when an import creates it, never changed by one.
PROVENANCE_FIELDS = ("protected", "system_created", "source")
BOOLEAN_FIELDS = frozenset({"exclusive", "protected", "system_created", "deprecated"})
LIST_FIELDS = frozenset({"allowed_types", "aliases"})
GROUP_ONLY = frozenset({"exclusive", "allowed_types", "assign_role"})
CSV_COLUMNS = ("kind", "name", "label", "color", "description", "exclusive", "allowed_types",
               "assign_role", "protected", "system_created", "source", "aliases", "deprecated",
               "replacement")
ASSIGN_ROLES = ("editor", "manager")  # the least role that may attach a group's tags


@dataclass(frozen=True, slots=True)
class RowError:
    """A problem with the file: its line (None: the file as a whole), the field as the
    file spells it (None: the record as a whole) and what is wrong."""

    line: int | None
    field: str | None
    message: str

    @property
    def where(self) -> str:
        """``line 7: color``, ``line 7`` or ``file``: the field of an error detail."""
        if self.line is None:
            return self.field or "file"
        return f"line {self.line}: {self.field}" if self.field else f"line {self.line}"


@dataclass(slots=True)
class RawRecord:
    """A record as a reader found it: its kind, its first line, and its values by field
    (as typed as the format makes them: CSV's text already turned into booleans and lists
    where the field wants one).  ``spelled`` names a field as the file does, where that
    differs (CSV's ``name``)."""

    kind: str  # "group" or "tag"
    line: int
    values: dict[str, Any]
    spelled: Mapping[str, str] = field(default_factory=dict)

    def name_of(self, field_name: str) -> str:
        return self.spelled.get(field_name, field_name)


@dataclass(frozen=True, slots=True)
class GroupRecord:
    """A checked group record; ``given`` holds the cleaned values of the fields given
    (``label`` None: the identifier)."""

    line: int
    identifier: str
    given: dict[str, Any]

    @property
    def key(self) -> str:
        return names.key(self.identifier)


@dataclass(frozen=True, slots=True)
class TagRecord:
    """A checked tag record; ``given`` holds the cleaned values of the fields given
    (``label`` None: the leaf name).  ``prefix_keys`` are the keys of the tag's ancestors
    and its own, root first (worked out once: a plan looks them up many times)."""

    line: int
    qname: names.QualifiedName
    given: dict[str, Any]
    prefix_keys: tuple[str, ...]

    @property
    def key(self) -> str:
        return self.prefix_keys[-1]


class PathKeys:
    """The keys of a name's prefixes, each segment's key worked out once per file (a
    parent's segments recur in every child): ``names.key`` maps ``a.b`` to ``key(a) + "."
    + key(b)``, and likewise around ``::``."""

    def __init__(self) -> None:
        self._known: dict[str, str] = {}

    def _key(self, text: str) -> str:
        found = self._known.get(text)
        if found is None:
            found = self._known[text] = names.key(text)
        return found

    def of(self, qname: names.QualifiedName) -> tuple[str, ...]:
        head = (self._key(qname.group) + names.GROUP_SEPARATOR) if qname.group else ""
        keys: list[str] = []
        path = ""
        for segment in qname.segments:
            path = f"{path}{names.PATH_SEPARATOR}{self._key(segment)}" if path else \
                self._key(segment)
            keys.append(head + path)
        return tuple(keys)


@dataclass
class ParsedFile:
    """Every checked record of a file, and every problem found in it."""

    format: Format
    groups: list[GroupRecord] = field(default_factory=list)
    tags: list[TagRecord] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def group_defaults(identifier: str) -> dict[str, Any]:
    """A new group's values for the fields a record leaves out."""
    return {"label": identifier, "color": None, "description": None, "exclusive": False,
            "allowed_types": [], "assign_role": "editor"}


def tag_defaults(leaf: str) -> dict[str, Any]:
    """A new tag's values for the fields a record leaves out."""
    return {"label": leaf, "color": None, "description": None, "protected": False,
            "system_created": False, "source": CURATED, "aliases": [], "deprecated": False,
            "replacement": None}
