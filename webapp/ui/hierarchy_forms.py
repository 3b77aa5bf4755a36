"""Forms of the hierarchy editor.

Forms that act on one node carry the prefix ``n<tag id>``, so several nodes can have a
panel open at once without clashing ids (``n12-name``, errors in ``n12-name-errors``).
The name rules themselves live in the service layer; these forms only check presence
and length so an empty submit is answered beside the field without a service call.
"""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from webapp.models import TagGroup
from webapp.services.names import PATH_MAX, SEGMENT_MAX

NO_GROUP = ""


def node_prefix(tag_id: int) -> str:
    return f"n{tag_id}"


class NewRootForm(FlaskForm):
    """A root tag, in a group or in none."""

    name = StringField("New root tag", validators=[DataRequired(), Length(max=PATH_MAX)])
    group = SelectField("In group", default=NO_GROUP, validators=[Optional()])

    def __init__(self, groups: list[TagGroup], **kwargs: Any) -> None:
        super().__init__(prefix="root", **kwargs)
        self.group.choices = [SelectChoice(NO_GROUP, "No group"),
                              *(SelectChoice(g.identifier, f"{g.identifier}::") for g in groups)]


class AddChildForm(FlaskForm):
    """A child of the node; dots in the name add several levels at once."""

    name = StringField("Name of the new child", validators=[DataRequired(),
                                                             Length(max=PATH_MAX)])


class RenameForm(FlaskForm):
    name = StringField("New name", validators=[DataRequired(), Length(max=SEGMENT_MAX)])


class MoveForm(FlaskForm):
    """A new parent: typed as a path, or picked from the suggestions (their buttons
    submit ``target`` with the tag id); ``make_root`` moves the node to the top level."""

    parent = StringField("New parent", validators=[Optional(), Length(max=PATH_MAX + 102)])
    target = StringField(validators=[Optional()])
    make_root = SubmitField("Make it a root")

    def validate(self, extra_validators: Any = None) -> bool:
        if not super().validate(extra_validators):
            return False
        if not (self.make_root.data or self.target.data or (self.parent.data or "").strip()):
            self.parent.errors = ["Type the path of the new parent, or make it a root."]
            return False
        return True

    def parent_handle(self) -> str | None:
        """The chosen parent (tag id or path), None for a root."""
        if self.make_root.data:
            return None
        return (self.target.data or self.parent.data or "").strip()


class ConfirmForm(FlaskForm):
    """A confirmation: only the CSRF token."""
