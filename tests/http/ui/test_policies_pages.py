"""The policies page (issue 12 §2): the list with each policy's compliance for every
member; create, edit, delete for managers only, each with the preview of what it would
flag among the resources stored now; the service's errors beside their field (422)."""

from __future__ import annotations

import re

import pytest

from tests.http.ui.conftest import UiWorld
from tests.unit.factories import SYSTEM, external_ids
from webapp.extensions import db
from webapp.models import TagPolicy
from webapp.services.assignments import attach
from webapp.services.groups import create_group
from webapp.services.policies.crud import PolicyInput, create_policy

XSS = "<img src=x onerror=alert(1)>"


def html_of(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


@pytest.fixture
def seeded(ui: UiWorld) -> UiWorld:
    """sensitivity (exclusive): t1 high, t2 low, t3 and t4 none; legacy on t3; s1 none."""
    sid = ui.world.sid
    create_group(SYSTEM, sid, "sensitivity", exclusive=True)
    create_group(SYSTEM, sid, "team")
    attach(SYSTEM, sid, ["sensitivity::high"], {"table": ["t1"]})
    attach(SYSTEM, sid, ["sensitivity::low"], {"table": ["t2"]})
    attach(SYSTEM, sid, ["legacy", "team::core"], {"table": ["t3"]})
    attach(SYSTEM, sid, ["team::core"], {"table": ["t4"], "source": ["s1"]})
    return ui


def tables(ui: UiWorld, **extra: object) -> int:
    values: dict[str, object] = {"name": "Tables carry a sensitivity",
                                 "resource_types": ["table"],
                                 "require_groups": ["sensitivity"], "forbid_tags": ["legacy"],
                                 **extra}
    return create_policy(SYSTEM, ui.world.sid, PolicyInput(**values)).id  # type: ignore[arg-type]


def form(**values: object) -> dict[str, object]:
    data: dict[str, object] = {"name": "", "description": "", "where": "", "forbid_tags": "",
                               "mode": "report"}
    data.update(values)
    return data


def stored() -> list[TagPolicy]:
    db.session.expire_all()
    return list(db.session.scalars(db.select(TagPolicy).order_by(TagPolicy.id)))


def errors_of(html: str, field: str) -> str:
    match = re.search(rf'<ul class="errors" id="{field}-errors">(.*?)</ul>', html, re.S)
    assert match, f"no errors beside {field}"
    return match.group(1)


def test_the_list_shows_each_policy_with_its_compliance_read_only_for_a_viewer(
        seeded: UiWorld) -> None:
    tables(seeded, mode="enforce")
    create_policy(SYSTEM, seeded.world.sid, PolicyInput(
        name="Sources", resource_types=["source"], where="group:team",
        require_groups=["team"], description="Owned sources"))
    viewer = seeded.client("viewer")
    response = seeded.get(viewer, seeded.url("policies"))
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    html = html_of(response)
    assert "<html" in html and 'aria-current="page">Policies</a>' in html
    row = html[html.index("Tables carry a sensitivity"):]
    assert 'badge danger' in row[:800] and ">table</span>" in row and "sensitivity::" in row
    assert "legacy</span>" in row
    # t1, t2 comply; t3 (no sensitivity, legacy) and t4 (no sensitivity) do not: 50%.
    assert 'data-percent="50"' in row and "2 of 4 flagged" in row
    assert "Owned sources" in html and "group:team" in html and 'data-percent="100"' in html
    assert "policy-form" not in html and "/edit" not in html and "/delete" not in html
    assert "Only managers" in html
    fragment = html_of(seeded.get(viewer, seeded.url("policies"), htmx=True))
    assert "<html" not in fragment and 'id="policy-list"' in fragment
    assert "Tables carry a sensitivity" in fragment
    for path in ("policies/new", f"policies/{stored()[0].id}/edit",
                 f"policies/{stored()[0].id}/delete"):
        assert seeded.get(viewer, seeded.url(path)).status_code == 403
    before = [(p.name, p.mode) for p in stored()]
    for path in ("policies", "policies/preview", f"policies/{stored()[0].id}/edit",
                 f"policies/{stored()[0].id}/delete"):
        response = seeded.post(seeded.client("editor"), seeded.url(path),
                               form(name="X", forbid_tags="legacy"))
        assert response.status_code == 403, path
    assert [(p.name, p.mode) for p in stored()] == before


def test_the_empty_list_invites_a_manager_to_create_one(ui: UiWorld) -> None:
    html = html_of(ui.get(ui.client("manager"), ui.url("policies")))
    assert "No policies in" in html and "Create one with the form" in html
    assert 'id="policy-form"' in html and "No groups in" in html


def test_a_manager_creates_a_policy_plain_and_with_htmx(seeded: UiWorld) -> None:
    client = seeded.client("manager")
    response = seeded.post(client, seeded.url("policies"), form(
        name="Tables", resource_types=["table"], require_groups=["sensitivity"],
        forbid_tags="legacy\n\n", mode="enforce", intent="save"))
    assert response.status_code == 302 and response.location.endswith("/policies")
    (policy,) = stored()
    assert (policy.name, policy.mode, policy.resource_types) == ("Tables", "enforce", ["table"])
    assert "Created policy Tables." in html_of(client.get(response.location))
    response = seeded.post(client, seeded.url("policies"), form(
        name="Teams", require_groups=["team"], where="type:source"), htmx=True)
    assert response.status_code == 200
    html = html_of(response)
    assert 'id="policy-form"' in html and 'id="policy-list" class="policy-list" hx-swap-oob' in html
    assert "Teams" in html and "Created policy Teams." in html
    assert [p.name for p in stored()] == ["Tables", "Teams"]
    assert stored()[1].where_expression == "type:source"


@pytest.mark.parametrize("htmx", [False, True], ids=["form", "htmx"])
def test_service_errors_go_beside_their_field_with_422(seeded: UiWorld, htmx: bool) -> None:
    client = seeded.client("manager")
    response = seeded.post(client, seeded.url("policies"), form(
        name="Bad", where="tag:nosuch AND (", forbid_tags="legacy\nnot.there",
        mode="enforce"), htmx=htmx)
    assert response.status_code == 422
    html = html_of(response)
    assert "at " in errors_of(html, "where")
    assert "not.there" in errors_of(html, "forbid_tags")
    assert ("<html" in html) is not htmx
    response = seeded.post(client, seeded.url("policies"), form(name="Nothing"), htmx=htmx)
    assert response.status_code == 422
    assert "at least one group" in errors_of(html_of(response), "require_groups")
    response = seeded.post(client, seeded.url("policies"), form(
        name="Odd mode", forbid_tags="legacy", mode="sometimes"), htmx=htmx)
    assert response.status_code == 422 and "must be one of" in errors_of(html_of(response),
                                                                          "mode")
    tables(seeded)
    response = seeded.post(client, seeded.url("policies"), form(
        name="tables carry a SENSITIVITY", forbid_tags="legacy"), htmx=htmx)
    assert response.status_code == 409 and "exists" in errors_of(html_of(response), "name")
    assert len(stored()) == 1


def test_the_preview_counts_what_a_new_policy_would_flag(seeded: UiWorld) -> None:
    client = seeded.client("manager")
    data = form(name="Tables", resource_types=["table"], require_groups=["sensitivity"],
                forbid_tags="legacy")
    response = seeded.post(client, seeded.url("policies/preview"), data, htmx=True)
    assert response.status_code == 200
    html = html_of(response)
    assert "<form" not in html
    assert re.search(r'data-count="covered">4<', html) and re.search(
        r'data-count="flagged">2<', html)
    assert "no tag of group sensitivity — <strong>2</strong>" in html
    assert "carries forbidden tag legacy — <strong>1</strong>" in html
    assert "<code>t3</code>" in html and "<code>t4</code>" in html and "<code>t1</code>" not in html
    # Without JavaScript: the Preview button posts the form with intent=preview.
    response = seeded.post(client, seeded.url("policies"), {**data, "intent": "preview"})
    assert response.status_code == 200
    page = html_of(response)
    assert "<html" in page and 'data-count="flagged">2<' in page and 'value="Tables"' in page
    assert stored() == []  # a preview writes nothing
    # Errors: the form again, in place, each beside its field.
    response = seeded.post(client, seeded.url("policies/preview"),
                           form(name="X", forbid_tags="nope"), htmx=True)
    assert response.status_code == 422
    assert response.headers["HX-Retarget"] == "#policy-form"
    assert "nope" in errors_of(html_of(response), "forbid_tags")


def test_editing_previews_the_newly_flagged_then_saves(seeded: UiWorld) -> None:
    policy_id = tables(seeded, forbid_tags=[])
    client = seeded.client("manager")
    html = html_of(seeded.get(client, seeded.url(f"policies/{policy_id}/edit"), htmx=True))
    assert "<html" not in html and 'value="Tables carry a sensitivity"' in html
    assert re.search(r'value="sensitivity"[^>]*checked|checked[^>]*value="sensitivity"', html)
    tightened = form(name="Tables carry a sensitivity", resource_types=["table", "source"],
                     require_groups=["sensitivity"], forbid_tags="legacy")
    response = seeded.post(client, seeded.url(f"policies/{policy_id}/preview"), tightened,
                           htmx=True)
    html = html_of(response)
    # t3 and t4 are flagged already; s1 (no sensitivity) is new.
    assert 'data-count="flagged">3<' in html and 'data-count="newly">1<' in html
    response = seeded.post(client, seeded.url(f"policies/{policy_id}/edit"),
                           {**tightened, "intent": "preview"})
    assert response.status_code == 200 and 'data-count="newly">1<' in html_of(response)
    assert stored()[0].resource_types == ["table"]
    response = seeded.post(client, seeded.url(f"policies/{policy_id}/edit"), tightened,
                           htmx=True)
    assert response.status_code == 200 and "Saved policy Tables carry a sensitivity." in (
        html_of(response))
    assert sorted(stored()[0].resource_types) == ["source", "table"]
    response = seeded.post(client, seeded.url(f"policies/{policy_id}/edit"),
                           {**tightened, "where": "tag:"})
    assert response.status_code == 422 and errors_of(html_of(response), "where")
    assert "<html" in html_of(response)


def test_a_manager_deletes_a_policy_after_confirming(seeded: UiWorld) -> None:
    policy_id = tables(seeded)
    client = seeded.client("manager")
    html = html_of(seeded.get(client, seeded.url(f"policies/{policy_id}/delete")))
    assert "<html" in html and "Delete the policy" in html
    fragment = html_of(seeded.get(client, seeded.url(f"policies/{policy_id}/delete"),
                                  htmx=True))
    assert "<html" not in fragment and "Delete policy</button>" in fragment
    response = seeded.post(client, seeded.url(f"policies/{policy_id}/delete"), htmx=True)
    assert response.status_code == 200 and "Deleted policy" in html_of(response)
    assert stored() == []
    assert seeded.get(client, seeded.url(f"policies/{policy_id}/edit")).status_code == 404
    assert seeded.get(client, seeded.url(f"policies/{2**40}/edit")).status_code == 404


def test_hostile_names_are_escaped(seeded: UiWorld) -> None:
    tables(seeded, name=XSS, description=XSS)
    client = seeded.client("manager")
    for html in (html_of(seeded.get(client, seeded.url("policies"))),
                 html_of(seeded.get(client, seeded.url(f"policies/{stored()[0].id}/edit")))):
        assert XSS not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_the_list_costs_a_constant_number_of_statements(
        seeded: UiWorld, count_queries) -> None:  # type: ignore[no-untyped-def]
    tables(seeded)
    client = seeded.client("manager")

    def statements() -> int:
        seeded.get(client, seeded.url("policies"))
        with count_queries() as counter:
            assert seeded.get(client, seeded.url("policies")).status_code == 200
        return counter.count

    few = statements()
    attach(SYSTEM, seeded.world.sid, ["legacy"], {"table": external_ids(30)})
    attach(SYSTEM, seeded.world.sid, ["sensitivity::low"], {"table": external_ids(10, 100)})
    for n in range(5):
        create_group(SYSTEM, seeded.world.sid, f"g{n}")
    assert statements() == few
