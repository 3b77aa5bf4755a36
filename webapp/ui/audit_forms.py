"""Forms of the audit pages: the change-set filters (read from the query string)."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import BooleanField, SelectField
from wtforms.fields.choices import SelectChoice

from webapp.models import User

# Object types of audit events as the filter offers them (``user`` events have no scope).
OBJECT_TYPES: tuple[tuple[str, str], ...] = (
    ("tag", "Tags"),
    ("assignments", "Tag links"),
    ("tag_alias", "Tag aliases"),
    ("resources", "Resources"),
    ("tag_group", "Groups"),
    ("membership", "Members"),
    ("api_key", "API keys"),
    ("scope", "Scope"),
)
OBJECT_TYPE_LABELS = dict(OBJECT_TYPES)
MAX_PAGE = 1_000_000


class AuditFilterForm(FlaskForm):
    """Who, what kind of object, and whether to hide change sets that were undone.

    The actor is chosen by e-mail so the URL reads well and stays valid across databases.
    """

    class Meta:
        csrf = False

    actor = SelectField("Who", default="")
    object_type = SelectField("Object", default="",
                              choices=[SelectChoice("", "Any object"),
                                       *(SelectChoice(v, label) for v, label in OBJECT_TYPES)])
    hide_undone = BooleanField("Hide undone changes")

    def __init__(self, args: MultiDict[str, str], actors: list[User], **kwargs: Any) -> None:
        super().__init__(formdata=args, **kwargs)
        self.actor.choices = [SelectChoice("", "Anyone"), *(SelectChoice(u.email) for u in actors)]
        self._actors = {u.email: u.id for u in actors}

    def actor_id(self) -> int | None:
        return self._actors.get(self.actor.data or "")

    def query_args(self) -> dict[str, str]:
        """The valid filters as query-string values (empty ones left out)."""
        args: dict[str, str] = {}
        if self.actor.data and not self.actor.errors:
            args["actor"] = self.actor.data
        if self.object_type.data and not self.object_type.errors:
            args["object_type"] = self.object_type.data
        if self.hide_undone.data:
            args["hide_undone"] = "1"
        return args


def page_number(args: MultiDict[str, str]) -> int:
    """The ``page`` query value: 1 when missing or not a whole number from 1 to a million."""
    raw = args.get("page", "1")
    if not raw.isascii() or not raw.isdigit() or len(raw) > 7:
        return 1
    return min(max(int(raw), 1), MAX_PAGE)
