"""Import every route module so its views attach to the ``api`` blueprint."""

from webapp.api import (  # noqa: F401
    batch,
    change_sets,
    groups,
    links,
    policies,
    resources,
    rules,
    tag_paths,
    tags,
    taxonomy,
)
