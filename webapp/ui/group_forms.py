"""The tag group form (create and edit).

The service layer checks the rules (identifier syntax and uniqueness, colour format,
known resource types, exclusive and allowed-type conflicts with existing links); the form
only insists on an identifier and sane lengths.
"""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from webapp.models import RESOURCE_TYPES, TagGroup
from webapp.services.names import SEGMENT_MAX


class CheckboxesField(SelectMultipleField):
    """Several choices as a list of checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class GroupForm(FlaskForm):
    identifier = StringField("Identifier", validators=[DataRequired(), Length(max=SEGMENT_MAX)])
    label = StringField("Label", validators=[Optional(), Length(max=SEGMENT_MAX)])
    description = TextAreaField("Description", validators=[Optional(), Length(max=2000)])
    color = StringField("Default colour", validators=[Optional(), Length(max=7)])
    exclusive = BooleanField("Exclusive")
    allowed_types = CheckboxesField("Allowed resource types",
                                    choices=[SelectChoice(t) for t in RESOURCE_TYPES])
    assign_role = SelectField("Who may attach and detach its tags",
                              choices=[SelectChoice("editor", "Editors and managers"),
                                       SelectChoice("manager", "Managers only")],
                              default="editor", validate_choice=False)

    def __init__(self, group: TagGroup | None = None, **kwargs: Any) -> None:
        if group is not None:
            kwargs.setdefault("data", {
                "identifier": group.identifier, "label": group.label,
                "description": group.description or "", "color": group.color or "",
                "exclusive": group.exclusive, "allowed_types": list(group.allowed_types or []),
                "assign_role": group.assign_role,
            })
        super().__init__(**kwargs)

    def values(self) -> dict[str, Any]:
        """The fields as ``create_group`` / ``update_group`` take them (a blank label
        becomes the identifier)."""
        identifier = self.identifier.data or ""  # as typed: the service trims it
        return {
            "identifier": identifier,
            "label": self.label.data if (self.label.data or "").strip() else identifier,
            "description": self.description.data or None,
            "color": (self.color.data or "").strip() or None,
            "exclusive": bool(self.exclusive.data),
            "allowed_types": list(self.allowed_types.data or []),
            "assign_role": self.assign_role.data or "editor",  # the service checks it
        }
