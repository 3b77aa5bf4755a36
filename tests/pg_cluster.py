"""A throwaway PostgreSQL cluster for the test suite: initdb into a temp dir, start it on a
unix socket, hand out a URL, stop and remove it afterwards.

As root, the server runs as the ``postgres`` system user (PostgreSQL refuses to run as root).
The server binaries come from ``PG_BINDIR`` if set, else ``pg_ctl`` on ``PATH``, else the
newest ``/usr/lib/postgresql/*/bin`` (Debian's ``postgresql`` package).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


def find_bin_dir() -> Path | None:
    """Where ``pg_ctl`` and ``initdb`` live, or None when PostgreSQL is not installed."""
    configured = os.environ.get("PG_BINDIR", "").strip()
    if configured and (Path(configured) / "pg_ctl").exists():
        return Path(configured)
    found = shutil.which("pg_ctl")
    if found and (Path(found).resolve().parent / "initdb").exists():
        return Path(found).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
                        key=lambda p: int(Path(p).parent.parent.name)
                        if Path(p).parent.parent.name.isdigit() else 0)
    return Path(candidates[-1]).parent if candidates else None


def _bin_dir() -> Path:
    found = find_bin_dir()
    if found is None:
        raise RuntimeError(
            "PostgreSQL server binaries not found (no pg_ctl on PATH or in "
            "/usr/lib/postgresql/*/bin). Run scripts/ensure-system-packages.sh as root, "
            "or apt-get install postgresql."
        )
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresCluster:
    def __init__(self) -> None:
        self.bin = _bin_dir()
        self.run_as: str | None = "postgres" if os.geteuid() == 0 else None
        # As root the server runs as ``postgres``, which must be able to reach the directory:
        # use /tmp rather than a TMPDIR that may sit under /root.
        parent = "/tmp" if self.run_as and os.path.isdir("/tmp") else None
        self.base = Path(tempfile.mkdtemp(prefix="tagwright-pg-", dir=parent))
        self.data = self.base / "data"
        self.log = self.base / "server.log"
        self.port = _free_port()
        self.started = False

    def _run(self, *args: str) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if self.run_as:
            command = ["runuser", "-u", self.run_as, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, cwd=self.base,
                                check=False)
        if result.returncode != 0:
            log = self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""
            raise RuntimeError(
                f"{' '.join(command)} failed with exit code {result.returncode}\n"
                f"--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}\n"
                f"--- server.log ---\n{log}"
            )

    def start(self) -> str:
        if self.run_as:
            entry = pwd.getpwnam(self.run_as)
            os.chown(self.base, entry.pw_uid, entry.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust",
                  "-E", "UTF8", "--no-sync", "--locale=C.UTF-8")
        options = (f"-k {self.base} -p {self.port} -c listen_addresses='' -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off")
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.log),
                  "-w", "-t", "60", "start")
        self.started = True
        self._run("createdb", "-h", str(self.base), "-p", str(self.port), "-U", "postgres",
                  "tagwright")
        return self.url("tagwright")

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@/{database}?host={self.base}&port={self.port}"

    def create_database(self, name: str) -> str:
        """Create another empty database on this cluster and return its URL."""
        self._run("createdb", "-h", str(self.base), "-p", str(self.port), "-U", "postgres",
                  name)
        return self.url(name)

    def stop(self) -> None:
        try:
            if self.started:
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.base, ignore_errors=True)
