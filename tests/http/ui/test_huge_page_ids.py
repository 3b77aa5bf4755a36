"""Page routes that take an integer id answer 404 past a 64-bit key, never an overflow."""

from __future__ import annotations

import pytest
from flask import Flask

HUGE = 2**63


@pytest.mark.parametrize(("method", "path"), [
    ("GET", f"/s/acme/audit/{HUGE}"),
    ("GET", f"/s/acme/bulk/changes/{HUGE}"),
    ("POST", f"/s/acme/audit/{HUGE}/undo"),
    ("POST", f"/s/acme/bulk/changes/{HUGE}/undo"),
    ("POST", f"/settings/keys/{HUGE}/revoke"),
    ("POST", f"/scopes/acme/members/{HUGE}/role"),
    ("POST", f"/scopes/acme/members/{HUGE}/remove"),
])
def test_an_id_past_64_bits_matches_no_route(app: Flask, method: str, path: str) -> None:
    assert app.test_client().open(path, method=method).status_code == 404
