"""A small closed-loop HTTP load generator (standard library only) and a gunicorn runner.

Each client sends a request on a fresh loopback connection (gunicorn's sync workers close
the connection after every response), reads the whole answer, and sends the next.  Many
clients run as threads in a few processes, so the generator's own Python does not become
the bottleneck of a 2-worker server.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.common import REPO_ROOT


@dataclass
class LoadResult:
    ok: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)  # seconds, successful requests
    samples: list[str] = field(default_factory=list)  # a few error descriptions

    def merge(self, other: LoadResult) -> None:
        self.ok += other.ok
        self.errors += other.errors
        self.seconds = max(self.seconds, other.seconds)
        self.latencies += other.latencies
        self.samples += other.samples[: max(0, 5 - len(self.samples))]

    @property
    def rps(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    @property
    def median(self) -> float:
        return statistics.median(self.latencies) if self.latencies else float("nan")


def http(port: int, method: str, path: str, headers: dict[str, str] | None = None,
         body: bytes = b"", timeout: float = 60.0) -> tuple[int, bytes]:
    """One request on a new connection to 127.0.0.1:port; (status, body)."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close",
             f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    raw = b"".join(chunks)
    head, _, payload = raw.partition(b"\r\n\r\n")
    status_line = head.split(b"\r\n", 1)[0].split()
    if len(status_line) < 2:
        raise ConnectionError(f"no HTTP answer ({len(raw)} bytes)")
    return int(status_line[1]), payload


# A client: called with (client number, request number); returns the request to send and
# a check of the answer (True: success).
Request = tuple[str, str, dict[str, str], bytes]
Client = Callable[[int, int], tuple[Request, Callable[[int, bytes], bool]]]


def closed_loop(port: int, client: Client, clients: int, duration: float,
                first_client: int = 0) -> LoadResult:
    """``clients`` threads, each sending one request after another for ``duration`` s."""
    results = [LoadResult() for _ in range(clients)]
    start = time.perf_counter()
    deadline = start + duration

    def worker(index: int) -> None:
        result = results[index]
        number = 0
        while time.perf_counter() < deadline:
            (method, path, headers, body), check = client(first_client + index, number)
            number += 1
            began = time.perf_counter()
            try:
                status, payload = http(port, method, path, headers, body)
                good = check(status, payload)
                detail = f"{status} {payload[:160]!r}"
            except Exception as error:  # a refused or reset connection is an error too
                good, detail = False, f"{type(error).__name__}: {error}"
            if good:
                result.ok += 1
                result.latencies.append(time.perf_counter() - began)
            else:
                result.errors += 1
                if len(result.samples) < 5:
                    result.samples.append(detail)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    total = LoadResult(seconds=time.perf_counter() - start)
    for result in results:
        total.merge(result)
    return total


def _process_main(args: tuple[int, Client, int, float, int]) -> LoadResult:
    port, client, clients, duration, first = args
    return closed_loop(port, client, clients, duration, first)


def spread_load(port: int, client: Client, processes: int, threads: int,
                duration: float) -> LoadResult:
    """``processes`` × ``threads`` clients (``client`` must be picklable: module level)."""
    context = multiprocessing.get_context("fork")
    with context.Pool(processes) as pool:
        parts = pool.map(_process_main, [(port, client, threads, duration, p * threads)
                                         for p in range(processes)])
    total = LoadResult()
    for part in parts:
        total.merge(part)
    return total


# --- gunicorn ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Gunicorn:
    """``gunicorn -c gunicorn.conf.py APP`` on a free loopback port, 2 workers, the
    project's settings (the access log goes to /dev/null, for every app alike)."""

    def __init__(self, app: str, env: dict[str, str], workers: int = 2) -> None:
        self.port = free_port()
        self.app = app
        self.env = {**os.environ, **env, "PORT": str(self.port), "HOST": "127.0.0.1",
                    "WEB_CONCURRENCY": str(workers), "LOG_LEVEL": "warning",
                    "PYTHONPATH": str(REPO_ROOT)}
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Gunicorn:
        gunicorn = Path(sys.executable).with_name("gunicorn")
        self.process = subprocess.Popen(
            [str(gunicorn), "-c", "gunicorn.conf.py", self.app], cwd=REPO_ROOT, env=self.env,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn {self.app} exited: "
                                   f"{self.process.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
            try:
                status, _ = http(self.port, "GET", "/healthz", timeout=5)
                if status == 200:
                    # Both workers up: a few more answers.
                    for _ in range(4):
                        http(self.port, "GET", "/healthz", timeout=5)
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn {self.app} did not answer on port {self.port}")

    def __exit__(self, *_exc: Any) -> None:
        if self.process is None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)  # our own session: gunicorn + workers
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        if self.process.stderr is not None:
            self.process.stderr.close()
