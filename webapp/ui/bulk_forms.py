"""The bulk tagging form: which resources (type, search, name pattern, tag, tag
expression, or ticked rows), which tags, attach or detach.

The whole state travels with every request (query string or form body), so the page has
no server-side draft: a selection refresh, a preview and the apply all read the same
fields.  CSRF is checked by CSRFProtect for every POST (htmx sends the token header), so
the form itself carries no token field.
"""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import Field, HiddenField, RadioField, SearchField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import HiddenInput

from webapp.models import RESOURCE_TYPES
from webapp.services.link_plan import LinkAction
from webapp.services.resource_selection import (
    PatternField,
    PatternMode,
    ResourceCriteria,
    build_criteria,
)

MODE_LABELS = {
    PatternMode.ENDS: "ends with",
    PatternMode.STARTS: "starts with",
    PatternMode.CONTAINS: "contains",
}
FIELD_LABELS = {
    PatternField.NAME_OR_SLUG: "name or slug",
    PatternField.NAME: "name",
    PatternField.SLUG: "slug",
    PatternField.ID: "id",
}
USE_MATCHING, USE_TICKED = "matching", "ticked"


class ValueListField(Field):
    """Every value sent under the field's name (``tags=a&tags=b``), blanks dropped."""

    widget = HiddenInput()

    def __init__(self, label: str | None = None, **kwargs: Any) -> None:
        super().__init__(label, default=(), **kwargs)

    def process_formdata(self, valuelist: list[str]) -> None:
        self.data = [value.strip() for value in valuelist if value and value.strip()]

    def _value(self) -> str:
        return ""


class BulkForm(FlaskForm):
    class Meta:
        csrf = False

    type = SelectField("Type", choices=[SelectChoice("", "All types"),
                                        *(SelectChoice(t) for t in RESOURCE_TYPES)],
                       validate_choice=False)
    q = SearchField("Search")
    mode = SelectField("Name", choices=[SelectChoice(m.value, label)
                                        for m, label in MODE_LABELS.items()],
                       default=PatternMode.ENDS.value, validate_choice=False)
    pattern = StringField("Pattern")
    on = SelectField("On", choices=[SelectChoice(f.value, label)
                                    for f, label in FIELD_LABELS.items()],
                     default=PatternField.NAME_OR_SLUG.value, validate_choice=False)
    tag = HiddenField()
    # ``q`` is the search here, so the tag expression is ``expr`` (as on the resources page).
    expr = StringField("Tag expression")
    use = RadioField("Apply to", choices=[SelectChoice(USE_MATCHING, "all matching resources"),
                                          SelectChoice(USE_TICKED, "only the ticked rows")],
                     default=USE_MATCHING, validate_choice=False)
    ticked = ValueListField("Ticked rows")
    tags = ValueListField("Tags")
    action = RadioField("Action", choices=[SelectChoice(LinkAction.ATTACH.value, "Attach"),
                                           SelectChoice(LinkAction.DETACH.value, "Detach")],
                        default=LinkAction.ATTACH.value, validate_choice=False)

    @staticmethod
    def describe_filters(criteria: ResourceCriteria, tag_name: str | None = None) -> str:
        """The filters in words: ``Resources of type source whose name or slug ends with
        “-ads”.``"""
        parts = []
        if criteria.rtype:
            parts.append(f"of type {criteria.rtype}")
        if criteria.search:
            parts.append(f"whose id, name or slug contains “{criteria.search}”")
        if criteria.pattern:
            parts.append(f"whose {FIELD_LABELS[criteria.on]} {MODE_LABELS[criteria.mode]} "
                         f"“{criteria.pattern}”")
        if tag_name:
            parts.append(f"carrying {tag_name}")
        if criteria.expression is not None:
            parts.append(f"matching the tag expression “{criteria.expression.text.strip()}”")
        return f"Resources {', '.join(parts)}." if parts else "All resources of the scope."

    @property
    def uses_ticked(self) -> bool:
        return self.use.data == USE_TICKED

    @property
    def link_action(self) -> LinkAction:
        try:
            return LinkAction(self.action.data)
        except ValueError:
            return LinkAction.ATTACH

    def filter_criteria(self, scope_id: int) -> ResourceCriteria:
        """The filters (type, search, pattern, tag, a tag expression resolved in the
        scope); ValidationFailed names the field."""
        return build_criteria(rtype=self.type.data, search=self.q.data,
                              pattern=self.pattern.data, mode=self.mode.data, on=self.on.data,
                              tag_id=self.tag.data, expression=self.expr.data or None,
                              scope_id=scope_id)

    def ticked_criteria(self) -> ResourceCriteria:
        return build_criteria(ids=self.ticked.data)

    def selection_criteria(self, scope_id: int) -> ResourceCriteria:
        """What the change applies to: the ticked rows, or everything the filters match."""
        return self.ticked_criteria() if self.uses_ticked else self.filter_criteria(scope_id)

    def state_args(self) -> dict[str, Any]:
        """The query string of the page in this state (ticked rows left out: they may be
        thousands, and a URL is no place for them)."""
        args: dict[str, Any] = {
            "type": self.type.data, "q": self.q.data, "pattern": self.pattern.data,
            "tag": self.tag.data, "expr": (self.expr.data or "").strip(),
            "tags": list(self.tags.data) or None,
        }
        if self.pattern.data:
            args["mode"], args["on"] = self.mode.data, self.on.data
        if self.link_action is LinkAction.DETACH:
            args["action"] = LinkAction.DETACH.value
        return {key: value for key, value in args.items() if value}


class TagQueryForm(FlaskForm):
    """The tag picker's text box (autocomplete)."""

    class Meta:
        csrf = False

    tag_query = StringField("Add a tag")
