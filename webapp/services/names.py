"""Name rules of design.md section 2, in one place.

A segment is 1–100 characters after trimming, with no ``.``, no ``::`` and no control
characters.  A path joins segments with ``.`` and is at most 255 characters.  A qualified
name is ``group::path``.  Keys (for uniqueness and look-ups) are the NFKC casefold of the
text (:func:`key`), so full-width, compatibility and combining-accent look-alikes of a name
are the same name; the rules hold for that normalised form too (a full-width full stop is
a "."), and display text is kept as typed.

Stored text never holds control characters: every ``clean_*`` function refuses them (in
the text as sent, before trimming) with the field named.  Names, identifiers and labels
refuse invisible characters too (zero-width and other format characters, variation
selectors but for an emoji's, Hangul fillers, the blank braille pattern): a name holding
one would look like another name.
"""

from __future__ import annotations

import functools
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
    """The key of a name, path or identifier for uniqueness and look-ups: NFKC, casefold,
    NFKC again (Unicode's NFKC_Casefold recipe).  ``Ｕｎｉｑｕｅｘ``, ``ᵁniquex`` and
    ``UniqueX`` share a key, and so do a composed ``Ü`` and ``U`` + U+0308.

    It maps ``a.b`` to ``key(a) + "." + key(b)`` (and likewise around ``::``), so a
    prefix of a key is the key of the prefix."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())


# Control (Cc), format (Cf), surrogate (Cs) and private-use (Co) characters: never in a
# name, label or identifier.
_NAME_CONTROLS = frozenset({"Cc", "Cf", "Cs", "Co"})
# Free text (descriptions) may hold line breaks and tabs, and format characters (emoji
# joiners, direction marks), but no other control character: no NUL, which PostgreSQL
# cannot store, and no lone surrogate, which no database can.
_TEXT_CONTROLS = frozenset({"Cc", "Cs"})
_LINE_BREAKS = frozenset("\t\n\r")
# Characters that draw nothing but are not format characters: Unicode's default-ignorable
# code points outside Cf (combining grapheme joiner, Hangul fillers, Khmer inherent vowels,
# Mongolian and standard variation selectors, ...) and the blank braille pattern.  A name
# holding one looks like a name without it.
_INVISIBLE = re.compile(
    "[\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u2800\u3164\ufe00-\ufe0f\uffa0"
    "\U000e0100-\U000e01ef]")


# ASCII text holds control characters only in C0 and DEL, exactly what isprintable()
# refuses there: the common case without a category look-up per character (an import
# checks millions of them).
_LINE_BREAKS_AWAY = str.maketrans("", "", "\t\n\r")


def has_control(text: str, *, multiline: bool = False) -> bool:
    """Whether ``text`` holds a character no stored text may hold (``multiline``: free
    text, where tabs, line breaks and format characters are allowed)."""
    if text.isascii():
        return not (text.translate(_LINE_BREAKS_AWAY) if multiline else text).isprintable()
    if multiline:
        return any(unicodedata.category(ch) in _TEXT_CONTROLS and ch not in _LINE_BREAKS
                   for ch in text)
    return any(unicodedata.category(ch) in _NAME_CONTROLS for ch in text)


def refuse_control(text: str, field: str, *, multiline: bool = False) -> str:
    """``text`` itself, or ValidationFailed naming ``field`` when it holds a control
    character (checked before any trimming: a control character is refused, not
    stripped)."""
    if has_control(text, multiline=multiline):
        raise ValidationFailed.field(field, "must not contain control characters")
    return text


def trimmed(raw: str, field: str) -> str:
    """``raw`` without leading and trailing white space, holding no control character.

    Tabs and line breaks at the ends are white space and go; any other control character
    (NUL, or the separators U+001C–U+001F that ``str.strip`` would also remove) is refused
    wherever it is, so a text is never stored other than as it was sent, less white
    space."""
    refuse_control(raw, field, multiline=True)
    return refuse_control(raw.strip(), field)


def invisible_character(text: str) -> str | None:
    """The first character of ``text`` that draws nothing (see _INVISIBLE), or None.  An
    emoji-presentation selector after a symbol is visible and does not count."""
    for match in _INVISIBLE.finditer(text):
        start = match.start()
        if match.group() in "\ufe0e\ufe0f" and start > 0 \
                and unicodedata.category(text[start - 1]) == "So":
            continue
        return match.group()
    return None


def _refuse_invisible(text: str, field: str) -> None:
    character = invisible_character(text)
    if character is not None:
        raise ValidationFailed.field(
            field, f"must not contain invisible characters (U+{ord(character):04X})")


def _separator_rules(text: str, field: str) -> None:
    if PATH_SEPARATOR in text:
        raise ValidationFailed.field(field, "must not contain '.' (it separates levels)")
    if GROUP_SEPARATOR in text:
        raise ValidationFailed.field(field, "must not contain '::' (it separates the group)")
    if text.startswith(":") or text.endswith(":"):
        # Else group "a:" + path "b" and group "a" + path ":b" are both "a:::b".
        raise ValidationFailed.field(
            field, "must not start or end with ':' (next to '::' it is ambiguous)"
        )


def _short_text(raw: object, field: str) -> str:
    """Trimmed text of 1 to SEGMENT_MAX characters (a name segment or a label)."""
    if not isinstance(raw, str):
        raise ValidationFailed.field(field, "must be a string")
    text = trimmed(raw, field)
    if not text:
        raise ValidationFailed.field(field, "must not be empty")
    _refuse_invisible(text, field)
    if len(text) > SEGMENT_MAX:
        raise ValidationFailed.field(field, f"must be at most {SEGMENT_MAX} characters")
    return text


def clean_segment(raw: object, field: str = "name") -> str:
    """Return the trimmed segment or raise ValidationFailed naming ``field``.

    The rules hold for the segment as typed and for its normalised form (NFKC and the
    key), so ``a．b`` (a full-width full stop) is refused like ``a.b``.  A good segment is
    remembered (a parent's segments recur in every child's path: an import of 100,000
    tags checks each once)."""
    if isinstance(raw, str):
        return _clean_segment_text(raw, field)
    return _short_text(raw, field)  # refuses what is not a string


@functools.lru_cache(maxsize=65536)
def _clean_segment_text(raw: str, field: str) -> str:
    text = _short_text(raw, field)
    _separator_rules(text, field)
    normalized = unicodedata.normalize("NFKC", text)
    if len(normalized) > SEGMENT_MAX:
        raise ValidationFailed.field(
            field, f"must be at most {SEGMENT_MAX} characters once normalised (NFKC)")
    for form in (normalized, key(text)):
        try:
            _separator_rules(form, field)
        except ValidationFailed as error:
            raise ValidationFailed.field(
                field, f"{error.details[0].message}, also as a look-alike character"
            ) from None
    return text


def clean_identifier(raw: object, field: str = "identifier") -> str:
    """A group identifier follows the segment rules."""
    return clean_segment(raw, field)


def clean_label(raw: object, field: str = "label") -> str:
    return _short_text(raw, field)


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
    text = refuse_control(raw, field, multiline=True).strip()
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
    text = trimmed(raw, field)
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
    if len(unicodedata.normalize("NFKC", path)) > PATH_MAX:
        raise ValidationFailed.field(
            field, f"path must be at most {PATH_MAX} characters once normalised (NFKC)")
    return QualifiedName(group, segments)


def qualified_key(group_identifier: str | None, path: str) -> str:
    return key(f"{group_identifier}{GROUP_SEPARATOR}{path}" if group_identifier else path)
