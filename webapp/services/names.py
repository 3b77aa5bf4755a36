"""Name rules of design.md section 2, in one place.

A segment is 1–100 characters after trimming, with no ``.``, no ``::`` and no control
characters.  A path joins segments with ``.`` and is at most 255 characters.  A qualified
name is ``group::path``.  Keys (for uniqueness and look-ups) are casefolded.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from webapp.services.errors import ValidationFailed

SEGMENT_MAX = 100
PATH_MAX = 255
GROUP_SEPARATOR = "::"
PATH_SEPARATOR = "."
_COLOR = re.compile(r"#[0-9A-Fa-f]{6}")
# fullmatch, not match: "$" would accept a trailing newline.
_PUBLIC_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}")


def key(text: str) -> str:
    """The case-insensitive key of a name, path or identifier."""
    return text.casefold()


def _has_control(text: str) -> bool:
    return any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co") for ch in text)


def clean_segment(raw: object, field: str = "name") -> str:
    """Return the trimmed segment or raise ValidationFailed naming ``field``."""
    if not isinstance(raw, str):
        raise ValidationFailed.field(field, "must be a string")
    text = raw.strip()
    if not text:
        raise ValidationFailed.field(field, "must not be empty")
    if len(text) > SEGMENT_MAX:
        raise ValidationFailed.field(field, f"must be at most {SEGMENT_MAX} characters")
    if PATH_SEPARATOR in text:
        raise ValidationFailed.field(field, "must not contain '.' (it separates levels)")
    if GROUP_SEPARATOR in text:
        raise ValidationFailed.field(field, "must not contain '::' (it separates the group)")
    if text.startswith(":") or text.endswith(":"):
        # Else group "a:" + path "b" and group "a" + path ":b" are both "a:::b".
        raise ValidationFailed.field(
            field, "must not start or end with ':' (next to '::' it is ambiguous)"
        )
    if _has_control(text):
        raise ValidationFailed.field(field, "must not contain control characters")
    return text


def clean_identifier(raw: object, field: str = "identifier") -> str:
    """A group identifier follows the segment rules."""
    return clean_segment(raw, field)


def clean_label(raw: object, field: str = "label") -> str:
    if not isinstance(raw, str):
        raise ValidationFailed.field(field, "must be a string")
    text = raw.strip()
    if not text:
        raise ValidationFailed.field(field, "must not be empty")
    if len(text) > SEGMENT_MAX:
        raise ValidationFailed.field(field, f"must be at most {SEGMENT_MAX} characters")
    if _has_control(text):
        raise ValidationFailed.field(field, "must not contain control characters")
    return text


def clean_color(raw: object, field: str = "color") -> str | None:
    """``#RRGGBB`` (stored upper-case) or None; an empty string clears the colour."""
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str) or not _COLOR.fullmatch(raw.strip()):
        raise ValidationFailed.field(field, "must be a colour in the form #RRGGBB")
    return raw.strip().upper()


def clean_description(raw: object, field: str = "description") -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise ValidationFailed.field(field, "must be a string")
    text = raw.strip()
    if len(text) > 2000:
        raise ValidationFailed.field(field, "must be at most 2000 characters")
    return text or None


def clean_public_id(raw: object, field: str = "id") -> str:
    if not isinstance(raw, str) or not _PUBLIC_ID.fullmatch(raw):
        raise ValidationFailed.field(
            field, "must be 1–100 letters, digits, '_', '-', '.' or ':' starting with a letter "
            "or digit"
        )
    return raw


@dataclass(frozen=True)
class QualifiedName:
    """A parsed ``[group::]segment.segment…`` name."""

    group: str | None
    segments: tuple[str, ...]

    @property
    def path(self) -> str:
        return PATH_SEPARATOR.join(self.segments)

    @property
    def leaf(self) -> str:
        return self.segments[-1]

    @property
    def text(self) -> str:
        return f"{self.group}{GROUP_SEPARATOR}{self.path}" if self.group else self.path

    @property
    def key(self) -> str:
        return key(self.text)

    def prefixes(self) -> list[QualifiedName]:
        """Every ancestor path, root first, ending with the name itself."""
        return [
            QualifiedName(self.group, self.segments[:depth])
            for depth in range(1, len(self.segments) + 1)
        ]

    @property
    def parent(self) -> QualifiedName | None:
        return QualifiedName(self.group, self.segments[:-1]) if len(self.segments) > 1 else None


def parse_name(raw: object, field: str = "name") -> QualifiedName:
    """Parse a path or qualified name, raising ValidationFailed naming ``field``."""
    if not isinstance(raw, str):
        raise ValidationFailed.field(field, "must be a string")
    text = raw.strip()
    group: str | None = None
    if GROUP_SEPARATOR in text:
        group_text, _, text = text.partition(GROUP_SEPARATOR)
        group = clean_identifier(group_text, field)
        if GROUP_SEPARATOR in text:
            raise ValidationFailed.field(field, "must contain '::' at most once")
    if not text:
        raise ValidationFailed.field(field, "must not be empty")
    segments = tuple(clean_segment(part, field) for part in text.split(PATH_SEPARATOR))
    path = PATH_SEPARATOR.join(segments)
    if len(path) > PATH_MAX:
        raise ValidationFailed.field(field, f"path must be at most {PATH_MAX} characters")
    return QualifiedName(group, segments)


def qualified_key(group_identifier: str | None, path: str) -> str:
    return key(f"{group_identifier}{GROUP_SEPARATOR}{path}" if group_identifier else path)
