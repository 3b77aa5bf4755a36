"""The form of the tags' bulk-edit page: which attributes to change (each behind a
"change" box, so only the ticked ones change) and their new values.  It parses and
checks shapes only; :mod:`webapp.services.tags.bulk_edit` enforces every rule and its
field errors are shown beside these fields."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, ColorField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from webapp.services.tags.bulk_edit import DEPRECATE, UNDEPRECATE, Changes
from webapp.services.unset import UNSET
from webapp.ui.tag_forms import COLOR

TICKED = "ticked"
MATCHING = "matching"


class BulkEditForm(FlaskForm):
    """The selection's choice (ticked / all matching) and the attributes to set.  The
    selection itself (ticked ids, the list's filters) travels beside it as plain fields:
    see :mod:`webapp.ui.tag_bulk_edit`."""

    use = RadioField("Tags to edit", choices=[SelectChoice(TICKED, "the ticked tags"),
                                              SelectChoice(MATCHING, "all matching tags")],
                     default=TICKED)

    set_color = BooleanField("Colour")
    color = ColorField("New colour", validators=[Optional(), COLOR], default="#2557d6")
    no_color = BooleanField("No colour (clear it)")

    set_description = BooleanField("Description")
    description_mode = RadioField("Description", choices=[SelectChoice("set", "Set to"),
                                                          SelectChoice("clear", "Clear it")],
                                  default="set")
    description = TextAreaField("New description", validators=[Optional(), Length(max=2000)])

    set_group = BooleanField("Group")
    group = SelectField("New group", choices=[], validate_choice=False)

    set_parent = BooleanField("Parent")
    parent_mode = RadioField("Parent", choices=[SelectChoice("under", "Move under"),
                                                SelectChoice("top", "Move to the top level")],
                             default="under")
    parent = StringField("New parent", validators=[Optional(), Length(max=1100)])

    set_deprecation = BooleanField("Deprecation")
    deprecation = RadioField("Deprecation", choices=[SelectChoice(DEPRECATE, "Deprecate"),
                                                     SelectChoice(UNDEPRECATE, "Un-deprecate")],
                             default=DEPRECATE)
    replacement = StringField("Replacement", validators=[Optional(), Length(max=1100)],
                              description="The tag to use instead (optional)")

    def with_groups(self, groups: list[str]) -> BulkEditForm:
        self.group.choices = [SelectChoice("", "(no group)")] + [SelectChoice(g, g) for g in groups]
        return self

    def validate(self, extra_validators: object = None) -> bool:  # type: ignore[override]
        ok = super().validate(extra_validators)  # type: ignore[arg-type]
        if not any(field.data for field in (self.set_color, self.set_description,
                                            self.set_group, self.set_parent,
                                            self.set_deprecation)):
            self.form_errors.append("Tick “change” beside at least one attribute.")
            ok = False
        if self.set_description.data and self.description_mode.data == "set" \
                and not (self.description.data or "").strip():
            self.description.errors = [*self.description.errors,
                                       "type the new description, or choose “Clear it”"]
            ok = False
        if self.set_parent.data and self.parent_mode.data == "under" \
                and not (self.parent.data or "").strip():
            self.parent.errors = [*self.parent.errors,
                                  "name the new parent, or choose “Move to the top level”"]
            ok = False
        if self.set_color.data and not self.no_color.data and not self.color.data:
            self.color.errors = [*self.color.errors, "pick a colour, or tick “No colour”"]
            ok = False
        return ok

    def changes(self) -> Changes:
        """The service's :class:`Changes`: UNSET for every attribute not ticked."""
        color = description = group = parent = UNSET
        deprecation: str = UNSET
        replacement: str | None = None
        if self.set_color.data:
            color = None if self.no_color.data else str(self.color.data)
        if self.set_description.data:
            description = (None if self.description_mode.data == "clear"
                           else self.description.data or None)
        if self.set_group.data:
            group = self.group.data or None
        if self.set_parent.data:
            parent = (None if self.parent_mode.data == "top"
                      else (self.parent.data or "").strip() or None)
        if self.set_deprecation.data:
            deprecation = str(self.deprecation.data)
            if deprecation == DEPRECATE:
                replacement = (self.replacement.data or "").strip() or None
        return Changes(color=color, description=description, group=group, parent=parent,
                       deprecation=deprecation, replacement=replacement)
