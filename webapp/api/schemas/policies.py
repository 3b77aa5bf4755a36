"""Tag policies (``/policies``) and the compliance report (``/compliance``): camelCase."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from webapp.api.schemas.common import PageEnvelope
from webapp.api.schemas.groups import ResourceType
from webapp.api.schemas.text import _NOT_LINE_CONTROL, Description, Label, optional
from webapp.services.expressions.syntax import MAX_LENGTH
from webapp.services.policies.crud import MAX_ITEMS

_NAME = "unique in the scope (case-insensitive); 1–100 characters once trimmed"
_TYPES = "the resource types it covers; empty for all"
_WHERE = ("an optional tag expression narrowing the covered resources (the syntax of `q`); "
          "the tags and groups it names must exist; null or \"\" for none")
_GROUPS = ("groups (identifier, public id or id): each covered resource carries a tag of "
           "each — exactly one of an exclusive group")
_FORBID = ("tags (path, `group::path`, public id or id) covered resources must not carry; "
           "a tag covers its descendants")
_MODE = ("`report` lists violations; `enforce` also refuses every change that adds a "
         "forbidden tag to a covered resource or removes its last tag of a required group "
         "(409 `POLICY_VIOLATION`)")
Mode = Literal["report", "enforce"]

Where = Annotated[str, WithJsonSchema({
    "type": "string", "pattern": f"^{_NOT_LINE_CONTROL}*$", "maxLength": MAX_LENGTH,
    "description": _WHERE})]
Handle = Annotated[str, WithJsonSchema({
    "type": "string", "pattern": f"^{_NOT_LINE_CONTROL}*$", "minLength": 1,
    "maxLength": 1100})]


class PolicyOut(BaseModel):
    """A tag policy; groups by identifier, tags by qualified name."""

    id: int
    scopeId: str
    name: str = Field(description=_NAME)
    description: str | None
    resourceTypes: list[str] = Field(description=_TYPES)
    where: str | None = Field(description=_WHERE)
    requireGroups: list[str] = Field(description=_GROUPS)
    forbidTags: list[str] = Field(description=_FORBID)
    mode: Mode = Field(description=_MODE)
    broken: str | None = Field(description="why `where` covers nothing now (it names a tag "
                                           "deleted since), else null")
    createdAt: datetime
    updatedAt: datetime


class PolicyList(BaseModel):
    results: list[PolicyOut]


class PolicyCreate(BaseModel):
    """A new policy (needs groups.write).  It requires a group or forbids a tag."""

    model_config = ConfigDict(extra="forbid")

    name: Label = Field(description=_NAME)
    description: Description | None = None
    resourceTypes: list[ResourceType] = Field(default_factory=list, description=_TYPES)
    where: Where | None = None
    requireGroups: list[Handle] = Field(default_factory=list, description=_GROUPS,
                                        json_schema_extra={"maxItems": MAX_ITEMS})
    forbidTags: list[Handle] = Field(default_factory=list, description=_FORBID,
                                     json_schema_extra={"maxItems": MAX_ITEMS})
    mode: Mode = Field("report", description=_MODE)


class PolicyPreviewIn(PolicyCreate):
    """A policy to preview: a new one, or (``policyId``) a change of a stored one."""

    policyId: int | None = Field(None, ge=1, le=2**31 - 1,
                                 description="the stored policy this would replace")


class PolicyPatch(BaseModel):
    """The fields to change; those left out stay as they are."""

    model_config = ConfigDict(extra="forbid")

    name: Label = optional(_NAME)
    description: Description | None = None
    resourceTypes: list[ResourceType] = optional(_TYPES)
    where: Where | None = None
    requireGroups: list[Handle] = optional(_GROUPS)
    forbidTags: list[Handle] = optional(_FORBID)
    mode: Mode = optional(_MODE)

    def changes(self) -> dict[str, Any]:
        names = {"resourceTypes": "resource_types", "requireGroups": "require_groups",
                 "forbidTags": "forbid_tags"}
        return {names.get(f, f): getattr(self, f) for f in self.model_fields_set}


class ReasonOut(BaseModel):
    kind: Literal["missing", "several", "forbidden"] = Field(
        description="`missing`: no tag of the group; `several`: more than one tag of the "
                    "exclusive group; `forbidden`: carries the tag or a descendant")
    subject: str = Field(description="the group's identifier or the tag's qualified name")
    text: str
    resources: int


class ComplianceOut(BaseModel):
    policy: PolicyOut
    covered: int = Field(description="resources of its types matching `where`")
    compliant: int
    nonCompliant: int
    missingGroups: dict[str, int] = Field(description="resources lacking each group")
    forbiddenTags: dict[str, int] = Field(description="resources carrying each tag")
    reasons: list[ReasonOut] = Field(description="every reason, most resources first")


class ComplianceReport(BaseModel):
    results: list[ComplianceOut]


class ViolationsQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    policy: int = Field(ge=1, le=2**31 - 1)
    page: int = Field(1, ge=1, le=2**31 - 1)
    per_page: int = Field(50, ge=1, le=200)


class ViolationsCsvQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    policy: int = Field(ge=1, le=2**31 - 1)


class ViolationOut(BaseModel):
    type: str
    id: str = Field(description="the resource's external id")
    name: str | None
    reasons: list[str]


class ViolationPage(PageEnvelope):
    policy: PolicyOut
    results: list[ViolationOut]


class PolicyPreviewOut(BaseModel):
    """What the policy would report on the resources stored now (nothing is written)."""

    covered: int
    compliant: int
    nonCompliant: int
    newlyFlagged: int | None = Field(description="for a change: resources it flags that "
                                                 "the stored policy does not")
    reasons: list[ReasonOut]
    sample: list[ViolationOut]

