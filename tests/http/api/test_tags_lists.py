"""``GET /tags`` and the tagged-resource lists: filters, paging, bounds, other scopes and a
constant number of SQL statements per page."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.http.api.conftest import ApiWorld, error_of
from webapp.services import assignments
from webapp.services.actor import Actor
from webapp.services.tags import queries as tag_queries
from webapp.services.tags.creation import Provenance, TagSpec, create_tag, create_tags

TAGS = "/api/v1/tags"


def make(api: ApiWorld, name: str, token: str | None = None, **fields: Any) -> dict[str, Any]:
    response = api.post(TAGS, json={"name": name, **fields}, token=token)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def listed(api: ApiWorld, token: str | None = None, **query: Any) -> list[str]:
    response = api.get(TAGS, query_string=query, token=token)
    assert response.status_code == 200, response.get_json()
    return [item["path"] for item in response.get_json()["results"]]


def attach(api: ApiWorld, names: list[str], refs: dict[str, list[str]]) -> None:
    assignments.attach(api.world.editor, api.world.sid, names, refs)


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


# --- GET /tags --------------------------------------------------------------------------


def test_paging_with_absolute_links(api: ApiWorld) -> None:
    create_tags(api.world.editor, api.world.sid, [TagSpec(f"t{n}") for n in range(5)])
    first = api.get(TAGS, query_string={"per_page": 2, "search": "t"}).get_json()
    assert (first["count"], first["page"], first["per_page"]) == (5, 1, 2)
    assert [item["name"] for item in first["results"]] == ["t0", "t1"]
    assert first["previous"] is None and first["next"].startswith("http://localhost/api/v1/tags?")
    assert query_of(first["next"]) == {"per_page": ["2"], "search": ["t"], "page": ["2"]}
    last = api.get(first["next"].removeprefix("http://localhost")).get_json()
    last = api.get(last["next"]).get_json()
    assert [item["name"] for item in last["results"]] == ["t4"]
    assert last["next"] is None and query_of(last["previous"])["page"] == ["2"]
    beyond = api.get(TAGS, query_string={"page": 9}).get_json()
    assert beyond["results"] == [] and beyond["count"] == 5


def test_a_capped_search_count_says_so_and_pages_on_past_the_cap(
        api: ApiWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tag_queries, "COUNT_CAP", 3)
    create_tags(api.world.editor, api.world.sid, [TagSpec(f"t{n}") for n in range(7)])
    first = api.get(TAGS, query_string={"per_page": 2, "search": "t"}).get_json()
    assert (first["count"], first["count_is_lower_bound"]) == (3, True)
    names, page = [], first
    while True:
        names += [item["name"] for item in page["results"]]
        if page["next"] is None:
            break
        page = api.get(page["next"]).get_json()
    assert names == [f"t{n}" for n in range(7)] and page["page"] == 4
    assert page["count"] == 7 and "count_is_lower_bound" not in page  # the last page knows
    middle = api.get(TAGS, query_string={"per_page": 2, "search": "t", "page": 3}).get_json()
    assert (middle["count"], middle["count_is_lower_bound"]) == (3, True) and middle["next"]
    exact = api.get(TAGS, query_string={"search": "t6"}).get_json()  # under the cap
    assert exact["count"] == 1 and "count_is_lower_bound" not in exact
    unsearched = api.get(TAGS, query_string={"per_page": 2}).get_json()  # never capped
    assert unsearched["count"] == 7 and "count_is_lower_bound" not in unsearched


def test_per_page_is_bounded(api: ApiWorld) -> None:
    create_tags(api.world.editor, api.world.sid, [TagSpec(f"t{n:03}") for n in range(205)])
    assert len(api.get(TAGS).get_json()["results"]) == 50
    assert len(api.get(TAGS, query_string={"per_page": 200}).get_json()["results"]) == 200


@pytest.mark.parametrize(("query", "field"), [
    ({"per_page": 201}, "per_page"),
    ({"per_page": 0}, "per_page"),
    ({"page": 0}, "page"),
    ({"page": "two"}, "page"),
    ({"access": "mine"}, "access"),
    ({"view": "graph"}, "view"),
    ({"include_nodes": "maybe"}, "include_nodes"),
])
def test_bad_query_parameters_are_400(api: ApiWorld, query: dict[str, Any], field: str
                                      ) -> None:
    response = api.get(TAGS, query_string=query)
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "VALIDATION_FAILED"
    assert [d["field"] for d in error["details"]] == [field]


def test_search_category_and_parent_filters(api: ApiWorld) -> None:
    work = make(api, "Work")
    make(api, "Homework", parent_tag_id=work["id"])
    make(api, "Deep", parent_tag_id=api.get(TAGS, query_string={"search": "homework"})
         .get_json()["results"][0]["id"])
    make(api, "Networking", category="topic")
    make(api, "Garden", category="topic")
    # Sorted by qualified name: topic::Networking comes before Work.
    assert listed(api, search="WORK") == [
        "Networking", "Work", "Work.Homework", "Work.Homework.Deep",
    ]
    assert listed(api, category="topic") == ["Garden", "Networking"]
    assert listed(api, parent_tag_id=work["id"]) == ["Work.Homework"]
    assert listed(api, parent_tag_id=work["key"]) == ["Work.Homework"]
    assert listed(api, parent_tag_id="Work.Homework") == ["Work.Homework.Deep"]
    assert listed(api, category="nope") == []
    assert listed(api, parent_tag_id="tag_nope") == []
    assert listed(api, category="", parent_tag_id="") == listed(api)


def test_access_owned_shared_all(api: ApiWorld) -> None:
    make(api, "Mine")  # the manager's key
    make(api, "Theirs", token=api.editor)
    create_tag(Actor.system(), api.world.sid, TagSpec("System"),
                    Provenance(source="system", system_created=True))
    assert listed(api, access="owned") == ["Mine"]
    assert listed(api, access="shared") == ["System", "Theirs"]
    assert listed(api, access="all") == listed(api) == ["Mine", "System", "Theirs"]
    assert listed(api, api.editor, access="owned") == ["Theirs"]
    assert listed(api, api.editor, access="shared") == ["Mine", "System"]


def test_view_is_accepted_and_changes_nothing(api: ApiWorld) -> None:
    make(api, "Work")
    identity = api.get(TAGS, query_string={"view": "identity"}).get_json()
    neutral = api.get(TAGS, query_string={"view": "neutral"}).get_json()
    assert identity["results"] == neutral["results"] and identity["count"] == 1


def test_usage_counts_and_bounded_nodes(api: ApiWorld) -> None:
    make(api, "Work")
    make(api, "Idle")
    attach(api, ["Work"], {"node": [f"n{n:02}" for n in range(25)], "file": ["f1", "f2"]})
    plain = api.get(TAGS).get_json()["results"]
    assert [(item["name"], item["usage_count"]) for item in plain] == [("Idle", 0), ("Work", 27)]
    assert all("nodes" not in item and "node_count" not in item for item in plain)

    body = api.get(TAGS, query_string={"include_nodes": "true"}).get_json()
    idle, work = body["results"]
    assert (idle["nodes"], idle["node_count"]) == ([], 0)
    assert work["node_count"] == 25 and work["usage_count"] == 27
    assert [node["id"] for node in work["nodes"]] == [f"n{n:02}" for n in range(20)]
    assert set(work["nodes"][0]) == {"id", "type", "name", "slug", "created_at"}
    assert {node["type"] for node in work["nodes"]} == {"node"}


def test_deleted_and_other_scope_tags_are_never_listed(api: ApiWorld) -> None:
    make(api, "Work")
    gone = make(api, "Gone")
    api.delete(f"{TAGS}/{gone['id']}")
    make(api, "Theirs", token=api.outsider)
    assert listed(api) == ["Work"]
    assert listed(api, api.outsider) == ["Theirs"]
    assert listed(api, api.outsider, search="work") == []


def test_list_needs_read(api: ApiWorld) -> None:
    assert listed(api, api.viewer) == []
    response = api.get(TAGS, token=api.token("tags.create"))
    assert response.status_code == 403 and error_of(response)["code"] == "PERMISSION_DENIED"


def test_list_statements_do_not_grow_with_the_page(api: ApiWorld, count_queries: Any) -> None:
    def statements(query: dict[str, Any]) -> int:
        with count_queries() as counter:
            response = api.get(TAGS, query_string=query)
        assert response.status_code == 200
        return counter.count

    root = make(api, "Root", category="topic")
    make(api, "c", parent_tag_id=root["id"])
    attach(api, ["topic::Root.c"], {"node": ["n0"]})
    statements({})  # the key's first use records its last_used_at
    one = {key: statements({"include_nodes": key == "with"}) for key in ("with", "without")}
    specs = [TagSpec(f"t{n}", parent="topic::Root") for n in range(30)]
    create_tags(api.world.editor, api.world.sid, specs)
    attach(api, [f"topic::Root.t{n}" for n in range(30)],
           {"node": [f"n{n}" for n in range(30)], "file": ["f"]})
    api.post(TAGS, json={"name": "byeditor"}, token=api.editor)
    many = {key: statements({"include_nodes": key == "with"}) for key in ("with", "without")}
    assert many == one
    assert one["with"] == one["without"] + 1


# --- GET /tags/{id}/nodes, /files, /resources -------------------------------------------


def test_tagged_resources_of_every_type_or_one(api: ApiWorld) -> None:
    work = make(api, "Work")
    attach(api, ["Work", "Other"], {"node": ["n1"], "file": ["f1"], "table": ["t1"]})
    url = f"{TAGS}/{work['id']}/resources"
    everything = api.get(url).get_json()
    assert [(r["type"], r["id"]) for r in everything["results"]] == [
        ("file", "f1"), ("node", "n1"), ("table", "t1"),
    ]
    assert [t["name"] for t in everything["results"][0]["tags"]] == ["Other", "Work"]
    files = api.get(url, query_string={"type": "FILE"}).get_json()
    assert [r["id"] for r in files["results"]] == ["f1"]
    response = api.get(url, query_string={"type": "spaceship"})
    assert response.status_code == 400
    assert [d["field"] for d in error_of(response)["details"]] == ["type"]


def test_tagged_nodes_are_paged_and_searchable(api: ApiWorld) -> None:
    work = make(api, "Work")
    attach(api, ["Work"], {"node": [f"n{n:02}" for n in range(25)]})
    url = f"{TAGS}/{work['id']}/nodes"
    last = api.get(url, query_string={"per_page": 10, "page": 3}).get_json()
    assert [r["id"] for r in last["results"]] == [f"n{n:02}" for n in range(20, 25)]
    assert last["count"] == 25 and last["next"] is None
    assert query_of(last["previous"]) == {"per_page": ["10"], "page": ["2"]}
    found = api.get(url, query_string={"search": "N1"}).get_json()
    assert found["count"] == 10
    response = api.get(url, query_string={"per_page": 500})
    assert response.status_code == 400


@pytest.mark.parametrize("suffix", ["nodes", "files", "resources"])
def test_tagged_lists_of_unknown_deleted_or_foreign_tags_are_404(api: ApiWorld, suffix: str
                                                                 ) -> None:
    work = make(api, "Work")
    gone = make(api, "Gone")
    api.delete(f"{TAGS}/{gone['id']}")
    theirs = make(api, "Theirs", token=api.outsider)
    for handle, token in (("tag_nope", None), (gone["id"], None), (theirs["id"], None),
                          (work["id"], api.outsider)):
        response = api.get(f"{TAGS}/{handle}/{suffix}", token=token)
        assert response.status_code == 404 and error_of(response)["code"] == "NOT_FOUND"
    response = api.get(f"{TAGS}/{work['id']}/{suffix}", token=api.token("tags.write"))
    assert response.status_code == 403
    assert api.get(f"{TAGS}/{work['id']}/{suffix}", token=api.viewer).status_code == 200


def test_tagged_list_statements_do_not_grow(api: ApiWorld, count_queries: Any) -> None:
    work = make(api, "Work")

    def statements() -> int:
        with count_queries() as counter:
            response = api.get(f"{TAGS}/{work['id']}/nodes")
        assert response.status_code == 200
        return counter.count

    attach(api, ["Work", "g::Other"], {"node": ["n0"]})
    one = statements()
    attach(api, ["Work", "g::Other", "Third"], {"node": [f"n{n}" for n in range(50)]})
    assert statements() == one
