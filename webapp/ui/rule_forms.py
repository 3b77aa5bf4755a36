"""The auto-tagging rule form (create and edit), its live preview and the toggle.

The service checks everything (the name, the ``when`` expression, the ``attach`` tag
names); the form only reads what was typed.  ``attach`` is typed one tag name per line
(commas also separate names); a service error about ``attach[i]`` is shown beside the
field, naming the tag it is about.
"""

from __future__ import annotations

import re
from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from webapp.models import TagRule
from webapp.services.errors import FieldError, ServiceError
from webapp.services.rules import NAME_MAX

_SEPARATORS = re.compile(r"[\n,]")
_ATTACH_ITEM = re.compile(r"^attach\[(\d+)\]$")
WHEN_MAX = 2000
ATTACH_MAX = 5000


def split_names(text: str | None) -> list[str]:
    """The tag names typed in the ``attach`` box: one per line or comma-separated, blank
    ones dropped (the service trims and checks each)."""
    return [item.strip() for item in _SEPARATORS.split(text or "") if item.strip()]


class RuleForm(FlaskForm):
    name = StringField("Name", validators=[Optional(), Length(max=NAME_MAX)])
    when = TextAreaField("When (a tag expression over resources)",
                         validators=[Optional(), Length(max=WHEN_MAX)])
    attach = TextAreaField("Attach these tags", validators=[Optional(), Length(max=ATTACH_MAX)])
    enabled = BooleanField("Enabled: run on every resource registration", default=True)

    def __init__(self, rule: TagRule | None = None, **kwargs: Any) -> None:
        if rule is not None:
            kwargs.setdefault("data", {"name": rule.name, "when": rule.when,
                                       "attach": "\n".join(rule.attach or []),
                                       "enabled": rule.enabled})
        super().__init__(**kwargs)

    @property
    def names(self) -> list[str]:
        return split_names(self.attach.data)

    def values(self) -> dict[str, Any]:
        """The fields as ``create_rule`` / ``update_rule`` take them."""
        return {"name": self.name.data or "", "when": self.when.data or "",
                "attach": self.names, "enabled": bool(self.enabled.data)}

    def apply_error(self, error: ServiceError, *, top: bool = True) -> bool:
        """The service's errors beside the fields they name (``attach[i]`` beside
        ``attach``, naming the i-th tag), others at the top of the form (``top``).  True
        when each one went beside a field."""
        placed = False
        everywhere = bool(error.details)
        typed = self.names
        for detail in error.details:
            field, message = _field_of(detail, typed)
            target = getattr(self, field, None) if field else None
            if target is None or not hasattr(target, "errors"):
                everywhere = False
                continue
            if isinstance(target.errors, tuple):
                target.errors = list(target.errors)
            if message not in target.errors:
                target.errors.append(message)
            placed = True
        if not placed and top:
            self.form_errors.append(error.message)
        return placed and everywhere


def _field_of(detail: FieldError, typed: list[str]) -> tuple[str | None, str]:
    match = _ATTACH_ITEM.match(detail.field)
    if match:
        index = int(match.group(1))
        name = typed[index] if index < len(typed) else f"tag {index + 1}"
        if name in detail.message:
            return "attach", detail.message
        return "attach", f"“{name}”: {detail.message}"
    if detail.field in ("name", "when", "attach", "enabled"):
        return detail.field, detail.message
    return None, detail.message


class ToggleForm(FlaskForm):
    """Enable or disable a rule: ``enabled`` is ``1`` or ``0``."""

    enabled = HiddenField()

    @property
    def wanted(self) -> bool:
        return (self.enabled.data or "") in ("1", "true", "on", "y")
