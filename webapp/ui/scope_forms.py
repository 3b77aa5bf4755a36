"""Forms of the scope pages: create a scope, add a member, change a member's role, add an
external tag source."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, FloatField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from webapp.models import Role

ROLE_CHOICES = [
    SelectChoice(Role.VIEWER.value, "Viewer — reads tags"),
    SelectChoice(Role.EDITOR.value, "Editor — creates, edits, tags and deletes tags"),
    SelectChoice(Role.MANAGER.value, "Manager — also groups, members and API keys"),
]
ROLE_NAMES = [(role.value, role.value.title()) for role in Role]  # the members table's selects


class CreateScopeForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=100)])
    public_id = StringField("Id", validators=[Optional(), Length(max=100)],
                            description="scope_… — leave empty for a generated id")
    slug = StringField("URL slug", validators=[Optional(), Length(max=100)],
                       description="lower-case letters, digits and hyphens; defaults to the id")


# Service field names that differ from the form's.
SCOPE_FIELDS = {"id": "public_id"}


class AddMemberForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)])
    role = SelectField("Role", choices=ROLE_CHOICES, default=Role.VIEWER.value)


class RoleForm(FlaskForm):
    """One member's role (the members table has one per row)."""

    role = SelectField("Role", choices=[SelectChoice(v, label) for v, label in ROLE_NAMES])


class SourceForm(FlaskForm):
    """An external tag source: a name and a URL answering a JSON list of tag paths."""

    name = StringField("Name", validators=[DataRequired(), Length(max=100)],
                       description="Becomes the source of the tags it brings, e.g. “cmdb”")
    url = StringField("URL", validators=[DataRequired(), Length(max=2000)],
                      description="http(s)://… answering a JSON list of dotted tag paths; "
                                  "file:///… (site administrators only)")
    timeout_seconds = FloatField("Timeout (seconds)", default=10.0,
                                 validators=[InputRequired()])


# Service field names that differ from the form's.
SOURCE_FIELDS = {"timeout": "timeout_seconds"}
