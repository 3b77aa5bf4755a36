"""Properties of every web-admin route, found by walking the URL map (so a new page is
covered the day it is added):

* every route but sign-in, static files, health and the API needs a session;
* every state-changing route refuses a request without the CSRF token, and changes nothing;
* hostile names (tags, labels, groups, resources) render inert on every page, as full page
  and as htmx fragment.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask import Flask
from markupsafe import escape

from tests.http.ui.conftest import HX, UiWorld
from tests.unit.factories import SYSTEM, snapshot_counts
from webapp.extensions import db
from webapp.models import ApiKey, ChangeSet
from webapp.services.api_keys import create_api_key
from webapp.services.assignments import attach
from webapp.services.groups import create_group
from webapp.services.policies.crud import PolicyInput, create_policy
from webapp.services.resources import ResourceInput, register_resources
from webapp.services.rules import create_rule
from webapp.services.tags.creation import TagSpec, create_tag
from webapp.services.tags.hierarchy import update_tag

PUBLIC_ENDPOINTS = {"static", "auth.login", "health.healthz"}
XSS_TAG = "<img src=x onerror=alert(1)>"
XSS_LABEL = "<script>alert(2)</script>"
XSS_GROUP = '"><svg onload=alert(3)>'
XSS_RESOURCE = "<iframe src=javascript:alert(4)>"
PAYLOADS = (XSS_TAG, XSS_LABEL, XSS_GROUP, XSS_RESOURCE)


@dataclass
class Samples:
    tag: str
    group: str
    change_set: str
    user: str
    key: str
    policy: str
    rule: str


def seed_hostile_data(ui: UiWorld) -> Samples:
    world = ui.world
    group = create_group(SYSTEM, world.sid, identifier="hostile", label=XSS_GROUP,
                         description=XSS_LABEL)
    tag = create_tag(SYSTEM, world.sid, TagSpec(name=XSS_TAG, label=XSS_LABEL,
                                                description=XSS_LABEL))
    create_tag(SYSTEM, world.sid, TagSpec(name="hostile::child"))
    register_resources(SYSTEM, world.sid, [ResourceInput("source", "src-1", XSS_RESOURCE,
                                                         "src-1")])
    attach(SYSTEM, world.sid, [tag.path, "hostile::child"], {"source": ["src-1"]})
    update_tag(SYSTEM, world.sid, tag.id, color="#FF0000")
    key, _ = create_api_key(SYSTEM, user_id=world.viewer.user_id or 0, scope_id=world.sid,
                            name="viewer key", permissions=["tags.read"])
    policy = create_policy(SYSTEM, world.sid, PolicyInput(
        name=XSS_LABEL, description=XSS_LABEL, require_groups=["hostile"],
        forbid_tags=[tag.path], where="type:source"))
    rule = create_rule(SYSTEM, world.sid, name=XSS_LABEL, when="type:source",
                       attach=["hostile::child"])
    change_set = db.session.scalars(db.select(ChangeSet.id).order_by(ChangeSet.id.desc())
                                    ).first()
    assert db.session.get(ApiKey, key.id) is not None
    return Samples(tag=str(tag.id), group=group.public_id, change_set=str(change_set),
                   user=str(world.viewer.user_id), key=str(key.id), policy=str(policy.id),
                   rule=str(rule.id))


def _value(name: str, ui: UiWorld, samples: Samples) -> str:
    return {
        "scope_slug": ui.slug, "slug": ui.slug, "handle": samples.tag,
        "tag_id": samples.tag, "group_id": samples.group, "rtype": "source",
        "change_set_id": samples.change_set, "user_id": samples.user,
        "key_id": samples.key, "external_id": "src-1", "policy_id": samples.policy,
        "rule_id": samples.rule,
    }[name]


def ui_routes(app: Flask, ui: UiWorld, samples: Samples
              ) -> Iterator[tuple[str, str, str]]:
    """(method, concrete path, endpoint) for every web-admin route."""
    for rule in app.url_map.iter_rules():
        if (rule.endpoint in PUBLIC_ENDPOINTS or rule.rule.startswith("/api/")
                or rule.endpoint.startswith("openapi_")):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>:]+)>",
                      lambda m: _value(m.group(1), ui, samples), rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield method, path, rule.endpoint


def test_the_walk_covers_the_admin(ui: UiWorld) -> None:
    samples = seed_hostile_data(ui)
    endpoints = {endpoint for _, _, endpoint in ui_routes(ui.app, ui, samples)}
    assert {"tags.index", "hierarchy.index", "groups.index", "resources.index", "resources.detail",
            "bulk.index", "audit.index", "scopes.index", "keys.index", "policies.index",
            "compliance.index", "rules.index", "auth.logout"} <= endpoints


def test_every_route_needs_a_session(ui: UiWorld) -> None:
    samples = seed_hostile_data(ui)
    before = snapshot_counts()
    client = ui.app.test_client()
    token = ui.token(client)  # a valid CSRF token, so only the session is missing
    for method, path, endpoint in ui_routes(ui.app, ui, samples):
        if endpoint == "auth.logout":
            continue  # signing out without a session is harmless and redirects to /login
        response = client.open(path, method=method, data={"csrf_token": token})
        assert response.status_code == 302, (method, path, response.status_code)
        assert "/login?next=" in response.location, (method, path)
        response = client.open(path, method=method, headers={**HX, "X-CSRFToken": token})
        assert response.status_code == 401, (method, path)
        assert response.headers["HX-Redirect"].startswith("/login"), (method, path)
    assert snapshot_counts() == before


@pytest.mark.parametrize("htmx", [False, True], ids=["form", "htmx"])
def test_every_state_change_needs_the_csrf_token(ui: UiWorld, htmx: bool) -> None:
    samples = seed_hostile_data(ui)
    client = ui.client("admin")
    before = snapshot_counts()
    keys_before = db.session.scalar(db.select(db.func.count()).select_from(ApiKey))
    checked = 0
    for method, path, _ in ui_routes(ui.app, ui, samples):
        if method == "GET":
            continue
        headers = HX if htmx else {}
        response = client.open(path, method=method, data={"name": "x"}, headers=headers)
        assert response.status_code == 400, (method, path, response.status_code)
        assert "expired or was not sent from this site" in response.get_data(True)
        checked += 1
    assert checked >= 30
    assert snapshot_counts() == before
    assert db.session.scalar(db.select(db.func.count()).select_from(ApiKey)) == keys_before
    assert client.get(ui.url("tags")).status_code == 200  # still signed in


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "fragment"])
def test_hostile_names_render_inert_everywhere(ui: UiWorld, htmx: bool) -> None:
    samples = seed_hostile_data(ui)
    client = ui.client("admin")
    seen = 0
    for method, path, endpoint in ui_routes(ui.app, ui, samples):
        if method != "GET" or endpoint in {"auth.index"}:
            continue
        response = ui.get(client, path, htmx=htmx)
        assert response.status_code < 500, (path, response.status_code)
        if response.mimetype != "text/html":  # a download holds the names as they are,
            assert "attachment" in response.headers["Content-Disposition"], path
            continue  # as an attachment (never shown as a page: nosniff)
        html = response.get_data(True)
        for payload in PAYLOADS:
            assert payload not in html, (path, payload)
        seen += any(str(escape(p)) in html for p in PAYLOADS)
    assert seen >= 8  # the payloads were really on those pages, escaped
