"""The compliance report: per policy, the covered resources, how many comply, and why the
others do not — set-based, one aggregate statement per policy whatever the number of
resources; the violations paged (and streamed for CSV) with their reasons; and the same
numbers for a policy not saved yet (the preview before a save)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, case, cast, func, select

from webapp.extensions import db
from webapp.models import Resource, TagPolicy
from webapp.services.actor import Actor, Permission, authorize
from webapp.services.paging import Page, PageRequest
from webapp.services.policies.crud import PolicyInput, PolicyView, _existing, clean_policy
from webapp.services.policies.rules import Reason, ResolvedPolicy, resolve_policies

SAMPLE = 10
CSV_BATCH = 1000


@dataclass(frozen=True)
class ReasonCount:
    kind: str  # missing | several | forbidden
    subject: str  # group identifier or tag qualified name
    text: str
    resources: int


@dataclass(frozen=True)
class PolicyCompliance:
    policy: PolicyView
    covered: int
    compliant: int
    non_compliant: int
    reasons: list[ReasonCount]  # every reason, most resources first

    @property
    def percent(self) -> int:
        """Compliant share, whole percent (100 when nothing is covered)."""
        return 100 if not self.covered else self.compliant * 100 // self.covered

    @property
    def missing_groups(self) -> list[ReasonCount]:
        return [r for r in self.reasons if r.kind == "missing" and r.resources]

    @property
    def forbidden_tags(self) -> list[ReasonCount]:
        return [r for r in self.reasons if r.kind == "forbidden" and r.resources]


@dataclass(frozen=True)
class Violation:
    resource_id: int
    type: str
    external_id: str
    name: str | None
    reasons: list[str]


def compliance_report(actor: Actor, scope_id: int, policy_ids: Sequence[int] | None = None
                      ) -> list[PolicyCompliance]:
    """Every policy of the scope (or the given ones), by name."""
    authorize(actor, scope_id, Permission.TAGS_READ)
    query = select(TagPolicy).where(TagPolicy.scope_id == scope_id)
    if policy_ids is not None:
        query = query.where(TagPolicy.id.in_(list(policy_ids)))
    policies = list(db.session.scalars(query.order_by(TagPolicy.name_key)))
    return [_summary(p) for p in resolve_policies(policies)]


def policy_compliance(actor: Actor, scope_id: int, policy_id: int | str) -> PolicyCompliance:
    authorize(actor, scope_id, Permission.TAGS_READ)
    return _summary(resolve_policies([_existing(scope_id, policy_id)])[0])


def _summary(resolved: ResolvedPolicy) -> PolicyCompliance:
    reasons = resolved.reasons
    columns = [func.count(), func.sum(cast(case((resolved.violates_any(), 1), else_=0),
                                           Integer))]
    columns += [func.sum(cast(case((resolved.violates(r), 1), else_=0), Integer))
                for r in reasons]
    row = db.session.execute(select(*columns).select_from(Resource)
                             .where(resolved.covers())).one()
    covered = int(row[0] or 0)
    bad = int(row[1] or 0)
    counts = [ReasonCount(r.kind, r.subject, r.text, int(n or 0))
              for r, n in zip(reasons, row[2:], strict=True)]
    counts.sort(key=lambda c: -c.resources)
    return PolicyCompliance(PolicyView.of(resolved), covered, covered - bad, bad, counts)


def _violations_query(resolved: ResolvedPolicy) -> tuple[Any, list[Reason]]:
    reasons = resolved.reasons
    flags = [resolved.violates(r).label(f"r{i}") for i, r in enumerate(reasons)]
    query = (select(Resource.id, Resource.type, Resource.external_id, Resource.name, *flags)
             .where(resolved.covers(), resolved.violates_any()))
    return query, reasons


def _violation(row: Any, reasons: list[Reason]) -> Violation:
    return Violation(row[0], row[1], row[2], row[3],
                     [r.text for r, flag in zip(reasons, row[4:], strict=True) if flag])


def list_violations(actor: Actor, scope_id: int, policy_id: int | str,
                    paging: PageRequest | None = None) -> Page[Violation]:
    """The policy's non-compliant resources by id, each with its reasons (two
    statements a page beside the policy's own look-ups)."""
    authorize(actor, scope_id, Permission.TAGS_READ)
    paging = paging or PageRequest()
    resolved = resolve_policies([_existing(scope_id, policy_id)])[0]
    query, reasons = _violations_query(resolved)
    total = db.session.scalar(select(func.count()).select_from(
        select(Resource.id).where(resolved.covers(), resolved.violates_any()).subquery()))
    rows = db.session.execute(query.order_by(Resource.id).limit(paging.per_page)
                              .offset(paging.offset)).all()
    return Page([_violation(row, reasons) for row in rows], int(total or 0), paging.page,
                paging.per_page)


def stream_violations(actor: Actor, scope_id: int, policy_id: int | str
                      ) -> tuple[PolicyView, Iterator[Violation]]:
    """Every violation, read by keyset in batches of :data:`CSV_BATCH` (memory stays
    flat); the policy is checked before the first row is read."""
    authorize(actor, scope_id, Permission.TAGS_READ)
    resolved = resolve_policies([_existing(scope_id, policy_id)])[0]
    query, reasons = _violations_query(resolved)

    def rows() -> Iterator[Violation]:
        after = 0
        while True:
            batch = db.session.execute(query.where(Resource.id > after)
                                       .order_by(Resource.id).limit(CSV_BATCH)).all()
            for row in batch:
                yield _violation(row, reasons)
            if len(batch) < CSV_BATCH:
                return
            after = batch[-1][0]

    return PolicyView.of(resolved), rows()


@dataclass(frozen=True)
class PolicyPreview:
    """What a policy (new, or changed) would report on the resources stored now."""

    compliance: PolicyCompliance
    sample: list[Violation]
    newly_flagged: int | None  # a change: resources it flags that the stored one did not


def preview_policy(actor: Actor, scope_id: int, data: PolicyInput,
                   policy_id: int | str | None = None) -> PolicyPreview:
    """Check ``data`` as a save would (the same errors), then count, without writing,
    what it would flag now, with a sample; for a change, how many more than now."""
    authorize(actor, scope_id, Permission.GROUPS_WRITE)
    stored = _existing(scope_id, policy_id) if policy_id is not None else None
    values = clean_policy(scope_id, data, own_id=stored.id if stored else None)
    draft = TagPolicy(id=stored.id if stored else 0, scope_id=scope_id, **values)
    resolved = resolve_policies([draft])[0]
    summary = _summary(resolved)
    query, reasons = _violations_query(resolved)
    sample = [_violation(row, reasons) for row in db.session.execute(
        query.order_by(Resource.id).limit(SAMPLE))]
    newly: int | None = None
    if stored is not None:
        before = resolve_policies([stored])[0]
        newly = db.session.scalar(select(func.count()).select_from(
            select(Resource.id).where(resolved.covers(), resolved.violates_any(),
                                      ~(before.covers() & before.violates_any()))
            .subquery())) or 0
    return PolicyPreview(summary, sample, newly)
