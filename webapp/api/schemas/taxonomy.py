"""The taxonomy file (``/taxonomy``): its JSON shape, which is what ``GET`` answers with
``format=json`` and what ``POST`` takes as ``application/json``, and the import report.

The file's models document the body; the server reads it itself
(:mod:`webapp.services.taxonomy`), since the same body also comes as CSV or YAML and every
problem is reported with its line.  The patterns are those of the services' rules, as
everywhere in the document.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from webapp.api.schemas.tags import Color
from webapp.api.schemas.text import (
    QUALIFIED_NAME_PATTERN,
    Description,
    LabelOrBlank,
    QualifiedName,
    Segment,
    documented,
)
from webapp.models import RESOURCE_TYPES
from webapp.services.names import PATH_MAX
from webapp.services.taxonomy.records import FORMAT_NAME, FORMAT_VERSION

ResourceType = Literal[RESOURCE_TYPES]  # type: ignore[valid-type]
FormatName = Literal["json", "csv", "yaml"]
ModeName = Literal["merge", "mirror"]
ActionName = Literal["create", "update", "unchanged", "delete", "kept"]

# A replacement: a qualified name, or "" for none.
QualifiedNameOrBlank = Annotated[str, documented(
    f"(?:{QUALIFIED_NAME_PATTERN})?", "a qualified name, or \"\" for none",
    maxLength=PATH_MAX)]


class TaxonomyGroup(BaseModel):
    """A tag group of the file.  A field left out: a new group takes the default, an
    existing one keeps its value; null or "": the default."""

    model_config = ConfigDict(extra="forbid")

    identifier: Segment = Field(description="matched by key (NFKC + casefold)")
    label: LabelOrBlank | None = Field(None, description="default: the identifier")
    color: Color = None
    description: Description | None = None
    exclusive: StrictBool = Field(False, description="a resource carries at most one of its "
                                  "tags")
    allowed_types: list[ResourceType] | None = Field(
        None, description="the resource types its tags may be attached to; empty: all")
    assign_role: Literal["editor", "manager", ""] | None = Field(
        None, description="the least role that may attach or detach its tags (default "
        "editor)")


class TaxonomyTag(BaseModel):
    """A tag of the file.  A field left out: a new tag takes the default, an existing one
    keeps its value; null or "": the default."""

    model_config = ConfigDict(extra="forbid")

    path: QualifiedName = Field(description="the qualified name, `group::a.b.c`; matched by "
                                "key (NFKC + casefold); missing ancestors are created")
    label: LabelOrBlank | None = Field(None, description="default: the last segment")
    color: Color = None
    description: Description | None = None
    protected: StrictBool = Field(False, description="only its source changes it (set when "
                                  "an import creates the tag, never changed by one)")
    system_created: StrictBool = Field(False, description="made by a system, not a person "
                                       "(set on create only)")
    source: LabelOrBlank | None = Field(None, description="where it comes from: `curated` "
                                        "(the default) or an external source's name (set "
                                        "on create only)")
    aliases: list[QualifiedName] | None = Field(
        None, description="other names that mean the tag, unique in the scope against "
        "every path and alias")
    deprecated: StrictBool = Field(False, description="kept where it is, not attached again")
    replacement: QualifiedNameOrBlank | None = Field(
        None, description="the qualified name of the tag to use instead (a deprecated tag "
        "only; a tag of the file or of the scope, itself not deprecated)")


class TaxonomyFile(BaseModel):
    """A scope's groups and tags, as `GET /taxonomy?format=json` writes them."""

    model_config = ConfigDict(extra="forbid")

    format: Literal[FORMAT_NAME] | None = None  # type: ignore[valid-type]
    version: Literal[FORMAT_VERSION] | None = None  # type: ignore[valid-type]
    groups: list[TaxonomyGroup] | None = Field(None, description="left out: none")
    tags: list[TaxonomyTag] | None = Field(None, description="parents before children on "
                                         "export; any order on import")


class ExportQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    format: FormatName = Field("json", description="the file's format")


class ImportQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    dry_run: bool = Field(True, description="true (the default): answer the diff, write "
                          "nothing; false: apply it, all or nothing, in one change set")
    mode: ModeName = Field("merge", description="merge: create and update what the file "
                           "lists; mirror: also delete the tags (and empty groups) it "
                           "leaves out, never protected tags nor their ancestors")
    format: FormatName | None = Field(None, description="the body's format, when its "
                                      "Content-Type does not say it")


class FieldChangeOut(BaseModel):
    field: str
    before: Any
    after: Any


class GroupStepOut(BaseModel):
    action: ActionName
    identifier: str
    line: int | None = Field(description="the line of the file that lists it (or names it)")
    implied: bool = Field(description="not listed: a tag's path names it")
    values: dict[str, Any] = Field(description="create: every field; update: the new "
                                   "values of the fields that change")
    changes: list[FieldChangeOut] = Field(description="update: each field before and after")
    reason: str | None = Field(description="kept: why mirror mode does not delete it")


class TagStepOut(BaseModel):
    action: ActionName
    path: str = Field(description="the qualified name")
    line: int | None
    implied: bool = Field(description="not listed: the ancestor of a tag that is")
    values: dict[str, Any]
    changes: list[FieldChangeOut]
    reason: str | None


class RowErrorOut(BaseModel):
    line: int | None
    field: str | None = Field(description="as the file spells it (CSV: `name` for the "
                              "identifier or path)")
    message: str


class ActionCounts(BaseModel):
    create: int
    update: int
    unchanged: int
    delete: int
    kept: int


class ImportCounts(BaseModel):
    groups: ActionCounts
    tags: ActionCounts


class ImportReport(BaseModel):
    """What an import would do (a dry run) or did.  A dry run lists the rows the scope
    refuses under ``errors``; a real run with such rows is a 409 instead."""

    dry_run: bool
    mode: ModeName
    format: FormatName
    valid: bool = Field(description="no errors: a real run would apply this diff")
    summary: str
    change_set_id: int | None = Field(description="the change set of a real run (undo it "
                                      "as one); null for a dry run or when nothing changed")
    counts: ImportCounts
    groups: list[GroupStepOut]
    tags: list[TagStepOut] = Field(description="parents before children, then what goes")
    errors: list[RowErrorOut]
