"""Write transactions and the audit trail.

Every service that writes runs inside ``writing(actor, scope_id, summary)``.  The outermost
block owns the transaction: it begins it (``BEGIN IMMEDIATE`` on SQLite), commits on
success and rolls back on any error, so a service is all-or-nothing.  Nested blocks join the
outer one, which lets an entrypoint group several service calls into one change set.  The
change set row is created on the first recorded event, so a write that changes nothing
leaves no empty change set behind.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from webapp.database import WRITE_OPTION
from webapp.extensions import db
from webapp.models import AuditEvent, ChangeSet
from webapp.models.types import utcnow
from webapp.services.actor import Actor
from webapp.services.errors import Conflict


@dataclass
class ChangeRecorder:
    """Collects the audit events of the running write; creates its change set lazily."""

    actor: Actor
    scope_id: int | None
    summary: str
    reverts_id: int | None = None
    change_set: ChangeSet | None = None
    _pending: list[dict[str, Any]] = field(default_factory=list)

    def change_set_id(self) -> int:
        """The id of this write's change set, creating the row on first use."""
        if self.change_set is None:
            self.change_set = ChangeSet(
                scope_id=self.scope_id,
                actor_id=self.actor.user_id,
                via=self.actor.via,
                summary=self.summary[:255],
                reverts_id=self.reverts_id,
                created_at=utcnow(),
            )
            db.session.add(self.change_set)
            db.session.flush()
        return self.change_set.id

    def retitle(self, placeholder: str, summary: str) -> None:
        """Replace the summary when it is still ``placeholder``: the caller opened this write
        and learnt a better title once inside it.  An enclosing write keeps its own."""
        if self.change_set is None and self.summary == placeholder:
            self.summary = summary

    def record(
        self,
        object_type: str,
        object_id: int,
        action: str,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
    ) -> None:
        self._pending.append(
            {
                "object_type": object_type,
                "object_id": object_id,
                "action": action,
                "before": before,
                "after": after,
            }
        )

    def record_many(self, events: Sequence[dict[str, Any]]) -> None:
        self._pending.extend(events)

    def flush_when(self, pending: int) -> None:
        """Write the collected events now when there are at least ``pending`` of them, so
        a write that records a great many (a 100,000-tag taxonomy import) holds a batch at
        a time instead of them all.  Same change set, same order; a smaller write keeps
        its one statement at the end."""
        if len(self._pending) >= pending:
            self.flush()

    def flush(self) -> None:
        """Write the collected events in one statement."""
        if not self._pending:
            return
        change_set_id = self.change_set_id()
        rows = [{**event, "change_set_id": change_set_id} for event in self._pending]
        self._pending.clear()
        # Into the table, not through the ORM's bulk path: no objects come back, and its
        # per-row bookkeeping cost as much as the INSERT (10,000 events: −80 ms).
        db.session.execute(insert(AuditEvent.__table__), rows)


_current: contextvars.ContextVar[ChangeRecorder | None] = contextvars.ContextVar(
    "tagwright_change_recorder", default=None
)


def current_recorder() -> ChangeRecorder | None:
    return _current.get()


@contextmanager
def writing(
    actor: Actor, scope_id: int | None, summary: str, *, reverts_id: int | None = None
) -> Iterator[ChangeRecorder]:
    """Run a write: join the enclosing write, or own a new transaction and change set."""
    outer = _current.get()
    if outer is not None:
        yield outer
        return
    session = db.session()
    if session.in_transaction() and not _is_write_transaction():
        # End the read snapshot first: on SQLite a deferred transaction that later writes
        # can fail at once with "database is locked" instead of waiting for the lock.
        session.commit()
    session.connection(execution_options={WRITE_OPTION: True})
    recorder = ChangeRecorder(actor=actor, scope_id=scope_id, summary=summary,
                              reverts_id=reverts_id)
    token = _current.set(recorder)
    try:
        yield recorder
        recorder.flush()
        session.commit()
    except IntegrityError as error:
        session.rollback()
        raise Conflict(f"the change clashes with existing data: {error.orig}") from error
    except BaseException:
        session.rollback()
        raise
    finally:
        _current.reset(token)


def _is_write_transaction() -> bool:
    connection = db.session.connection()
    return bool(connection.get_execution_options().get(WRITE_OPTION))


@contextmanager
def bookkeeping() -> Iterator[None]:
    """A small write that is not a change to the scope's data (sign-in sessions, failed
    sign-ins), so it leaves no change set.  Joins an enclosing write when there is one."""
    if _current.get() is not None:
        yield
        return
    session = db.session()
    if session.in_transaction() and not _is_write_transaction():
        session.commit()
    session.connection(execution_options={WRITE_OPTION: True})
    try:
        yield
        session.commit()
    except BaseException:
        session.rollback()
        raise
