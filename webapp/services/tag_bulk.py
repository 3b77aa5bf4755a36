"""Moving and merging many tags at once (the tag list's row selection), each call one
change set and all or nothing: an error names the tag it is about and rolls back the rest.

The parent or target is what a person typed in a picker: a path or qualified name, never
read as an id (a tag named ``2024`` is that tag, not the tag whose key is 2024).
"""

from __future__ import annotations

from collections.abc import Sequence

from webapp.models import Tag
from webapp.services.actor import Actor, Permission, authorize
from webapp.services.errors import (
    FieldError,
    LimitExceeded,
    RateLimited,
    ServiceError,
    ValidationFailed,
)
from webapp.services.merge import merge_tags
from webapp.services.tag_queries import tag_by_path
from webapp.services.tags import find_tag, update_tag
from webapp.services.uow import writing

MAX_SELECTION = 1000


def _check_selection(handles: Sequence[int | str]) -> None:
    if not handles:
        raise ValidationFailed.field("ids", "select at least one tag")
    if len(handles) > MAX_SELECTION:
        raise LimitExceeded(f"at most {MAX_SELECTION} tags at once ({len(handles)} given)",
                            [FieldError("ids", f"at most {MAX_SELECTION} tags")])


def _about(scope_id: int, handle: int | str, error: ServiceError, field: str) -> ServiceError:
    """The same kind of error, its message naming the tag, its details moved to ``field``."""
    if isinstance(error, RateLimited):
        return error
    tag = find_tag(scope_id, handle, include_deleted=True)
    name = tag.qualified_name if tag is not None else str(handle)
    details = [FieldError(field, f"{name}: {d.message}") for d in error.details]
    return type(error)(f"{name}: {error.message}",
                       details or [FieldError(field, f"{name}: {error.message}")])


def tag_at_path(actor: Actor, scope_id: int, text: str, field: str) -> Tag:
    """The live tag named ``text`` (path or ``group::path``), else ValidationFailed on
    ``field``."""
    found = tag_by_path(actor, scope_id, text)
    if found is None:
        raise ValidationFailed.field(field, f"no live tag named {text.strip()!r}")
    return found


def move_tags(actor: Actor, scope_id: int, handles: Sequence[int | str],
              parent: str | None) -> list[Tag]:
    """Move every tag under ``parent`` (``None``: to the top level) in one change set.

    Each move follows :func:`webapp.services.tags.update_tag` (a child takes its parent's
    group; no cycles; no clash with a sibling).  Errors are reported on ``parent``.
    """
    _check_selection(handles)
    with writing(actor, scope_id, f"Move {len(handles)} tag(s)") as recorder:
        authorize(actor, scope_id, Permission.TAGS_WRITE)
        new_parent = tag_at_path(actor, scope_id, parent, "parent") if parent else None
        where = new_parent.qualified_name if new_parent else "the top level"
        recorder.summary = f"Move {len(handles)} tag(s) to {where}"
        moved: list[Tag] = []
        for handle in handles:
            try:
                moved.append(update_tag(actor, scope_id, handle,
                                        parent=new_parent.id if new_parent else None))
            except ServiceError as error:
                raise _about(scope_id, handle, error, "parent") from error
        return moved


def merge_into(actor: Actor, scope_id: int, sources: Sequence[int | str], target: str
               ) -> Tag:
    """Merge each source into ``target`` (see :func:`webapp.services.merge.merge_tags`)
    in one change set; a source that is the target itself is skipped.  Errors are
    reported on ``target``."""
    _check_selection(sources)
    with writing(actor, scope_id, f"Merge {len(sources)} tag(s) into {target}") as recorder:
        authorize(actor, scope_id, Permission.TAGS_WRITE)
        authorize(actor, scope_id, Permission.TAGS_DELETE)
        if not target.strip():
            raise ValidationFailed.field("target", "choose the tag to merge into")
        kept = tag_at_path(actor, scope_id, target, "target")
        recorder.summary = f"Merge {len(sources)} tag(s) into {kept.qualified_name}"
        for source in sources:
            # "Merge these into that one" may tick the target too: it stays as it is.
            gone = find_tag(scope_id, source)
            if gone is not None and gone.id == kept.id:
                continue
            try:
                kept = merge_tags(actor, scope_id, source, kept.id)
            except ServiceError as error:
                raise _about(scope_id, source, error, "target") from error
        return kept
