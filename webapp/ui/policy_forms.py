"""The tag policy form (create, edit, preview).

The service layer checks everything (the name and its uniqueness, the types, the
``where`` expression, the groups and tags named, the mode); the form only splits the
forbidden tags one per line and maps the service's field names back to its fields.
"""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from webapp.models import RESOURCE_TYPES
from webapp.services.errors import ServiceError
from webapp.services.names import SEGMENT_MAX
from webapp.services.policies.crud import PolicyInput, PolicyView
from webapp.services.policies.rules import MODES
from webapp.ui.group_forms import CheckboxesField
from webapp.ui.rendering import apply_service_error

MODE_LABELS = {"report": "Report: list what violates it",
               "enforce": "Enforce: also refuse changes that would violate it"}


class PolicyForm(FlaskForm):
    name = StringField("Name", validators=[Length(max=SEGMENT_MAX)])
    description = TextAreaField("Description", validators=[Optional(), Length(max=2000)])
    resource_types = CheckboxesField("Resource types",
                                     choices=[SelectChoice(t) for t in RESOURCE_TYPES])
    where = StringField("Only resources matching", validators=[Length(max=2000)])
    require_groups = CheckboxesField("Required groups", choices=[], validate_choice=False)
    forbid_tags = TextAreaField("Forbidden tags", validators=[Length(max=20000)])
    mode = RadioField("Mode", choices=[SelectChoice(m, MODE_LABELS[m]) for m in MODES],
                      default="report", validate_choice=False)

    def __init__(self, policy: PolicyView | None = None, groups: list[str] | None = None,
                 **kwargs: Any) -> None:
        if policy is not None:
            kwargs.setdefault("data", {
                "name": policy.name, "description": policy.description or "",
                "resource_types": list(policy.resource_types), "where": policy.where or "",
                "require_groups": list(policy.require_groups),
                "forbid_tags": "\n".join(policy.forbid_tags), "mode": policy.mode,
            })
        super().__init__(**kwargs)
        known = list(groups or [])
        # A group required but renamed or typed elsewhere still shows, ticked.
        known += [g for g in (self.require_groups.data or []) if g not in known]
        self.require_groups.choices = [SelectChoice(g, f"{g}::") for g in known]

    def values(self) -> PolicyInput:
        forbidden = [line.strip() for line in (self.forbid_tags.data or "").splitlines()]
        return PolicyInput(
            name=self.name.data or "",
            description=self.description.data or None,
            resource_types=list(self.resource_types.data or []),
            where=self.where.data or None,
            require_groups=list(self.require_groups.data or []),
            forbid_tags=[line for line in forbidden if line],
            mode=self.mode.data or "",
        )

    def apply_error(self, error: ServiceError) -> None:
        """The service's error beside its field (``forbid_tags[2]`` → forbidden tags)."""
        field_map = {d.field: d.field.split("[", 1)[0] for d in error.details}
        apply_service_error(self, error, field_map)
