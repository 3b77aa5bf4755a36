"""A scope's taxonomy (its groups and tags) as a file: export it as JSON, CSV or YAML, and
import such a file with a dry run that shows the exact diff.

One module per job: :mod:`.records` (what a file holds, field by field, and the rules each
value follows), :mod:`.export` (reading the scope and writing each format, streamed),
:mod:`.parse_json`, :mod:`.parse_csv` and :mod:`.parse_yaml` (reading each format, every
record with its line), :mod:`.parse` (which reader, and the checks of every record),
:mod:`.plan` (the diff against the scope) and :mod:`.apply` (the services: export, dry run
and import in one change set).  The package re-exports nothing.
"""
