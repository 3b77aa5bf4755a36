"""Moving and merging many tags at once (the tag list's row selection), each call one
change set and all or nothing: an error names the tag it is about and rolls back the rest.

The parent or target is what a person typed in a picker: a path or qualified name, never
read as an id (a tag named ``2024`` is that tag, not the tag whose key is 2024).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from webapp.models import Tag
from webapp.services.actor import Actor, Permission, authorize
from webapp.services.errors import (
    FieldError,
    LimitExceeded,
    NotFound,
    ServiceError,
    ValidationFailed,
)
from webapp.services.tags.hierarchy import MovedTag, relocate_all
from webapp.services.tags.lookup import (
    Reading,
    TagFacts,
    find_live_tags,
    find_tag,
    live_tag,
)
from webapp.services.tags.merge import merge_all
from webapp.services.uow import writing
from webapp.services.wording import counted

MAX_SELECTION = 1000


def _check_selection(handles: Sequence[int | str]) -> None:
    if not handles:
        raise ValidationFailed.field("ids", "select at least one tag")
    if len(handles) > MAX_SELECTION:
        raise LimitExceeded(f"at most {MAX_SELECTION} tags at once ({len(handles)} given)",
                            [FieldError("ids", f"at most {MAX_SELECTION} tags")])


def _about(scope_id: int, handle: int | str, error: ServiceError, field: str) -> ServiceError:
    """The same kind of error, its message naming the tag, its details moved to ``field``."""
    tag = find_tag(scope_id, handle, include_deleted=True)
    name = tag.qualified_name if tag is not None else str(handle)
    details = [FieldError(field, f"{name}: {d.message}") for d in error.details]
    return type(error)(f"{name}: {error.message}",
                       details or [FieldError(field, f"{name}: {error.message}")])


def _live(scope_id: int, handles: Sequence[int | str], field: str) -> list[TagFacts]:
    """The live tag of every handle (one statement), else NotFound naming the first
    missing one on ``field``."""
    found = find_live_tags(scope_id, handles)
    for handle, tag in zip(handles, found, strict=True):
        if tag is None:
            raise _about(scope_id, handle, NotFound(f"tag {handle!r} not found",
                                                    [FieldError(field, "no such tag")]), field)
    return [tag for tag in found if tag is not None]


def move_tags(actor: Actor, scope_id: int, handles: Sequence[int | str],
              parent: str | None) -> list[MovedTag]:
    """Move every tag under ``parent`` (``None``: to the top level) in one change set.

    Each move follows :func:`webapp.services.tags.update_tag` (a child takes its parent's
    group; no cycles; no clash with a sibling nor with another moved tag); see
    :func:`webapp.services.tags.relocate_all`, which moves them all in a fixed number of
    statements.  Errors name the tag and are reported on ``parent``.
    """
    _check_selection(handles)
    with writing(actor, scope_id, f"Move {len(handles)} tag(s)") as recorder:
        authorize(actor, scope_id, Permission.TAGS_WRITE)
        new_parent = live_tag(scope_id, parent, "parent", reading=Reading.NAME,
                                         missing=ValidationFailed) if parent else None
        where = new_parent.qualified_name if new_parent else "the top level"
        recorder.summary = f"Move {len(handles)} tag(s) to {where}"
        movers = _live(scope_id, handles, "parent")
        return relocate_all(
            actor, scope_id, recorder, movers, new_parent,
            lambda tag_id, error: _about(scope_id, tag_id, error, "parent"))


@dataclass(frozen=True)
class Merged:
    """What a merge did: the tag kept and how many tags were merged into it (and deleted)."""

    kept: Tag
    count: int

    @property
    def summary(self) -> str:
        """``Merge 3 tags into keep``: the change set's title; the pages say the same."""
        return merge_summary(self.count, self.kept.qualified_name)


def merge_summary(count: int, target: str) -> str:
    return f"Merge {counted(count, 'tag')} into {target}"


def merge_into(actor: Actor, scope_id: int, sources: Sequence[int | str], target: str
               ) -> Merged:
    """Merge the sources into ``target`` in one change set (see
    :func:`webapp.services.tags.merge.merge_all`, a fixed number of statements); a source that
    is the target itself, or is given twice, is merged once or skipped, and the count (in
    the change set's summary and the result) is of the tags merged away.  A selection of
    the target alone merges nothing and is refused.  Errors name the tag and are reported
    on ``target``."""
    _check_selection(sources)
    with writing(actor, scope_id, f"Merge into {target}") as recorder:
        authorize(actor, scope_id, Permission.TAGS_WRITE)
        authorize(actor, scope_id, Permission.TAGS_DELETE)
        if not target.strip():
            raise ValidationFailed.field("target", "choose the tag to merge into")
        kept = live_tag(scope_id, target, "target", reading=Reading.NAME,
                        missing=ValidationFailed)
        # "Merge these into that one" may tick the target too: it stays as it is.
        gone = {tag.id: tag for tag in _live(scope_id, sources, "target") if tag.id != kept.id}
        if not gone:
            raise ValidationFailed.field(
                "target", f"nothing to merge: tick tags other than {kept.qualified_name}")
        merged = Merged(kept, len(gone))
        recorder.summary = merged.summary
        merge_all(actor, scope_id, recorder, list(gone.values()), kept,
                  lambda tag_id, error: _about(scope_id, tag_id, error, "target"))
        return merged
