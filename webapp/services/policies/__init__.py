"""Tag policies (issue 12 §2): which tags the resources of a scope must and must not carry.

:mod:`.rules` loads policies with everything they name resolved and builds their SQL
(coverage and one condition per reason); :mod:`.crud` creates, changes and deletes them
(managers; ``groups.write`` for keys; audited, undoable); :mod:`.compliance` answers the
report, the violations and the preview of a policy before it is saved; :mod:`.enforce` is
the one check every write path calls before it adds or removes links.
The package re-exports nothing: import from the module that does the job.
"""
