"""Forms of the resources pages: the list's filters (search, tag expression, type, tag,
page), register one resource, import a CSV.

The CSV reader only splits the text into lines and columns (header row ``type,id,name,
slug``; name and slug optional, columns in any order); the import service checks every
line and reports each bad one by its line number.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, IntegerField, SearchField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from webapp.models import RESOURCE_TYPES
from webapp.services.errors import FieldError, LimitExceeded, ValidationFailed
from webapp.services.resource_import import MAX_IMPORT_LINES, ImportLine, line_field

COLUMNS = ("type", "id", "name", "slug")
COLUMN_ALIASES = {"external_id": "id", "resource_type": "type"}
SHOWN_LINE_ERRORS = 100


class ResourceFilterForm(FlaskForm):
    """The list's search, type and tag filters and its page (read from the query string)."""

    class Meta:
        csrf = False

    q = SearchField("Search", validators=[Optional()])
    # ``q`` is the search here, so the tag expression (the API's ``q``) is ``expr``.
    expr = StringField("Tag expression", validators=[Optional()])
    type = HiddenField()
    tag = HiddenField()
    page = IntegerField(validators=[Optional()])


class RegisterResourceForm(FlaskForm):
    resource_type = SelectField(
        "Type", choices=[SelectChoice("", "Choose a type…"),
                         *(SelectChoice(t) for t in RESOURCE_TYPES)],
        validate_choice=False,
    )
    external_id = StringField("ID", render_kw={"placeholder": "the id your systems use",
                                               "autocomplete": "off"})
    name = StringField("Name", render_kw={"placeholder": "optional", "autocomplete": "off"})
    slug = StringField("Slug", render_kw={"placeholder": "optional", "autocomplete": "off"})


class ImportResourcesForm(FlaskForm):
    csv_file = FileField("CSV file")
    csv_text = TextAreaField(
        "…or paste CSV text",
        render_kw={"rows": 6, "spellcheck": "false", "wrap": "off",
                   "placeholder": "type,id,name,slug\ntable,orders,Orders,orders"},
    )

    def source(self) -> tuple[str, str]:
        """The CSV text and the name of the field it came from.

        Raises ValidationFailed (on ``csv_text``) when neither or both are given, and (on
        ``csv_file``) when the file is not UTF-8 text.
        """
        upload = self.csv_file.data
        pasted = (self.csv_text.data or "").strip()
        has_file = upload is not None and bool(getattr(upload, "filename", ""))
        if has_file and pasted:
            raise ValidationFailed.field("csv_text", "choose a file or paste text, not both")
        if has_file:
            raw = upload.read()
            try:
                return raw.decode("utf-8-sig"), "csv_file"
            except UnicodeDecodeError as error:
                raise ValidationFailed.field(
                    "csv_file", f"the file is not UTF-8 text (byte {error.start + 1} is not "
                    "valid); save it as CSV UTF-8 and try again"
                ) from error
        if pasted:
            return pasted, "csv_text"
        raise ValidationFailed.field("csv_text", "choose a CSV file or paste CSV text")


def read_resource_csv(text: str) -> list[ImportLine]:
    """Split CSV text into numbered lines for the import service.

    The first non-blank line is the header; blank lines are skipped.  A line with more
    fields than the header keeps a ``problem``.  Reading stops one line past the import
    limit (the service reports the limit).  Raises ValidationFailed naming ``line N`` when
    the header is wrong or the text is not CSV.
    """
    rows = _rows(text)
    header_line, header = next(rows, (1, []))
    columns = _header(header_line, header)
    lines: list[ImportLine] = []
    for number, row in rows:
        if len(lines) > MAX_IMPORT_LINES:
            break
        values = dict(zip(columns, (cell.strip() for cell in row), strict=False))
        problem = None
        if len(row) > len(columns) and any(cell.strip() for cell in row[len(columns):]):
            problem = (f"{len(row)} fields, but the header names {len(columns)} "
                       f"({','.join(columns)}); quote values that contain commas")
        lines.append(ImportLine(
            line=number,
            type=values.get("type", ""),
            external_id=values.get("id", ""),
            name=values.get("name") or None,
            slug=values.get("slug") or None,
            problem=problem,
        ))
    if not lines:
        raise ValidationFailed.field("lines", "there are no data lines under the header")
    return lines


def _rows(text: str) -> Iterator[tuple[int, list[str]]]:
    """Non-blank CSV records with the number of the line each starts on."""
    reader = csv.reader(io.StringIO(text, newline=""))
    start = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise ValidationFailed(
                f"line {reader.line_num}: {error}",
                [FieldError(line_field(reader.line_num), f"not valid CSV: {error}")],
            ) from error
        if any(cell.strip() for cell in row):
            yield start, row
        start = reader.line_num + 1


def _header(number: int, header: list[str]) -> list[str]:
    names = [COLUMN_ALIASES.get(cell.strip().lower(), cell.strip().lower()) for cell in header]
    unknown = [name for name in names if name not in COLUMNS]
    missing = [name for name in ("type", "id") if name not in names]
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if unknown or missing or duplicated:
        problems = []
        if missing:
            problems.append(f"missing column(s) {', '.join(missing)}")
        if unknown:
            problems.append(f"unknown column(s) {', '.join(repr(n) for n in unknown)}")
        if duplicated:
            problems.append(f"repeated column(s) {', '.join(duplicated)}")
        message = ("the first line must be the header type,id,name,slug (name and slug "
                   f"optional): {'; '.join(problems)}")
        raise ValidationFailed(f"line {number}: {message}",
                               [FieldError(line_field(number), message)])
    return names


def line_errors(error: ValidationFailed | LimitExceeded) -> list[str]:
    """The import errors as text for the form, the first SHOWN_LINE_ERRORS lines only."""
    messages = [
        f"{detail.field[:1].upper()}{detail.field[1:]}: {detail.message}"
        if detail.field.startswith("line ") else detail.message
        for detail in error.details
    ]
    if len(messages) > SHOWN_LINE_ERRORS:
        hidden = len(messages) - SHOWN_LINE_ERRORS
        messages = [*messages[:SHOWN_LINE_ERRORS], f"… and {hidden} more line(s) with errors"]
    return messages or [error.message]
