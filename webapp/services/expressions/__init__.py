"""Tag expressions: find resources by their tags (``type:table AND NOT group:sensitivity``).

:mod:`.syntax` tokenizes and parses the text into a tree (errors name the 1-based
position and what was expected); :mod:`.compiler` resolves the tags, groups and sources it
names in one statement and turns the tree into one set-based condition on ``resources``.
The package re-exports nothing: import from the module that does the job.
"""
