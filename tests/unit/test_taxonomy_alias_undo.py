"""Undoing an import that gave tags aliases: the aliases it added go, those it took from
other tags come back (the aliases services' own events and undo)."""

from __future__ import annotations

import json

from tests.unit.factories import World
from tests.unit.test_taxonomy import exported, import_taxonomy, taxonomy  # noqa: F401
from webapp.extensions import db
from webapp.services.taxonomy.records import Format
from webapp.services.undo import undo_change_set


def test_an_import_of_aliases_undoes(taxonomy: World) -> None:  # noqa: F811
    before = exported(taxonomy.manager, taxonomy.sid, Format.JSON)
    text = json.dumps({"tags": [
        {"path": "Address.email", "aliases": ["contact.E-mail"]},
        {"path": "2024", "aliases": ["Mail"], "deprecated": True, "replacement": "yes"},
        {"path": "New.tag", "aliases": ["brand-new"]},
    ]})
    result = import_taxonomy(taxonomy.manager, taxonomy.sid, text, Format.JSON, dry_run=False)
    assert result.change_set_id is not None
    undo_change_set(taxonomy.manager, taxonomy.sid, result.change_set_id)
    db.session.expire_all()
    assert exported(taxonomy.manager, taxonomy.sid, Format.JSON) == before
    again = import_taxonomy(taxonomy.manager, taxonomy.sid, text, Format.JSON)
    assert not again.plan.errors  # the aliases the import made went with the undo
