"""A resource's page (issue 12 §5): its fields, its tags with who added each, when and how
(the assignment's context, a rule's name when the audit trail names it), its history with
a link to each change set; the cards as htmx fragments; a constant number of statements
whatever the number of tags; 404s; every member reads it; the list links to it."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import update

from tests.http.ui.conftest import UiWorld
from webapp.extensions import db
from webapp.models import Assignment, AssignmentContext, ChangeSet, Resource
from webapp.services import assignments, groups, resources, rules
from webapp.services.policies.crud import PolicyInput, create_policy
from webapp.services.resources import ResourceInput
from webapp.services.undo import undo_change_set

XSS = "<img src=x onerror=alert(1)>"


def html(response: Any) -> str:
    return response.get_data(as_text=True)


def seed(ui: UiWorld) -> None:
    resources.register_resources(ui.world.editor, ui.world.sid, [
        ResourceInput("table", "db.orders", "Orders", "orders"),
        ResourceInput("file", "dir/sub/report.csv", XSS, None),
    ])
    assignments.attach(ui.world.editor, ui.world.sid, ["priority::high"],
                       {"table": ["db.orders"]}, context=AssignmentContext.MANUAL)
    assignments.attach(ui.world.manager, ui.world.sid, ["pii", XSS],
                       {"table": ["db.orders"]})


def url(ui: UiWorld, rtype: str = "table", external_id: str = "db.orders", query: str = ""
        ) -> str:
    return ui.url(f"resources/{rtype}/{external_id}{query}")


def test_the_page_shows_each_tag_with_who_added_it_when_and_how(ui: UiWorld) -> None:
    seed(ui)
    response = ui.get(ui.client("viewer"), url(ui))
    assert response.status_code == 200
    page = html(response)
    assert "<html" in page and 'id="resource-detail"' in page
    assert "Orders" in page and "db.orders" in page and ">orders<" in page
    tags_card = page[page.index('id="resource-tags"'):page.index('id="resource-history"')]
    rows = re.findall(r"<li>(.*?)</li>", tags_card, re.S)
    assert len(rows) == 3
    by_tag = {("priority" if "priority::" in row else "xss" if "&lt;img" in row else "pii"):
              row for row in rows}
    assert "context-manual" in by_tag["priority"] and "editor@example.com" in by_tag["priority"]
    assert "context-api" in by_tag["pii"] and "manager@example.com" in by_tag["pii"]
    change_sets = db.session.scalars(db.select(ChangeSet).order_by(ChangeSet.id)).all()
    assert f"change set #{change_sets[-1].id}" in by_tag["pii"]
    assert f"change set #{change_sets[-2].id}" in by_tag["priority"]
    assert "<time datetime=" in by_tag["pii"]
    # Escaped everywhere (a tag named like markup).
    assert XSS not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    # The history: each change set that touched its links, linked to the audit page.
    history = page[page.index('id="resource-history"'):]
    assert f'href="/s/acme/audit/{change_sets[-1].id}"' in history
    assert f'href="/s/acme/audit/{change_sets[-2].id}"' in history
    assert "History <span class=\"muted\">(2)</span>" in history
    # The compliance card: no policy yet.
    assert "No tag policy in this scope yet" in page[page.index('id="resource-compliance"'):]


def test_rule_links_name_the_rule_the_audit_trail_names(ui: UiWorld) -> None:
    seed(ui)
    rule = rules.create_rule(ui.world.manager, ui.world.sid, name="Ads tables",
                             when="type:table", attach=["ads"])
    rules.apply_rule(ui.world.manager, ui.world.sid, rule.id)
    # A rule that runs on registration names itself too.
    rules.create_rule(ui.world.manager, ui.world.sid, name="Files are raw", when="type:file",
                      attach=["raw"])
    resources.register_resources(ui.world.editor, ui.world.sid,
                                 [ResourceInput("file", "new.csv")])
    page = html(ui.get(ui.client("viewer"), url(ui)))
    row = next(r for r in re.findall(r"<li>(.*?)</li>", page, re.S) if ">ads</a>" in r)
    assert "context-rule" in row and "“Ads tables”" in row
    assert "manager@example.com" in row
    other = html(ui.get(ui.client("viewer"), url(ui, "file", "new.csv")))
    row = next(r for r in re.findall(r"<li>(.*?)</li>", other, re.S) if ">raw</a>" in r)
    assert "context-rule" in row and "“Files are raw”" in row


def test_history_shows_additions_removals_and_undos(ui: UiWorld) -> None:
    seed(ui)
    outcome = assignments.detach(ui.world.editor, ui.world.sid, ["pii"],
                                 {"table": ["db.orders"]})
    assert outcome.changed == 1
    detach_id = db.session.scalar(db.select(ChangeSet.id).order_by(ChangeSet.id.desc()))
    undo = undo_change_set(ui.world.editor, ui.world.sid, detach_id)
    page = html(ui.get(ui.client("editor"), url(ui)))
    history = page[page.index('id="resource-history"'):]
    assert "History <span class=\"muted\">(4)</span>" in history
    undo_entry = history[history.index(f"/audit/{undo.id}"):history.index(f"/audit/{detach_id}")]
    assert f"undo of #{detach_id}" in undo_entry
    assert 'class="added"' in undo_entry and "pii" in undo_entry  # it came back
    detach_entry = history[history.index(f"/audit/{detach_id}"):]
    detach_entry = detach_entry.split(" · via ")[0]
    assert "Undone by change set" in detach_entry
    assert 'class="removed"' in detach_entry and "pii" in detach_entry


def test_cards_are_fragments_for_htmx_and_the_body_for_a_plain_htmx_get(ui: UiWorld) -> None:
    seed(ui)
    client = ui.client("viewer")
    for card, other in (("tags", "history"), ("history", "tags")):
        part = html(ui.get(client, url(ui, query=f"?card={card}"), htmx=True))
        assert part.lstrip().startswith(f'<section class="card" id="resource-{card}"')
        for elsewhere in ("<html", 'id="resource-detail"', f'id="resource-{other}"'):
            assert elsewhere not in part
        full = html(ui.get(client, url(ui, query=f"?card={card}")))
        assert "<html" in full and part.strip() in full
    body = html(ui.get(client, url(ui), htmx=True))
    assert "<html" not in body and 'id="resource-detail"' in body
    assert 'id="resource-tags"' in body and 'id="resource-history"' in body
    boosted = ui.get(client, url(ui), htmx=True, headers={"HX-Boosted": "true"})
    assert "<html" in html(boosted)


def test_cards_are_paged(ui: UiWorld) -> None:
    resources.register_resources(ui.world.editor, ui.world.sid,
                                 [ResourceInput("node", "n1")])
    assignments.attach(ui.world.editor, ui.world.sid, [f"t{n:02d}" for n in range(30)],
                       {"node": ["n1"]})
    client = ui.client("viewer")
    first = html(ui.get(client, url(ui, "node", "n1")))
    first = first[first.index('id="resource-tags"'):first.index('id="resource-history"')]
    assert "Tags <span class=\"muted\">(30)</span>" in first and "Page 1 of 2" in first
    assert ">t24<" in first and ">t25<" not in first
    second = html(ui.get(client, url(ui, "node", "n1", "?card=tags&tpage=2"), htmx=True))
    assert ">t25<" in second and ">t29<" in second and ">t00<" not in second
    assert "Page 2 of 2" in second
    for odd in ("0", "-1", "x", "9" * 40):
        assert ui.get(client, url(ui, "node", "n1", f"?tpage={odd}&hpage={odd}")
                      ).status_code == 200


def test_statements_do_not_grow_with_the_number_of_tags(ui: UiWorld, count_queries) -> None:  # type: ignore[no-untyped-def]
    seed(ui)
    client = ui.client("editor")
    counts = []
    for more in (1, 20):
        assignments.attach(ui.world.editor, ui.world.sid,
                           [f"g{more}::x{n}.y" for n in range(more + 1)], {"table": ["db.orders"]},
                           context=AssignmentContext.RULE)
        assignments.detach(ui.world.editor, ui.world.sid, [f"g{more}::x0.y"],
                           {"table": ["db.orders"]})
        ui.get(client, url(ui))  # the same transaction state before each count
        db.session.expire_all()
        with count_queries() as full:
            assert ui.get(client, url(ui)).status_code == 200
        with count_queries() as tags_card:
            assert ui.get(client, url(ui, query="?card=tags"), htmx=True).status_code == 200
        with count_queries() as history_card:
            assert ui.get(client, url(ui, query="?card=history"), htmx=True).status_code == 200
        counts.append((full.count, tags_card.count, history_card.count))
    assert counts[0] == counts[1]
    full, tags_card, history_card = counts[0]
    assert tags_card < full and history_card < full


def test_unknown_resources_types_and_other_scopes_are_404(ui: UiWorld) -> None:
    seed(ui)
    client = ui.client("viewer")
    assert ui.get(client, url(ui, "table", "nope")).status_code == 404
    assert ui.get(client, url(ui, "tables", "db.orders")).status_code == 404
    assert ui.get(client, url(ui, "source", "db.orders")).status_code == 404
    assert ui.get(client, url(ui, query="?card=tags"), htmx=True).status_code == 200
    assert ui.get(client, url(ui, "table", "nope", "?card=tags"), htmx=True
                  ).status_code == 404
    # Another scope's resource of the same type and id is not this one.
    resources.register_resources(ui.world.outsider, ui.world.other_scope.id,
                                 [ResourceInput("table", "beta.only")])
    assert ui.get(client, url(ui, "table", "beta.only")).status_code == 404
    assert ui.get(ui.client("outsider"), url(ui)).status_code == 404
    beta = ui.get(ui.client("outsider"),
                  f"/s/{ui.world.other_scope.slug}/resources/table/beta.only")
    assert beta.status_code == 200


def test_an_id_with_slashes_and_the_list_links_to_the_page(ui: UiWorld) -> None:
    seed(ui)
    client = ui.client("viewer")
    listing = html(ui.get(client, ui.url("resources")))
    assert 'href="/s/acme/resources/table/db.orders"' in listing
    assert 'href="/s/acme/resources/file/dir/sub/report.csv"' in listing
    page = ui.get(client, url(ui, "file", "dir/sub/report.csv"))
    assert page.status_code == 200 and "No tags on this resource." in html(page)


def test_links_without_an_adder_read_by_the_system(ui: UiWorld) -> None:
    seed(ui)
    resource_id = db.session.scalar(db.select(Resource.id).where(
        Resource.external_id == "db.orders"))
    db.session.execute(update(Assignment).where(Assignment.resource_id == resource_id)
                       .values(added_by_id=None))
    db.session.commit()
    page = html(ui.get(ui.client("viewer"), url(ui)))
    assert page.count("by the system") == 3


def test_the_compliance_card_checks_the_resource_against_each_policy(ui: UiWorld) -> None:
    seed(ui)
    groups.create_group(ui.world.manager, ui.world.sid, "owner")
    for name, required in (("Tables need priority", "priority"), ("Tables need owner", "owner")):
        create_policy(ui.world.manager, ui.world.sid, PolicyInput(
            name=name, resource_types=["table"], require_groups=[required], mode="enforce"))
    create_policy(ui.world.manager, ui.world.sid, PolicyInput(
        name="Files: no pii", resource_types=["file"], forbid_tags=["pii"]))
    card = html(ui.get(ui.client("viewer"), url(ui)))
    card = card[card.index('id="resource-compliance"'):]
    card = card[:card.index("</section>")]
    items = re.findall(r'<li class="policy-check">(.*?)</li>\s*(?=<li class="policy-check">|'
                       r"</ul>\s*$)", card, re.S)
    assert [re.sub(r"<[^>]+>|\s+", " ", item).split()[:3] for item in items] == [
        ["Files:", "no", "pii"], ["Tables", "need", "owner"], ["Tables", "need", "priority"]]
    assert "not covered" in items[0]
    assert "not compliant" in items[1] and "no tag of group owner" in items[1]
    assert "badge ok" in items[2] and "enforced" in items[2]
