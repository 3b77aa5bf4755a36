"""Merging one tag into another: links move, children move, the source is soft-deleted."""

from __future__ import annotations

from sqlalchemy import Integer, select

from webapp.extensions import db
from webapp.models import Assignment, Resource, Tag
from webapp.services.actor import Actor, Permission, authorize
from webapp.services.assignments import (
    check_group_rules,
    insert_links,
    remove_links,
    replace_in_exclusive_groups,
    typed_literal,
)
from webapp.services.errors import ValidationFailed
from webapp.services.tags import live_tag, refuse_protected, relocate, soft_delete
from webapp.services.uow import writing


def merge_tags(actor: Actor, scope_id: int, source: int | str, target: int | str) -> Tag:
    """Merge ``source`` into ``target`` in one change set.

    Every resource carrying the source ends up carrying the target (the target's group
    rules apply: exclusive groups replace rivals, disallowed resource types refuse the
    merge); the source's children move under the target; the source is soft-deleted.
    """
    with writing(actor, scope_id, f"Merge {source} into {target}") as recorder:
        authorize(actor, scope_id, Permission.TAGS_WRITE)
        authorize(actor, scope_id, Permission.TAGS_DELETE)
        gone = live_tag(scope_id, source, "source")
        kept = live_tag(scope_id, target, "target")
        if gone.id == kept.id:
            raise ValidationFailed.field("target", "a tag cannot be merged into itself")
        if kept.id_path.startswith(gone.id_path):
            raise ValidationFailed.field(
                "target", f"{kept.path!r} lies under {gone.path!r}; move it out first"
            )
        refuse_protected(actor, [gone])
        carriers = select(Assignment.resource_id).where(Assignment.tag_id == gone.id)
        types = set(db.session.scalars(
            select(Resource.type).where(Resource.id.in_(carriers)).distinct()
        ))
        check_group_rules([kept], types)
        for child in db.session.scalars(
            select(Tag).where(Tag.parent_id == gone.id, Tag.deleted_at.is_(None))
        ).all():
            before = child.snapshot()
            relocate(scope_id, child, name=child.name, parent=kept, group=kept.group)
            recorder.record("tag", child.id, "update", before, child.snapshot())
        change_set_id = recorder.change_set_id()
        moved = insert_links(
            change_set_id, actor, "manual",
            select(
                typed_literal(kept.id, Integer()).label("tag_id"),
                Assignment.resource_id.label("resource_id"),
            ).where(Assignment.tag_id == gone.id),
        )
        replace_in_exclusive_groups(
            change_set_id, [kept],
            select(Assignment.resource_id).where(Assignment.tag_id == kept.id),
        )
        remove_links(change_set_id, Assignment.tag_id == gone.id)
        soft_delete(actor, recorder, gone, hierarchy=False)
        recorder.record("assignments", kept.id, "merge", None,
                        {"from": gone.qualified_name, "links_added": moved})
        return kept
