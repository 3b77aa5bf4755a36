"""Auto-tagging rules (``/rules``): camelCase, like the tag groups."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, WithJsonSchema

from webapp.api.schemas.text import _NOT_LINE_CONTROL, Label, QualifiedName, items, optional
from webapp.services.expressions.syntax import MAX_LENGTH
from webapp.services.link_plan import MAX_NAMES

_NAME = "unique in the scope (case-insensitive); 1–100 characters once trimmed"
_WHEN = ("a tag expression over resources (the syntax of `q`: `tag:PATH`, `group:ID`, "
         "`type:TYPE`, `name:GLOB`, `untagged`, `source:NAME`, AND/OR/NOT, parentheses); "
         "the tags and groups it names must exist")
_ATTACH = (f"the tag names to attach (1–{MAX_NAMES}); missing ones are created when the "
           "rule runs, as an attach creates them")
_ENABLED = "runs on every resource registration (API, attach of unknown ids, forms, import)"

Expression = Annotated[str, WithJsonSchema({
    "type": "string", "pattern": f"^{_NOT_LINE_CONTROL}*$", "minLength": 1,
    "maxLength": MAX_LENGTH, "description": _WHEN})]


class RuleOut(BaseModel):
    """An auto-tagging rule."""

    id: int
    scopeId: str
    name: str = Field(description=_NAME)
    when: str = Field(description=_WHEN)
    attach: list[str] = Field(description=_ATTACH)
    enabled: bool = Field(description=_ENABLED)
    createdAt: datetime
    updatedAt: datetime


class RuleList(BaseModel):
    results: list[RuleOut]


class RuleCreate(BaseModel):
    """A new rule.  Saving it does not tag existing resources: ``POST /rules/{id}/apply``
    does."""

    model_config = ConfigDict(extra="forbid")

    name: Label = Field(description=_NAME)
    when: Expression
    attach: list[QualifiedName] = items(1, MAX_NAMES)
    enabled: StrictBool = Field(True, description=_ENABLED)


class RulePatch(BaseModel):
    """The fields to change; those left out stay as they are."""

    model_config = ConfigDict(extra="forbid")

    name: Label = optional(_NAME)
    when: Expression = optional(_WHEN)
    attach: list[QualifiedName] = optional(_ATTACH)
    enabled: StrictBool = optional(_ENABLED)

    def changes(self) -> dict[str, Any]:
        return {field: getattr(self, field) for field in self.model_fields_set}


class RulePreviewIn(BaseModel):
    """A rule to preview (saved or not)."""

    model_config = ConfigDict(extra="forbid")

    when: Expression
    attach: list[QualifiedName] = items(1, MAX_NAMES)


class PlannedTag(BaseModel):
    name: str
    isNew: bool = Field(description="the tag does not exist yet: it will be created")
    group: str | None = Field(description="its group's identifier")
    toAdd: int = Field(description="links added")
    alreadyPresent: int = Field(description="matching resources that carry it already")
    refused: int = Field(description="matching resources it is not attached to: its group "
                                     "does not allow their type, or the tag is deprecated")
    refusedTypes: list[str]
    refusal: str | None = Field(description="why the tag is skipped altogether")


class ReplacedTag(BaseModel):
    tag: str = Field(description="a tag of an exclusive group that loses links")
    winner: str = Field(description="the attached tag that replaces it")
    links: int


Cell = Literal["add", "present", "refused"]


class SampleResource(BaseModel):
    type: str
    id: str = Field(description="the resource's external id")
    name: str | None
    slug: str | None
    tags: dict[str, Cell] = Field(description="per attached name: what happens to it")
    losing: list[str] = Field(description="tags it loses to an exclusive group's winner")


class PolicyRefusal(BaseModel):
    """An enforced policy that would refuse the back-fill (applying it answers 409
    POLICY_VIOLATION and writes nothing)."""

    policy: str = Field(description="the policy's name")
    message: str
    resources: list[str] = Field(description="the first refused resources, type:id")
    count: int = Field(description="every refused resource")


class RulePreviewOut(BaseModel):
    """What applying the rule now would do: the bulk preview of the matching resources."""

    resources: int = Field(description="resources the expression matches")
    byType: dict[str, int]
    toAdd: int
    alreadyPresent: int
    refused: int
    replaced: int = Field(description="links removed: other tags of an exclusive group")
    tags: list[PlannedTag]
    created: list[str] = Field(description="tags to create, ancestors first")
    groupsCreated: list[str]
    replacements: list[ReplacedTag]
    sample: list[SampleResource] = Field(description="the first matching resources")
    policyRefusal: PolicyRefusal | None = Field(
        None, description="an enforced policy refusing it; null when none does")


class RuleApplied(BaseModel):
    """What a back-fill did: one change set, which the audit page (or the rules page's
    result) undoes."""

    ruleId: int
    changeSetId: int | None = Field(description="null when nothing was written")
    resources: int = Field(description="resources the rule matched")
    added: int
    alreadyPresent: int
    replaced: int
    refused: int
