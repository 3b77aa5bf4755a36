"""External tag sources: a scope's configured feeds of tag paths, and their refresh.

A source is a name and a ``file://`` path or ``http(s)://`` URL that answers a JSON list of
dotted tag paths (``["Catalog.PII.Email", …]``).  ``refresh_external_tags`` pulls every
enabled source of a scope and makes the scope's tags of that source match the list: missing
paths are created (ancestors too) or, when a deleted tag of the source had the path, restored
with their links; tags of the source that left the list are soft-deleted.

Tags from a source carry ``source = <its name>``, ``system_created = False`` (they are not
made by Tagwright) and ``protected = True`` (the source owns them: a rename or delete through
the API would be undone by the next refresh).  Each source is fetched outside any
transaction and applied in its own change set, so one failing source (unreachable, timed
out, not a JSON list, a bad path) is reported and leaves the others' work in place.

The apply step is set-based: paths travel as one JSON parameter, new tags are inserted level
by level with multi-row ``INSERT … RETURNING``, restores and deletes are one ``UPDATE`` each.
"""

from __future__ import annotations

import http.client
import json
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit
from urllib.request import (
    HTTPDefaultErrorHandler,
    HTTPErrorProcessor,
    HTTPHandler,
    HTTPRedirectHandler,
    HTTPSHandler,
    OpenerDirector,
    ProxyHandler,
    Request,
    url2pathname,
)

from sqlalchemy import String, TextClause, func, insert, select, text, update
from sqlalchemy.sql.selectable import Subquery

from webapp.extensions import db
from webapp.ids import public_id, uuid7
from webapp.models import ExternalTagSource, Tag, TagAlias
from webapp.models.types import utcnow
from webapp.services import names
from webapp.services.actor import Actor, Permission, authorize
from webapp.services.errors import (
    Conflict,
    FieldError,
    NotFound,
    PermissionDenied,
    ServiceError,
    ValidationFailed,
)
from webapp.services.policies.enforce import refuse_policy_violations, tag_links
from webapp.services.sql import dialect_name, integer_list
from webapp.services.uow import ChangeRecorder, current_recorder, writing

NAME_MAX = 100
URL_MAX = 2000
TIMEOUT_MIN = 0.1
TIMEOUT_MAX = 60.0
DEFAULT_TIMEOUT = 10.0
MAX_PATHS = 100_000
MAX_BYTES = 20 * 1024 * 1024
CHUNK = 64 * 1024
RESERVED_NAMES = frozenset({"curated"})  # the source of tags made in Tagwright itself


# --- configuration ----------------------------------------------------------------------


def clean_source_name(raw: object, field: str = "name") -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise ValidationFailed.field(field, "must be a non-empty string")
    name = names.trimmed(raw, field)
    if len(name) > NAME_MAX:
        raise ValidationFailed.field(field, f"must be at most {NAME_MAX} characters")
    if any(not ch.isprintable() for ch in name):
        raise ValidationFailed.field(field, "must not contain control characters")
    if name.casefold() in RESERVED_NAMES:
        raise ValidationFailed.field(field, f"{name!r} is the source of tags made here")
    return name


def clean_url(raw: object, field: str = "url") -> str:
    """A ``file://`` URL of an absolute path, or an ``http(s)://`` URL with a host."""
    if not isinstance(raw, str) or not raw.strip():
        raise ValidationFailed.field(field, "must be a non-empty string")
    url = raw.strip()
    if len(url) > URL_MAX:
        raise ValidationFailed.field(field, f"must be at most {URL_MAX} characters")
    if any(ch.isspace() or not ch.isprintable() for ch in url):
        raise ValidationFailed.field(field, "must not contain spaces or control characters")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "file":
        if parts.netloc not in ("", "localhost") or not parts.path.startswith("/"):
            raise ValidationFailed.field(field, "a file URL names an absolute local path "
                                         "(file:///path/to/tags.json)")
    elif scheme in ("http", "https"):
        if not parts.hostname:
            raise ValidationFailed.field(field, "an http(s) URL needs a host")
    else:
        raise ValidationFailed.field(field, "must start with file://, http:// or https://")
    return url


def clean_timeout(raw: object, field: str = "timeout") -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise ValidationFailed.field(field, "must be a number of seconds")
    value = float(raw)
    if not TIMEOUT_MIN <= value <= TIMEOUT_MAX:
        raise ValidationFailed.field(field, f"must be from {TIMEOUT_MIN:g} to {TIMEOUT_MAX:g} "
                                     "seconds")
    return value


def _snapshot(source: ExternalTagSource) -> dict[str, Any]:
    return {"name": source.name, "url": source.url, "timeout_seconds": source.timeout_seconds,
            "enabled": source.enabled}


def add_source(actor: Actor, scope_id: int, name: str, url: str, *,
               timeout_seconds: float = DEFAULT_TIMEOUT, enabled: bool = True
               ) -> ExternalTagSource:
    """Configure a source (managers). A ``file://`` source reads the server's disk, so only
    site administrators (and the CLI) may add one."""
    authorize(actor, scope_id, Permission.SOURCES_MANAGE)
    name = clean_source_name(name)
    url = clean_url(url)
    timeout = clean_timeout(timeout_seconds)
    if urlsplit(url).scheme.lower() == "file" and not actor.is_admin:
        raise PermissionDenied("only a site administrator may add a file:// source")
    with writing(actor, scope_id, f"Add external tag source {name}") as recorder:
        if _find(scope_id, name) is not None:
            raise Conflict(f"a source named {name!r} already exists",
                           [FieldError("name", "already exists")])
        source = ExternalTagSource(scope_id=scope_id, name=name, url=url,
                                   timeout_seconds=timeout, enabled=enabled,
                                   created_at=utcnow())
        db.session.add(source)
        db.session.flush()
        recorder.record("external_source", source.id, "create", None, _snapshot(source))
        return source


def list_sources(actor: Actor, scope_id: int) -> list[ExternalTagSource]:
    """The scope's sources by name (managers)."""
    authorize(actor, scope_id, Permission.SOURCES_MANAGE)
    return list(db.session.scalars(
        select(ExternalTagSource).where(ExternalTagSource.scope_id == scope_id)
        .order_by(ExternalTagSource.name)
    ))


def remove_source(actor: Actor, scope_id: int, name: str) -> None:
    """Forget a source (managers). Its tags stay; they keep its name as their source."""
    authorize(actor, scope_id, Permission.SOURCES_MANAGE)
    with writing(actor, scope_id, f"Remove external tag source {name}") as recorder:
        source = _find(scope_id, name)
        if source is None:
            raise NotFound(f"no source named {name!r}", [FieldError("name", "no such source")])
        recorder.record("external_source", source.id, "delete", _snapshot(source), None)
        db.session.delete(source)


def _find(scope_id: int, name: object) -> ExternalTagSource | None:
    if not isinstance(name, str):
        return None
    wanted = name.strip().casefold()
    return next((source for source in db.session.scalars(
        select(ExternalTagSource).where(ExternalTagSource.scope_id == scope_id)
    ) if source.name.casefold() == wanted), None)


# --- fetching ---------------------------------------------------------------------------


class FetchError(Exception):
    """A source could not be read or did not answer a JSON list of paths."""


def _opener() -> OpenerDirector:
    """urllib without the ftp/file/data handlers: a redirect can only reach http(s)."""
    opener = OpenerDirector()
    for handler in (ProxyHandler(), HTTPHandler(), HTTPSHandler(), HTTPDefaultErrorHandler(),
                    HTTPRedirectHandler(), HTTPErrorProcessor()):
        opener.add_handler(handler)
    return opener


def read_source(url: str, timeout: float) -> bytes:
    """The body at ``url`` (at most MAX_BYTES); the timeout bounds the whole download."""
    parts = urlsplit(url)
    if parts.scheme.lower() == "file":
        path = url2pathname(parts.path)
        try:
            with open(path, "rb") as stream:
                data = stream.read(MAX_BYTES + 1)
        except OSError as error:
            raise FetchError(f"cannot read {path}: {error.strerror or error}") from error
        if len(data) > MAX_BYTES:
            raise FetchError(f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB")
        return data
    deadline = time.monotonic() + timeout
    request = Request(url, headers={"Accept": "application/json",
                                    "User-Agent": "Tagwright external tag refresh"})
    try:
        with _opener().open(request, timeout=timeout) as response:
            return _read_body(response, deadline, timeout)
    except HTTPError as error:
        raise FetchError(f"the server answered HTTP {error.code} {error.reason}") from error
    except TimeoutError as error:
        raise FetchError(f"timed out after {timeout:g} s") from error
    except URLError as error:
        if isinstance(error.reason, TimeoutError):
            raise FetchError(f"timed out after {timeout:g} s") from error
        raise FetchError(f"cannot reach the source: {error.reason}") from error
    except (OSError, http.client.HTTPException) as error:
        raise FetchError(f"the download failed: {error}") from error


def _read_body(response: Any, deadline: float, timeout: float) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        if time.monotonic() > deadline:
            raise FetchError(f"timed out after {timeout:g} s")
        chunk = response.read1(CHUNK)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > MAX_BYTES:
            raise FetchError(f"the answer is larger than {MAX_BYTES // (1024 * 1024)} MB")
        chunks.append(chunk)


def parse_paths(body: bytes) -> list[names.QualifiedName]:
    """The distinct paths of a JSON list of strings, in order; FetchError otherwise."""
    try:
        items = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as error:  # nested too deep
        raise FetchError(f"the answer is not valid JSON: {error}") from error
    if not isinstance(items, list):
        raise FetchError("the answer must be a JSON list of tag paths")
    if len(items) > MAX_PATHS:
        raise FetchError(f"the list has {len(items)} paths; at most {MAX_PATHS}")
    paths: dict[str, names.QualifiedName] = {}
    for index, item in enumerate(items):
        field = f"item {index}"
        try:
            qname = names.parse_name(item, field)
        except ValidationFailed as error:
            raise FetchError(error.message) from None
        if qname.group is not None:
            raise FetchError(f"{field}: a group ('::') cannot come from an external source")
        paths.setdefault(qname.key, qname)
    return list(paths.values())


# --- applying ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RefreshCounts:
    paths: int = 0  # distinct paths in the list, ancestors included
    created: int = 0
    restored: int = 0
    unchanged: int = 0  # already live (from this source or any other)
    deleted: int = 0


@dataclass(frozen=True)
class SourceOutcome:
    """What refreshing one source did, or why it failed (``error``)."""

    name: str
    counts: RefreshCounts
    error: str | None
    refreshed_at: datetime | None


def _string_list(values: Sequence[str], name: str) -> Subquery:
    """A derived table ``(value)`` read from one JSON parameter (no bound-parameter limit)."""
    payload = json.dumps(list(values))
    if dialect_name() == "postgresql":
        clause: TextClause = text(
            f"SELECT value FROM jsonb_array_elements_text(CAST(:{name}_json AS jsonb)) AS value"
        )
    else:
        clause = text(f"SELECT value FROM json_each(:{name}_json)")
    return clause.bindparams(**{f"{name}_json": payload}).columns(value=String()).subquery(name)


def _ids_in(ids: Iterable[int], name: str) -> Any:
    return Tag.id.in_(select(integer_list(list(ids), name).c.id))


def apply_paths(scope_id: int, recorder: ChangeRecorder, source_name: str,
                paths: Sequence[names.QualifiedName]) -> RefreshCounts:
    """Make the live tags of ``source_name`` match ``paths`` (inside the running write)."""
    wanted = {prefix.key: prefix for qname in paths for prefix in qname.prefixes()}
    keys = select(_string_list(list(wanted), "wanted_keys").c.value)
    live = {row.path_key: row for row in db.session.execute(
        select(Tag.path_key, Tag.id, Tag.id_path)
        .where(Tag.scope_id == scope_id, Tag.deleted_at.is_(None), Tag.path_key.in_(keys))
    )}
    aliased = _aliased(scope_id, keys, live, wanted)
    id_of = {key: row.id for key, row in {**live, **aliased}.items()}
    id_path_of = {key: row.id_path for key, row in {**live, **aliased}.items()}
    candidates: dict[str, Any] = {}
    for row in db.session.execute(
        select(Tag.path_key, Tag.id, Tag.parent_id, Tag.id_path)
        .where(Tag.scope_id == scope_id, Tag.deleted_at.is_not(None),
               Tag.source == source_name, Tag.path_key.in_(keys))
        .order_by(Tag.deleted_at.desc(), Tag.id.desc())
    ):
        candidates.setdefault(row.path_key, row)
    now = utcnow()
    restored: list[int] = []
    created: dict[int, list[names.QualifiedName]] = defaultdict(list)
    for qname in sorted((q for key, q in wanted.items() if key not in id_of),
                        key=lambda q: len(q.segments)):
        parent_id = id_of.get(qname.parent.key) if qname.parent else None
        candidate = candidates.get(qname.key)
        if candidate is not None and candidate.parent_id == parent_id and (
            parent_id is not None or qname.parent is None
        ):
            restored.append(candidate.id)
            id_of[qname.key] = candidate.id
            id_path_of[qname.key] = candidate.id_path
        else:
            created[len(qname.segments)].append(qname)
    kept_keys = {**wanted, **{row.path_key: None for row in aliased.values()}}
    doomed = _vanished(scope_id, source_name, kept_keys)
    refuse_policy_violations(scope_id, added=tag_links(restored, "restored"),
                             removed=tag_links(doomed, "doomed"))
    if restored:
        db.session.execute(update(Tag).where(_ids_in(restored, "restored"))
                           .values(deleted_at=None, updated_at=now),
                           execution_options={"synchronize_session": False})
    new_ids = [
        tag_id for depth in sorted(created)
        for tag_id in _insert_level(scope_id, source_name, created[depth], id_of, id_path_of,
                                    now)
    ]
    if doomed:
        db.session.execute(update(Tag).where(_ids_in(doomed, "doomed"))
                           .values(deleted_at=now, updated_at=now),
                           execution_options={"synchronize_session": False})
    recorder.record_many(
        [{"object_type": "tag", "object_id": tag_id, "action": "restore",
          "before": {"deleted": True}, "after": {"deleted": False}} for tag_id in restored]
        + [{"object_type": "tag", "object_id": tag_id, "action": "create", "before": None,
            "after": {"source": source_name}} for tag_id in new_ids]
        + [{"object_type": "tag", "object_id": tag_id, "action": "delete",
            "before": {"deleted": False}, "after": {"deleted": True}} for tag_id in doomed]
    )
    return RefreshCounts(paths=len(wanted), created=len(new_ids), restored=len(restored),
                         unchanged=len(live) + len(aliased), deleted=len(doomed))


def _aliased(scope_id: int, keys: Any, live: dict[str, Any],
             wanted: dict[str, names.QualifiedName]) -> dict[str, Any]:
    """The wanted paths that are aliases of live tags, by alias key: such a path means its
    tag, which is kept as it is (no twin is created).  A path that runs through an alias
    (``Old.child`` when ``Old`` is an alias) cannot be placed and fails the source."""
    found = {row.key: row for row in db.session.execute(
        select(TagAlias.alias_key.label("key"), Tag.id, Tag.id_path, Tag.path_key)
        .join(Tag, Tag.id == TagAlias.tag_id)
        .where(TagAlias.scope_id == scope_id, TagAlias.alias_key.in_(keys),
               Tag.deleted_at.is_(None))
    ) if row.key not in live}
    for qname in wanted.values():
        for prefix in qname.prefixes()[:-1]:
            if prefix.key in found:
                raise ValidationFailed.field(
                    "paths", f"{qname.text!r} runs through {prefix.text!r}, an alias of "
                    "another tag; send the tag's own path")
    return found


def _insert_level(scope_id: int, source_name: str, level: Sequence[names.QualifiedName],
                  id_of: dict[str, int], id_path_of: dict[str, str], now: datetime
                  ) -> list[int]:
    """Insert one depth of new tags (multi-row INSERT … RETURNING), then their id paths."""
    rows = []
    for qname in level:
        tag_uuid = uuid7()
        rows.append({
            "scope_id": scope_id, "group_id": None,
            "parent_id": id_of[qname.parent.key] if qname.parent else None,
            "name": qname.leaf, "label": qname.leaf, "path": qname.path, "path_key": qname.key,
            "id_path": "", "depth": len(qname.segments) - 1, "uuid": tag_uuid,
            "public_id": public_id("tag", tag_uuid), "source": source_name,
            "system_created": False, "protected": True, "created_by_id": None,
            "created_at": now, "updated_at": now,
        })
    # Rows come back in any order (ordered RETURNING would cost a statement per row on
    # SQLite): match them by key.
    inserted = dict(db.session.execute(insert(Tag).returning(Tag.path_key, Tag.id), rows).all())
    paths = []
    for qname in level:
        tag_id = inserted[qname.key]
        prefix = id_path_of[qname.parent.key] if qname.parent else "/"
        id_of[qname.key] = tag_id
        id_path_of[qname.key] = f"{prefix}{tag_id}/"
        paths.append({"id": tag_id, "id_path": id_path_of[qname.key]})
    db.session.execute(update(Tag), paths)
    return [inserted[qname.key] for qname in level]


def _vanished(scope_id: int, source_name: str, wanted: dict[str, Any]) -> list[int]:
    """The source's live tags that left the list, except those that still hold live tags
    of other sources (a parent is never deleted under a live child): the refresh deletes
    them."""
    of_source = (Tag.scope_id == scope_id, Tag.deleted_at.is_(None), Tag.source == source_name)
    gone = [row.id for row in db.session.execute(select(Tag.id, Tag.path_key).where(*of_source))
            if row.path_key not in wanted]
    if not gone:
        return []
    holders = db.session.scalars(
        select(Tag.id_path).where(Tag.scope_id == scope_id, Tag.deleted_at.is_(None),
                                  Tag.source != source_name,
                                  Tag.parent_id.in_(select(Tag.id).where(*of_source)))
    ).all()
    keep = {int(part) for path in holders for part in path.strip("/").split("/")}
    return [tag_id for tag_id in gone if tag_id not in keep]


# --- refresh ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Source:
    id: int
    name: str
    url: str
    timeout: float


def refresh_external_tags(actor: Actor, scope_id: int) -> list[SourceOutcome]:
    """Refresh every enabled source of the scope, by name; needs ``tags.write``.

    Must run outside a write: each source gets its own transaction.  The caller's read
    transaction is ended before the first download.
    """
    authorize(actor, scope_id, Permission.TAGS_WRITE)
    if current_recorder() is not None:
        raise RuntimeError("refresh_external_tags commits per source; call it outside a write")
    sources = [
        _Source(row.id, row.name, row.url, row.timeout_seconds)
        for row in db.session.execute(
            select(ExternalTagSource.id, ExternalTagSource.name, ExternalTagSource.url,
                   ExternalTagSource.timeout_seconds)
            .where(ExternalTagSource.scope_id == scope_id, ExternalTagSource.enabled.is_(True))
            .order_by(func.lower(ExternalTagSource.name), ExternalTagSource.id)
        )
    ]
    db.session.commit()  # no snapshot held open across downloads
    return [_refresh_one(actor, scope_id, source) for source in sources]


def _refresh_one(actor: Actor, scope_id: int, source: _Source) -> SourceOutcome:
    try:
        paths = parse_paths(read_source(source.url, source.timeout))
        with writing(actor, scope_id, f"Refresh external tags from {source.name}") as recorder:
            counts = apply_paths(scope_id, recorder, source.name, paths)
            refreshed_at = utcnow()
            _mark(source.id, refreshed_at, None)
        return SourceOutcome(source.name, counts, None, refreshed_at)
    except (FetchError, ServiceError) as error:
        message = error.message if isinstance(error, ServiceError) else str(error)
        with writing(actor, scope_id, f"Refresh of {source.name} failed"):
            _mark(source.id, None, message)
        return SourceOutcome(source.name, RefreshCounts(), message, None)


def _mark(source_id: int, refreshed_at: datetime | None, error: str | None) -> None:
    """Note the outcome on the source row (a successful refresh also sets its time)."""
    values: dict[str, Any] = {"last_error": error}
    if refreshed_at is not None:
        values["last_refreshed_at"] = refreshed_at
    db.session.execute(update(ExternalTagSource).where(ExternalTagSource.id == source_id)
                       .values(**values), execution_options={"synchronize_session": False})
