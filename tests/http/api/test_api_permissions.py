"""The permission matrix and tenant isolation, for every API route.

Each route gets a valid request and the permissions it needs (an inner set is "any one
of").  A key missing a needed permission (holding every other one) gets 403
``PERMISSION_DENIED``; a key holding exactly what is needed succeeds.  The table must
cover every route in the URL map, so a new route cannot ship unclassified.

Tenant isolation: ids and names that exist only in another scope are 404 (or, inside a
body, a 400 naming the field), and lists never show another scope's data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from tests.http.api.conftest import ALL_KEY_PERMISSIONS, ApiWorld, error_of
from tests.http.api.test_api_auth import api_routes
from tests.unit.factories import SYSTEM
from webapp.api.resources import UUID_COLLECTIONS
from webapp.api.tag_paths import OTHER_MODELS, UUID_MODELS
from webapp.extensions import db
from webapp.models import AuditEvent, Tag, TagGroup, TagPolicy
from webapp.services.assignments import attach
from webapp.services.groups import create_group
from webapp.services.policies.crud import PolicyInput, create_policy
from webapp.services.rules import create_rule
from webapp.services.tags.creation import TagSpec, create_tag
from webapp.services.tags.deprecation import deprecate_tag

READ = frozenset({"tags.read"})
CREATE = frozenset({"tags.create", "tags.write"})
WRITE = frozenset({"tags.write"})
DELETE = frozenset({"tags.delete"})
GROUPS = frozenset({"groups.write"})
DS = "d2c1b472-902c-477a-b300-e7c3fd72609b"


@dataclass
class Seeded:
    """What each scope holds, by handle."""

    tag: str  # public id of `Address.email`
    leaf_path: str
    group: str  # public id of a group
    source: str  # a registered source id
    node: str  # a registered node id
    deprecated: str  # public id of `Address.mail`, deprecated for `Address.email`
    rule: int = 0  # id of an auto-tagging rule


def seed(api: ApiWorld, scope_id: int, prefix: str) -> Seeded:
    tag = create_tag(SYSTEM, scope_id, TagSpec(name=f"{prefix}Address.email"))
    group = create_group(SYSTEM, scope_id, identifier=f"{prefix}grp", label="Group")
    source = DS if prefix == "" else "0b6a4d2e-6c1e-4b57-9a34-1f0e2d3c4b5a"
    attach(SYSTEM, scope_id, [tag.path], {**{model: [source] for model in UUID_MODELS},
                                          "datasource": ["22"], "column": ["22_email"],
                                          "node": [f"{prefix}n1"]})
    if not prefix:  # DELETE /tag/refresh deletes the tag named refresh
        create_tag(SYSTEM, scope_id, TagSpec(name="refresh"))
    old = create_tag(SYSTEM, scope_id, TagSpec(name=f"{prefix}Address.mail"))
    attach(SYSTEM, scope_id, [old.path], {"node": [f"{prefix}n1", f"{prefix}n2"]})
    deprecate_tag(SYSTEM, scope_id, old.id, tag.id)
    rule = create_rule(SYSTEM, scope_id, name=f"{prefix}rule", when=f"tag:{tag.path}",
                       attach=[f"{prefix}ruled"])
    return Seeded(tag=tag.public_id, leaf_path=tag.path, group=group.public_id, source=source,
                  node=f"{prefix}n1", deprecated=old.public_id, rule=rule.id)



def policy_of(s: Seeded) -> int:
    """The id of a tag policy of the seeded scope (made on first use)."""
    group = db.session.scalars(select(TagGroup).where(TagGroup.public_id == s.group)).one()
    found = db.session.scalar(select(TagPolicy.id).where(TagPolicy.scope_id == group.scope_id))
    if found is None:
        found = create_policy(SYSTEM, group.scope_id, PolicyInput(
            name="Grouped", require_groups=[group.id])).id
    return found

def change_set_of(s: Seeded) -> int:
    """The change set that attached the seeded scope's deprecated tag (to nodes)."""
    tag_id = db.session.scalars(select(Tag.id).where(Tag.public_id == s.deprecated)).one()
    return db.session.scalars(select(AuditEvent.change_set_id).where(
        AuditEvent.object_type == "assignments", AuditEvent.action == "attach",
        AuditEvent.object_id == tag_id)).first() or 0


@dataclass(frozen=True)
class Case:
    method: str
    rule: str  # the URL rule, as the URL map spells it
    path: Callable[[Seeded], str]
    needs: tuple[frozenset[str], ...]
    body: Callable[[Seeded], Any] | None = None


COLLECTION = "/api/v1/<any(datasources, columns, projects, nodes, files):collection>"
SOURCES = "/api/v1/sources"
CASES = [
    Case("GET", "/api/v1/tags", lambda s: "/api/v1/tags", (READ,)),
    Case("POST", "/api/v1/tags", lambda s: "/api/v1/tags", (CREATE,),
         lambda s: {"name": "Work", "color": "#3B82F6"}),
    Case("POST", "/api/v1/third-party/tags", lambda s: "/api/v1/third-party/tags", (CREATE,),
         lambda s: {"name": "quarterly-review", "category": "business"}),
    Case("GET", "/api/v1/tags/<tag_handle:tag_id>", lambda s: f"/api/v1/tags/{s.tag}", (READ,)),
    Case("PUT", "/api/v1/tags/<tag_handle:tag_id>", lambda s: f"/api/v1/tags/{s.tag}", (WRITE,),
         lambda s: {"color": "#22C55E"}),
    Case("PATCH", "/api/v1/tags/<tag_handle:tag_id>", lambda s: f"/api/v1/tags/{s.tag}", (WRITE,),
         lambda s: {"description": "mail"}),
    Case("DELETE", "/api/v1/tags/<tag_handle:tag_id>", lambda s: f"/api/v1/tags/{s.tag}",
         (DELETE,)),
    Case("POST", "/api/v1/tags/bulk-delete", lambda s: "/api/v1/tags/bulk-delete", (DELETE,),
         lambda s: {"tag_ids": [s.tag]}),
    Case("GET", "/api/v1/tags/<tag_handle:tag_id>/nodes",
         lambda s: f"/api/v1/tags/{s.tag}/nodes", (READ,)),
    Case("GET", "/api/v1/tags/<tag_handle:tag_id>/files",
         lambda s: f"/api/v1/tags/{s.tag}/files", (READ,)),
    Case("GET", "/api/v1/tags/<tag_handle:tag_id>/resources",
         lambda s: f"/api/v1/tags/{s.tag}/resources?type=source", (READ,)),
    Case("POST", "/api/v1/tags/<tag_handle:tag_id>/replace-everywhere",
         lambda s: f"/api/v1/tags/{s.deprecated}/replace-everywhere", (WRITE,)),
    Case("POST", "/api/v1/tags/batch", lambda s: "/api/v1/tags/batch", (CREATE,),
         lambda s: [{"scopeId": "scope_acme", "tagGroupId": s.group, "identifier": "high",
                     "label": "High"}]),
    Case("POST", "/api/v1/tags/attach", lambda s: "/api/v1/tags/attach", (WRITE,),
         lambda s: {"names": ["marketing"], "sources": [s.source]}),
    Case("POST", "/api/v1/tags/attach/", lambda s: "/api/v1/tags/attach/", (WRITE,),
         lambda s: {"names": ["marketing"], "sources": [s.source]}),
    Case("POST", "/api/v1/tags/detach", lambda s: "/api/v1/tags/detach", (WRITE,),
         lambda s: {"names": [s.leaf_path], "sources": [s.source]}),
    Case("POST", "/api/v1/tags/detach/", lambda s: "/api/v1/tags/detach/", (WRITE,),
         lambda s: {"names": [s.leaf_path], "sources": [s.source]}),
    Case("GET", "/api/v1/resources", lambda s: "/api/v1/resources?q=untagged", (READ,)),
    Case("GET", "/api/v1/resources/", lambda s: "/api/v1/resources/?expand[]=tags", (READ,)),
    Case("GET", COLLECTION, lambda s: "/api/v1/nodes", (READ,)),
    Case("GET", COLLECTION + "/", lambda s: "/api/v1/nodes/?expand[]=tags", (READ,)),
    Case("GET", COLLECTION + "/<external_id:resource_id>", lambda s: f"/api/v1/nodes/{s.node}",
         (READ,)),
    Case("POST", COLLECTION, lambda s: "/api/v1/nodes", (WRITE,),
         lambda s: {"id": "n2", "name": "Notes"}),
    Case("POST", COLLECTION + "/", lambda s: "/api/v1/nodes/", (WRITE,),
         lambda s: [{"id": "n3"}]),
    *(case for plural in UUID_COLLECTIONS for case in (
        Case("GET", f"/api/v1/{plural}", lambda s: "/api/v1/sources", (READ,)),
        Case("GET", f"/api/v1/{plural}/", lambda s: "/api/v1/sources/?expand[]=tags", (READ,)),
        Case("GET", f"/api/v1/{plural}/<external_id:resource_id>",
             lambda s: f"/api/v1/sources/{s.source}", (READ,)),
        Case("POST", f"/api/v1/{plural}", lambda s: SOURCES, (WRITE,),
             lambda s: {"id": "5f2b8a3c-1d4e-4f6a-8b9c-0d1e2f3a4b5c", "name": "Facebook Ads"}),
        Case("POST", f"/api/v1/{plural}/", lambda s: SOURCES + "/", (WRITE,),
             lambda s: [{"id": "5f2b8a3c-1d4e-4f6a-8b9c-0d1e2f3a4b5c"}]),
    )),
    Case("GET", "/api/v1/tag", lambda s: "/api/v1/tag?searchText=email", (READ,)),
    Case("POST", "/api/v1/tag", lambda s: "/api/v1/tag", (CREATE,),
         lambda s: {"tags": [{"name": "Address.home"}]}),
    Case("POST", "/api/v1/tag/refresh", lambda s: "/api/v1/tag/refresh", (WRITE,),
         lambda s: None),
    Case("POST", f"/api/v1/tag/<any({OTHER_MODELS}):modelType>/<external_id:modelId>",
         lambda s: "/api/v1/tag/datasource/22", (WRITE,),
         lambda s: [{"name": s.leaf_path, "source": "curated"}]),
    *(case for model in UUID_MODELS for case in (
        Case("POST", f"/api/v1/tag/{model}/<uuid_id:modelId>",
             lambda s, model=model: f"/api/v1/tag/{model}/{s.source}", (WRITE,),
             lambda s: [{"name": s.leaf_path, "source": "curated"}]),
        Case("DELETE", f"/api/v1/tag/{model}/<uuid_id:modelId>/<resource_tag:tag>",
             lambda s, model=model: f"/api/v1/tag/{model}/{s.source}/{s.leaf_path}", (WRITE,)),
    )),
    Case("POST", "/api/v1/tag/column/<column_id:modelId>",
         lambda s: "/api/v1/tag/column/22_email", (WRITE,),
         lambda s: [{"name": s.leaf_path, "source": "curated"}]),
    Case("DELETE", f"/api/v1/tag/<any({OTHER_MODELS}):modelType>/<external_id:modelId>/"
         "<resource_tag:tag>", lambda s: f"/api/v1/tag/datasource/22/{s.leaf_path}", (WRITE,)),
    Case("DELETE", "/api/v1/tag/column/<column_id:modelId>/<resource_tag:tag>",
         lambda s: f"/api/v1/tag/column/22_email/{s.leaf_path}", (WRITE,)),
    Case("DELETE", "/api/v1/tag/<tag_path:tag>", lambda s: f"/api/v1/tag/{s.leaf_path}",
         (DELETE,)),
    Case("DELETE", "/api/v1/tag/refresh", lambda s: "/api/v1/tag/refresh", (DELETE,)),
    Case("GET", "/api/v1/tag-groups", lambda s: "/api/v1/tag-groups", (READ,)),
    Case("POST", "/api/v1/tag-groups", lambda s: "/api/v1/tag-groups", (GROUPS,),
         lambda s: {"identifier": "topic", "label": "Topic"}),
    Case("GET", "/api/v1/tag-groups/<text:group_id>", lambda s: f"/api/v1/tag-groups/{s.group}",
         (READ,)),
    Case("PATCH", "/api/v1/tag-groups/<text:group_id>", lambda s: f"/api/v1/tag-groups/{s.group}",
         (GROUPS,), lambda s: {"label": "Renamed"}),
    Case("DELETE", "/api/v1/tag-groups/<text:group_id>", lambda s: f"/api/v1/tag-groups/{s.group}",
         (GROUPS,)),
    Case("GET", "/api/v1/policies", lambda s: "/api/v1/policies", (READ,)),
    Case("POST", "/api/v1/policies", lambda s: "/api/v1/policies", (GROUPS,),
         lambda s: {"name": "Tables", "resourceTypes": ["table"], "requireGroups": [s.group]}),
    Case("POST", "/api/v1/policies/preview", lambda s: "/api/v1/policies/preview", (GROUPS,),
         lambda s: {"name": "Tables", "requireGroups": [s.group], "forbidTags": [s.tag]}),
    Case("GET", "/api/v1/policies/<int:policy_id>",
         lambda s: f"/api/v1/policies/{policy_of(s)}", (READ,)),
    Case("PATCH", "/api/v1/policies/<int:policy_id>",
         lambda s: f"/api/v1/policies/{policy_of(s)}", (GROUPS,),
         lambda s: {"mode": "enforce"}),
    Case("DELETE", "/api/v1/policies/<int:policy_id>",
         lambda s: f"/api/v1/policies/{policy_of(s)}", (GROUPS,)),
    Case("GET", "/api/v1/compliance", lambda s: "/api/v1/compliance", (READ,)),
    Case("GET", "/api/v1/compliance/violations",
         lambda s: f"/api/v1/compliance/violations?policy={policy_of(s)}", (READ,)),
    Case("GET", "/api/v1/compliance/violations.csv",
         lambda s: f"/api/v1/compliance/violations.csv?policy={policy_of(s)}", (READ,)),
    Case("POST", "/api/v1/rules/preview", lambda s: "/api/v1/rules/preview", (READ, WRITE),
         lambda s: {"when": f"tag:{s.leaf_path}", "attach": ["ads"]}),
    Case("GET", "/api/v1/rules", lambda s: "/api/v1/rules", (READ,)),
    Case("POST", "/api/v1/rules", lambda s: "/api/v1/rules", (GROUPS,),
         lambda s: {"name": "Ads", "when": "type:source AND name:*-ads", "attach": ["ads"]}),
    Case("GET", "/api/v1/rules/<int:rule_id>", lambda s: f"/api/v1/rules/{s.rule}", (READ,)),
    Case("PATCH", "/api/v1/rules/<int:rule_id>", lambda s: f"/api/v1/rules/{s.rule}",
         (GROUPS,), lambda s: {"enabled": False}),
    Case("DELETE", "/api/v1/rules/<int:rule_id>", lambda s: f"/api/v1/rules/{s.rule}",
         (GROUPS,)),
    Case("POST", "/api/v1/rules/<int:rule_id>/apply",
         lambda s: f"/api/v1/rules/{s.rule}/apply", (WRITE,)),
    Case("GET", "/api/v1/change-sets", lambda s: "/api/v1/change-sets", (READ,)),
    Case("GET", "/api/v1/change-sets/<int:change_set_id>",
         lambda s: f"/api/v1/change-sets/{change_set_of(s)}", (READ,)),
    Case("POST", "/api/v1/change-sets/<int:change_set_id>/undo",
         lambda s: f"/api/v1/change-sets/{change_set_of(s)}/undo", (READ, WRITE)),
    Case("GET", "/api/v1/taxonomy", lambda s: "/api/v1/taxonomy?format=csv", (READ,)),
    # A mirror import that creates a group (groups.write), keeps and creates tags
    # (tags.write), deletes the tag `refresh` (tags.delete) and the empty group `grp`.
    Case("POST", "/api/v1/taxonomy", lambda s: "/api/v1/taxonomy?dry_run=false&mode=mirror",
         (WRITE, GROUPS, DELETE),
         lambda s: {"groups": [{"identifier": "topic"}],
                    "tags": [{"path": s.leaf_path}, {"path": "topic::new"}]}),
]
CASE_IDS = [f"{c.method} {c.rule.replace(COLLECTION, '/api/v1/<collection>')}" for c in CASES]
assert len(set(CASE_IDS)) == len(CASE_IDS)


def test_the_table_covers_every_route(api: ApiWorld) -> None:
    app = api.client.application
    routed = {(method, rule.rule) for rule in app.url_map.iter_rules()
              if rule.rule.startswith("/api/v1") and rule.rule not in
              {"/api/v1/docs", "/api/v1/openapi.json"}
              for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}}
    assert routed == {(c.method, c.rule) for c in CASES}
    assert len(list(api_routes(app))) == len(routed)


def _send(api: ApiWorld, case: Case, seeded: Seeded, token: str) -> Any:
    body = case.body(seeded) if case.body else None
    return api.call(case.method, case.path(seeded), token=token, json=body)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_a_key_without_the_permission_is_refused(api: ApiWorld, case: Case) -> None:
    seeded = seed(api, api.world.sid, "")
    for needed in case.needs:
        others = [p for p in ALL_KEY_PERMISSIONS if p not in needed]
        response = _send(api, case, seeded, api.token(*others))
        assert response.status_code == 403, (needed, response.get_json())
        assert error_of(response)["code"] == "PERMISSION_DENIED"


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_a_key_with_just_the_permission_succeeds(api: ApiWorld, case: Case) -> None:
    seeded = seed(api, api.world.sid, "")
    exactly = [sorted(needed)[0] for needed in case.needs]
    response = _send(api, case, seeded, api.token(*exactly))
    assert 200 <= response.status_code < 300, (exactly, response.get_json())


# --- tenant isolation -------------------------------------------------------------------

ID_CASES = [c for c in CASES if "<" in c.rule.replace(COLLECTION, "")]


@pytest.mark.parametrize("case", ID_CASES, ids=[f"{c.method} {c.rule}" for c in ID_CASES])
def test_another_scopes_ids_are_not_found(api: ApiWorld, case: Case) -> None:
    seed(api, api.world.sid, "")
    theirs = seed(api, api.world.other_scope.id, "Beta")
    response = _send(api, case, theirs, api.manager)
    if case.method == "POST" and case.rule.startswith("/api/v1/tag/"):
        assert response.status_code == 400  # the name in the body is unknown here
    else:
        assert response.status_code == 404, response.get_json()


def test_another_scopes_names_in_bodies_are_unknown(api: ApiWorld) -> None:
    mine = seed(api, api.world.sid, "")
    theirs = seed(api, api.world.other_scope.id, "Beta")
    response = api.post("/api/v1/tags/bulk-delete", json={"tag_ids": [theirs.tag]})
    assert response.get_json()["not_found_ids"] == [theirs.tag]
    response = api.post("/api/v1/tags/detach", json={"names": [theirs.leaf_path],
                                                     "sources": [mine.source]})
    assert response.status_code == 200 and response.get_json() == []


@pytest.mark.parametrize("path", [
    "/api/v1/tags", "/api/v1/tag", "/api/v1/tag-groups", "/api/v1/sources/?expand[]=tags",
    "/api/v1/datasources", "/api/v1/tag?includeAllSystemTags=true",
    "/api/v1/resources?expand[]=tags", "/api/v1/taxonomy?format=csv", "/api/v1/rules",
    "/api/v1/change-sets",
])
def test_lists_never_show_another_scope(api: ApiWorld, path: str) -> None:
    seed(api, api.world.sid, "")
    theirs = seed(api, api.world.other_scope.id, "Beta")
    text = api.get(path).get_data(True)
    assert "Beta" not in text and theirs.tag not in text and theirs.group not in text
    assert theirs.source not in text
    assert api.get(path, token=api.outsider).status_code == 200
