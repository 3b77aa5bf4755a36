"""The tag list and a tag's page: full pages and htmx fragments, search / filters / sort /
paging, inline edit, create, bulk delete / move / merge, restore, details, edit and delete;
errors beside their field, roles, escaping, and a constant number of statements."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

from tests.http.ui.conftest import HX, UiWorld
from tests.unit.factories import change_sets, live_tag
from webapp.extensions import db
from webapp.models import Tag
from webapp.services import assignments
from webapp.services.tags import queries as tag_queries
from webapp.services.tags.creation import Provenance, TagSpec, create_tag, create_tags
from webapp.services.tags.deletion import delete_tag
from webapp.services.tags.hierarchy import update_tag
from webapp.services.tags.lookup import find_tag

XSS = "<img src=x onerror=alert(1)>"
ESCAPED = "&lt;img src=x onerror=alert(1)&gt;"


def tag(ui: UiWorld, path: str) -> Tag:
    found = find_tag(ui.world.sid, path, include_deleted=True)
    assert found is not None, path
    return found


def seed(ui: UiWorld) -> None:
    create_tags(ui.world.editor, ui.world.sid, [
        TagSpec("Address.email", color="#2E7D32", description="E-mail addresses"),
        TagSpec("Address.phone"),
        TagSpec("priority::high", color="#EF6C00"),
        TagSpec("priority::low"),
        TagSpec("pii"),
    ])
    create_tag(ui.world.editor, ui.world.sid, TagSpec("dbt-model"), Provenance(source="dbt"))
    assignments.attach(ui.world.editor, ui.world.sid, ["Address.email"],
                       {"column": ["c1", "c2", "c3"]})
    assignments.attach(ui.world.editor, ui.world.sid, ["pii"], {"column": ["c1"]})


def html(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(True)


def row_paths(text: str) -> list[str]:
    """The tag names of the list's rows, in order (group prefix included)."""
    cells = re.findall(r'class="tag-link">(.*?)</a>', text, re.S)
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in cells]


# --- the list: pages, fragments, search, filters, sort, paging -------------------------


def test_full_page_and_fragment(ui: UiWorld) -> None:
    seed(ui)
    client = ui.client("editor")
    page = html(ui.get(client, ui.url("tags")))
    assert "<html" in page and 'id="tag-filters"' in page and 'id="tag-results"' in page
    assert 'id="bulk-form"' in page and 'id="tag-create-form"' in page
    assert 'hx-trigger="input changed delay:250ms, search"' in page and 'hx-push-url="true"' in page
    assert 'style="background: #2E7D32"' in page  # colour swatch
    assert row_paths(page)[:3] == ["Address", "Address.email", "Address.phone"]
    assert "priority::high" in row_paths(page)

    fragment = html(ui.get(client, ui.url("tags?q=addr"), htmx=True))
    assert "<html" not in fragment and fragment.lstrip().startswith('<div id="tag-results"')
    assert row_paths(fragment) == ["Address", "Address.email", "Address.phone"]
    assert 'id="sort-controls" class="sort-controls" hx-swap-oob="true"' in fragment
    assert 'id="tag-create-form"' not in fragment


def test_usage_counts_badges_and_filters(ui: UiWorld) -> None:
    seed(ui)
    client = ui.client("viewer")
    page = html(ui.get(client, ui.url("tags")))
    email = tag(ui, "Address.email")
    assert re.search(rf'/tags/{email.id}#tag-resources"[^>]*>3</a>', page)

    def paths(query: str) -> list[str]:
        return row_paths(html(ui.get(client, ui.url(f"tags?{query}"), htmx=True)))

    assert paths("group=priority") == ["priority::high", "priority::low"]
    assert paths("parent=Address") == ["Address.email", "Address.phone"]
    assert paths("source=dbt") == ["dbt-model"]
    assert paths("q=zzz") == []
    assert "No tag matches" in html(ui.get(client, ui.url("tags?q=zzz"), htmx=True))

    delete_tag(ui.world.editor, ui.world.sid, "pii")
    assert "pii" not in paths("")
    shown = html(ui.get(client, ui.url("tags?deleted=1&q=pii"), htmx=True))
    assert row_paths(shown) == ["pii"] and 'class="badge danger"' in shown
    assert "Restore" not in shown  # a viewer cannot restore


def test_protected_and_system_badges(ui: UiWorld) -> None:
    from tests.unit.factories import SYSTEM

    locked = create_tag(SYSTEM, ui.world.sid, TagSpec("Discovered"),
                        Provenance(system_created=True, protected=True))
    page = html(ui.get(ui.client("editor"), ui.url("tags"), htmx=True))
    assert 'class="badge lock"' in page and 'class="badge system"' in page
    row = page.split(f'id="tag-row-{locked.id}"', 1)[1].split("</tr>", 1)[0]
    assert 'class="row-lock"' in row and "protected tags cannot be edited or deleted" in row
    assert "row_edit" not in row and ">Edit<" not in row


def test_sort_and_paging(ui: UiWorld) -> None:
    create_tags(ui.world.editor, ui.world.sid, [TagSpec(f"t{n:02d}") for n in range(60)])
    assignments.attach(ui.world.editor, ui.world.sid, ["t07"], {"node": ["a", "b"]})
    client = ui.client("viewer")
    first = html(ui.get(client, ui.url("tags"), htmx=True))
    assert len(row_paths(first)) == 50 and "Page 1 of 2" in first
    assert 'href="/s/acme/tags?page=2"' in first
    second = row_paths(html(ui.get(client, ui.url("tags?page=2"), htmx=True)))
    assert second == [f"t{n}" for n in range(50, 60)]
    past_end = row_paths(html(ui.get(client, ui.url("tags?page=99"), htmx=True)))
    assert past_end == second
    by_usage = html(ui.get(client, ui.url("tags?sort=usage&dir=desc"), htmx=True))
    assert row_paths(by_usage)[0] == "t07"
    assert 'aria-sort="descending"' in by_usage
    by_name_desc = row_paths(html(ui.get(client, ui.url("tags?sort=name&dir=desc"), htmx=True)))
    assert by_name_desc[0] == "t59"
    bad_sort = row_paths(html(ui.get(client, ui.url("tags?sort=evil&page=x"), htmx=True)))
    assert bad_sort[0] == "t00"


def test_the_list_is_a_constant_number_of_statements(ui: UiWorld, count_queries) -> None:  # type: ignore[no-untyped-def]
    client = ui.client("editor")
    create_tags(ui.world.editor, ui.world.sid, [TagSpec(f"g::a{n}.b") for n in range(3)])
    ui.get(client, ui.url("tags"))
    counts = []
    for extra in (0, 40):
        if extra:
            create_tags(ui.world.editor, ui.world.sid,
                        [TagSpec(f"g::x{n}.y", color="#123456") for n in range(extra // 2)])
            assignments.attach(ui.world.editor, ui.world.sid, [f"g::x{n}" for n in range(20)],
                               {"node": ["n1", "n2"]})
        ui.get(client, ui.url("tags"))  # the same transaction state before each count
        db.session.expire_all()
        with count_queries() as full:
            assert ui.get(client, ui.url("tags")).status_code == 200
        with count_queries() as fragment:
            assert ui.get(client, ui.url("tags?q=g"), htmx=True).status_code == 200
        counts.append((full.count, fragment.count))
    assert counts[0] == counts[1]


def test_options_for_the_parent_picker(ui: UiWorld) -> None:
    seed(ui)
    create_tag(ui.world.editor, ui.world.sid, TagSpec(XSS))
    client = ui.client("viewer")
    options = html(ui.get(client, ui.url("tags/options?parent=addr"), htmx=True))
    assert '<option value="Address.email">' in options and "priority" not in options
    assert '<option value="priority::high">' in html(
        ui.get(client, ui.url("tags/options?bulk-target=high"), htmx=True))
    escaped = html(ui.get(client, ui.url("tags/options?q=img"), htmx=True))
    assert XSS not in escaped and ESCAPED in escaped


# --- create -----------------------------------------------------------------------------


def test_create_with_htmx_answers_a_fresh_form_and_refreshes_the_list(ui: UiWorld) -> None:
    seed(ui)
    client = ui.client("editor")
    response = ui.post(client, ui.url("tags"), {
        "name": "street", "parent": "Address", "label": "Street", "color": "#123abc",
        "description": "Where",
    }, htmx=True)
    assert response.status_code == 201
    assert response.headers["HX-Trigger"] == "tags-changed"
    body = html(response)
    assert "<html" not in body and 'id="tag-create-form"' in body
    assert 'value="Address"' in body  # the parent stays for the next sibling
    assert "Created tag Address.street." in body and 'hx-swap-oob="true"' in body
    made = live_tag(ui.world.sid, "address.street")
    assert made is not None and (made.label, made.color, made.description) == (
        "Street", "#123ABC", "Where")
    assert made.color is not None

    grouped = ui.post(client, ui.url("tags"), {"name": "priority::mid", "no_color": "y"})
    assert grouped.status_code == 302 and grouped.location.endswith("/s/acme/tags")
    made = live_tag(ui.world.sid, "priority::mid")
    assert made is not None and made.color is None


def test_create_errors_are_beside_their_field(ui: UiWorld) -> None:
    seed(ui)
    client = ui.client("editor")
    empty = ui.post(client, ui.url("tags"), {"name": ""}, htmx=True)
    assert empty.status_code == 422 and 'id="name-errors"' in html(empty)
    bad = ui.post(client, ui.url("tags"), {"name": "a..b"}, htmx=True)
    assert bad.status_code == 422 and 'id="name-errors"' in html(bad)
    clash = ui.post(client, ui.url("tags"), {"name": "pii"}, htmx=True)
    assert clash.status_code == 409
    assert re.search(r'id="name-errors"><li>already exists', html(clash))
    orphan = ui.post(client, ui.url("tags"), {"name": "x", "parent": "nowhere"}, htmx=True)
    assert orphan.status_code == 422 and 'id="parent-errors"' in html(orphan)
    colour = ui.post(client, ui.url("tags"), {"name": "x", "color": "red"}, htmx=True)
    assert colour.status_code == 422 and 'id="color-errors"' in html(colour)

    full = ui.post(client, ui.url("tags"), {"name": "pii"})  # without htmx: the whole page
    assert full.status_code == 409
    page = html(full)
    assert "<html" in page and 'id="name-errors"' in page and 'id="tag-results"' in page
    assert '<details class="card create-card" id="create-tag" open>' in page


def test_created_names_are_escaped_everywhere(ui: UiWorld) -> None:
    client = ui.client("editor")
    response = ui.post(client, ui.url("tags"), {"name": XSS, "description": XSS,
                                                "label": XSS}, htmx=True)
    assert response.status_code == 201
    assert XSS not in html(response) and ESCAPED in html(response)
    made = tag(ui, XSS)
    for url in ("tags", f"tags/{made.id}", f"tags/{made.id}/history"):
        body = html(ui.get(client, ui.url(url)))
        assert XSS not in body and ESCAPED in body, url
    for url in (f"tags/{made.id}/row", f"tags/{made.id}/row/edit"):
        body = html(ui.get(client, ui.url(url), htmx=True))
        assert XSS not in body and ESCAPED in body, url


# --- inline edit ------------------------------------------------------------------------


def test_inline_edit_round_trip(ui: UiWorld) -> None:
    seed(ui)
    email = tag(ui, "Address.email")
    client = ui.client("editor")
    form = html(ui.get(client, ui.url(f"tags/{email.id}/row/edit"), htmx=True))
    assert form.lstrip().startswith(f'<tr id="tag-row-{email.id}" class="tag-row editing">')
    assert f'hx-put="/s/acme/tags/{email.id}/row"' in form
    assert f'name="row-{email.id}-name"' in form and 'value="email"' in form

    prefix = f"row-{email.id}-"
    saved = ui.post(client, ui.url(f"tags/{email.id}/row"), {
        prefix + "name": "mail", prefix + "label": "email", prefix + "color": "#ff8800",
        prefix + "description": "E-mail addresses",
    }, htmx=True, method="PUT")
    assert saved.status_code == 200
    body = html(saved)
    assert body.lstrip().startswith(f'<tr id="tag-row-{email.id}" class="tag-row just-saved">')
    assert row_paths(body) == ["Address.mail"] and "#FF8800" in body
    db.session.expire_all()
    assert (email.name, email.label, email.color) == ("mail", "mail", "#FF8800")
    history = html(ui.get(client, ui.url(f"tags/{email.id}/history"), htmx=True))
    assert "name: <q>email</q> → <q>mail</q>" in history
    assert "colour: <q>#2E7D32</q> → <q>#FF8800</q>" in history
    assert "path: <q>Address.email</q> → <q>Address.mail</q>" in history
    assert "description" not in history.split('class="changes small"')[1].split("</ul>")[0]

    cancel = html(ui.get(client, ui.url(f"tags/{email.id}/row"), htmx=True))
    assert row_paths(cancel) == ["Address.mail"]
    assert ui.get(client, ui.url(f"tags/{email.id}/row")).status_code == 302
    assert ui.get(client, ui.url(f"tags/{email.id}/row/edit")).status_code == 302


def test_inline_edit_errors_stay_in_the_row(ui: UiWorld) -> None:
    seed(ui)
    email, phone = tag(ui, "Address.email"), tag(ui, "Address.phone")
    client = ui.client("editor")
    prefix = f"row-{email.id}-"
    bad = ui.post(client, ui.url(f"tags/{email.id}/row"), {prefix + "name": "e.mail"},
                  htmx=True, method="PUT")
    assert bad.status_code == 422
    assert f'id="row-{email.id}-name-errors"' in html(bad) and "tag-row editing" in html(bad)
    clash = ui.post(client, ui.url(f"tags/{email.id}/row"), {prefix + "name": phone.name},
                    htmx=True, method="PUT")
    assert clash.status_code == 409 and f'id="row-{email.id}-name-errors"' in html(clash)
    empty = ui.post(client, ui.url(f"tags/{email.id}/row"), {prefix + "name": ""},
                    htmx=True, method="POST")
    assert empty.status_code == 422 and f'id="row-{email.id}-name-errors"' in html(empty)
    plain = ui.post(client, ui.url(f"tags/{email.id}/row"), {prefix + "name": ""})
    assert plain.status_code == 302 and plain.location.endswith(f"/tags/{email.id}")
    assert "Not saved: Name: This field is required." in html(client.get(plain.location))


# --- bulk actions -----------------------------------------------------------------------


def test_bulk_delete_with_and_without_descendants(ui: UiWorld) -> None:
    seed(ui)
    client = ui.client("editor")
    address, pii = tag(ui, "Address"), tag(ui, "pii")
    refused = ui.post(client, ui.url("tags/bulk"), {
        "action": "delete", "ids": [str(address.id), str(pii.id)]}, htmx=True)
    assert refused.status_code == 200 and refused.headers["HX-Trigger"] == "tags-changed"
    body = html(refused)
    assert "Deleted 1 tag(s)." in body and "Not deleted: Address" in body
    assert live_tag(ui.world.sid, "pii") is None
    assert live_tag(ui.world.sid, "address") is not None

    deep = ui.post(client, ui.url("tags/bulk"), {
        "action": "delete", "ids": [str(address.id)], "bulk-hierarchy": "y"}, htmx=True)
    assert "Deleted 3 tag(s)." in html(deep)
    assert live_tag(ui.world.sid, "address.email") is None

    plain = ui.post(client, ui.url("tags/bulk"), {
        "action": "delete", "ids": [str(tag(ui, "priority::low").id)],
        "bulk-next": "/s/acme/tags?q=prio"})
    assert plain.status_code == 302 and plain.location.endswith("/s/acme/tags?q=prio")
    evil = ui.post(client, ui.url("tags/bulk"), {
        "action": "delete", "ids": [str(tag(ui, "priority::high").id)],
        "bulk-next": "//evil.example/s/acme/tags"})
    assert evil.status_code == 302 and "evil" not in evil.location


def test_bulk_move_and_merge(ui: UiWorld) -> None:
    seed(ui)
    client = ui.client("editor")
    pii, phone, dbt = tag(ui, "pii"), tag(ui, "Address.phone"), tag(ui, "dbt-model")
    moved = ui.post(client, ui.url("tags/bulk"), {
        "action": "move", "ids": [str(pii.id), str(dbt.id)], "bulk-parent": "Address"},
        htmx=True)
    assert moved.status_code == 200 and "Moved 2 tag(s) under Address." in html(moved)
    assert live_tag(ui.world.sid, "address.pii") is not None

    cycle = ui.post(client, ui.url("tags/bulk"), {
        "action": "move", "ids": [str(tag(ui, "Address").id)], "bulk-parent": "Address.pii"},
        htmx=True)
    assert cycle.status_code == 422
    assert re.search(r'id="bulk-parent-errors"><li>Address: ', html(cycle))

    email = tag(ui, "Address.email")
    merged = ui.post(client, ui.url("tags/bulk"), {
        "action": "merge", "ids": [str(phone.id), str(pii.id), str(email.id)],
        "bulk-target": "Address.email"}, htmx=True)
    assert merged.status_code == 200
    # The target ticked too stays: the count is of the tags merged away, everywhere.
    assert "Merged 2 tags into Address.email." in html(merged)
    assert live_tag(ui.world.sid, "address.phone") is None
    assert change_sets()[-1].summary == "Merge 2 tags into Address.email"
    alone = ui.post(client, ui.url("tags/bulk"), {
        "action": "merge", "ids": [str(email.id)], "bulk-target": "address.EMAIL"}, htmx=True)
    assert alone.status_code == 422 and "nothing to merge" in html(alone)

    unknown = ui.post(client, ui.url("tags/bulk"), {
        "action": "merge", "ids": [str(dbt.id)], "bulk-target": "nope"}, htmx=True)
    assert unknown.status_code == 422 and 'id="bulk-target-errors"' in html(unknown)
    nothing = ui.post(client, ui.url("tags/bulk"), {"action": "merge", "bulk-target": "x"},
                      htmx=True)
    assert nothing.status_code == 422 and "Tick at least one tag" in html(nothing)
    no_action = ui.post(client, ui.url("tags/bulk"), {"ids": [str(dbt.id)]}, htmx=True)
    assert no_action.status_code == 422 and "Choose an action" in html(no_action)
    whole = ui.post(client, ui.url("tags/bulk"), {
        "action": "merge", "ids": [str(dbt.id)], "bulk-target": "nope"})
    assert whole.status_code == 422 and "<html" in html(whole)
    assert 'id="bulk-target-errors"' in html(whole)


def test_typed_paths_are_never_read_as_ids(ui: UiWorld) -> None:
    """A tag named "7" is the tag typed, not the tag whose key is 7."""
    seed(ui)
    client = ui.client("editor")
    pii, dbt = tag(ui, "pii"), tag(ui, "dbt-model")
    named = create_tag(ui.world.editor, ui.world.sid, TagSpec(str(pii.id)))
    child = ui.post(client, ui.url("tags"), {"name": "kid", "parent": str(pii.id)}, htmx=True)
    assert child.status_code == 201 and f"Created tag {pii.id}.kid." in html(child)
    listed = row_paths(html(ui.get(client, ui.url(f"tags?parent={pii.id}"), htmx=True)))
    assert listed == [f"{pii.id}.kid"]
    assert row_paths(html(ui.get(client, ui.url("tags?parent=nope"), htmx=True))) == []
    merged = ui.post(client, ui.url("tags/bulk"), {
        "action": "merge", "ids": [str(dbt.id)], "bulk-target": str(pii.id)}, htmx=True)
    assert f"Merged 1 tag into {pii.id}." in html(merged)
    assert live_tag(ui.world.sid, "pii") is not None
    moved = ui.post(client, ui.url("tags/bulk"), {
        "action": "move", "ids": [str(tag(ui, "Address.phone").id)],
        "bulk-parent": str(pii.id)}, htmx=True)
    assert f"under {pii.id}." in html(moved)
    assert live_tag(ui.world.sid, f"{pii.id}.phone") is not None
    edited = ui.post(client, ui.url(f"tags/{tag(ui, 'Address.email').id}/edit"), {
        "name": "email", "label": "email", "parent": named.path, "group": ""}, htmx=True)
    assert edited.status_code == 200
    assert live_tag(ui.world.sid, f"{pii.id}.email") is not None


# --- restore ----------------------------------------------------------------------------


def test_restore_from_the_list_and_its_errors(ui: UiWorld) -> None:
    seed(ui)
    client = ui.client("editor")
    address, email = tag(ui, "Address"), tag(ui, "Address.email")
    delete_tag(ui.world.editor, ui.world.sid, "Address", hierarchy=True)
    listed = html(ui.get(client, ui.url("tags?deleted=1"), htmx=True))
    assert f'hx-post="/s/acme/tags/{address.id}/restore?view=row"' in listed

    orphan = ui.post(client, ui.url(f"tags/{email.id}/restore?view=row"), htmx=True)
    assert orphan.status_code == 409
    assert f'id="tag-row-{email.id}-errors"' in html(orphan) and "restore the parent" in html(
        orphan)

    restored = ui.post(client, ui.url(f"tags/{address.id}/restore?view=row"), htmx=True)
    assert restored.status_code == 200 and restored.headers["HX-Trigger"] == "tags-changed"
    assert "Restored Address and 2 descendant(s)." in html(restored)
    assert 'class="tag-row just-saved"' in html(restored)
    assert live_tag(ui.world.sid, "address.email") is not None


# --- a tag's page -----------------------------------------------------------------------


def test_detail_page_and_its_fragments(ui: UiWorld) -> None:
    seed(ui)
    email = tag(ui, "Address.email")
    assignments.attach(ui.world.editor, ui.world.sid, ["Address.email"],
                       {"node": [f"n{i:02d}" for i in range(25)]})
    client = ui.client("viewer")
    page = html(ui.get(client, ui.url(f"tags/{email.id}")))
    assert "<html" in page and "<title>Address.email · Tags · Acme</title>" in page
    assert f'href="/s/acme/tags/{tag(ui, "Address").id}">Address</a>' in page  # breadcrumb
    assert "28 resources" in page and "E-mail addresses" in page and "#2E7D32" in page
    assert "by editor@example.com" in page
    assert "Tagged resources <span class=\"muted\">(28)</span>" in page
    assert f"/s/acme/tags/{email.id}/resources?rpage=2" in page
    assert "History" in page and "Create 5 tag(s)" in page
    assert 'href="/s/acme/audit' in page
    assert 'id="tag-edit"' not in page and 'id="tag-delete"' not in page  # a viewer

    second = html(ui.get(client, ui.url(f"tags/{email.id}/resources?rpage=2"), htmx=True))
    assert "<html" not in second and second.lstrip().startswith(
        '<section class="card" id="tag-resources"')
    assert "Page 2 of 2" in second and "n24" in second
    history = html(ui.get(client, ui.url(f"tags/{email.id}/history"), htmx=True))
    assert history.lstrip().startswith('<section class="card" id="tag-history"')
    full = html(ui.get(client, ui.url(f"tags/{email.id}/resources?rpage=2")))
    assert "<html" in full and "n24" in full

    parent = html(ui.get(client, ui.url(f"tags/{tag(ui, 'Address').id}")))
    assert "Children <span class=\"muted\">(2)</span>" in parent
    assert ui.get(client, ui.url("tags/999999")).status_code == 404
    assert ui.get(ui.client("outsider"), ui.url(f"tags/{email.id}")).status_code == 404


def test_detail_page_is_a_constant_number_of_statements(ui: UiWorld, count_queries) -> None:  # type: ignore[no-untyped-def]
    create_tags(ui.world.editor, ui.world.sid, [TagSpec("a.b.c.d"), TagSpec("x")])
    url = ui.url(f"tags/{tag(ui, 'a.b.c.d').id}")
    client = ui.client("editor")
    counts = []
    for more in (2, 15):
        assignments.attach(ui.world.editor, ui.world.sid, ["a.b.c.d", "x"],
                           {"node": [f"n{i}" for i in range(more)]})
        ui.get(client, url)
        db.session.expire_all()
        with count_queries() as counter:
            assert ui.get(client, url).status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1]


@pytest.mark.parametrize(("card", "other_card"), [("resources", "history"),
                                                  ("history", "resources")])
def test_a_card_alone_is_read_without_the_rest_of_the_page(
        ui: UiWorld, count_queries, card: str, other_card: str) -> None:  # type: ignore[no-untyped-def]
    seed(ui)
    email = tag(ui, "Address.email")
    assignments.attach(ui.world.editor, ui.world.sid, ["Address.email"],
                       {"node": [f"n{i:02d}" for i in range(25)]})
    update_tag(ui.world.editor, ui.world.sid, email.id, name="mail")
    client = ui.client("editor")  # the page has the edit and delete forms too
    url = ui.url(f"tags/{email.id}/{card}?rpage=2&hpage=1")
    ui.get(client, url)  # the same transaction state before each count
    db.session.expire_all()
    with count_queries() as fragment:
        part = ui.get(client, url, htmx=True)
    with count_queries() as full:
        page = ui.get(client, url)
    assert part.status_code == page.status_code == 200
    part_html, page_html = html(part), html(page)

    # The fragment is the card, and nothing else of the page.
    assert part_html.lstrip().startswith(f'<section class="card" id="tag-{card}"')
    for elsewhere in ("<html", 'id="tag-detail"', 'id="tag-details-title"',
                      'id="tag-children"', f'id="tag-{other_card}"', 'id="tag-edit"',
                      'id="tag-delete"'):
        assert elsewhere not in part_html, elsewhere
    # The plain request is the whole page, with the same card in it.
    for everywhere in ("<html", 'id="tag-detail"', 'id="tag-children"',
                       'id="tag-resources"', 'id="tag-history"', 'id="tag-edit"'):
        assert everywhere in page_html, everywhere
    card_html = part_html.strip()
    assert card_html in page_html
    if card == "resources":
        assert "Page 2 of 2" in card_html and "n24" in card_html
    else:
        assert "name: <q>email</q> → <q>mail</q>" in card_html
    # The card reads the session, the scope, the tag and its own page (6 statements on
    # either card, where the page reads 19).
    assert fragment.count < full.count


def test_the_cards_of_a_deleted_tag(ui: UiWorld) -> None:
    seed(ui)
    email = tag(ui, "Address.email")
    delete_tag(ui.world.editor, ui.world.sid, email.id)
    client = ui.client("viewer")
    resources = html(ui.get(client, ui.url(f"tags/{email.id}/resources"), htmx=True))
    assert 'id="tag-resources"' in resources and "c3" in resources  # its links are kept
    history = html(ui.get(client, ui.url(f"tags/{email.id}/history"), htmx=True))
    assert 'id="tag-history"' in history and "Delete" in history
    assert ui.get(client, ui.url("tags/999999/history"), htmx=True).status_code == 404
    outsider = ui.client("outsider")
    assert ui.get(outsider, ui.url(f"tags/{email.id}/resources"), htmx=True).status_code == 404


def test_edit_on_the_detail_page(ui: UiWorld) -> None:
    seed(ui)
    email = tag(ui, "Address.email")
    client = ui.client("editor")
    url = ui.url(f"tags/{email.id}/edit")
    base = {"name": "email", "label": "email", "color": "#2E7D32",
            "description": "E-mail addresses", "parent": "Address", "group": ""}
    page = html(ui.get(client, ui.url(f"tags/{email.id}")))
    assert 'id="tag-edit"' in page and 'id="tag-delete"' in page

    moved = ui.post(client, url, {**base, "parent": "", "group": "priority"}, htmx=True)
    assert moved.status_code == 200
    assert html(moved).lstrip().startswith("<title>priority::email · Tags · Acme</title>")
    assert "Saved priority::email." in html(moved)
    assert live_tag(ui.world.sid, "priority::email") is not None

    base = {**base, "parent": "", "group": "priority"}
    bad = ui.post(client, url, {**base, "name": ""}, htmx=True)
    assert bad.status_code == 422 and 'id="name-errors"' in html(bad)
    assert bad.headers["HX-Retarget"] == "#tag-edit"
    cycle = ui.post(client, url, {**base, "parent": "nowhere"}, htmx=True)
    assert cycle.status_code == 422 and 'id="parent-errors"' in html(cycle)
    plain = ui.post(client, url, {**base, "description": "Mail"})
    assert plain.status_code == 302 and plain.location.endswith(f"/tags/{email.id}")
    assert "Saved priority::email." in html(client.get(plain.location))
    page_error = ui.post(client, url, {**base, "name": ""})
    assert page_error.status_code == 422 and "<html" in html(page_error)
    assert 'id="name-errors"' in html(page_error)


def test_delete_and_restore_on_the_detail_page(ui: UiWorld) -> None:
    seed(ui)
    address = tag(ui, "Address")
    client = ui.client("editor")
    page = html(ui.get(client, ui.url(f"tags/{address.id}")))
    assert "<strong>2</strong> live descendants" in page and 'id="hierarchy"' in page

    refused = ui.post(client, ui.url(f"tags/{address.id}/delete"), {}, htmx=True)
    assert refused.status_code == 409 and refused.headers["HX-Retarget"] == "#tag-delete"
    assert 'id="hierarchy-errors"' in html(refused)

    deleted = ui.post(client, ui.url(f"tags/{address.id}/delete"), {"hierarchy": "y"},
                      htmx=True)
    assert deleted.status_code == 200
    body = html(deleted)
    assert "Deleted Address and 2 descendant(s)." in body and 'class="badge danger"' in body
    assert f'hx-post="/s/acme/tags/{address.id}/restore"' in body
    assert 'id="tag-edit"' not in body

    restored = ui.post(client, ui.url(f"tags/{address.id}/restore"), htmx=True)
    assert restored.status_code == 200 and "Restored Address and 2 descendant(s)." in html(
        restored)
    plain = ui.post(client, ui.url(f"tags/{tag(ui, 'pii').id}/delete"), {})
    assert plain.status_code == 302
    again = ui.post(client, ui.url(f"tags/{tag(ui, 'pii').id}/restore"))
    assert again.status_code == 302
    twice = ui.post(client, ui.url(f"tags/{tag(ui, 'pii').id}/restore"), htmx=True)
    assert twice.status_code == 409 and "is not deleted" in html(twice)


# --- roles and CSRF ---------------------------------------------------------------------


def test_a_viewer_sees_no_controls_and_every_write_is_403(ui: UiWorld) -> None:
    seed(ui)
    viewer: FlaskClient = ui.client("viewer")
    page = html(ui.get(viewer, ui.url("tags")))
    for control in ('id="bulk-form"', 'id="tag-create-form"', "row/edit", 'name="ids"',
                    "data-tags-select-all"):
        assert control not in page, control
    email = tag(ui, "Address.email")
    writes = [
        ("POST", "tags", {"name": "x"}),
        ("POST", "tags/bulk", {"action": "delete", "ids": [str(email.id)]}),
        ("POST", "tags/bulk", {"action": "merge", "ids": [str(email.id)], "bulk-target": "pii"}),
        ("PUT", f"tags/{email.id}/row", {f"row-{email.id}-name": "x"}),
        ("POST", f"tags/{email.id}/edit", {"name": "x"}),
        ("POST", f"tags/{email.id}/delete", {}),
        ("POST", f"tags/{email.id}/restore", {}),
    ]
    for method, url, data in writes:
        for htmx in (True, False):
            response = ui.post(viewer, ui.url(url), data, htmx=htmx, method=method)
            assert response.status_code == 403, (method, url, htmx)
            assert ("<html" in html(response)) is not htmx
    assert ui.get(viewer, ui.url(f"tags/{email.id}/row/edit"), htmx=True).status_code == 403
    assert live_tag(ui.world.sid, "address.email") is not None


def test_state_changes_need_the_csrf_token(ui: UiWorld) -> None:
    seed(ui)
    client = ui.client("editor")
    email = tag(ui, "Address.email")
    for url in ("tags", "tags/bulk", f"tags/{email.id}/edit", f"tags/{email.id}/delete"):
        response = client.post(ui.url(url), data={"name": "x", "action": "delete"},
                               headers=HX)
        assert response.status_code == 400, url
    assert live_tag(ui.world.sid, "address.email") is not None


@pytest.mark.parametrize("role", ["editor", "manager", "admin"])
def test_editors_and_above_see_the_controls(ui: UiWorld, role: str) -> None:
    seed(ui)
    page = html(ui.get(ui.client(role), ui.url("tags")))
    assert 'id="bulk-form"' in page and 'id="tag-create-form"' in page and "row/edit" in page


def test_pager_shows_a_window_of_pages(ui: UiWorld) -> None:
    create_tags(ui.world.editor, ui.world.sid, [TagSpec(f"t{n:03d}") for n in range(351)])
    client = ui.client("viewer")
    first = html(ui.get(client, ui.url("tags"), htmx=True))  # 8 pages
    assert "Page 1 of 8" in first
    linked = {n for n in range(1, 9) if f'href="/s/acme/tags?page={n}"' in first}
    assert linked == {2, 3, 8} and first.count('class="gap"') == 1
    middle = html(ui.get(client, ui.url("tags?page=5"), htmx=True))
    linked = {n for n in range(2, 9) if f'href="/s/acme/tags?page={n}"' in middle}
    assert linked == {3, 4, 6, 7, 8}  # and page 1, whose address has no page number
    assert middle.count('class="gap"') == 1 and 'aria-current="page">5<' in middle


def test_a_capped_search_shows_at_least_and_pages_on(ui: UiWorld,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tag_queries, "COUNT_CAP", 10)
    create_tags(ui.world.editor, ui.world.sid, [TagSpec(f"t{n:03d}") for n in range(120)])
    client = ui.client("viewer")
    first = html(ui.get(client, ui.url("tags?q=t"), htmx=True))
    assert "<strong>10+</strong> tags" in first and "Page 1 of 2+" in first
    assert 'rel="next"' in first
    third = html(ui.get(client, ui.url("tags?q=t&page=3"), htmx=True))
    assert row_paths(third) == [f"t{n:03d}" for n in range(100, 120)]
    assert "<strong>120</strong> tags" in third  # the last page knows the total
    assert "Page 3 of 3<" in third and 'rel="next"' not in third
    whole = html(ui.get(client, ui.url("tags"), htmx=True))
    assert "<strong>120</strong> tags" in whole and "Page 1 of 3<" in whole
