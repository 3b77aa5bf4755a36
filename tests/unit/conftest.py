"""Fixtures shared by the unit tests.

``world`` is the standard cast of :func:`tests.unit.factories.make_world`: scope
``scope_acme`` with a manager, an editor and a viewer, plus ``scope_beta`` and its editor
(``world.outsider``), all in the empty database of the ``app`` fixture.  A module that
needs more (resources, tags, groups) seeds it in a fixture of its own, named for what it
adds and built on this one.
"""

from __future__ import annotations

import pytest
from flask import Flask

from tests.unit.factories import World, make_world


@pytest.fixture
def world(app: Flask) -> World:
    """Two scopes and a member of every role (see :class:`tests.unit.factories.World`)."""
    return make_world()
