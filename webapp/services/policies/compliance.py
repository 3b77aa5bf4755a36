"""The compliance report: per policy, the covered resources, how many comply, and why the
others do not — set-based, one aggregate statement per policy whatever the number of
resources; the violations paged (and streamed for CSV) with their reasons; and the same
numbers for a policy not saved yet (the preview before a save)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import aliased

from webapp.extensions import db
from webapp.models import Resource, Tag, TagGroup, TagPolicy
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
    subject_id: int = 0  # the group's or tag's id


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
    row = db.session.execute(resolved.summary_query()).one()
    covered = int(row[0] or 0)
    bad = int(row[1] or 0)
    counts = [ReasonCount(r.kind, r.subject, r.text, int(n or 0), r.subject_id)
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


CSV_HEADER = ("type", "id", "name", "reasons")
CSV_CHUNK = 500  # rows per chunk of the streamed CSV
# A cell starting so is a formula to a spreadsheet: it is written after a quote (OWASP's
# advice against CSV injection), as a spreadsheet would show text.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def violations_csv(actor: Actor, scope_id: int, policy_id: int | str
                   ) -> tuple[PolicyView, Iterator[bytes]]:
    """Every violation of a policy as CSV (``type,id,name,reasons``, reasons joined by
    ``; ``), in UTF-8 chunks of :data:`CSV_CHUNK` rows read as :func:`stream_violations`
    reads them; a cell a spreadsheet would run as a formula starts with a quote."""
    view, rows = stream_violations(actor, scope_id, policy_id)

    def chunks() -> Iterator[bytes]:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(CSV_HEADER)
        for count, item in enumerate(rows, 1):
            writer.writerow([_cell(item.type), _cell(item.external_id), _cell(item.name or ""),
                             _cell("; ".join(item.reasons))])
            if count % CSV_CHUNK == 0:
                yield buffer.getvalue().encode("utf-8")
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue().encode("utf-8")

    return view, chunks()


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


# --- fixing in bulk ---------------------------------------------------------------------

FIX_TAGS = 10  # a missing group's tags offered on the bulk page (a forbidden tag's subtree)
PAIR_TAGS = 8  # an exclusive group with more live tags than this is not selected by pairs


@dataclass(frozen=True)
class BulkFix:
    """What the bulk page opens with to fix one reason: exactly the violating resources as
    a tag expression, the tags offered, attach or detach.  ``expression`` is None when the
    language cannot select them exactly (an exclusive group with many tags carried in
    pairs); ``more_tags`` says the offer was cut at :data:`FIX_TAGS`."""

    reason: ReasonCount
    expression: str | None
    tags: list[str]
    action: str  # attach | detach
    more_tags: bool = False


def quoted(value: str) -> str:
    """A tag expression's quoted value (backslashes and double quotes escaped)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _covered_terms(view: PolicyView) -> list[str]:
    terms: list[str] = []
    if view.resource_types:
        terms.append("(" + " OR ".join(f"type:{t}" for t in view.resource_types) + ")")
    if view.where:
        terms.append(f"({view.where})")
    return terms


def bulk_fixes(actor: Actor, scope_id: int, item: PolicyCompliance, top: int = 3
               ) -> list[BulkFix]:
    """The fixes of a policy's ``top`` reasons with resources (most resources first).

    * ``missing`` group: ``… AND NOT group:"<public id>"``, its live tags (not deprecated)
      offered to attach (one at a time: an exclusive group takes one);
    * ``forbidden`` tag: ``… AND tag:"<name>".*``, the tag and its live descendants
      offered to detach (all of them: the policy forbids the subtree);
    * ``several`` tags of an exclusive group: the resources carrying two of them (pairs of
      ``tag:`` terms), nothing offered (choose the one to keep, detach the others).

    Two statements whatever the number of reasons: the groups with their live tags, and
    the forbidden tags' live subtrees."""
    authorize(actor, scope_id, Permission.TAGS_READ)
    reasons = [r for r in item.reasons if r.resources][:top]
    if not reasons or item.policy.broken:
        return []
    group_ids = sorted({r.subject_id for r in reasons if r.kind != "forbidden"})
    forbidden_ids = sorted({r.subject_id for r in reasons if r.kind == "forbidden"})
    public_ids: dict[int, str] = {}
    group_tags: dict[int, list[tuple[str, bool]]] = {gid: [] for gid in group_ids}
    if group_ids:
        rank = func.row_number().over(partition_by=Tag.group_id, order_by=(
            Tag.deprecated_at.is_not(None), Tag.path_key)).label("rank")
        live = (select(Tag.group_id, Tag.path, Tag.deprecated_at, rank)
                .where(Tag.group_id.in_(group_ids), Tag.deleted_at.is_(None)).subquery())
        rows = db.session.execute(
            select(TagGroup.id, TagGroup.public_id, TagGroup.identifier, live.c.path,
                   live.c.deprecated_at)
            .outerjoin(live, and_(live.c.group_id == TagGroup.id,
                                  live.c.rank <= max(FIX_TAGS, PAIR_TAGS) + 1))
            .where(TagGroup.id.in_(group_ids), TagGroup.scope_id == scope_id)
            .order_by(TagGroup.id, live.c.rank))
        for group_id, public_id, identifier, path, deprecated in rows:
            public_ids[group_id] = public_id
            if path is not None:
                group_tags[group_id].append((f"{identifier}::{path}", deprecated is None))
    subtrees: dict[int, list[str]] = {tid: [] for tid in forbidden_ids}
    if forbidden_ids:
        top_tag = aliased(Tag)
        rows = db.session.execute(
            select(top_tag.id, Tag.path, TagGroup.identifier)
            .join(Tag, Tag.id_path.startswith(top_tag.id_path))  # ids and slashes only
            .outerjoin(TagGroup, TagGroup.id == Tag.group_id)
            .where(top_tag.id.in_(forbidden_ids), Tag.deleted_at.is_(None),
                   Tag.scope_id == scope_id)
            .order_by(top_tag.id, Tag.path_key))
        for top_id, path, identifier in rows:
            subtrees[top_id].append(f"{identifier}::{path}" if identifier else path)
    covered = _covered_terms(item.policy)
    fixes = []
    for reason in reasons:
        more = False
        expression: str | None
        if reason.kind == "forbidden":
            offered = subtrees.get(reason.subject_id, [])
            more = len(offered) > FIX_TAGS
            tags, action = offered[:FIX_TAGS] or [reason.subject], "detach"
            expression = " AND ".join([*covered, f"tag:{quoted(reason.subject)}.*"])
        elif reason.kind == "missing":
            offered = [name for name, usable in group_tags.get(reason.subject_id, [])
                       if usable]  # not deprecated
            more = len(offered) > FIX_TAGS
            tags, action = offered[:FIX_TAGS], "attach"
            expression = " AND ".join(
                [*covered, f"NOT group:{quoted(public_ids[reason.subject_id])}"])
        else:
            names_ = [name for name, _ in group_tags.get(reason.subject_id, [])]
            tags, action = [], "detach"
            expression = None
            if 2 <= len(names_) <= PAIR_TAGS:
                pairs = [f"(tag:{quoted(a)} AND tag:{quoted(b)})"
                         for i, a in enumerate(names_) for b in names_[i + 1:]]
                expression = " AND ".join([*covered, "(" + " OR ".join(pairs) + ")"])
        fixes.append(BulkFix(reason, expression, tags, action, more))
    return fixes
