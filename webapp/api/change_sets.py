"""The audit trail's change sets, and undo.

``/change-sets`` the scope's change sets, newest first; ``/change-sets/<id>`` one;
``/change-sets/<id>/undo`` reverts one as the audit page does (the same checks: a
conflict with later changes, a protected tag, a group the caller may not assign or an
enforced policy answer 409/403 and nothing is written).  Reading needs ``tags.read``,
undoing ``tags.read`` and ``tags.write``.
"""

from __future__ import annotations

from spectree import Response

from webapp.api import api
from webapp.api.auth import caller
from webapp.api.openapi import spec
from webapp.api.pagination import page_fields
from webapp.api.schemas.change_sets import ChangeSetOut, ChangeSetPage, ChangeSetQuery
from webapp.api.schemas.common import errors
from webapp.models import ChangeSet
from webapp.services import undo
from webapp.services.paging import PageRequest


def change_set_out(change_set: ChangeSet) -> ChangeSetOut:
    return ChangeSetOut(id=change_set.id, summary=change_set.summary, via=change_set.via,
                        actor=change_set.actor.public_id if change_set.actor else None,
                        createdAt=change_set.created_at, revertsId=change_set.reverts_id,
                        revertedById=change_set.reverted_by_id)


@api.get("/change-sets")
@spec.validate(query=ChangeSetQuery, resp=Response(HTTP_200=ChangeSetPage, **errors()),
               tags=["audit"])
def list_change_sets(query: ChangeSetQuery) -> ChangeSetPage:
    """The scope's change sets, newest first, paged (one statement for the page, one for
    the count)."""
    who = caller()
    page = undo.list_change_sets(who.actor, who.scope_id,
                                 undo.ChangeSetFilter(include_undone=query.undone),
                                 PageRequest(query.page, query.per_page))
    return ChangeSetPage(results=[change_set_out(item) for item in page.items],
                         **page_fields(page))


@api.get("/change-sets/<int:change_set_id>")
@spec.validate(resp=Response(HTTP_200=ChangeSetOut, **errors(404)), tags=["audit"])
def get_change_set(change_set_id: int) -> ChangeSetOut:
    """One change set."""
    who = caller()
    return change_set_out(undo.get_change_set(who.actor, who.scope_id, change_set_id))


@api.post("/change-sets/<int:change_set_id>/undo")
@spec.validate(resp=Response(HTTP_200=ChangeSetOut, **errors(404, 409)), tags=["audit"])
def undo_change_set(change_set_id: int) -> ChangeSetOut:
    """Revert a change set (needs tags.read and tags.write; groups.write for one that
    changed groups, rules or policies): its links, tags, groups, aliases, rules and
    policies go back as they were, in a new change set that this answers (its `revertsId`
    names the one undone).  409 when it was undone already or a later change stands in
    the way; nothing is written then."""
    who = caller()
    return change_set_out(undo.undo_change_set(who.actor, who.scope_id, change_set_id))
