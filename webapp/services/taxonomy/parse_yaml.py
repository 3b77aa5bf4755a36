"""Reading the YAML format: the same document as JSON (``format``, ``version``, ``groups``,
``tags``), read with PyYAML's safe loader only (no tags that build objects).  The loader
notes the line each mapping starts on, so every record keeps its line."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import yaml

from webapp.services.taxonomy.records import FORMAT_NAME, FORMAT_VERSION, RawRecord, RowError

SECTIONS = {"groups": "group", "tags": "tag"}
_BASE: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _LineLoader(_BASE):  # type: ignore[misc, valid-type]
    """The safe loader, noting where each mapping starts (by object id: the mappings stay
    alive in the document)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.lines: dict[int, int] = {}

    def construct_lined_map(self, node: yaml.MappingNode) -> Iterator[dict[Any, Any]]:
        data: dict[Any, Any] = {}
        self.lines[id(data)] = node.start_mark.line + 1
        yield data
        data.update(self.construct_mapping(node))


_LineLoader.add_constructor("tag:yaml.org,2002:map", _LineLoader.construct_lined_map)


def read(text: str) -> tuple[list[RawRecord], list[RowError]]:
    loader = _LineLoader(text)
    try:
        document = loader.get_single_data()
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
        problem = getattr(error, "problem", None) or str(error)
        return [], [RowError(mark.line + 1 if mark else None, None, f"not YAML: {problem}")]
    except RecursionError:
        return [], [RowError(None, None, "not YAML: nested too deeply")]
    finally:
        loader.dispose()
    if document is None:
        return [], [RowError(1, None, "the file is empty")]
    if not isinstance(document, dict):
        return [], [RowError(1, None, "must be a mapping with groups and tags")]
    errors: list[RowError] = []
    records: list[RawRecord] = []
    top = loader.lines.get(id(document), 1)
    for key, value in document.items():
        if key == "format":
            if value != FORMAT_NAME:
                errors.append(RowError(top, "format", f"must be {FORMAT_NAME!r}"))
        elif key == "version":
            if value != FORMAT_VERSION or isinstance(value, bool):
                errors.append(RowError(top, "version", f"must be {FORMAT_VERSION}"))
        elif key in SECTIONS:
            _section(loader.lines, SECTIONS[key], str(key), value, top, records, errors)
        else:
            errors.append(RowError(top, str(key), "unknown key; the file has format, "
                                                  "version, groups and tags"))
    return records, errors


def _section(lines: dict[int, int], kind: str, key: str, items: Any, top: int,
             records: list[RawRecord], errors: list[RowError]) -> None:
    if items is None:
        return
    if not isinstance(items, list):
        errors.append(RowError(top, key, f"must be a list of {key}"))
        return
    for index, item in enumerate(items):
        if isinstance(item, dict):
            records.append(RawRecord(kind, lines.get(id(item), top),
                                     {str(name): value for name, value in item.items()}))
        else:
            errors.append(RowError(top, f"{key}[{index}]", f"must be a mapping, one {kind}"))
