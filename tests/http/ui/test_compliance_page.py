"""The compliance page (issue 12 §2): each policy as a bar of compliant vs not with its
counts and top reasons; a "Fix in bulk" link per reason whose expression selects exactly
the violating resources on the bulk page, with the fixing tags chosen; one policy's
violations paged; the CSV download; the empty states; a constant number of statements."""

from __future__ import annotations

import csv
import html as html_lib
import io
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.http.ui.conftest import UiWorld
from tests.unit.factories import SYSTEM, external_ids
from webapp.services.assignments import attach
from webapp.services.groups import create_group
from webapp.services.policies.crud import PolicyInput, create_policy


def html_of(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


@pytest.fixture
def seeded(ui: UiWorld) -> UiWorld:
    """sensitivity (exclusive, tags high and low): t1 high, t2 low; t3, t4, t5 none;
    legacy (with legacy.old) on t3 and t4; sources s1, s2 untouched by the policy."""
    sid = ui.world.sid
    create_group(SYSTEM, sid, "sensitivity", exclusive=True, public_id="sens")
    attach(SYSTEM, sid, ["sensitivity::high"], {"table": ["t1"]})
    attach(SYSTEM, sid, ["sensitivity::low"], {"table": ["t2"], "source": ["s1"]})
    attach(SYSTEM, sid, ["legacy"], {"table": ["t3"]})
    attach(SYSTEM, sid, ["legacy.old", "team"], {"table": ["t4", "t5"], "source": ["s2"]})
    return ui


def tables(ui: UiWorld, **extra: object) -> int:
    values: dict[str, object] = {"name": "Tables", "resource_types": ["table"],
                                 "require_groups": ["sensitivity"], "forbid_tags": ["legacy"],
                                 **extra}
    return create_policy(SYSTEM, ui.world.sid, PolicyInput(**values)).id  # type: ignore[arg-type]


def fix_links(html: str) -> dict[str, str]:
    """``kind:subject`` → the Fix in bulk link's URL."""
    return {kind: html_lib.unescape(url) for url, kind in re.findall(
        r'class="button small fix-link" href="([^"]+)" data-fix="([^"]+)"', html)}


def match_count(body: str) -> int:
    found = re.search(r'id="match-count" data-count="(\d+)"', body)
    assert found, body[:2000]
    return int(found.group(1))


def test_the_report_shows_a_bar_counts_and_top_reasons(seeded: UiWorld) -> None:
    tables(seeded, mode="enforce")
    response = seeded.get(seeded.client("viewer"), seeded.url("compliance"))
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    html = html_of(response)
    assert "<html" in html and 'aria-current="page">Compliance</a>' in html
    assert 'data-percent="40"' in html and "badge danger" in html
    assert 'data-count="covered">5<' in html and 'data-count="compliant">2<' in html
    assert 'data-count="non-compliant">3<' in html
    assert re.search(r'<rect class="bar-ok" x="0" y="0" width="40\.0" height="10">', html)
    assert re.search(r'<rect class="bar-bad" x="40\.0" y="0" width="60\.0"', html)
    assert ' style="' not in html[html.index('id="compliance-report"'):]
    assert re.search(r"missing group <code>sensitivity::</code>\s*— "
                     r'<strong data-count="reason">3<', html)
    assert re.search(r"forbidden tag <code>legacy</code>\s*— <strong data-count=\"reason\">3<",
                     html)
    assert "violations.csv" in html and "See the 3 non-compliant resources" in html
    fragment = html_of(seeded.get(seeded.client("viewer"), seeded.url("compliance"),
                                  htmx=True))
    assert "<html" not in fragment and fragment.lstrip().startswith(
        '<div id="compliance-report"')


def test_each_fix_in_bulk_link_selects_exactly_the_violating_resources(
        seeded: UiWorld) -> None:
    tables(seeded)
    client = seeded.client("editor")
    links = fix_links(html_of(seeded.get(client, seeded.url("compliance"))))
    assert set(links) == {"missing:sensitivity", "forbidden:legacy"}
    missing = urlsplit(links["missing:sensitivity"])
    args = parse_qs(missing.query)
    assert missing.path == seeded.url("bulk")
    assert args["expr"] == ['(type:table) AND NOT group:"sens"'] and "tags" not in args
    page = html_of(client.get(links["missing:sensitivity"]))
    assert match_count(page) == 3  # t3, t4, t5
    rows = set(re.findall(r'class="mono ext-id muted"[^>]*>([^<]+)</a>', page))
    assert rows == {"t3", "t4", "t5"}
    forbidden = parse_qs(urlsplit(links["forbidden:legacy"]).query)
    assert forbidden["action"] == ["detach"] and forbidden["tags"] == ["legacy", "legacy.old"]
    page = html_of(client.get(links["forbidden:legacy"]))
    assert match_count(page) == 3
    assert 'name="tags" value="legacy"' in page and 'name="tags" value="legacy.old"' in page


def test_the_missing_groups_tags_are_offered_one_link_each(seeded: UiWorld) -> None:
    tables(seeded)
    html = html_of(seeded.get(seeded.client("editor"), seeded.url("compliance")))
    offered = {html_lib.unescape(tag): html_lib.unescape(url) for url, tag in re.findall(
        r'<a class="tag-chip fix-tag" href="([^"]+)"[^>]*>([^<]+)</a>', html)}
    assert set(offered) == {"sensitivity::high", "sensitivity::low"}
    args = parse_qs(urlsplit(offered["sensitivity::low"]).query)
    assert args["tags"] == ["sensitivity::low"] and "action" not in args


def test_applying_a_fix_makes_the_policy_compliant(seeded: UiWorld) -> None:
    tables(seeded, forbid_tags=[])
    client = seeded.client("editor")
    html = html_of(seeded.get(client, seeded.url("compliance")))
    url = next(u for u in re.findall(r'class="tag-chip fix-tag" href="([^"]+)"', html)
               if "high" in u)
    args = parse_qs(urlsplit(html_lib.unescape(url)).query)
    response = seeded.post(client, seeded.url("bulk/apply"), {
        "expr": args["expr"][0], "tags": args["tags"], "use": "matching"})
    assert response.status_code == 302, html_of(response)[:500]
    html = html_of(seeded.get(client, seeded.url("compliance")))
    assert 'data-percent="100"' in html and "All compliant" in html and "fix-link" not in html


def test_the_violations_are_paged_with_their_reasons(seeded: UiWorld) -> None:
    policy_id = tables(seeded)
    attach(SYSTEM, seeded.world.sid, ["team"], {"table": external_ids(60, 100)})
    client = seeded.client("viewer")
    response = seeded.get(client, seeded.url(f"compliance/{policy_id}"))
    assert response.status_code == 200
    html = html_of(response)
    assert "<html" in html and "Non-compliant resources" in html
    assert 'data-count="non-compliant">63<' in html
    assert html.count('<ul class="violation-reasons">') == 50
    assert "carries forbidden tag legacy" in html and "no tag of group sensitivity" in html
    assert "1–50 of 63" in html and 'rel="next"' in html
    page2 = seeded.get(client, seeded.url(f"compliance/{policy_id}?page=2"), htmx=True)
    fragment = html_of(page2)
    assert "<html" not in fragment and fragment.lstrip().startswith('<section id="violations"')
    assert fragment.count('<ul class="violation-reasons">') == 13 and "51–63 of 63" in fragment
    far = html_of(seeded.get(client, seeded.url(f"compliance/{policy_id}?page=99999999999")))
    assert "51–63 of 63" in far
    assert seeded.get(client, seeded.url(f"compliance/{policy_id + 1}")).status_code == 404
    assert seeded.get(client, seeded.url(f"compliance/{2**40}")).status_code == 404


def test_the_csv_download_streams_every_violation(seeded: UiWorld) -> None:
    policy_id = tables(seeded)
    response = seeded.get(seeded.client("viewer"),
                          seeded.url(f"compliance/{policy_id}/violations.csv"))
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["type", "id", "name", "reasons"]
    assert [(r[0], r[1]) for r in rows[1:]] == [("table", "t3"), ("table", "t4"),
                                                 ("table", "t5")]
    assert rows[1][3] == "no tag of group sensitivity; carries forbidden tag legacy"


def test_empty_states(ui: UiWorld, seeded: UiWorld) -> None:
    html = html_of(ui.get(ui.client("manager"), ui.url("compliance")))
    assert "No policies in" in html and "Create a policy" in html
    assert "Create a policy" not in html_of(ui.get(ui.client("viewer"), ui.url("compliance")))
    policy_id = create_policy(SYSTEM, ui.world.sid, PolicyInput(
        name="Sources", resource_types=["source"], forbid_tags=["team"],
        where="group:sensitivity")).id
    html = html_of(ui.get(ui.client("viewer"), ui.url("compliance")))
    assert "All compliant" in html and 'data-percent="100"' in html
    detail = html_of(ui.get(ui.client("viewer"), ui.url(f"compliance/{policy_id}")))
    assert "All compliant: the one covered resource meets" in detail


def test_the_report_costs_a_constant_number_of_statements(
        seeded: UiWorld, count_queries) -> None:  # type: ignore[no-untyped-def]
    policy_id = tables(seeded)
    client = seeded.client("viewer")

    def statements(path: str) -> int:
        seeded.get(client, seeded.url(path))
        with count_queries() as counter:
            assert seeded.get(client, seeded.url(path)).status_code == 200
        return counter.count

    few = statements("compliance"), statements(f"compliance/{policy_id}")
    attach(SYSTEM, seeded.world.sid, ["legacy.old"], {"table": external_ids(40)})
    attach(SYSTEM, seeded.world.sid, ["team"], {"table": external_ids(40, 100)})
    for n in range(3):
        attach(SYSTEM, seeded.world.sid, [f"sensitivity::x{n}"], {"column": [f"c{n}"]})
    assert (statements("compliance"), statements(f"compliance/{policy_id}")) == few
