"""What every case shares: the metric record, timing, the app on a benchmark database,
a world to act in (scope, user, API key), raw DBAPI access and statement counting."""

from __future__ import annotations

import gc
import json
import logging
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
BENCH_SECRET = "tagwright-benchmark-secret-key"
# The rate limits stay on (their cost is part of every figure) but far above any load here.
BENCH_RATE_LIMITS = {"TAGWRIGHT_RATELIMIT_API": "1000000000 per minute",
                     "TAGWRIGHT_RATELIMIT_API_ANON": "1000000000 per minute"}
EMAIL = "bench@example.com"
PASSWORD = "bench-password-123"
KEY_PERMISSIONS = ("tags.read", "tags.create", "tags.write", "tags.delete")


@dataclass
class Metric:
    """One line of the report and one entry of results.json (``note`` is printed only)."""

    value: float
    unit: str
    baseline: float | None
    ratio: float | None
    goal: str
    met: bool
    note: str = field(default="", compare=False)

    def public(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("note")
        return data


def metric(value: float, unit: str, *, baseline: float | None = None, goal: str,
           met: bool, note: str = "", ratio: float | None = None) -> Metric:
    """One figure; ``ratio`` defaults to value / baseline (cases that pair each run with
    its baseline pass the median of the pairs' ratios instead)."""
    if ratio is None and baseline:
        ratio = value / baseline
    ratio = round(ratio, 3) if ratio is not None else None
    return Metric(_round(value), unit, _round(baseline) if baseline is not None else None,
                  ratio, goal, bool(met), note)


def _round(value: float) -> float:
    if isinstance(value, int):
        return value
    return round(value, 3 if abs(value) < 100 else 1)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Seconds taken by ``fn()`` (garbage collected before, not during), and its result."""
    gc.collect()
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def interleaved(fns: dict[str, Callable[[], Any]], repeat: int, warmup: int = 1
                ) -> dict[str, list[float]]:
    """Seconds taken by each of ``fns``, run in turn ``repeat`` times (the order rotating
    each round), so the measured code and its baseline see the same machine noise."""
    names = list(fns)
    for _ in range(warmup):
        for name in names:
            fns[name]()
    times: dict[str, list[float]] = {name: [] for name in names}
    for index in range(repeat):
        shift = index % len(names)
        for name in names[shift:] + names[:shift]:
            seconds, _ = timed(fns[name])
            times[name].append(seconds)
    return times


def paired_ratio(values: list[float], baselines: list[float]) -> float:
    """The median of value / baseline over runs made back to back: a burst of machine
    noise that slows one round shifts both of its figures, not the ratio."""
    return median([value / base for value, base in zip(values, baselines, strict=True)])


def ms(seconds: float) -> float:
    return seconds * 1000.0


def log(message: str) -> None:
    print(f"  · {message}", file=sys.stderr, flush=True)


# --- the app ------------------------------------------------------------------------------


@dataclass
class Bench:
    """The app on the case's database, with a world to act in.

    No app context stays pushed: a request made with the test client while one is pushed
    would reuse it, and ``g`` (the signed-in user, the API caller) would leak from one
    request into the next.  Raw SQL goes through ``engine``; service calls through
    ``with bench.app.app_context():``.
    """

    app: Any
    engine: Any
    url: str
    dialect: str
    workdir: Path
    scope_id: int = 0
    scope_slug: str = ""
    user_id: int = 0
    token: str = ""
    _client: Any = None

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = self.app.test_client()
        return self._client

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = {"x-api-key": self.token, **kwargs.pop("headers", {})}
        return self.client.open(path, method=method, headers=headers, **kwargs)

    @property
    def placeholder(self) -> str:
        """The DBAPI parameter marker of raw SQL: ``?`` for sqlite3, ``%s`` for psycopg."""
        return "?" if self.dialect == "sqlite" else "%s"

    def raw_connection(self) -> Any:
        """A DBAPI connection outside SQLAlchemy's session (sqlite3 or psycopg)."""
        return self.engine.raw_connection()


def open_bench(workdir: Path, url: str) -> Bench:
    """Create the app on ``url``, build the schema with the migrations, make the world."""
    os.environ["TAGWRIGHT_INSTANCE"] = str(workdir / "instance")
    os.environ["SECRET_KEY"] = BENCH_SECRET
    from webapp import create_app

    app = create_app({
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": BENCH_SECRET,
        "WTF_CSRF_ENABLED": False,
        **BENCH_RATE_LIMITS,
    })
    with app.app_context():
        from flask_migrate import upgrade

        from webapp.extensions import db

        logging.disable(logging.INFO)  # alembic's "Running upgrade …" lines
        upgrade()
        logging.disable(logging.NOTSET)
        bench = Bench(app=app, engine=db.engine, url=url, dialect=db.engine.dialect.name,
                      workdir=workdir)
        make_world(bench)
        db.session.remove()
    return bench


def make_world(bench: Bench) -> None:
    from webapp.models import Role
    from webapp.services.actor import Actor
    from webapp.services.api_keys import create_api_key
    from webapp.services.scopes import add_member, create_scope
    from webapp.services.users import create_user

    system = Actor.system()
    scope = create_scope(system, "scope_bench", name="Bench")
    user = create_user(system, EMAIL, PASSWORD)
    add_member(system, scope.id, user.email, Role.MANAGER)
    _, token = create_api_key(system, user_id=user.id, scope_id=scope.id, name="bench",
                              permissions=KEY_PERMISSIONS)
    bench.scope_id, bench.scope_slug, bench.user_id, bench.token = (
        scope.id, scope.slug, user.id, token)


def sign_in_client(bench: Bench) -> Any:
    """A test client signed in to the web admin as the bench user."""
    client = bench.app.test_client()
    response = client.post("/login", data={"email": EMAIL, "password": PASSWORD})
    if response.status_code not in (302, 303):
        raise RuntimeError(f"sign-in failed: {response.status_code}")
    return client


# --- statements ---------------------------------------------------------------------------


@contextmanager
def counting_statements(engine: Any) -> Iterator[list[str]]:
    """The SQL statements sent to the database inside the block, transaction control
    (BEGIN, COMMIT, ROLLBACK, SAVEPOINT) left out: SQLite's BEGIN is a statement the app
    sends itself, PostgreSQL's is implicit in the driver, and neither is a query."""
    from sqlalchemy import event

    seen: list[str] = []
    control = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")

    def on_execute(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith(control):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)


# --- running a case as its own process ------------------------------------------------------


def case_main(run: Callable[[Bench, dict[str, Any]], dict[str, Metric]]) -> None:
    """Entry point of a case module: ``python -m benchmarks.caseN_x WORKDIR URL OPTIONS``.

    Prints the metrics as one JSON line on stdout (progress goes to stderr)."""
    workdir, url, options = Path(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3])
    bench = open_bench(workdir, url)
    results = run(bench, options)
    print(json.dumps({name: asdict(m) for name, m in results.items()}), flush=True)
