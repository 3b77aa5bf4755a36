"""One way to update the flash area from an htmx answer: templates/_flashes_oob.html, the
page's #flashes swapped out of band inside a <template> (valid beside a <tr> too)."""

from __future__ import annotations

import re
from pathlib import Path

from tests.http.ui.conftest import UiWorld
from tests.unit.factories import SYSTEM
from webapp.services.tags.creation import TagSpec, create_tag

TEMPLATES = Path(__file__).resolve().parents[3] / "templates"
PARTIAL = '<template><div id="flashes" hx-swap-oob="true">'


def test_only_the_partial_swaps_the_flashes_out_of_band() -> None:
    swapping = sorted(
        str(path.relative_to(TEMPLATES)) for path in TEMPLATES.rglob("*.html")
        if re.search(r'id="flashes"[^>]*hx-swap-oob', path.read_text())
    )
    assert swapping == ["_flashes_oob.html"]
    assert '<div id="flashes">' in (TEMPLATES / "base.html").read_text()


def one_partial(body: str, message: str) -> None:
    assert body.count(PARTIAL) == 1, body[-1500:]
    flashes = body.split(PARTIAL, 1)[1].split("</template>", 1)[0]
    assert message in flashes


def test_htmx_answers_of_every_area_carry_the_one_partial(ui: UiWorld) -> None:
    client = ui.client("manager")
    answer = ui.post(client, ui.url("groups"), {"identifier": "team", "label": "",
                                                "description": "", "color": ""}, htmx=True)
    one_partial(answer.get_data(True), "team")
    answer = ui.post(client, ui.url("hierarchy"), {"root-name": "Alpha"}, htmx=True)
    one_partial(answer.get_data(True), "Alpha")
    made = create_tag(SYSTEM, ui.world.sid, TagSpec(name="Beta"))
    answer = ui.post(client, ui.url("tags/bulk"), {"action": "move", "ids": [str(made.id)],
                                                   "bulk-parent": "Alpha"}, htmx=True)
    one_partial(answer.get_data(True), "Moved 1 tag(s) under Alpha.")
    latest = ui.get(client, ui.url("audit")).get_data(True)
    undo = re.findall(r'action="(/s/acme/audit/\d+/undo\?[^"]*)" class="undo-confirm"', latest)
    answer = ui.post(client, undo[0].replace("&amp;", "&"), htmx=True)
    one_partial(answer.get_data(True), "was undone")
    # A plain page keeps its ordinary flash area, nothing out of band.
    page = ui.get(client, ui.url("audit")).get_data(True)
    assert PARTIAL not in page and '<div id="flashes">' in page
