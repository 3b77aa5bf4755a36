"""Forms of the tag pages.  They only parse and check shapes; the tag services enforce
every rule (names, colours, uniqueness, permissions) and their field errors are shown
beside these fields (see :func:`webapp.ui.rendering.apply_service_error`)."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, ColorField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from webapp.models import Tag
from webapp.services.names import PATH_MAX, SEGMENT_MAX
from webapp.services.unset import UNSET

COLOR = Regexp(r"^#[0-9A-Fa-f]{6}$", message="must be a colour like #1f77b4")


class _Colour:
    """A colour picker plus a "no colour" box (a colour input always holds a colour)."""

    color = ColorField("Colour", validators=[Optional(), COLOR], default="#2557d6")
    no_color = BooleanField("No colour", default=True)

    def chosen_color(self) -> str | None:
        if self.no_color.data or not self.color.data:  # type: ignore[attr-defined]
            return None
        return str(self.color.data)  # type: ignore[attr-defined]


class TagCreateForm(FlaskForm, _Colour):
    name = StringField(
        "Name", validators=[DataRequired(), Length(max=PATH_MAX + SEGMENT_MAX + 2)],
        description="A name, a dotted path (Address.email) or group::path",
    )
    label = StringField("Label", validators=[Optional(), Length(max=SEGMENT_MAX)])
    description = TextAreaField("Description", validators=[Optional(), Length(max=2000)])
    parent = StringField("Parent", validators=[Optional(), Length(max=1100)])


class TagEditForm(FlaskForm, _Colour):
    """Edit a tag: the inline row form uses name, label, colour and description (with a
    ``row-<id>`` prefix so several rows can be open at once); the detail page adds parent
    and group."""

    name = StringField("Name", validators=[DataRequired(), Length(max=SEGMENT_MAX)])
    label = StringField("Label", validators=[Optional(), Length(max=SEGMENT_MAX)])
    description = TextAreaField("Description", validators=[Optional(), Length(max=2000)])
    parent = StringField("Parent", validators=[Optional(), Length(max=1100)])
    group = SelectField("Group", choices=[], validate_choice=False)

    @classmethod
    def for_tag(cls, tag: Tag, parent_path: str, groups: list[str] | None = None,
                **kwargs: Any) -> TagEditForm:
        """The form filled with ``tag`` (request data, when posted, wins)."""
        form = cls(
            data={
                "name": tag.name,
                "label": tag.label,
                "color": tag.color or "#2557d6",
                "no_color": tag.color is None,
                "description": tag.description or "",
                "parent": parent_path,
                "group": tag.group.identifier if tag.group else "",
            },
            **kwargs,
        )
        form.group.choices = [("", "(no group)")] + [(g, g) for g in (groups or [])]
        return form

    def changes(self, tag: Tag, parent_path: str, *, row: bool) -> dict[str, Any]:
        """The keyword arguments for ``update_tag``: what differs from the tag now.  The
        row form has no parent or group, so those stay UNSET."""
        changes: dict[str, Any] = {
            "name": self.name.data or "",
            "label": self.label.data or "",
            "color": self.chosen_color(),
            "description": self.description.data or None,
        }
        if not row:
            parent = (self.parent.data or "").strip()
            changes["parent"] = UNSET if parent == parent_path else (parent or None)
            group = self.group.data or ""
            current = tag.group.identifier if tag.group else ""
            changes["group"] = UNSET if group == current else (group or None)
        if changes["name"].strip() == tag.name:
            changes["name"] = UNSET
        # Untouched fields stay UNSET: a label that was the old name follows a rename.
        current = {"label": tag.label, "color": tag.color, "description": tag.description}
        for key, value in current.items():
            if changes[key] == value or (key == "color" and changes[key] and value
                                         and changes[key].lower() == value.lower()):
                changes[key] = UNSET
        return changes


class BulkForm(FlaskForm):
    """Act on the ticked rows (checkboxes named ``ids`` anywhere on the page that belong
    to this form through ``form="bulk-form"``); the button pressed names the action."""

    hierarchy = BooleanField("with descendants")
    parent = StringField("Move under", validators=[Optional(), Length(max=1100)])
    target = StringField("Merge into", validators=[Optional(), Length(max=1100)])
    next = HiddenField()


class DeleteForm(FlaskForm):
    hierarchy = BooleanField("Also delete its descendants")


class ActionForm(FlaskForm):
    """A button that posts (restore): only the CSRF token."""


class AliasesForm(FlaskForm):
    """A tag's aliases, one per line (blank lines are ignored): the list replaces them."""

    aliases = TextAreaField("Aliases", validators=[Length(max=60_000)])

    def entries(self) -> list[tuple[int, str]]:
        """(line number, text) of each non-blank line."""
        return [(number, line.strip()) for number, line in
                enumerate((self.aliases.data or "").splitlines(), start=1) if line.strip()]


class DeprecateForm(FlaskForm):
    """Deprecate a tag (or change its replacement): the replacement is a typed path or
    qualified name, never read as an id; empty names none."""

    replacement = StringField("Replacement", validators=[Optional(), Length(max=1100)],
                              description="The tag to use instead (optional)")
