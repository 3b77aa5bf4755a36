"""Forms of the taxonomy page: choose a file (or paste one) to preview, then apply the
previewed file.

The preview's answer carries the file's text back in the apply form (a hidden field), with
the fingerprint of what was previewed, so applying works without JavaScript and applies
exactly the diff shown (the service refuses a stale fingerprint)."""

from __future__ import annotations

import base64
import binascii

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, RadioField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice

from webapp.services.errors import ValidationFailed
from webapp.services.taxonomy.apply import guess_format
from webapp.services.taxonomy.parse import decode
from webapp.services.taxonomy.records import Format, Mode

FORMAT_CHOICES = [SelectChoice("", "Detect"),
                  SelectChoice("json", "JSON"), SelectChoice("csv", "CSV"),
                  SelectChoice("yaml", "YAML")]
MODE_CHOICES = [
    SelectChoice("merge", "Merge: create and update what the file lists, leave the rest"),
    SelectChoice("mirror", "Mirror: also delete the tags and empty groups the file leaves "
                           "out (never protected tags)"),
]


def _mode(form_mode: str | None) -> Mode:
    return Mode.MIRROR if form_mode == "mirror" else Mode.MERGE


class ImportTaxonomyForm(FlaskForm):
    file = FileField("Taxonomy file")
    text = TextAreaField(
        "…or paste it",
        render_kw={"rows": 6, "spellcheck": "false", "wrap": "off",
                   "placeholder": "kind,name,label,color\ngroup,priority,Priority,#EF4444\n"
                                  "tag,priority::high,High,"})
    format = SelectField("Format", choices=FORMAT_CHOICES, default="", validate_choice=False)
    mode = RadioField("Mode", choices=MODE_CHOICES, default="merge", validate_choice=False)

    def source(self) -> tuple[str, Format, str]:
        """The file's text, format and name (``pasted text``).  Raises ValidationFailed
        (on ``text``) when neither or both a file and a text are given, (on ``file``) when
        the file is not UTF-8."""
        upload = self.file.data
        pasted = self.text.data or ""
        has_file = upload is not None and bool(getattr(upload, "filename", ""))
        if has_file and pasted.strip():
            raise ValidationFailed.field("text", "choose a file or paste text, not both")
        if has_file:
            text = decode(upload.read(), "file")
            filename = upload.filename
        elif pasted.strip():
            text, filename = pasted, None
        else:
            raise ValidationFailed.field("text", "choose a file or paste its text")
        chosen = self.format.data or ""
        fmt = (Format(chosen) if chosen in Format._value2member_map_
               else guess_format(text, filename))
        return text, fmt, filename or "pasted text"

    def chosen_mode(self) -> Mode:
        return _mode(self.mode.data)


class ApplyTaxonomyForm(FlaskForm):
    """The previewed file, sent again to be applied: its text in base64 (a hidden field's
    value would lose its carriage returns), its format and mode, and the fingerprint of
    the preview."""

    content = HiddenField()
    format = HiddenField()
    mode = HiddenField()
    previewed = HiddenField()

    @classmethod
    def carrying(cls, text: str, fmt: Format, mode: Mode, previewed: str
                 ) -> ApplyTaxonomyForm:
        form = cls(formdata=None)
        form.content.data = base64.b64encode(text.encode("utf-8", "surrogatepass")).decode()
        form.format.data, form.mode.data, form.previewed.data = fmt.value, mode.value, previewed
        return form

    def file_text(self) -> str:
        try:
            return decode(base64.b64decode(self.content.data or "", validate=True), "content")
        except binascii.Error as error:
            raise ValidationFailed.field("content", "the previewed file did not come back "
                                                    "whole; preview it again") from error

    def chosen_format(self) -> Format:
        value = self.format.data or ""
        if value not in Format._value2member_map_:
            raise ValidationFailed.field("format", "must be json, csv or yaml")
        return Format(value)

    def chosen_mode(self) -> Mode:
        return _mode(self.mode.data)
