"""Seed 002: ``POST /api/v1/tags/batch`` — the example replayed with its exact body, client
ids, all-or-nothing failures naming ``[i].field``, limits, permissions and scopes."""

from __future__ import annotations

import copy
import uuid
from datetime import datetime
from typing import Any

import pytest
from werkzeug.test import TestResponse

from tests.http.api.conftest import ApiWorld, error_of
from tests.unit.factories import SYSTEM, count, live_tag, snapshot_counts
from webapp.extensions import db
from webapp.models import Tag, User
from webapp.services import groups

BATCH = "/api/v1/tags/batch"
SEED_BODY = [
    {"scopeId": "scope_acme", "tagGroupId": "tag_group_priority", "identifier": "high",
     "label": "High Priority"},
    {"scopeId": "scope_acme", "tagGroupId": "tag_group_priority", "identifier": "medium",
     "label": "Medium Priority"},
    {"scopeId": "scope_acme", "tagGroupId": "tag_group_priority", "identifier": "low",
     "label": "Low Priority"},
]
FIELDS = {"id", "scopeId", "tagGroupId", "identifier", "label", "createdBy", "createdAt"}


@pytest.fixture
def priority(api: ApiWorld) -> None:
    """The seed's group: made through the API, as a client would."""
    response = api.post("/api/v1/tag-groups", json={"id": "tag_group_priority",
                                                    "identifier": "priority"})
    assert response.status_code == 201


def created(response: TestResponse) -> list[dict[str, Any]]:
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert isinstance(body, list)
    for item in body:
        assert set(item) == FIELDS
        assert all(isinstance(item[name], str) for name in FIELDS)
        assert item["createdAt"].endswith("Z")
        datetime.fromisoformat(item["createdAt"].replace("Z", "+00:00"))
    return body


def user_public_id(api: ApiWorld) -> str:
    user = db.session.get(User, api.world.manager.user_id)
    assert user is not None
    return user.public_id


def field_names(response: TestResponse) -> list[str]:
    return [detail["field"] for detail in error_of(response)["details"]]


# --- the seed's example -------------------------------------------------------------------


@pytest.mark.usefixtures("priority")
def test_seed_002_example(api: ApiWorld) -> None:
    body = created(api.post(BATCH, json=SEED_BODY, header="bearer"))
    assert [(t["scopeId"], t["tagGroupId"], t["identifier"], t["label"]) for t in body] == [
        ("scope_acme", "tag_group_priority", "high", "High Priority"),
        ("scope_acme", "tag_group_priority", "medium", "Medium Priority"),
        ("scope_acme", "tag_group_priority", "low", "Low Priority"),
    ]
    for item in body:
        prefix, _, rest = item["id"].partition("_")
        assert prefix == "tag" and uuid.UUID(rest).version == 7  # tag_{uuidv7}
        assert item["createdBy"] == user_public_id(api)
    for identifier in ("high", "medium", "low"):
        tag = live_tag(api.world.sid, f"priority::{identifier}")
        assert tag is not None and tag.group is not None
        assert tag.group.public_id == "tag_group_priority"
    assert len({item["createdAt"] for item in body}) == 1


@pytest.mark.usefixtures("priority")
def test_client_chosen_ids_reproduce_the_seeds_response(api: ApiWorld) -> None:
    request = copy.deepcopy(SEED_BODY)
    for item in request:
        item["id"] = f"tag_{item['identifier']}"
    body = created(api.post(BATCH, json=request))
    assert [item["id"] for item in body] == ["tag_high", "tag_medium", "tag_low"]
    response = api.get("/api/v1/tags/tag_high")
    if response.status_code == 200:  # seed 004's route, when present, finds it by that id
        assert response.get_json()["qualified_name"] == "priority::high"


@pytest.mark.usefixtures("priority")
def test_a_group_may_be_named_by_its_identifier(api: ApiWorld) -> None:
    body = created(api.post(BATCH, json=[{"scopeId": "scope_acme", "tagGroupId": "Priority",
                                          "identifier": "urgent", "label": "Urgent"}]))
    assert body[0]["tagGroupId"] == "tag_group_priority"


def test_one_batch_may_span_groups(api: ApiWorld) -> None:
    for identifier in ("priority", "severity"):
        groups.create_group(api.world.manager, api.world.sid, identifier,
                            public_id=f"tag_group_{identifier}")
    body = created(api.post(BATCH, json=[
        {"scopeId": "scope_acme", "tagGroupId": f"tag_group_{group}", "identifier": "high",
         "label": "High"} for group in ("priority", "severity")
    ]))
    assert [item["tagGroupId"] for item in body] == ["tag_group_priority", "tag_group_severity"]


def test_system_made_tags_say_system(api: ApiWorld) -> None:
    from webapp.api.batch import SYSTEM_CREATOR
    from webapp.services.tags.batch import GroupedTagSpec, create_grouped_tags

    groups.create_group(SYSTEM, api.world.sid, "priority")
    [tag] = create_grouped_tags(SYSTEM, api.world.sid, [GroupedTagSpec("priority", "x", "X")])
    assert tag.created_by_id is None and SYSTEM_CREATOR == "system"


# --- all or nothing ---------------------------------------------------------------------------


def with_item(index: int, **changes: Any) -> list[dict[str, Any]]:
    body = copy.deepcopy(SEED_BODY)
    body[index].update(changes)
    return body


@pytest.mark.usefixtures("priority")
@pytest.mark.parametrize(("body", "status", "field"), [
    (with_item(1, scopeId="scope_beta"), 404, "[1].scopeId"),
    (with_item(2, scopeId="scope_unknown"), 404, "[2].scopeId"),
    (with_item(1, tagGroupId="tag_group_unknown"), 404, "[1].tagGroupId"),
    (with_item(2, identifier="HIGH"), 409, "[2].identifier"),
    (with_item(1, identifier="a.b"), 400, "[1].identifier"),
    (with_item(1, identifier="a::b"), 400, "[1].identifier"),
    (with_item(0, identifier="x" * 101), 400, "[0].identifier"),
    (with_item(0, identifier="  "), 400, "[0].identifier"),
    (with_item(1, label="l" * 101), 400, "[1].label"),
    (with_item(1, label=""), 400, "[1].label"),
    (with_item(1, id="bad id!"), 400, "[1].id"),
    (with_item(1, identifier=5), 400, "[1].identifier"),
    (with_item(0, color="#FF0000"), 400, "[0].color"),
    ([{"scopeId": "scope_acme", "tagGroupId": "tag_group_priority", "identifier": "x"}], 400,
     "[0].label"),
    ([], 400, "body"),
    (SEED_BODY[0], 400, "body"),
])
def test_a_bad_item_fails_the_whole_batch(api: ApiWorld, body: Any, status: int,
                                          field: str) -> None:
    before = snapshot_counts()
    response = api.post(BATCH, json=body)
    assert response.status_code == status, response.get_data(as_text=True)
    assert field in field_names(response)
    assert snapshot_counts() == before


@pytest.mark.usefixtures("priority")
def test_clashes_with_existing_tags_and_ids_are_409(api: ApiWorld) -> None:
    created(api.post(BATCH, json=with_item(0, id="tag_high")[:1]))
    before = snapshot_counts()
    for body, field in ((with_item(1, identifier="High")[1:], "[0].identifier"),
                        (with_item(2, id="tag_high")[1:], "[1].id"),
                        ([*with_item(1, id="tag_x")[1:],
                          {**SEED_BODY[0], "identifier": "y", "id": "tag_x"}], "[2].id")):
        response = api.post(BATCH, json=body)
        assert response.status_code == 409, response.get_data(as_text=True)
        assert error_of(response)["code"] == "CONFLICT"
        assert field_names(response) == [field]
    assert snapshot_counts() == before


@pytest.mark.usefixtures("priority")
def test_an_identifier_may_be_reused_after_its_tag_is_gone_from_the_group(api: ApiWorld
                                                                        ) -> None:
    groups.create_group(api.world.manager, api.world.sid, "other", public_id="tag_group_other")
    created(api.post(BATCH, json=SEED_BODY[:1]))
    created(api.post(BATCH, json=with_item(0, tagGroupId="tag_group_other")[:1]))
    assert count(Tag) == 2


@pytest.mark.usefixtures("priority")
def test_limits(api: ApiWorld) -> None:
    def items(n: int, prefix: str) -> list[dict[str, str]]:
        return [{"scopeId": "scope_acme", "tagGroupId": "tag_group_priority",
                 "identifier": f"{prefix}{i}", "label": f"Tag {i}"} for i in range(n)]

    response = api.post(BATCH, json=items(1001, "a"))
    assert response.status_code == 413 and error_of(response)["code"] == "LIMIT_EXCEEDED"
    assert count(Tag) == 0
    assert len(created(api.post(BATCH, json=items(1000, "b")))) == 1000


@pytest.mark.usefixtures("priority")
def test_statements_do_not_grow_with_the_batch(api: ApiWorld, count_queries: Any) -> None:
    """One INSERT for all new tags, on both databases (the tag UUID is the insert sentinel
    that lets SQLite match RETURNING rows to objects)."""

    def statements(prefix: str, n: int) -> int:
        body = [{"scopeId": "scope_acme", "tagGroupId": "tag_group_priority",
                 "identifier": f"{prefix}{i}", "label": "x"} for i in range(n)]
        with count_queries() as counter:
            assert len(created(api.post(BATCH, json=body))) == n
        inserts = [sql for sql in counter.statements if sql.startswith("INSERT INTO tags ")]
        assert len(inserts) == 1
        return counter.count

    assert statements("one", 1) == statements("many", 200)


# --- permissions and scopes -----------------------------------------------------------------


@pytest.mark.usefixtures("priority")
def test_creating_needs_tags_create_or_tags_write(api: ApiWorld) -> None:
    tokens = (api.viewer, api.token("tags.read", "tags.delete", "groups.write"))
    before = snapshot_counts()
    for token in tokens:
        response = api.post(BATCH, json=SEED_BODY, token=token)
        assert response.status_code == 403
        assert error_of(response)["code"] == "PERMISSION_DENIED"
    assert snapshot_counts() == before
    assert api.post(BATCH, json=SEED_BODY, token="").status_code == 401
    created(api.post(BATCH, json=SEED_BODY[:1], token=api.token("tags.create")))
    created(api.post(BATCH, json=SEED_BODY[1:], token=api.token("tags.write")))


@pytest.mark.usefixtures("priority")
def test_another_scopes_groups_are_not_found(api: ApiWorld) -> None:
    groups.create_group(SYSTEM, api.world.other_scope.id, "beta-only",
                        public_id="tag_group_beta")
    body = [{"scopeId": "scope_acme", "tagGroupId": "tag_group_beta", "identifier": "x",
             "label": "X"}]
    response = api.post(BATCH, json=body)
    assert response.status_code == 404 and field_names(response) == ["[0].tagGroupId"]
    # The outsider's key cannot reach scope_acme's group, nor name scope_acme.
    response = api.post(BATCH, json=SEED_BODY, token=api.outsider)
    assert response.status_code == 404 and field_names(response) == ["[0].scopeId"]
    beta = [{**body[0], "scopeId": "scope_beta", "tagGroupId": "tag_group_priority"}]
    response = api.post(BATCH, json=beta, token=api.outsider)
    assert response.status_code == 404 and field_names(response) == ["[0].tagGroupId"]
    assert count(Tag) == 0
