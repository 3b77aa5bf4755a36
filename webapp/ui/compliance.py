"""The compliance report: each policy as a bar of compliant vs non-compliant resources,
its counts and top reasons, each reason with a "Fix in bulk" link that opens the bulk
page with exactly the violating resources selected (a tag expression) and the tags that
fix them offered; one policy's violations paged, and as a CSV download (streamed).

Everyone who reads tags reads the report; the bulk page decides who may apply a fix.
"""

from __future__ import annotations

from typing import Any

from flask import Response, request, stream_with_context, url_for

from webapp.services.paging import PageRequest
from webapp.services.policies.compliance import (
    BulkFix,
    bulk_fixes,
    compliance_report,
    list_violations,
    policy_compliance,
)
from webapp.services.policies.compliance import violations_csv as csv_chunks
from webapp.ui.rendering import render_page
from webapp.ui.scoping import current_scope, scoped_actor, scoped_blueprint

compliance = scoped_blueprint("compliance", __name__)

TOP_REASONS = 5
PER_PAGE = 50
MAX_PAGE = 1_000_000


def fix_url(fix: BulkFix, tags: list[str] | None = None) -> str | None:
    """The bulk page opened on the fix (``tags``: the tags chosen, else the fix's own
    when it offers one set to apply whole — a forbidden subtree, or a group's only tag)."""
    if fix.expression is None:
        return None
    if tags is None:
        tags = fix.tags if fix.action == "detach" or len(fix.tags) == 1 else []
    args: dict[str, Any] = {"expr": fix.expression}
    if tags:
        args["tags"] = tags
    if fix.action == "detach":
        args["action"] = "detach"
    return url_for("bulk.index", **args)


def _page_number() -> int:
    raw = request.args.get("page", "")
    if not raw.isascii() or not raw.isdigit():
        return 1
    value = int(raw) if len(raw) <= 9 else MAX_PAGE
    return min(value, MAX_PAGE) if value > 0 else 1


@compliance.get("/compliance")
def index() -> Any:
    actor, scope = scoped_actor(), current_scope()
    items = compliance_report(actor, scope.id)
    fixes = {item.policy.id: {fix.reason: fix for fix in
                              bulk_fixes(actor, scope.id, item, TOP_REASONS)}
             for item in items}
    return render_page("compliance/index.html", "compliance/_report.html", items=items,
                       fixes=fixes, fix_url=fix_url, top=TOP_REASONS)


@compliance.get("/compliance/<int:policy_id>")
def detail(policy_id: int) -> Any:
    """One policy: its summary and its violations paged (htmx: the violations only)."""
    actor, scope = scoped_actor(), current_scope()
    item = policy_compliance(actor, scope.id, policy_id)
    page = list_violations(actor, scope.id, policy_id, PageRequest(_page_number(), PER_PAGE))
    if not page.items and page.page > 1 and page.pages:
        page = list_violations(actor, scope.id, policy_id, PageRequest(page.pages, PER_PAGE))
    fixes = {fix.reason: fix for fix in bulk_fixes(actor, scope.id, item, len(item.reasons))}
    return render_page("compliance/detail.html", "compliance/_violations.html", item=item,
                       violations=page, fixes=fixes, fix_url=fix_url, top=len(item.reasons))


@compliance.get("/compliance/<int:policy_id>/violations.csv")
def violations_csv(policy_id: int) -> Response:
    """Every violation of the policy (``type,id,name,reasons``), streamed as an
    attachment (the API's CSV, for a signed-in member)."""
    view, chunks = csv_chunks(scoped_actor(), current_scope().id, policy_id)
    return Response(stream_with_context(chunks), 200, {
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": f'attachment; filename="violations-policy-{view.id}.csv"',
    })
