"""Tags, one module per job.  Import from the module that does the job; this package
re-exports nothing, so each name has one home.

* :mod:`~webapp.services.tags.lookup` — find a tag by any handle (key, public id, path,
  qualified name), many as plain facts, subtree conditions;
* :mod:`~webapp.services.tags.creation` — create tags and the missing ancestors of a path;
* :mod:`~webapp.services.tags.hierarchy` — update a tag, rename and move tags with their
  subtrees;
* :mod:`~webapp.services.tags.deletion` — soft delete and restore, one or in bulk;
* :mod:`~webapp.services.tags.merge` — merge tags into another;
* :mod:`~webapp.services.tags.bulk` — move and merge a selection of tags by typed names;
* :mod:`~webapp.services.tags.batch` — create grouped tags in a batch (group + identifier);
* :mod:`~webapp.services.tags.paths` — save, tag and delete by dotted path;
* :mod:`~webapp.services.tags.queries` — lists, searches, trees and counts;
* :mod:`~webapp.services.tags.views` — a tag's fields with the ids of its related rows.
"""
