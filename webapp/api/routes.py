"""Import every route module so its views attach to the ``api`` blueprint."""

from webapp.api import batch, groups, links, resources, tag_paths, tags, taxonomy  # noqa: F401
