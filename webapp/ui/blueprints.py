"""Every blueprint of the web admin, in one list (registration and error handlers)."""

from __future__ import annotations

from webapp.services.errors import ServiceError
from webapp.ui.audit import audit
from webapp.ui.auth import auth
from webapp.ui.bulk import bulk
from webapp.ui.compliance import compliance
from webapp.ui.errors import service_error
from webapp.ui.groups import groups
from webapp.ui.hierarchy import hierarchy
from webapp.ui.keys import keys
from webapp.ui.policies import policies
from webapp.ui.resources import resources
from webapp.ui.rules import rules
from webapp.ui.scopes import scopes
from webapp.ui.tags import tags
from webapp.ui.taxonomy import taxonomy

BLUEPRINTS = (auth, scopes, keys, tags, hierarchy, groups, resources, bulk, rules, audit,
               taxonomy, policies, compliance)

# Blueprints are module-level objects shared by every app made in the process, so their
# handlers are set once, here, and not each time an app registers them.
for _blueprint in BLUEPRINTS:
    _blueprint.register_error_handler(ServiceError, service_error)
