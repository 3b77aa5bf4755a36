"""``expand[]=tags`` on the resource collections adds, beside the seed fields (kept as
they are), where each tag came from: ``context``, ``added_by`` (the adder's public user id,
or ``system``) and ``added_at`` (issue 12 §5); one statement more than without, whatever
the number of resources or tags; documented in the OpenAPI document."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import update

from tests.http.api.conftest import ApiWorld
from tests.unit.factories import external_ids
from webapp.extensions import db
from webapp.models import Assignment, AssignmentContext, User
from webapp.services import assignments

ATTACH = "/api/v1/tags/attach/"
SEED_FIELDS = {"id", "name", "created_at", "updated_at"}


def tags_of(api: ApiWorld, path: str, **query: str) -> list[dict[str, Any]]:
    response = api.get(path, query_string={"expand[]": "tags", **query})
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    return body["tags"] if "tags" in body else body["results"][0]["tags"]


def public_id(user_id: int | None) -> str:
    user = db.session.get(User, user_id)
    assert user is not None
    return user.public_id


def test_each_tag_says_how_who_and_when(api: ApiWorld) -> None:
    [rid] = external_ids(1)
    before = datetime.now().astimezone()
    assert api.post(ATTACH, json={"names": ["paid"], "sources": [rid]}).status_code == 200
    assignments.attach(api.world.editor, api.world.sid, ["priority::high"],
                       {"source": [rid]}, context=AssignmentContext.MANUAL)
    for path, query in ((f"/api/v1/sources/{rid}", {}), ("/api/v1/sources/", {}),
                        ("/api/v1/resources", {"q": "tag:paid"})):
        tags = {tag["name"]: tag for tag in tags_of(api, path, **query)}
        assert set(tags) == {"paid", "priority::high"}
        for tag in tags.values():
            assert set(tag) == SEED_FIELDS | {"context", "added_by", "added_at"}
            assert datetime.fromisoformat(tag["added_at"]) >= before.replace(microsecond=0)
        # The API key's owner (the manager) attached "paid" through the API.
        assert tags["paid"]["context"] == "api"
        assert tags["paid"]["added_by"] == public_id(api.world.manager.user_id)
        assert tags["priority::high"]["context"] == "manual"
        assert tags["priority::high"]["added_by"] == public_id(api.world.editor.user_id)


def test_a_link_no_user_made_is_added_by_system(api: ApiWorld) -> None:
    [rid] = external_ids(1)
    api.post(ATTACH, json={"names": ["paid"], "sources": [rid]})
    db.session.execute(update(Assignment).values(added_by_id=None, context="rule"))
    db.session.commit()
    [tag] = tags_of(api, f"/api/v1/sources/{rid}")
    assert tag["added_by"] == "system" and tag["context"] == "rule"


def test_without_expand_nothing_changes(api: ApiWorld) -> None:
    [rid] = external_ids(1)
    api.post(ATTACH, json={"names": ["paid"], "sources": [rid]})
    body = api.get(f"/api/v1/sources/{rid}").get_json()
    assert set(body) == {"id", "slug", "name", "type"}
    # attach/detach answers keep the seed shape exactly.
    answer = api.post(ATTACH, json={"names": ["paid"], "sources": [rid]}).get_json()
    assert [set(tag) for tag in answer] == [SEED_FIELDS]


def test_statements_do_not_grow_with_resources_or_tags(api: ApiWorld,
                                                        count_queries: Any) -> None:
    api.post(ATTACH, json={"names": ["a"], "folders": external_ids(1)})
    api.post(ATTACH, json={"names": [f"t{n}" for n in range(12)], "tables": external_ids(40)})

    def statements(collection: str, expand: bool) -> int:
        query = {"expand[]": "tags"} if expand else {}
        with count_queries() as counter:
            assert api.get(f"/api/v1/{collection}/", query_string=query).status_code == 200
        return counter.count

    assert statements("folders", True) == statements("tables", True)
    assert statements("tables", True) <= statements("tables", False) + 1


def test_the_openapi_document_describes_the_fields(api: ApiWorld) -> None:
    document = api.get("/api/v1/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    named = [key for key in schemas if key.split(".")[-1] == "ExpandedTag"]
    assert named
    schema = schemas[named[0]]
    assert SEED_FIELDS | {"context", "added_by", "added_at"} <= set(schema["properties"])
    assert set(schema["required"]) >= {"context", "added_by", "added_at"}
    for field in ("context", "added_by", "added_at"):
        assert schema["properties"][field].get("description")
