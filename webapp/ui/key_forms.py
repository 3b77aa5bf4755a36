"""The form that creates an API key: a name, one of the user's scopes, permissions."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from webapp.services.actor import API_KEY_PERMISSIONS, Permission

PERMISSION_HELP = {
    Permission.TAGS_READ: "list and read tags, groups and resources",
    Permission.TAGS_CREATE: "create tags",
    Permission.TAGS_WRITE: "create and edit tags, attach and detach them",
    Permission.TAGS_DELETE: "delete tags",
    Permission.GROUPS_WRITE: "create, edit and delete tag groups",
}


class CreateKeyForm(FlaskForm):
    """``scope`` choices are the user's scopes (by slug), set by the view."""

    name = StringField("Name", validators=[DataRequired(), Length(max=100)],
                       description="What will use it, e.g. “nightly CMDB sync”")
    scope = SelectField("Scope", choices=[])
    permissions = SelectMultipleField(
        "Permissions", choices=[SelectChoice(p.value) for p in API_KEY_PERMISSIONS],
        default=[Permission.TAGS_READ.value],
    )


# Service field names that differ from the form's.
KEY_FIELDS = {"user": "scope"}
