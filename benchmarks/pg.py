"""A throwaway PostgreSQL cluster for ``make bench DB=postgres``: the test suite's
(``tests/pg_cluster.py``: initdb into a temp dir, unix socket, non-root server user) with
benchmark settings instead of the tests' ``fsync=off``.

``synchronous_commit=off`` gives the durability SQLite has in the app's WAL +
``synchronous=NORMAL`` mode (a crash may lose the last commits, never corrupts); fsync and
full-page writes stay on, as in production."""

from __future__ import annotations

import os
import pwd
import re
import subprocess

from tests.pg_cluster import PostgresCluster


class BenchCluster(PostgresCluster):
    settings = ("fsync=on, synchronous_commit=off, shared_buffers=256MB, "
                "max_connections=100, unix socket only")

    def start(self) -> str:
        if self.run_as:
            entry = pwd.getpwnam(self.run_as)
            os.chown(self.base, entry.pw_uid, entry.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust",
                  "-E", "UTF8", "--locale=C.UTF-8")
        options = (f"-k {self.base} -p {self.port} -c listen_addresses='' "
                   "-c synchronous_commit=off -c shared_buffers=256MB -c max_connections=100")
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.log),
                  "-w", "-t", "60", "start")
        self.started = True
        return self.url("postgres")

    def version(self) -> str:
        result = subprocess.run([str(self.bin / "postgres"), "--version"], capture_output=True,
                                text=True, check=False)
        found = re.search(r"\d+(\.\d+)+", result.stdout)
        return found.group(0) if found else "?"
